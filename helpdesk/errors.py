"""What the helpdesk services refuse; the API maps each to a status and code."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

Row = TypeVar("Row")


class HelpdeskError(Exception):
    pass


class InvalidField(HelpdeskError):
    """A field names something that does not exist here, or holds an unusable value."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Conflict(HelpdeskError):
    """The change contradicts the current state (``code`` names how)."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class NotFound(HelpdeskError):
    """What the change is about does not exist in this account (``code`` names what)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def save_unique(
    session: Session, row: Row, *, constraint: str, code: str, field: str, message: str = ""
) -> Row:
    """Add and flush ``row`` in a savepoint; a clash on the unique ``constraint`` becomes
    ``Conflict(code)`` naming ``field``, and the caller's transaction stays usable."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        if getattr(exc.orig.diag, "constraint_name", None) == constraint:
            raise Conflict(code, message or f"Another one has this {field}.", field) from exc
        raise
    return row
