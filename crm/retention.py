"""Deleted contacts: restoring one within the retention period, and purging them after.

A deleted contact (``deleted_at`` set, see :func:`crm.service.delete_contact`) stays
restorable for ``TURUMBA_CONTACT_RETENTION_DAYS`` (default 30). Restoring it answers a
:class:`crm.service.ContactConflict` when another contact took its email or phone
meanwhile. After the retention period the workers purge it (a hard delete: its tags go
with it, contacts merged into it lose their ``merged_into_id``), at most hourly per worker
and account, where contacts change (the consumer below), like the other pruning.
A deleted contact that still has conversations is kept: conversations are never deleted
with their contact (the foreign key restricts it); merging moves them away first.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, delete, exists, select
from sqlalchemy.orm import Session

from audit.service import Actor, record_change
from crm.models import Contact
from crm.service import contact_event, save_contact
from events import names
from events.consumers import Event, register
from helpdesk.models import Conversation
from tenants.db import utcnow
from tenants.registry import AccountRecord, live_account
from tenants.session import tenant_session

PRUNE_EVERY = 3600.0
_pruned: dict[uuid.UUID, float] = {}


class NotRestorable(Exception):
    """The contact is not deleted (``contact_not_deleted``) or was merged into another
    (``contact_merged``, ``merged_into``)."""

    def __init__(self, code: str, message: str, merged_into: uuid.UUID | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.merged_into = merged_into


def retention_days() -> int:
    return current_app.extensions["turumba.config"].contact_retention_days


def _cutoff(days: int, now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=days)


def deleted_contacts(*, retention_days: int) -> Select[tuple[Contact]]:
    """The contacts deleted within the retention period (restorable, unless merged)."""
    return select(Contact).where(Contact.deleted_at > _cutoff(retention_days))


def restorable_until(contact: Contact, *, retention_days: int) -> datetime | None:
    if contact.deleted_at is None:
        return None
    return contact.deleted_at + timedelta(days=retention_days)


def find_contact(session: Session, contact_id: uuid.UUID, *, retention_days: int) -> Contact | None:
    """The contact, deleted or not, unless it was deleted beyond the retention period."""
    contact = session.get(Contact, contact_id)
    if contact is None or (
        contact.deleted_at is not None and contact.deleted_at <= _cutoff(retention_days)
    ):
        return None
    return contact


def restore_contact(
    session: Session, contact: Contact, *, account_id: uuid.UUID, actor: Actor
) -> Contact:
    """Bring a deleted contact back, as it was; ``contact.restored`` and an audit entry."""
    if contact.merged_into_id is not None:
        raise NotRestorable(
            "contact_merged",
            "The contact was merged into another; it cannot be restored.",
            contact.merged_into_id,
        )
    if contact.deleted_at is None:
        raise NotRestorable("contact_not_deleted", "The contact is not deleted.")
    deleted_at = contact.deleted_at
    save_contact(session, contact, {"deleted_at": None})  # ContactConflict: email/phone taken
    change = {"deleted_at": [deleted_at.isoformat(), None]}
    record_change(
        session,
        actor=actor,
        action="contact.restored",
        target_type="contact",
        target_id=contact.id,
        before={"deleted_at": deleted_at},
        after={"deleted_at": None},
    )
    contact_event(
        session,
        contact,
        account_id=account_id,
        actor=actor,
        name=names.CONTACT_RESTORED,
        payload=change,
    )
    return contact


def purge_expired(session: Session, *, retention_days: int, now: datetime | None = None) -> int:
    """Hard-delete the contacts deleted beyond the retention period; return how many."""
    has_conversations = exists().where(Conversation.contact_id == Contact.id)
    return session.execute(
        delete(Contact)
        .where(Contact.deleted_at <= _cutoff(retention_days, now), ~has_conversations)
        .execution_options(synchronize_session=False)
    ).rowcount


def prune(event: Event) -> None:
    """The consumer: purge the account's expired contacts, at most hourly per worker."""
    now = time.monotonic()
    if now - _pruned.get(event.account_id, -PRUNE_EVERY) < PRUNE_EVERY:
        return
    account: AccountRecord | None = live_account(event.account_id)
    if account is None:
        return
    _pruned[event.account_id] = now
    with tenant_session(account) as session:  # commits at the end of the block
        purge_expired(session, retention_days=retention_days())


for _name in (
    names.CONTACT_CREATED,
    names.CONTACT_UPDATED,
    names.CONTACT_DELETED,
    names.CONTACT_MERGED,
):
    register(_name, prune, key="crm.retention.prune")
