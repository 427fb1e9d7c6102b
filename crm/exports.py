"""Contact exports run by a worker: the file kept for a while, a link to download it.

The download of ``GET …/contacts/export`` streams while the request lasts; a very large
export, or one asked for by a script or a browser that will not wait, runs as a job
instead. Which contacts it holds is decided when it is asked for: the list's selection
(filter, segment, sort) is written down at once as the export's rows — one set-based
``INSERT … SELECT`` of ids in order — so the job needs none of the list grammar, the
file is what the list showed at that moment (less the contacts deleted meanwhile), and
the export knows its total before it starts.

The job writes the CSV (:func:`crm.export.csv_chunks`, the same cells as the download)
into a stored file (:mod:`crm.files`) kept :data:`FILE_KEPT`, in one transaction with
the export's completion: a worker that dies half way leaves no file and the export
queued; a timer (:data:`TIMER`, due :data:`DEADLINE` after each start) queues it again,
up to :data:`MAX_ATTEMPTS` starts. When it is done the requester's sockets hear
``contact_export.completed`` (or ``contact_export.failed``).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    Select,
    String,
    Uuid,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.jobs import enqueue
from crm import files
from crm.export import csv_chunks
from crm.models import Contact
from events import timers
from realtime import feed
from realtime.rooms import user_room
from tenants.db import TenantBase, Timestamps, UuidPrimaryKey, utcnow
from tenants.hooks import after_commit
from tenants.registry import live_account
from tenants.session import tenant_session

QUEUED, RUNNING, COMPLETED, FAILED = "queued", "running", "completed", "failed"
STATUSES = (QUEUED, RUNNING, COMPLETED, FAILED)
FILE_PURPOSE = "contact_export"
#: How long the file stays downloadable.
FILE_KEPT = timedelta(days=7)
TIMER = "contact_export.deadline"
#: A start that has not completed by then is taken for dead (the job's own timeout is
#: shorter), and the export queued again.
JOB_TIMEOUT = 3600
DEADLINE = timedelta(seconds=JOB_TIMEOUT + 300)
MAX_ATTEMPTS = 3
COMPLETED_PUSH, FAILED_PUSH = "contact_export.completed", "contact_export.failed"


class ContactExport(UuidPrimaryKey, Timestamps, TenantBase):
    __tablename__ = "contact_exports"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in STATUSES)})", name="status"),
    )

    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    #: The CSV's columns, in order (crm.export.chosen_columns).
    columns: Mapped[list[str]] = mapped_column(JSONB)
    #: Contacts selected when it was asked for; rows written once it completed.
    total_rows: Mapped[int] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    file_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("stored_files.id", ondelete="SET NULL")
    )
    filename: Mapped[str] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    #: The user who asked (their sockets hear the end), if one did.
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ExportRow(TenantBase):
    """One selected contact of an export, at its place in the file."""

    __tablename__ = "contact_export_rows"

    export_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("contact_exports.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(Uuid)


def request_export(
    session: Session,
    selection: Select,
    order: Sequence[Any],
    *,
    columns: list[str],
    filename: str,
    account_id: uuid.UUID,
    user_id: uuid.UUID | None,
) -> ContactExport:
    """A queued export of the contacts ``selection`` (a ``select(Contact)`` with its
    conditions) holds, in ``order``; the job starts once the caller commits."""
    export = ContactExport(
        id=uuid.uuid4(),
        status=QUEUED,
        columns=columns,
        total_rows=0,
        rows_done=0,
        filename=filename,
        attempts=0,
        created_by=user_id,
    )
    session.add(export)
    session.flush()
    ranked = selection.with_only_columns(
        literal(export.id, Uuid), func.row_number().over(order_by=list(order)), Contact.id
    )
    session.execute(
        insert(ExportRow.__table__).from_select(["export_id", "position", "contact_id"], ranked)
    )
    export.total_rows = session.scalar(select(func.count()).where(ExportRow.export_id == export.id))
    _queue(session, export, account_id=account_id)
    return export


def get_export(session: Session, export_id: uuid.UUID) -> ContactExport | None:
    return session.get(ContactExport, export_id)


def list_exports(session: Session, *, limit: int = 50) -> list[ContactExport]:
    return list(
        session.scalars(
            select(ContactExport).order_by(ContactExport.created_at.desc()).limit(limit)
        )
    )


def _queue(session: Session, export: ContactExport, *, account_id: uuid.UUID) -> None:
    timers.schedule(
        session,
        account_id=account_id,
        kind=TIMER,
        subject_id=export.id,
        due_at=utcnow() + DEADLINE,
    )
    args = (str(account_id), str(export.id))
    after_commit(
        session,
        lambda: enqueue(run_job, *args, queue_name="low", retry=None, job_timeout=JOB_TIMEOUT),
    )


def _selected(export_id: uuid.UUID) -> Select:
    return (
        select(Contact)
        .join(ExportRow, ExportRow.contact_id == Contact.id)
        .where(ExportRow.export_id == export_id, Contact.deleted_at.is_(None))
        .order_by(ExportRow.position)
    )


def run_job(account_id: str, export_id: str) -> str:
    """The RQ job: write the export's file, unless it is done (or gone) already.

    The start is counted in a transaction of its own, so a worker that dies while writing
    still counts against :data:`MAX_ATTEMPTS`; the file and the completion commit
    together, under the export's lock, so a second run queued meanwhile finds it done."""
    account = live_account(uuid.UUID(account_id))
    if account is None:
        return "gone"
    with tenant_session(account) as session:
        export = _unfinished(session, uuid.UUID(export_id))
        if export is None:
            return "done"
        export.status, export.started_at = RUNNING, utcnow()
        export.attempts += 1
    with tenant_session(account) as session:
        export = _unfinished(session, uuid.UUID(export_id))
        if export is None:
            return "done"
        encoded = (
            text.encode() for text in csv_chunks(session, _selected(export.id), export.columns)
        )
        stream = files.ChunkStream(lambda: next(encoded, None))
        file = files.store(
            session,
            io.BufferedReader(stream, buffer_size=files.CHUNK_SIZE),
            account_id=account.id,
            purpose=FILE_PURPOSE,
            filename=export.filename,
            content_type="text/csv",
            created_by=export.created_by,
            expires_at=utcnow() + FILE_KEPT,
        )
        export.rows_done = session.scalar(
            select(func.count()).select_from(_selected(export.id).order_by(None).subquery())
        )
        _end(session, export, account_id=account.id, status=COMPLETED, file_id=file.id)
        return COMPLETED


def _unfinished(session: Session, export_id: uuid.UUID) -> ContactExport | None:
    export = session.get(ContactExport, export_id, with_for_update=True)
    return None if export is None or export.status in (COMPLETED, FAILED) else export


def _end(
    session: Session,
    export: ContactExport,
    *,
    account_id: uuid.UUID,
    status: str,
    file_id: uuid.UUID | None = None,
    error: str | None = None,
) -> None:
    export.status, export.file_id, export.error = status, file_id, error
    export.finished_at = utcnow()
    session.execute(delete(ExportRow).where(ExportRow.export_id == export.id))
    timers.cancel(session, account_id=account_id, kind=TIMER, subject_id=export.id)
    session.flush()
    if export.created_by is not None:
        room, data = user_room(account_id, export.created_by), {"export": described(export)}
        data["account_id"] = str(account_id)
        name = COMPLETED_PUSH if status == COMPLETED else FAILED_PUSH
        feed.publish_after_commit(session, room, name, data)


def described(export: ContactExport) -> dict[str, Any]:
    """The export as its pushes tell it."""
    fields = ("status", "total_rows", "rows_done", "filename", "error")
    data = {"id": str(export.id), **{f: getattr(export, f) for f in fields}}
    data["finished_at"] = export.finished_at.isoformat() if export.finished_at else None
    return data


@timers.handler(TIMER)
def _deadline(session: Session, timer: timers.Timer, now: datetime) -> None:
    """The export did not complete in time after a start: its worker died. Queue it again,
    or give it up after :data:`MAX_ATTEMPTS` starts."""
    export = session.get(ContactExport, timer.subject_id, with_for_update=True)
    if export is None or export.status in (COMPLETED, FAILED):
        return
    if export.attempts >= MAX_ATTEMPTS:
        _end(
            session,
            export,
            account_id=timer.account_id,
            status=FAILED,
            error=f"The export did not complete after {export.attempts} attempts.",
        )
        return
    export.status = QUEUED
    _queue(session, export, account_id=timer.account_id)
