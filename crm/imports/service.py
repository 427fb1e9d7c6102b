"""An import's life: upload, mapping, dry run, start, cancel, resume, error report.

The steps the API (and a benchmark) call; the batches themselves run in
:mod:`crm.imports.runner`. Callers own the transaction.

- :func:`upload` stores the file (:mod:`crm.files`, kept :data:`FILE_KEPT` unless the
  import ends first), reads how it is laid out (:mod:`crm.imports.reading`) and suggests
  a mapping (:mod:`crm.imports.mapping`): the import is ``pending``.
- :func:`configure` changes the mapping and the duplicates policy while it is pending.
- :func:`preview` is the dry run: the same reading and matching as the import
  (:mod:`crm.imports.rows`) over the first :data:`PREVIEW_ROWS` rows, writing nothing.
- :func:`start` queues it; :func:`cancel` stops it after the batch in progress (what is
  imported stays); :func:`resume` queues a failed or stalled one again, from its
  checkpoint.
- :func:`report_chunks` is the error report: the refused rows as they were, plus why.
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.service import Actor, record_change
from crm import files
from crm.custom_fields import list_definitions
from crm.export import csv_text
from crm.imports import mapping as mappings
from crm.imports.models import (
    CANCELLED,
    FAILED,
    PENDING,
    POLICIES,
    QUEUED,
    RUNNING,
    SKIP,
    UNFINISHED,
    ContactImport,
    RejectedRow,
)
from crm.imports.reading import inspect, records
from crm.imports.rows import FAIL, Outcome, Planner, lookup
from crm.imports.runner import end, queue, reader_for, summary
from tenants.db import utcnow

FILE_PURPOSE = "contact_import"
#: How long an upload is kept for its import to start (or resume).
FILE_KEPT = timedelta(days=7)
PREVIEW_ROWS = 10_000
#: Refused rows a dry run describes (it counts them all).
PREVIEW_ERRORS = 100
#: Rows read (and looked up) together by the dry run.
PREVIEW_BATCH = 1000
#: The error report's column of reasons.
ERRORS_COLUMN = "errors"


class ImportRefused(Exception):
    """The import cannot do that in its state (a 409): ``code`` and message say why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def upload(
    session: Session,
    stream: BinaryIO,
    *,
    filename: str,
    content_type: str,
    account_id: uuid.UUID,
    actor: Actor,
    user_id: uuid.UUID | None,
) -> ContactImport:
    """A new pending import of the CSV ``stream`` holds, its mapping suggested;
    :class:`crm.imports.reading.Unreadable` when it cannot be imported as it is."""
    file = files.store(
        session,
        stream,
        account_id=account_id,
        purpose=FILE_PURPOSE,
        filename=filename,
        content_type=content_type,
        created_by=user_id,
        expires_at=utcnow() + FILE_KEPT,
    )
    layout = inspect(lambda: files.open_file(session, file.id))
    definitions = list_definitions(session, "contact")
    contact_import = ContactImport(
        id=uuid.uuid4(),
        file_id=file.id,
        filename=file.filename,
        status=PENDING,
        encoding=layout.encoding,
        delimiter=layout.delimiter,
        headers=layout.headers,
        mapping=mappings.suggest(layout.headers, definitions),
        duplicates=SKIP,
        samples=layout.samples,
        total_rows=layout.total_rows,
        rows_done=0,
        created=0,
        updated=0,
        skipped=0,
        failed=0,
        attempts=0,
        created_by=user_id,
        actor_type=actor.type,
        actor_id=actor.id,
    )
    session.add(contact_import)
    session.flush()
    return contact_import


def get_import(
    session: Session, import_id: uuid.UUID, *, lock: bool = False
) -> ContactImport | None:
    """The import; ``lock`` it to change it (waiting for a batch in progress to commit)."""
    return session.get(
        ContactImport, import_id, with_for_update=lock or None, populate_existing=lock
    )


def _require(contact_import: ContactImport, *statuses: str, code: str, message: str) -> None:
    if contact_import.status not in statuses:
        raise ImportRefused(code, message.format(status=contact_import.status))


def _file(session: Session, contact_import: ContactImport) -> None:
    try:
        files.get_file(session, contact_import.file_id)
    except files.FileGone:
        raise ImportRefused(
            "import_file_gone", "The uploaded file is gone (it expired); upload it again."
        ) from None


def _mapped(mapping: dict[str, str | None]) -> None:
    if not any(mapping.values()):
        raise mappings.InvalidMapping({"mapping": ["map at least one column to a field"]})


def configure(
    session: Session,
    contact_import: ContactImport,
    *,
    mapping: dict[str, str | None] | None = None,
    duplicates: str | None = None,
) -> ContactImport:
    """Change the mapping (all of it: headers left out are ignored) and the duplicates
    policy of a pending import; :class:`crm.imports.mapping.InvalidMapping` names the
    columns at fault."""
    _require(
        contact_import,
        PENDING,
        code="import_started",
        message="The import is {status}; its mapping can no longer change.",
    )
    if mapping is not None:
        definitions = list_definitions(session, "contact")
        checked = mappings.checked(mapping, contact_import.headers, definitions)
        _mapped(checked)
        contact_import.mapping = checked
    if duplicates is not None:
        if duplicates not in POLICIES:
            raise ValueError(f"unknown duplicates policy {duplicates!r}")
        contact_import.duplicates = duplicates
    session.flush()
    return contact_import


@dataclass
class Preview:
    rows_checked: int
    counts: Counter = field(default_factory=Counter)
    #: Rows matching an earlier row of the file, and an existing contact.
    in_file: int = 0
    existing: int = 0
    errors: list[Outcome] = field(default_factory=list)


def preview(
    session: Session, contact_import: ContactImport, *, limit: int = PREVIEW_ROWS
) -> Preview:
    """What importing the first ``limit`` rows would do now, writing nothing."""
    _file(session, contact_import)
    _mapped(contact_import.mapping)
    reader = reader_for(session, contact_import)
    planner = Planner(reader, policy=contact_import.duplicates)
    find = lookup(session, lock=False)
    stream = files.open_file(session, contact_import.file_id)
    rows = records(stream, encoding=contact_import.encoding, delimiter=contact_import.delimiter)
    result = Preview(rows_checked=0)
    rows = itertools.islice(rows, limit)
    while batch := list(itertools.islice(rows, PREVIEW_BATCH)):
        result.rows_checked += len(batch)
        for outcome in planner.plan([reader.read(n, c) for n, c in batch], find):
            result.counts[outcome.action] += 1
            if outcome.duplicate:
                if outcome.duplicate_of_row is not None:
                    result.in_file += 1
                else:
                    result.existing += 1
            if outcome.action == FAIL and len(result.errors) < PREVIEW_ERRORS:
                result.errors.append(outcome)
    return result


def start(
    session: Session, contact_import: ContactImport, *, account_id: uuid.UUID, actor: Actor
) -> ContactImport:
    """Queue a pending import (its file still there, something mapped)."""
    _require(
        contact_import,
        PENDING,
        code="import_started",
        message="The import is {status} already.",
    )
    _file(session, contact_import)
    _mapped(contact_import.mapping)
    contact_import.status = QUEUED
    session.flush()
    record_change(
        session,
        actor=actor,
        action="contact_import.started",
        target_type="contact_import",
        target_id=contact_import.id,
        after={**summary(contact_import), "mapping": contact_import.mapping},
    )
    queue(session, contact_import, account_id=account_id)
    return contact_import


def cancel(
    session: Session, contact_import: ContactImport, *, account_id: uuid.UUID, actor: Actor
) -> ContactImport:
    """Stop the import; a worker stops after the batch in progress, which stays. Pass
    the import locked (:func:`get_import`), so the counters are the last batch's."""
    _require(
        contact_import,
        *UNFINISHED,
        code="import_finished",
        message="The import is {status}; there is nothing to cancel.",
    )
    end(session, contact_import, account_id=account_id, status=CANCELLED, actor=actor)
    return contact_import


def resume(
    session: Session, contact_import: ContactImport, *, account_id: uuid.UUID
) -> ContactImport:
    """Queue a started import again, from its checkpoint: one that failed, or one whose
    worker seems stuck (a run that is in fact alive carries on, the new one stops)."""
    _require(
        contact_import,
        QUEUED,
        RUNNING,
        FAILED,
        code="import_not_resumable",
        message="The import is {status}; only a queued, running or failed one resumes.",
    )
    _file(session, contact_import)
    if contact_import.status == FAILED:
        contact_import.status, contact_import.error = QUEUED, None
        contact_import.finished_at = None
    contact_import.attempts = 0
    session.flush()
    queue(session, contact_import, account_id=account_id)
    return contact_import


def explain(errors: dict[str, list[str]], mapping: dict[str, str | None]) -> str:
    """A refused row's errors as one line, each field named by its column."""
    columns = {target: header for header, target in mapping.items() if target}
    return "; ".join(
        f"{columns.get(name, name)}: {' '.join(messages)}" for name, messages in errors.items()
    )


def report_chunks(
    session: Session, contact_import: ContactImport, *, batch_size: int = 1000
) -> Iterator[str]:
    """The error report as CSV text, a chunk per batch of rows: the file's header and
    an ``errors`` column, then each refused row as it was read (cells defused as the
    export defuses them) with its reasons."""
    width, mapping = len(contact_import.headers), contact_import.mapping

    def batches() -> Iterator[list[list[str]]]:
        result = session.execute(
            select(RejectedRow.cells, RejectedRow.errors)
            .where(RejectedRow.import_id == contact_import.id)
            .order_by(RejectedRow.row_number)
            .execution_options(yield_per=batch_size)
        )
        for batch in result.partitions():
            yield [
                [*cells[:width], *[""] * (width - len(cells)), explain(errors, mapping)]
                for cells, errors in batch
            ]

    return csv_text([*contact_import.headers, ERRORS_COLUMN], batches())
