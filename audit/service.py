"""Recording who did what to which record, in the active account's audit log.

Callers own the transaction: an entry is written with the change it describes and
disappears with it on rollback. Entries are never changed afterwards (the database
refuses, see :mod:`audit.models`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from audit.models import ACTOR_TYPES, AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who acted: a user, an API token or the system, and from where."""

    type: str
    id: uuid.UUID | None = None
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None

    def __post_init__(self) -> None:
        if self.type not in ACTOR_TYPES:
            raise ValueError(f"unknown actor type {self.type!r}; one of {', '.join(ACTOR_TYPES)}")


#: The actor of CLI commands and background jobs.
SYSTEM = Actor("system")


def _plain(value: Any) -> Any:
    """``value`` as JSON would give it back (datetimes, ids and enums as strings)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str))


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry (``action`` like ``"settings.updated"``) to the current account's log."""
    entry = AuditEntry(
        actor_type=actor.type,
        actor_id=actor.id,
        actor_ip=actor.ip,
        user_agent=(actor.user_agent or None) and actor.user_agent[:512],
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        before=_plain(before),
        after=_plain(after),
        request_id=actor.request_id,
    )
    session.add(entry)
    return entry


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Only the keys whose values differ, as ``(before, after)``."""
    keys = [key for key in after if _plain(before.get(key)) != _plain(after.get(key))]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def snapshot(row: Any, *, omit: tuple[str, ...] = ()) -> dict[str, Any]:
    """A row's columns as the log keeps them: timestamps and ``omit`` (secrets) left out."""
    skip = {"created_at", "updated_at", *omit}
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in skip}


def record_change(
    session: Session,
    *,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: Any,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry | None:
    """Log a creation (no ``before``), a deletion (no ``after``) or a change.

    Two snapshots of the same record (the same keys on both sides) are an update: only
    the keys that changed are kept and nothing is logged when none did, so a PATCH that
    resends the same values leaves no noise in the log.
    """
    if before is not None and after is not None and before.keys() == after.keys():
        before, after = changes(before, after)
        if not after:
            return None
    return record(
        session,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
    )
