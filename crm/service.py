"""Contact rules shared by the API, workers and CLI. Callers own the transaction."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.models import Contact

_PHONE_SEPARATORS = re.compile(r"[\s().\-]")
_UNIQUE_FIELDS = {"uq_contacts_email": "email", "uq_contacts_phone": "phone"}


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


def create_contact(session: Session, **fields: Any) -> Contact:
    return _flush(session, Contact(**_normalised(fields)))


def get_contact(session: Session, contact_id: uuid.UUID) -> Contact | None:
    return session.get(Contact, contact_id)


def update_contact(session: Session, contact: Contact, **changes: Any) -> Contact:
    for key, value in _normalised(changes).items():
        setattr(contact, key, value)
    return _flush(session, contact)


def delete_contact(session: Session, contact: Contact) -> None:
    session.delete(contact)
    session.flush()
