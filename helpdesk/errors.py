"""What the helpdesk services refuse; the API maps each to a status and code."""

from __future__ import annotations


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
