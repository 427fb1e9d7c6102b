"""Files kept in the account's own schema: uploads waiting to be imported, and whatever
else must outlive a request (a long export's result, say).

Why the database rather than a disk or a bucket: every web process and worker already
reaches the same PostgreSQL, so a file uploaded to one host is read by a worker on
another with nothing more to run or configure, and it lives (and goes) with its
account's schema, as isolated as any other tenant row. A file is a row of
``stored_files`` and its content is ``stored_file_chunks`` of :data:`CHUNK_SIZE` bytes,
written from a stream a chunk at a time and read back the same way
(:func:`open_file`), so neither side ever holds the whole file.

Files may expire (``expires_at``). One timer per account (:mod:`events.timers`) is due
when its earliest file expires: it deletes what expired and plans the next, so nothing
sweeps accounts that store nothing. Between its expiry and the timer's firing a file is
already gone for readers (:class:`FileGone`). Callers own the transaction.
"""

from __future__ import annotations

import io
import itertools
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import BinaryIO

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Uuid,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from events import timers
from tenants.db import TenantBase, UuidPrimaryKey, utcnow

#: Bytes per chunk: large enough that a 50 MiB file is 50 rows, small enough that a
#: reader holds little.
CHUNK_SIZE = 1024 * 1024
TIMER = "files.purge"


class StoredFile(UuidPrimaryKey, TenantBase):
    __tablename__ = "stored_files"
    __table_args__ = (
        Index(
            "ix_stored_files_expires_at",
            "expires_at",
            postgresql_where=text("expires_at IS NOT NULL"),
        ),
    )

    #: What it is for (``contact_import``, …): files of one purpose are read by one module.
    purpose: Mapped[str] = mapped_column(String(40))
    #: As the uploader named it (no path).
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The user who stored it, if one did.
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: When the workers delete it (never when None).
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StoredFileChunk(TenantBase):
    __tablename__ = "stored_file_chunks"

    file_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("stored_files.id", ondelete="CASCADE"), primary_key=True
    )
    #: From 0, in the file's order.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class FileGone(Exception):
    """No such file: never stored, deleted, or expired."""


def _read_up_to(stream: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes, fewer only at the end (a socket hands out what has arrived)."""
    parts, missing = [], size
    while missing:
        part = stream.read(missing)
        if not part:
            break
        parts.append(part)
        missing -= len(part)
    return b"".join(parts)


def store(
    session: Session,
    stream: BinaryIO,
    *,
    account_id: uuid.UUID,
    purpose: str,
    filename: str,
    content_type: str,
    created_by: uuid.UUID | None = None,
    expires_at: datetime | None = None,
) -> StoredFile:
    """Store what ``stream`` holds, read a chunk at a time, as a new file."""
    file = StoredFile(
        id=uuid.uuid4(),
        purpose=purpose,
        filename=filename[:255],
        content_type=content_type[:100],
        size=0,
        created_by=created_by,
        expires_at=expires_at,
    )
    session.add(file)
    session.flush()
    seq = 0
    while chunk := _read_up_to(stream, CHUNK_SIZE):
        session.execute(insert(StoredFileChunk).values(file_id=file.id, seq=seq, data=chunk))
        file.size += len(chunk)
        seq += 1
    session.flush()
    if expires_at is not None:
        plan_purge(session, account_id=account_id)
    return file


def get_file(session: Session, file_id: uuid.UUID | None) -> StoredFile:
    """The file, or :class:`FileGone` when it was deleted or has expired."""
    file = session.get(StoredFile, file_id) if file_id is not None else None
    if file is None or (file.expires_at is not None and file.expires_at <= utcnow()):
        raise FileGone(file_id)
    return file


class ChunkStream(io.RawIOBase):
    """Chunks of bytes, as ``next_chunk`` hands them out (None at the end), read as a raw
    stream: what :func:`store` reads and :func:`open_file` gives back."""

    def __init__(self, next_chunk: Callable[[], bytes | None]) -> None:
        super().__init__()
        self._next_chunk = next_chunk
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            data = self._next_chunk()
            if data is None:
                return 0
            self._pending = memoryview(data)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _chunks(session: Session, file_id: uuid.UUID) -> Callable[[], bytes | None]:
    """The file's chunks, one query per chunk when it is needed: the reader may commit
    between reads (a query per chunk survives that; a cursor would not)."""
    seq = itertools.count()

    def next_chunk() -> bytes | None:
        return session.scalar(
            select(StoredFileChunk.data).where(
                StoredFileChunk.file_id == file_id, StoredFileChunk.seq == next(seq)
            )
        )

    return next_chunk


def open_file(session: Session, file_id: uuid.UUID | None) -> io.BufferedReader:
    """The file's content as a binary stream (:class:`FileGone` when there is none)."""
    get_file(session, file_id)
    return io.BufferedReader(ChunkStream(_chunks(session, file_id)), buffer_size=CHUNK_SIZE)


def delete_file(session: Session, file_id: uuid.UUID) -> None:
    """Delete the file and its content (nothing when it is gone already)."""
    session.execute(delete(StoredFile).where(StoredFile.id == file_id))


def purge_expired(session: Session, *, now: datetime | None = None) -> int:
    """Delete the files expired by ``now``; return how many."""
    return session.execute(
        delete(StoredFile)
        .where(StoredFile.expires_at <= (now or utcnow()))
        .execution_options(synchronize_session=False)
    ).rowcount


def plan_purge(session: Session, *, account_id: uuid.UUID) -> None:
    """Keep the account's purge timer at its earliest expiry (none without one)."""
    earliest = session.scalar(select(func.min(StoredFile.expires_at)))
    timers.plan(session, account_id=account_id, kind=TIMER, subject_id=account_id, due_at=earliest)


@timers.handler(TIMER)
def _purge(session: Session, timer: timers.Timer, now: datetime) -> None:
    purge_expired(session, now=now)
    plan_purge(session, account_id=timer.account_id)
