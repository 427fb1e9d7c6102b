"""Running an import: the RQ job, its batches, its checkpoint, and its lease.

:func:`run_import` streams the stored file and takes the rows a batch at a time
(``TURUMBA_IMPORT_BATCH_SIZE``, 1,000). **Each batch commits in one transaction with the
checkpoint** (``rows_done`` and the counters): a worker killed at any moment leaves
either the whole batch and its checkpoint or neither, so carrying on from the checkpoint
imports every row exactly once. Contacts are written set-wise, not an ORM object per
row: the new ones in one ``INSERT … SELECT FROM jsonb_to_recordset(…)``, the changed ones
in one round trip of ``UPDATE`` s, tags and refused rows in one statement each. A contact
somebody else creates meanwhile with the same email or phone breaks the unique index on
it: the batch's savepoint is rolled back and the batch planned again, the row then
matching that contact. Large files are read (checked) in other
processes while this one writes (:func:`crm.imports.rows.read_batches`).

**The lease.** Starting an import schedules a timer (:mod:`events.timers`) due after
:data:`LEASE`; each batch pushes it forward in its own transaction. While a worker
works, the timer never comes due; when the worker dies, it does, and its handler queues
the job again, which carries on from the checkpoint. Two runs of the same import (a slow
worker whose lease ran out, a manual resume) cannot both write: each batch locks the
import's row and proceeds only if the checkpoint is where this run left it, so the
slower one stops. A run that starts and dies :data:`MAX_ATTEMPTS` times without moving
the checkpoint fails the import instead of trying forever.

**What an import announces.** Contacts created or changed by an import emit no
``contact.created`` / ``contact.updated`` event each and get no audit entry each (100,000
events would flood the outbox, the pushes and every automation rule): automation rules
on contact events do not run for imported contacts. The import itself writes one audit
entry when it starts, one when it ends (``contact_import.completed`` with the counts;
``.cancelled``, ``.failed``), and one event when it completes, ``contacts.imported``,
with the counts. The importing user's sockets hear ``contact_import.progress`` after
each batch and at the end (best effort: a push lost while Redis is away is not retried).
"""

from __future__ import annotations

import itertools
import json as jsonlib
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, NoReturn

from flask import current_app
from sqlalchemy import Table, Text, bindparam, cast, column, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, Insert, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.service import Actor, record_change
from core.jobs import enqueue
from crm import files
from crm.custom_fields import list_definitions
from crm.imports.models import (
    COMPLETED,
    CREATE,
    FAILED,
    QUEUED,
    RUNNING,
    SKIP,
    UNFINISHED,
    UPDATE,
    ContactImport,
    RejectedRow,
)
from crm.imports.reading import records
from crm.imports.rows import (
    FAIL,
    Outcome,
    Planner,
    Reader,
    Target,
    lookup,
    planned,
    read_batches,
)
from crm.models import Contact
from crm.normalise import account_region
from events import names, timers
from events.outbox import emit
from helpdesk.tags import ContactTag, ensure_tags
from realtime import feed
from realtime.rooms import user_room
from tenants.db import utcnow
from tenants.hooks import after_commit
from tenants.registry import AccountRecord, live_account
from tenants.session import tenant_session

TIMER = "contact_import.resume"
#: How long a worker may go without committing a batch before another takes over.
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 5
#: Seconds RQ lets one run take; a longer import is stopped and resumed by its lease.
JOB_TIMEOUT = 3600
#: Times a batch is planned again after a conflict with somebody else's write.
REPLANS = 3
PROGRESS = "contact_import.progress"
#: Rows left from which an import reads its rows in other processes
#: (``TURUMBA_IMPORT_PROCESSES``; see :func:`crm.imports.rows.read_batches`): starting
#: them costs about a second.
PARALLEL_FROM = 10_000
_ACTIONS = {CREATE: "created", UPDATE: "updated", SKIP: "skipped", FAIL: "failed"}


def _lease(session: Session, account_id: uuid.UUID, import_id: uuid.UUID, now: datetime) -> None:
    timers.schedule(
        session, account_id=account_id, kind=TIMER, subject_id=import_id, due_at=now + LEASE
    )


def queue(session: Session, contact_import: ContactImport, *, account_id: uuid.UUID) -> None:
    """Have a worker run the import once the caller commits, under a lease."""
    _lease(session, account_id, contact_import.id, utcnow())
    args = (str(account_id), str(contact_import.id))
    after_commit(session, lambda: _enqueue(*args))


def _enqueue(account_id: str, import_id: str) -> None:
    enqueue(run_job, account_id, import_id, queue_name="low", retry=None, job_timeout=JOB_TIMEOUT)


def run_job(account_id: str, import_id: str) -> str:
    """The RQ job: :func:`run_import`, for an account that still exists."""
    account = live_account(uuid.UUID(account_id))
    if account is None:
        return "gone"
    return run_import(account, uuid.UUID(import_id))


def progress(contact_import: ContactImport) -> dict[str, Any]:
    """What the importer's sockets hear: the import's state and counters."""
    fields = ("status", "total_rows", "rows_done", "created", "updated", "skipped", "failed")
    data = {"id": str(contact_import.id), **{f: getattr(contact_import, f) for f in fields}}
    for moment in ("started_at", "finished_at"):
        value = getattr(contact_import, moment)
        data[moment] = value.isoformat() if value else None
    data["error"] = contact_import.error
    return data


def announce(session: Session, account_id: uuid.UUID, contact_import: ContactImport) -> None:
    """Push ``contact_import.progress``, the import as it is now, to the importer's
    connections once the caller commits (best effort)."""
    if contact_import.created_by is None:
        return
    room = user_room(account_id, contact_import.created_by)
    data = {"account_id": str(account_id), "import": progress(contact_import)}
    feed.publish_after_commit(session, room, PROGRESS, data)


def _actor(contact_import: ContactImport) -> Actor:
    return Actor(contact_import.actor_type, contact_import.actor_id)


def summary(contact_import: ContactImport) -> dict[str, Any]:
    """The import as its audit entries and ``contacts.imported`` tell it."""
    keys = ("filename", "duplicates", "total_rows", "rows_done")
    counts = ("created", "updated", "skipped", "failed")
    return {k: getattr(contact_import, k) for k in (*keys, *counts)}


def end(
    session: Session,
    contact_import: ContactImport,
    *,
    account_id: uuid.UUID,
    status: str,
    actor: Actor | None = None,
    error: str | None = None,
) -> None:
    """Finish the import as ``status``: no more lease, no more file, an audit entry (by
    ``actor``, the importer by default), and the final push once the caller commits."""
    contact_import.status = status
    contact_import.error = error
    contact_import.finished_at = utcnow()
    timers.cancel(session, account_id=account_id, kind=TIMER, subject_id=contact_import.id)
    if status != FAILED and contact_import.file_id is not None:  # a failed one may resume
        files.delete_file(session, contact_import.file_id)
        contact_import.file_id = None
    session.flush()
    record_change(
        session,
        actor=actor or _actor(contact_import),
        action=f"contact_import.{status}",
        target_type="contact_import",
        target_id=contact_import.id,
        after={**summary(contact_import), **({"error": error} if error else {})},
    )
    announce(session, account_id, contact_import)


def _batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


class _Clash(Exception):
    """Somebody else wrote a contact with an email or phone the batch planned to use."""


#: The unique indexes on contacts' emails and phones (crm.models).
_UNIQUE = ("uq_contacts_email", "uq_contacts_phone")


def _insert(table: Table, rows: list[dict[str, Any]]) -> Insert:
    """An ``INSERT`` of ``rows`` (dicts with the same keys, of JSON values) from
    ``jsonb_to_recordset`` of one JSON parameter: a short statement however many rows,
    and the cheapest way found to hand PostgreSQL a batch (a multi-row ``VALUES`` has a
    placeholder per cell, slow to render and parse; array parameters are slow to adapt,
    a few µs per element)."""
    columns = list(rows[0])
    document = cast(bindparam(None, jsonlib.dumps(rows), type_=Text), JSONB)
    source = (
        func.jsonb_to_recordset(document)
        .table_valued(*(column(name, table.c[name].type) for name in columns))
        .render_derived(with_types=True)
    )
    return insert(table).from_select(columns, select(*(source.c[n] for n in columns)))


def _write(session: Session, import_id: uuid.UUID, outcomes: list[Outcome]) -> None:
    now = utcnow()
    targets = planned(outcomes)
    changed = [t for t in targets if t.changed]
    if changed:  # first, so a new contact may take a value an existing one gives up
        _update(session, changed, now)
    created = [t for t in targets if t.new]
    stamp = now.isoformat()  # values JSON holds as they are: no conversion per row
    if created:
        values = [
            {
                "id": str(t.id),
                "name": t.name,
                "email": t.email,
                "phone": t.phone,
                "company": t.company,
                "custom_fields": t.custom_fields,
                "created_at": stamp,
                "updated_at": stamp,
            }
            for t in created
        ]
        try:  # cheaper than ON CONFLICT, for what is rare
            session.execute(_insert(Contact.__table__, values))
        except IntegrityError as exc:
            _clashed(exc)
    tagged = [t for t in targets if t.new_tags]
    if tagged:
        by_key = {tag.key: str(tag.id) for tag in ensure_tags(session, _names(tagged))}
        links = [
            {"contact_id": str(t.id), "tag_id": by_key[key], "created_at": stamp}
            for t in tagged
            for key in t.new_tags
        ]
        session.execute(_insert(ContactTag.__table__, links).on_conflict_do_nothing())
    refused = [
        {
            "import_id": str(import_id),
            "row_number": o.row.number,
            "cells": o.row.cells,
            "errors": o.errors,
        }
        for o in outcomes
        if o.action == FAIL
    ]
    if refused:
        session.execute(_insert(RejectedRow.__table__, refused))


def _update(session: Session, changed: list[Target], now: datetime) -> None:
    """Write the changed contacts: emails and phones cleared first, then every field, so
    contacts of the batch may trade them (unique indexes check each row at once)."""
    table = Contact.__table__
    fields = ("name", "email", "phone", "company", "custom_fields")
    target = table.c.id == bindparam("target")
    cleared = update(table).where(target).values(email=None, phone=None)
    written = (
        update(table)
        .where(target)
        .values({**{f: bindparam(f"new_{f}") for f in fields}, "updated_at": now})
    )
    try:
        session.execute(cleared, [{"target": t.id} for t in changed])
        session.execute(
            written,
            [{"target": t.id, **{f"new_{f}": getattr(t, f) for f in fields}} for t in changed],
        )
    except IntegrityError as exc:
        _clashed(exc)


def _clashed(exc: IntegrityError) -> NoReturn:
    """Raise a :class:`_Clash` when ``exc`` broke the uniqueness of emails or phones,
    else ``exc`` itself."""
    if getattr(exc.orig.diag, "constraint_name", None) in _UNIQUE:
        raise _Clash from exc
    raise exc


def _names(targets: list[Target]) -> list[str]:
    return list({key: name for t in targets for key, name in t.new_tags.items()}.values())


def _locked(session: Session, import_id: uuid.UUID) -> ContactImport | None:
    return session.get(ContactImport, import_id, with_for_update=True, populate_existing=True)


def _claim(session: Session, account_id: uuid.UUID, import_id: uuid.UUID) -> ContactImport | None:
    contact_import = _locked(session, import_id)
    if contact_import is None or contact_import.status not in UNFINISHED:
        return None
    now = utcnow()
    contact_import.status = RUNNING
    contact_import.started_at = contact_import.started_at or now
    contact_import.attempts += 1
    _lease(session, account_id, import_id, now)
    announce(session, account_id, contact_import)
    session.commit()
    return contact_import


def _batch(
    session: Session,
    account_id: uuid.UUID,
    import_id: uuid.UUID,
    position: int,
    rows: list,
    planner: Planner,
) -> bool:
    """Import ``rows`` and move the checkpoint past them, in one transaction; False when
    this run must stop (cancelled, or another run moved the checkpoint)."""
    contact_import = _locked(session, import_id)
    if contact_import.status != RUNNING or contact_import.rows_done != position:
        session.rollback()
        return False
    for _ in range(REPLANS):
        planner.forget()
        try:
            with session.begin_nested():
                outcomes = planner.plan(rows, lookup(session, lock=True))
                _write(session, import_id, outcomes)
            break
        except _Clash:
            continue
    else:
        raise RuntimeError(f"contact import {import_id}: conflicts on {REPLANS} tries")
    counts = Counter(_ACTIONS[o.action] for o in outcomes)
    for name, count in counts.items():
        setattr(contact_import, name, getattr(contact_import, name) + count)
    contact_import.rows_done += len(rows)
    contact_import.attempts = 0
    _lease(session, account_id, import_id, utcnow())
    announce(session, account_id, contact_import)
    session.commit()
    return True


def reader_for(session: Session, contact_import: ContactImport) -> Reader:
    """How the import reads its rows: its mapping, with the account's custom fields and
    phone region as they are now."""
    definitions = {d.key: d for d in list_definitions(session, "contact")}
    return Reader(
        contact_import.headers,
        contact_import.mapping,
        definitions,
        region=account_region(session),
    )


def _rows(session: Session, contact_import: ContactImport) -> Iterator[tuple[int, list[str]]]:
    stream = files.open_file(session, contact_import.file_id)
    return records(stream, encoding=contact_import.encoding, delimiter=contact_import.delimiter)


def run_import(
    account: AccountRecord, import_id: uuid.UUID, *, batch_size: int | None = None
) -> str:
    """Import what remains of the import's file, from its checkpoint, in this process;
    return the import's status afterwards (``stopped`` when another run carries on or
    it was cancelled meanwhile). What the RQ job runs; a benchmark may call it directly
    on an import made by :func:`crm.imports.service.upload`."""
    config = current_app.extensions["turumba.config"]
    size = batch_size or config.import_batch_size
    with tenant_session(account) as session:
        contact_import = _claim(session, account.id, import_id)
        if contact_import is None:
            found = session.get(ContactImport, import_id)
            return found.status if found else "gone"
        position = contact_import.rows_done
        reader = reader_for(session, contact_import)
        planner = Planner(reader, policy=contact_import.duplicates)
        try:
            rows = itertools.islice(_rows(session, contact_import), position, None)
        except files.FileGone:
            end(
                session,
                contact_import,
                account_id=account.id,
                status=FAILED,
                error="The uploaded file expired before the import finished.",
            )
            return FAILED
        left = contact_import.total_rows - position
        processes = config.import_processes if left >= PARALLEL_FROM else 0
        for batch in read_batches(reader, _batches(rows, size), processes=processes):
            if not _batch(session, account.id, import_id, position, batch, planner):
                return "stopped"
            position += len(batch)
        contact_import = _locked(session, import_id)
        if contact_import.status != RUNNING or contact_import.rows_done != position:
            return "stopped"
        end(session, contact_import, account_id=account.id, status=COMPLETED)
        emit(
            session,
            account_id=account.id,
            name=names.CONTACTS_IMPORTED,
            actor=_actor(contact_import),
            subject_type="contact_import",
            subject_id=contact_import.id,
            payload=summary(contact_import),
        )
        return COMPLETED


@timers.handler(TIMER)
def _lease_over(session: Session, timer: timers.Timer, now: datetime) -> None:
    """No batch committed for a whole lease: the worker died (or never started). Queue
    the job again, or give up after :data:`MAX_ATTEMPTS` runs without progress."""
    contact_import = session.scalar(
        select(ContactImport)
        .where(ContactImport.id == timer.subject_id)
        .with_for_update(skip_locked=True)
    )
    if contact_import is None:
        if session.get(ContactImport, timer.subject_id) is not None:  # a run holds it
            _lease(session, timer.account_id, timer.subject_id, now)
        return
    if contact_import.status not in (QUEUED, RUNNING):
        return
    if contact_import.attempts >= MAX_ATTEMPTS:
        error = f"Given up after {contact_import.attempts} runs ended without progress."
        end(session, contact_import, account_id=timer.account_id, status=FAILED, error=error)
        return
    _lease(session, timer.account_id, contact_import.id, now)
    args = (str(timer.account_id), str(contact_import.id))
    after_commit(session, lambda: _enqueue(*args))
