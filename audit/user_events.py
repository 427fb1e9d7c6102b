"""A user's security events (password, MFA, sessions, email, deletion) in their accounts' logs.

A user belongs to the public schema, not to one account, yet every account they are a
member of wants to see when they change their password or turn MFA off. The view that
makes the change calls :func:`record_user_event` in its transaction; once that commits,
one job (:func:`write_user_event`) appends the same entry (``target_type`` ``"user"``,
``target_id`` the user id) to the audit log of each of the user's accounts that is not
deleted, each in its own tenant transaction.

The job is safe to run again: the event gets an id up front (``after["event_id"]``), and
an account that already holds it is skipped. One account failing does not stop the
others; the job raises at the end so RQ retries, and the retry writes only what is missing.
Never pass secrets (codes, tokens, hashes) in ``after``: it is shown to account admins.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from audit.service import Actor, record
from core.jobs import enqueue
from tenants.db import db
from tenants.hooks import after_commit
from tenants.models import Account, AccountStatus, Membership
from tenants.registry import registry
from tenants.session import tenant_session

log = logging.getLogger(__name__)

TARGET_TYPE = "user"

#: The events views record (``action`` values), for reference and the README.
ACTIONS = (
    "user.password_changed",
    "user.password_reset",
    "user.mfa_enabled",
    "user.mfa_disabled",
    "user.recovery_codes_regenerated",
    "user.other_sessions_revoked",
    "user.email_verified",
    "user.deleted",
)


class UserEventFailed(RuntimeError):
    """The event could not be written to some accounts (the others have it)."""


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def record_user_event(
    session: Session,
    *,
    user_id: uuid.UUID,
    actor: Actor,
    action: str,
    after: dict[str, Any] | None = None,
) -> str:
    """Once ``session`` commits, queue the event for every account of ``user_id``.

    Returns the event id (also ``after["event_id"]`` of each entry). A rollback queues
    nothing.
    """
    event_id = str(uuid.uuid4())
    args = (event_id, str(user_id), action, _plain(asdict(actor)), _plain(after or {}))
    after_commit(session, lambda: enqueue(write_user_event, *args))
    return event_id


def _accounts_of(user_id: uuid.UUID) -> list[uuid.UUID]:
    """The user's accounts that are not deleted (suspended ones still keep their log)."""
    with db.engine.connect() as conn:
        return list(
            conn.scalars(
                select(Account.id)
                .join(Membership, Membership.account_id == Account.id)
                .where(Membership.user_id == user_id, Account.status != AccountStatus.DELETED)
                .order_by(Account.id)
            )
        )


def _lock_key(event_id: str, account_id: uuid.UUID) -> int:
    """A signed 64-bit advisory lock key for one (event, account) pair."""
    digest = hashlib.sha256(f"user-event:{event_id}:{account_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _write_one(
    account_id: uuid.UUID, *, event_id: str, user_id: uuid.UUID, action: str, actor: Actor, after
) -> bool:
    """Append the event to one account's log unless it is there already; True if written."""
    account = registry().get(account_id)
    if account is None or account.status is AccountStatus.DELETED:
        return False
    with tenant_session(account) as session:
        # Two runs of the same job (a retry racing a straggler) must not both insert.
        session.execute(select(func.pg_advisory_xact_lock(_lock_key(event_id, account_id))))
        present = session.scalar(
            select(AuditEntry.id)
            .where(
                AuditEntry.target_type == TARGET_TYPE,
                AuditEntry.target_id == str(user_id),
                AuditEntry.action == action,
                AuditEntry.after["event_id"].astext == event_id,
            )
            .limit(1)
        )
        if present is not None:
            return False
        record(
            session,
            actor=actor,
            action=action,
            target_type=TARGET_TYPE,
            target_id=user_id,
            after=after,
        )
    return True


def write_user_event(
    event_id: str, user_id: str, action: str, actor: dict[str, Any], details: dict[str, Any]
) -> dict[str, int]:
    """The job: write the event into each of the user's accounts, one transaction each.

    Returns counts (``written``, ``skipped``); raises :class:`UserEventFailed` after trying
    every account if any of them failed.
    """
    user = uuid.UUID(user_id)
    who = Actor(**{**actor, "id": uuid.UUID(actor["id"]) if actor.get("id") else None})
    after = {**details, "event_id": event_id}
    written = skipped = 0
    failed: list[str] = []
    for account_id in _accounts_of(user):
        try:
            done = _write_one(
                account_id, event_id=event_id, user_id=user, action=action, actor=who, after=after
            )
        except Exception:
            log.exception(
                "user event %s (%s) not written to account %s", event_id, action, account_id
            )
            failed.append(str(account_id))
            continue
        if done:
            written += 1
        else:
            skipped += 1
    if failed:
        raise UserEventFailed(
            f"user event {event_id} ({action}) failed for account(s) {', '.join(failed)}"
        )
    return {"written": written, "skipped": skipped}
