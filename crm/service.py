"""Contact rules shared by the API, workers and CLI. Callers own the transaction.

Every change emits its event (contact.created / updated / deleted) in the caller's
transaction, so automation and realtime see exactly what committed.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.service import Actor
from crm.models import Contact
from events import names
from events.outbox import emit

_PHONE_SEPARATORS = re.compile(r"[\s().\-]")
_UNIQUE_FIELDS = {"uq_contacts_email": "email", "uq_contacts_phone": "phone"}
_FIELDS = ("name", "email", "phone", "company")


class ContactConflict(Exception):
    """Another contact of the same account already has this email or phone."""

    def __init__(self, field: str) -> None:
        super().__init__(f"another contact has this {field}")
        self.field = field


def _normalised(changes: dict[str, Any]) -> dict[str, Any]:
    values = dict(changes)
    if values.get("email"):
        values["email"] = values["email"].strip().lower()
    if values.get("phone"):
        values["phone"] = _PHONE_SEPARATORS.sub("", values["phone"])
    for key in ("email", "phone", "company"):
        if key in values and values[key] == "":
            values[key] = None
    return values


def _flush(session: Session, contact: Contact) -> Contact:
    try:
        with session.begin_nested():
            session.add(contact)
            session.flush()
    except IntegrityError as exc:
        constraint = getattr(exc.orig.diag, "constraint_name", None)
        if constraint in _UNIQUE_FIELDS:
            raise ContactConflict(_UNIQUE_FIELDS[constraint]) from exc
        raise
    return contact


def _emit(
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
    session: Session, *, account_id: uuid.UUID, actor: Actor, **fields: Any
) -> Contact:
    contact = _flush(session, Contact(**_normalised(fields)))
    payload = {key: [None, getattr(contact, key)] for key in _FIELDS}
    _emit(
        session,
        contact,
        account_id=account_id,
        actor=actor,
        name=names.CONTACT_CREATED,
        payload=payload,
    )
    return contact


def get_contact(session: Session, contact_id: uuid.UUID) -> Contact | None:
    return session.get(Contact, contact_id)


def update_contact(
    session: Session, contact: Contact, *, account_id: uuid.UUID, actor: Actor, **changes: Any
) -> Contact:
    changed = {}
    for key, value in _normalised(changes).items():
        before = getattr(contact, key)
        if before != value:
            setattr(contact, key, value)
            changed[key] = [before, value]
    if not changed:
        return contact
    contact = _flush(session, contact)
    _emit(
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
    payload = {key: [getattr(contact, key), None] for key in _FIELDS}
    session.delete(contact)
    session.flush()
    _emit(
        session,
        contact,
        account_id=account_id,
        actor=actor,
        name=names.CONTACT_DELETED,
        payload=payload,
    )
