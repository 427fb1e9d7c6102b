"""Contact rules shared by the API, workers and CLI. Callers own the transaction.

Deleting is soft: the contact keeps its row with ``deleted_at`` set, and every look-up
here (:func:`get_contact`, duplicates, conflicts) ignores it; :mod:`crm.retention`
restores or purges it, :mod:`crm.merging` merges two. Every change emits its event
(contact.created / updated / deleted) and writes its audit
entry (before and after) in the caller's transaction, so automation, realtime and the
log see exactly what committed. Emails and phones are kept normalised
(:mod:`crm.normalise`), so duplicates are found whatever the format they were typed in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.service import Actor, record_change, snapshot
from crm.custom_fields import CustomFieldError, checked_values
from crm.models import Contact
from crm.normalise import InvalidValue, account_region, normalise_email, normalise_phone
from events import names
from events.outbox import emit
from tenants.db import utcnow

_UNIQUE_FIELDS = {"uq_contacts_email": "email", "uq_contacts_phone": "phone"}
_FIELDS = ("name", "email", "phone", "company")


class ContactConflict(Exception):
    """Another contact of the same account (``duplicate_of``) has this email or phone."""

    def __init__(self, field: str, duplicate_of: uuid.UUID | None = None) -> None:
        super().__init__(f"another contact has this {field}")
        self.field = field
        self.duplicate_of = duplicate_of


class InvalidContact(ValueError):
    """Some fields cannot be read as what they hold; ``errors`` maps each to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid contact fields")
        self.errors = errors


@dataclass(frozen=True)
class Duplicate:
    """A contact that already has the email or phone looked up, and which of them."""

    contact: Contact
    matched_on: list[str]


def _normalised(session: Session, changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` with email and phone normalised, or :class:`InvalidContact`."""
    values = dict(changes)
    for key in ("email", "phone", "company"):
        if key in values and values[key] == "":
            values[key] = None
    errors = {}
    for key in ("email", "phone"):
        if values.get(key) is not None:
            try:
                values[key] = _read(session, key, values[key])
            except InvalidValue as exc:
                errors[key] = [str(exc)]
    if errors:
        raise InvalidContact(errors)
    return values


def _with_custom_fields(
    session: Session, contact: Contact | None, fields: dict[str, Any], *, require: bool
) -> dict[str, Any]:
    """``fields`` with ``custom_fields`` checked and merged into the contact's current
    values (see :func:`crm.custom_fields.checked_values`), or :class:`InvalidContact`
    naming ``custom_fields.<key>``."""
    if contact is not None and "custom_fields" not in fields:
        return fields
    changes = fields.get("custom_fields") or {}
    try:
        values = checked_values(
            session,
            entity="contact",
            current=contact.custom_fields if contact is not None else {},
            changes=changes,
            require=require or (contact is not None and bool(changes)),
        )
    except CustomFieldError as exc:
        raise InvalidContact(exc.errors) from exc
    return {**fields, "custom_fields": values}


def _read(session: Session, key: str, value: str) -> str:
    if key == "email":
        return normalise_email(value)
    return normalise_phone(value, region=account_region(session))


def _holder(session: Session, field: str, value: Any) -> uuid.UUID | None:
    """The id of the contact whose ``field`` is ``value`` (nothing pending is flushed)."""
    with session.no_autoflush:
        return session.scalar(
            select(Contact.id).where(getattr(Contact, field) == value, Contact.deleted_at.is_(None))
        )


def save_contact(
    session: Session, contact: Contact, changes: dict[str, Any] | None = None
) -> Contact:
    """Save ``contact`` with ``changes`` in a savepoint: a clash on email or phone is a
    :class:`ContactConflict` naming the other contact, and leaves ``contact`` unchanged."""
    changes = changes or {}
    wanted = {
        field: changes.get(field, getattr(contact, field)) for field in _UNIQUE_FIELDS.values()
    }
    try:
        with session.begin_nested():
            for key, value in changes.items():
                setattr(contact, key, value)
            session.add(contact)
            session.flush()
    except IntegrityError as exc:
        constraint = getattr(exc.orig.diag, "constraint_name", None)
        if constraint in _UNIQUE_FIELDS:
            field = _UNIQUE_FIELDS[constraint]
            raise ContactConflict(field, _holder(session, field, wanted[field])) from exc
        raise
    return contact


def find_duplicates(
    session: Session,
    *,
    email: str | None = None,
    phone: str | None = None,
    exclude: uuid.UUID | None = None,
) -> list[Duplicate]:
    """The contacts that already have ``email`` or ``phone`` (typed in any format), but
    ``exclude``; :class:`InvalidContact` when either cannot be read."""
    wanted = {
        key: value
        for key, value in _normalised(session, {"email": email, "phone": phone}).items()
        if value is not None
    }
    if not wanted:
        return []
    query = select(Contact).where(
        or_(*(getattr(Contact, k) == v for k, v in wanted.items())), Contact.deleted_at.is_(None)
    )
    if exclude is not None:
        query = query.where(Contact.id != exclude)
    return [
        Duplicate(contact, [key for key, value in wanted.items() if getattr(contact, key) == value])
        for contact in session.scalars(query.order_by(Contact.created_at, Contact.id))
    ]


def _audit(
    session: Session,
    contact: Contact,
    *,
    actor: Actor,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Log ``contact.<action>``: a creation's after, a deletion's before, an update's
    changed fields on both sides."""
    record_change(
        session,
        actor=actor,
        action=f"contact.{action}",
        target_type="contact",
        target_id=contact.id,
        before=before,
        after=after,
    )


def contact_event(
    session: Session,
    contact: Contact,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    name: str,
    payload: dict[str, list[Any]],
) -> None:
    emit(
        session,
        account_id=account_id,
        name=name,
        actor=actor,
        subject_type="contact",
        subject_id=contact.id,
        payload=payload,
    )


def create_contact(
    session: Session,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    require_fields: bool = False,
    **fields: Any,
) -> Contact:
    """A new contact; ``require_fields``: the account's required custom fields must be
    given (a person creating it can; a widget visitor or a job cannot)."""
    fields = _with_custom_fields(session, None, fields, require=require_fields)
    contact = save_contact(session, Contact(**_normalised(session, fields)))
    _audit(session, contact, actor=actor, action="created", after=snapshot(contact))
    payload = {key: [None, getattr(contact, key)] for key in _FIELDS}
    contact_event(
        session,
        contact,
        account_id=account_id,
        actor=actor,
        name=names.CONTACT_CREATED,
        payload=payload,
    )
    return contact


def get_contact(session: Session, contact_id: uuid.UUID) -> Contact | None:
    """The contact, unless there is none or it was deleted (or merged into another)."""
    contact = session.get(Contact, contact_id)
    return contact if contact is not None and contact.deleted_at is None else None


def update_contact(
    session: Session, contact: Contact, *, account_id: uuid.UUID, actor: Actor, **changes: Any
) -> Contact:
    old = snapshot(contact)
    changed = {}
    changes = _with_custom_fields(session, contact, changes, require=False)
    for key, value in _normalised(session, changes).items():
        before = getattr(contact, key)
        if before != value:
            changed[key] = [before, value]
    if not changed:
        return contact
    contact = save_contact(session, contact, {key: new for key, (_, new) in changed.items()})
    _audit(session, contact, actor=actor, action="updated", before=old, after=snapshot(contact))
    contact_event(
        session,
        contact,
        account_id=account_id,
        actor=actor,
        name=names.CONTACT_UPDATED,
        payload=changed,
    )
    return contact


def delete_contact(
    session: Session, contact: Contact, *, account_id: uuid.UUID, actor: Actor
) -> None:
    """Soft-delete ``contact``: hidden everywhere, restorable within the retention period
    (:mod:`crm.retention`), its email and phone free for others meanwhile."""
    payload = {key: [getattr(contact, key), None] for key in _FIELDS}
    _audit(session, contact, actor=actor, action="deleted", before=snapshot(contact))
    contact.deleted_at = utcnow()
    session.flush()
    contact_event(
        session,
        contact,
        account_id=account_id,
        actor=actor,
        name=names.CONTACT_DELETED,
        payload=payload,
    )
