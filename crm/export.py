"""Contacts as CSV: the columns one may choose, safe cells, and rows streamed in batches.

Columns are the standard ones (:data:`STANDARD_COLUMNS`) and ``custom_fields.<key>`` for
each of the account's contact custom fields; by default all of them, the custom fields
in definition order. Cells are text: dates ISO 8601, booleans ``true``/``false``,
multi-select values joined with ``"; "``, nothing for a missing value. A cell that a
spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return) is prefixed with ``'``, except an E.164 phone (``+`` and digits);
:func:`uncell` drops it again on import.

:func:`csv_chunks` reads the rows with a server-side cursor, a batch at a time, so
memory stays flat however many contacts there are. The caller owns the transaction.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from crm.custom_fields import CustomFieldDefinition
from crm.models import Contact

STANDARD_COLUMNS = ("id", "name", "email", "phone", "company", "created_at", "updated_at")
CUSTOM_PREFIX = "custom_fields."
#: Rows fetched from the server-side cursor (and written out) at a time.
BATCH_SIZE = 1000
#: What a spreadsheet may take for the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_E164 = re.compile(r"\+[0-9]+")


class UnknownColumns(ValueError):
    """Columns that are neither standard nor one of the account's contact custom fields."""

    def __init__(self, names: list[str], allowed: list[str]) -> None:
        super().__init__(f"unknown columns: {', '.join(names)}")
        self.names = names
        self.allowed = allowed


def available_columns(definitions: Iterable[CustomFieldDefinition]) -> list[str]:
    """Every column, in the default order: the standard ones, then the custom fields."""
    return [*STANDARD_COLUMNS, *(f"{CUSTOM_PREFIX}{d.key}" for d in definitions)]


def chosen_columns(
    requested: Sequence[str] | None, definitions: Iterable[CustomFieldDefinition]
) -> list[str]:
    """``requested`` checked against the account's columns (all of them when None)."""
    allowed = available_columns(definitions)
    if requested is None:
        return allowed
    unknown = [name for name in requested if name not in allowed]
    if unknown:
        raise UnknownColumns(unknown, allowed)
    return list(requested)


def cell(value: Any) -> str:
    """``value`` as the text of one CSV cell, defused if it would start a formula."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, datetime | date):
        text = value.isoformat()
    elif isinstance(value, list):
        text = "; ".join("" if item is None else str(item) for item in value)
    else:
        text = str(value)
    if text.startswith(FORMULA_STARTS) and not _E164.fullmatch(text):
        return f"'{text}"
    return text


def uncell(text: str) -> str:
    """A cell's text as :func:`cell` was given it: the ``'`` that defused a formula
    dropped, so an exported file imports back to the same values."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def _value(row: Any, column: str) -> Any:
    if column.startswith(CUSTOM_PREFIX):
        return (row.custom_fields or {}).get(column.removeprefix(CUSTOM_PREFIX))
    return getattr(row, column)


def csv_text(header: Sequence[Any], batches: Iterable[Iterable[Sequence[Any]]]) -> Iterator[str]:
    """``header``, then each batch of rows, as CSV text: one chunk for the header and one
    per batch (streamed: one batch in memory at a time), every cell defused (:func:`cell`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([cell(value) for value in header])
    yield take()
    for batch in batches:
        writer.writerows([cell(value) for value in row] for row in batch)
        yield take()


def csv_chunks(
    session: Session, query: Select, columns: Sequence[str], *, batch_size: int = BATCH_SIZE
) -> Iterator[str]:
    """The header line, then the contacts ``query`` selects (filtered and ordered as the
    caller wants) as CSV text, one chunk per batch of rows."""

    def batches() -> Iterator[list[list[Any]]]:
        selected = [getattr(Contact, name) for name in STANDARD_COLUMNS] + [Contact.custom_fields]
        result = session.execute(
            query.with_only_columns(*selected).execution_options(yield_per=batch_size)
        )
        for batch in result.partitions():
            yield [[_value(row, name) for name in columns] for row in batch]

    return csv_text(columns, batches())
