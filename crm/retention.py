"""Deleted contacts: restoring one within the retention period, and purging them after.

A deleted contact (``deleted_at`` set, see :func:`crm.service.delete_contact`) stays
restorable for ``TURUMBA_CONTACT_RETENTION_DAYS`` (default 30). Restoring it answers a
:class:`crm.service.ContactConflict` when another contact took its email or phone
meanwhile. After the retention period the workers purge it (a hard delete: its tags go
with it, contacts merged into it lose their ``merged_into_id``) through one timer per
account (:mod:`events.timers`), due when the earliest deleted contact expires: a delete
or a merge moves it forward, and each firing purges what expired and plans the next, so
an account that never touches its contacts again is purged all the same, and no sweep
looks at accounts with nothing to purge.
A deleted contact that still has conversations is kept: conversations are never deleted
with their contact (the foreign key restricts it); merging moves them away first.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, delete, exists, func, select
from sqlalchemy.orm import Session

from audit.service import Actor, record_change
from crm.models import Contact
from crm.service import contact_event, save_contact
from events import names, timers
from events.consumers import Event, register
from helpdesk.models import Conversation
from tenants.db import utcnow
from tenants.registry import AccountRecord, live_account
from tenants.session import tenant_session

TIMER = "contacts.purge"


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


def _purgeable():
    """Deleted contacts the purge may remove once expired: those without conversations."""
    return Contact.deleted_at.is_not(None), ~exists().where(Conversation.contact_id == Contact.id)


def purge_expired(session: Session, *, retention_days: int, now: datetime | None = None) -> int:
    """Hard-delete the contacts deleted beyond the retention period; return how many."""
    return session.execute(
        delete(Contact)
        .where(*_purgeable(), Contact.deleted_at <= _cutoff(retention_days, now))
        .execution_options(synchronize_session=False)
    ).rowcount


def plan_purge(session: Session, *, account_id: uuid.UUID, retention_days: int) -> None:
    """Keep the account's purge timer at the moment its earliest deleted contact expires
    (no timer when nothing awaits the purge)."""
    earliest = session.scalar(select(func.min(Contact.deleted_at)).where(*_purgeable()))
    timers.plan(
        session,
        account_id=account_id,
        kind=TIMER,
        subject_id=account_id,
        due_at=None if earliest is None else earliest + timedelta(days=retention_days),
    )


def on_deleted(event: Event) -> None:
    """The consumer: a contact was deleted or merged away, so it awaits the purge."""
    account: AccountRecord | None = live_account(event.account_id)
    if account is None:
        return
    with tenant_session(account) as session:  # commits at the end of the block
        plan_purge(session, account_id=account.id, retention_days=retention_days())


@timers.handler(TIMER)
def purge(session: Session, timer: timers.Timer, now: datetime) -> None:
    days = retention_days()
    purge_expired(session, retention_days=days, now=now)
    plan_purge(session, account_id=timer.account_id, retention_days=days)


for _name in (names.CONTACT_DELETED, names.CONTACT_MERGED):
    register(_name, on_deleted, key="crm.retention.plan_purge")
