"""How the helpdesk services' refusals answer over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from api.errors import fail
from crm.custom_fields import CustomFieldError
from helpdesk.errors import Conflict, HelpdeskError, InvalidField, NotFound


def fail_for(exc: HelpdeskError) -> NoReturn:
    if isinstance(exc, InvalidField):
        fail(422, "validation_failed", exc.message, errors={exc.field: [exc.message]})
    if isinstance(exc, Conflict):
        errors = {exc.field: [exc.message]} if exc.field else None
        fail(409, exc.code, exc.message, errors=errors)
    if isinstance(exc, NotFound):
        fail(404, exc.code, exc.message)
    raise exc


@contextmanager
def refusals_answered() -> Iterator[None]:
    """A service's refusal inside the block answers as its HTTP error (422, 409 or 404);
    refused custom-field values are a 422 naming each ``custom_fields.<key>``."""
    try:
        yield
    except HelpdeskError as exc:
        fail_for(exc)
    except CustomFieldError as exc:
        fail(422, "validation_failed", "The request has invalid fields.", errors=exc.errors)
