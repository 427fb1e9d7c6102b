"""Bulk changes to contacts: many creations, changes or deletions in one call, and tagging
many contacts at once. Callers own the transaction.

Each item of a batch goes through the single-contact services (:mod:`crm.service`), so
normalisation, custom-field checks, duplicates, events and the audit log are exactly
those of one contact at a time. Every item runs in its own savepoint, so one refusal
never spoils the others, and an item may clash with an earlier item of the same batch
(two items with the same email: the second is refused, naming the first).

- ``best_effort``: the items that succeed stay written; the report says which failed.
- ``all_or_nothing``: the whole batch runs in one more savepoint, rolled back when any
  item failed; the report still names every failing item, the others are ``not_applied``.

Tagging (:func:`tag_contacts`) is set-wise: one ``INSERT … SELECT`` and one ``DELETE``
for any number of contacts, then the same ``tag.added`` / ``tag.removed`` event per
contact and tag that really changed as tagging one contact emits.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, delete, literal, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from audit.service import Actor
from crm.models import Contact
from crm.service import (
    ContactConflict,
    InvalidContact,
    create_contact,
    delete_contact,
    get_contact,
    update_contact,
)
from events import names as events
from helpdesk.errors import InvalidField
from helpdesk.tags import CONTACTS, ContactTag, Tag, ensure_tags, key_of, normalised
from tenants.db import utcnow

CREATE, UPDATE, DELETE = "create", "update", "delete"
OPERATIONS = (CREATE, UPDATE, DELETE)
ALL_OR_NOTHING, BEST_EFFORT = "all_or_nothing", "best_effort"
MODES = (ALL_OR_NOTHING, BEST_EFFORT)
OK, ERROR, NOT_APPLIED = "ok", "error", "not_applied"
#: Items per batch.
MAX_ITEMS = 1000
#: Contacts one tagging call may select by filter.
MAX_TAGGED = 10_000


class ContactNotFound(Exception):
    """No contact of this account has the id (another account's ids included)."""


@dataclass
class ItemResult:
    index: int
    status: str
    id: uuid.UUID | None = None
    error: dict[str, Any] | None = None


@dataclass
class BatchReport:
    items: list[ItemResult]
    applied: bool

    @property
    def failures(self) -> list[ItemResult]:
        return [item for item in self.items if item.status == ERROR]

    @property
    def counts(self) -> dict[str, int]:
        counts = {OK: 0, ERROR: 0, NOT_APPLIED: 0}
        for item in self.items:
            counts[item.status] += 1
        return {**counts, "total": len(self.items)}


def _refusal(exc: Exception, created: dict[uuid.UUID, int], applied: bool) -> dict[str, Any]:
    """An item's error as the single endpoints word it (``code``, ``message``, ``errors``,
    ``duplicate_of``), plus ``duplicate_of_index`` when the other contact is an earlier
    item of the batch."""
    if isinstance(exc, ContactConflict):
        error: dict[str, Any] = {
            "code": f"contact_{exc.field}_taken",
            "message": f"Another contact already has this {exc.field}.",
            "errors": {exc.field: ["already used by another contact"]},
        }
        if exc.duplicate_of in created:
            error["duplicate_of_index"] = created[exc.duplicate_of]
            if applied:  # else the earlier item is rolled back too: no such contact
                error["duplicate_of"] = exc.duplicate_of
        elif exc.duplicate_of is not None:
            error["duplicate_of"] = exc.duplicate_of
        return error
    if isinstance(exc, InvalidContact):
        return {
            "code": "validation_failed",
            "message": "The item has invalid fields.",
            "errors": exc.errors,
        }
    return {"code": "contact_not_found", "message": "No such contact.", "errors": {}}


def _apply(
    session: Session,
    operation: str,
    data: dict[str, Any],
    *,
    account_id: uuid.UUID,
    actor: Actor,
) -> uuid.UUID:
    if operation == CREATE:
        contact = create_contact(
            session, account_id=account_id, actor=actor, require_fields=True, **data
        )
        return contact.id
    data = dict(data)
    contact = get_contact(session, data.pop("id"))
    if contact is None:
        raise ContactNotFound
    if operation == UPDATE:
        update_contact(session, contact, account_id=account_id, actor=actor, **data)
    else:
        delete_contact(session, contact, account_id=account_id, actor=actor)
    return contact.id


def run_batch(
    session: Session,
    *,
    operation: str,
    items: list[Any],
    mode: str,
    account_id: uuid.UUID,
    actor: Actor,
    check: Callable[[Any], dict[str, Any]] = dict,
) -> BatchReport:
    """Apply ``operation`` to each of ``items`` (contact bodies for ``create``,
    ``{id, ...changes}`` for ``update``, ``{id}`` for ``delete``) and report on each.

    ``check`` reads an item as the single endpoint reads its body, raising
    :class:`InvalidContact`. In ``all_or_nothing`` mode nothing stays written unless
    every item succeeded (``applied`` says which).
    """
    if operation not in OPERATIONS or mode not in MODES:
        raise ValueError(f"unknown operation or mode: {operation!r}, {mode!r}")
    results: list[ItemResult] = []
    errors: dict[int, Exception] = {}
    created: dict[uuid.UUID, int] = {}
    batch = session.begin_nested()
    for index, raw in enumerate(items):
        try:
            data = check(raw)
            with session.begin_nested():
                contact_id = _apply(session, operation, data, account_id=account_id, actor=actor)
        except (ContactConflict, InvalidContact, ContactNotFound) as exc:
            errors[index] = exc
            results.append(ItemResult(index, ERROR))
            continue
        if operation == CREATE:
            created[contact_id] = index
        results.append(ItemResult(index, OK, contact_id))
    applied = not errors or mode == BEST_EFFORT
    if applied:
        batch.commit()
    else:
        batch.rollback()
        for result in results:
            if result.status == OK:
                result.status, result.id = NOT_APPLIED, None
    for index, exc in errors.items():
        results[index].error = _refusal(exc, created, applied)
    return BatchReport(results, applied)


# -- tagging --------------------------------------------------------------------------


@dataclass
class TagChange:
    """What a bulk tagging did: the contacts it selected (``ids``), and the
    ``(contact_id, tag)`` links added and removed."""

    ids: list[uuid.UUID]
    added: list[tuple[uuid.UUID, Tag]] = field(default_factory=list)
    removed: list[tuple[uuid.UUID, Tag]] = field(default_factory=list)

    @property
    def matched(self) -> int:
        return len(self.ids)

    @property
    def changed(self) -> int:
        return len({contact_id for contact_id, _ in self.added + self.removed})


class TooManyContacts(Exception):
    """The selection holds more contacts than one call may tag."""


def _tags_named(session: Session, names: Iterable[str]) -> list[Tag]:
    """The existing tags among ``names`` (an unknown name: no tag to remove)."""
    keys = {key_of(name) for name in names}
    if not keys:
        return []
    return list(session.scalars(select(Tag).where(Tag.key.in_(keys))))


def tag_contacts(
    session: Session,
    *,
    contacts: Select[tuple[uuid.UUID]],
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    account_id: uuid.UUID,
    actor: Actor,
    limit: int = MAX_TAGGED,
) -> TagChange:
    """Tag the contacts whose ids ``contacts`` selects with ``add`` (unknown names become
    tags) and untag them of ``remove``; more than ``limit`` contacts is
    :class:`TooManyContacts`, a name in both lists an :class:`InvalidField`."""
    add, remove = list(add), list(remove)
    if {key_of(n) for n in add} & {key_of(n) for n in remove}:
        raise InvalidField("remove", "a tag cannot be both added and removed")
    for field_name, names in (("add", add), ("remove", remove)):
        for name in names:
            normalised(name, field=field_name)
    ids = list(session.scalars(contacts.limit(limit + 1)))
    if len(ids) > limit:
        raise TooManyContacts(limit)
    change = TagChange(ids)
    if not ids:  # nothing to tag: no new tag either
        return change
    removing = _tags_named(session, remove)
    adding = ensure_tags(session, add)
    if adding:
        by_id = {tag.id: tag for tag in adding}
        pairs = (
            select(Contact.id, Tag.id, literal(utcnow()))
            .join(Tag, true())
            .where(Contact.id.in_(ids), Tag.id.in_(list(by_id)))
            .order_by(Contact.id, Tag.key)
        )
        rows = session.execute(
            insert(ContactTag)
            .from_select(["contact_id", "tag_id", "created_at"], pairs)
            .on_conflict_do_nothing()
            .returning(ContactTag.contact_id, ContactTag.tag_id)
        ).all()
        change.added = sorted(((c, by_id[t]) for c, t in rows), key=lambda p: (p[0], p[1].key))
    if removing:
        by_id = {tag.id: tag for tag in removing}
        rows = session.execute(
            delete(ContactTag)
            .where(ContactTag.contact_id.in_(ids), ContactTag.tag_id.in_(list(by_id)))
            .returning(ContactTag.contact_id, ContactTag.tag_id)
        ).all()
        change.removed = sorted(((c, by_id[t]) for c, t in rows), key=lambda p: (p[0], p[1].key))
    for name, links in ((events.TAG_ADDED, change.added), (events.TAG_REMOVED, change.removed)):
        for contact_id, tag in links:
            CONTACTS.announce(
                session, contact_id, tag, name=name, account_id=account_id, actor=actor
            )
    return change


def contact_ids(ids: Iterable[uuid.UUID]) -> Select[tuple[uuid.UUID]]:
    """The ids among ``ids`` that are contacts of this account (not deleted)."""
    return live_contact_ids().where(Contact.id.in_(list(ids)))


def live_contact_ids() -> Select[tuple[uuid.UUID]]:
    """The ids of the account's contacts not deleted, to narrow further."""
    return select(Contact.id).where(Contact.deleted_at.is_(None))
