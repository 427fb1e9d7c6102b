"""Merging one contact (the source) into another (the target). The caller owns the
transaction: everything below happens in it, or nothing does.

The target keeps its id, and takes over whatever pointed at the source: its
conversations, the messages it sent (``sender_id``), its tags. Its fields, by this
precedence:

- ``name``: the target's, always;
- ``email``, ``phone``, ``company``: the target's; an empty one is filled from the source
  (the source's email and phone are cleared first, so the unique indexes never see two);
- ``custom_fields``: key by key, the target's non-empty values win, the source fills the
  rest;
- tags: the union.

The source is then soft-deleted (``contact.deleted``, as :func:`crm.service.delete_contact`)
with ``merged_into_id`` pointing at the target, and purged with the other deleted contacts
once the retention period ends; it cannot be restored. ``contact.merged`` (``source_id``,
``target_id``, ``moved``: counts of what moved) and an audit entry (the target before and
after) record the merge. Both rows are locked in id order first, so two merges over the
same pair wait for each other instead of interleaving.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from audit.service import Actor, record_change, snapshot
from crm.models import Contact
from crm.service import contact_event, delete_contact, get_contact, save_contact
from events import names
from helpdesk.models import Conversation, Message
from helpdesk.tags import CONTACTS, attach, tags_on

#: Filled on the target from the source when the target's is empty.
FILLED = ("email", "phone", "company")
#: Values that count as empty, in fields and custom fields alike.
EMPTY = (None, "", [], {})


class MergeRefused(Exception):
    """The merge cannot happen (``code`` names why; ``field`` the request field to blame)."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def _lock(session: Session, *contacts: Contact) -> None:
    session.scalars(
        select(Contact)
        .where(Contact.id.in_([c.id for c in contacts]))
        .order_by(Contact.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()


def merged_values(target: Contact, source: Contact) -> dict[str, Any]:
    """The target's fields that change, by the precedence in the module's note."""
    changes: dict[str, Any] = {
        key: getattr(source, key)
        for key in FILLED
        if getattr(target, key) in EMPTY and getattr(source, key) not in EMPTY
    }
    fields = {k: v for k, v in (source.custom_fields or {}).items() if v not in EMPTY}
    fields.update({k: v for k, v in (target.custom_fields or {}).items() if v not in EMPTY})
    if fields != (target.custom_fields or {}):
        changes["custom_fields"] = fields
    return changes


def _move(session: Session, *, source: uuid.UUID, into: uuid.UUID) -> dict[str, int]:
    conversations = session.execute(
        update(Conversation)
        .where(Conversation.contact_id == source)
        .values(contact_id=into)
        .execution_options(synchronize_session=False)
    ).rowcount
    messages = session.execute(
        update(Message)
        .where(Message.sender_type == "contact", Message.sender_id == source)
        .values(sender_id=into)
        .execution_options(synchronize_session=False)
    ).rowcount
    return {"conversations": conversations, "messages": messages}


def merge_contacts(
    session: Session,
    target: Contact,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    source_id: uuid.UUID,
) -> tuple[Contact, dict[str, Any]]:
    """Merge ``source_id`` into ``target``; return the target and what moved.

    Refused (:class:`MergeRefused`): merging a contact into itself
    (``contact_merge_into_self``), and a source that does not exist in this account or
    was deleted (``contact_not_found``, on ``source_id``).
    """
    if source_id == target.id:
        raise MergeRefused("contact_merge_into_self", "A contact cannot be merged into itself.")
    source = get_contact(session, source_id)
    if source is None:
        raise MergeRefused("contact_not_found", "No such contact.", "source_id")
    _lock(session, target, source)
    for contact, field in ((target, None), (source, "source_id")):
        if contact.deleted_at is not None:  # deleted or merged while we waited for the lock
            raise MergeRefused("contact_not_found", "No such contact.", field)
    before = snapshot(target)
    changes = merged_values(target, source)
    context: dict[str, Any] = {"account_id": account_id, "actor": actor}
    delete_contact(session, source, **context)  # frees its email and phone for the target
    source.merged_into_id = target.id
    for key in ("email", "phone"):
        if key in changes:  # the target's now: one row holds it, even among the deleted
            setattr(source, key, None)
    session.flush()
    save_contact(session, target, changes)
    moved = _move(session, source=source.id, into=target.id)
    added = attach(session, CONTACTS, target.id, tags_on(session, CONTACTS, source.id), **context)
    moved["tags"] = len(added)
    moved["fields"] = sorted(changes)
    after = snapshot(target)
    record_change(
        session,
        actor=actor,
        action="contact.merged",
        target_type="contact",
        target_id=target.id,
        before={"merged_from": None, **before},
        after={"merged_from": str(source.id), **after},
    )
    payload = {"source_id": str(source.id), "target_id": str(target.id), "moved": moved}
    contact_event(
        session,
        target,
        account_id=account_id,
        actor=actor,
        name=names.CONTACT_MERGED,
        payload=payload,
    )
    return target, moved
