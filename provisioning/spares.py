"""A pool of spare tenant schemas, made ahead of time so a sign-up only renames one.

Rendering the tenant script costs one round trip but PostgreSQL still has to create
every table, index and constraint; renaming a ready-made schema is a catalog update.

- A spare is a schema named ``s_<hex>`` holding every tenant table, stamped at the
  tenant head, with a row in ``public.spare_schemas`` recording that revision.
- ``create_account`` locks one while it inserts the registry row (:func:`next_spare`,
  ``FOR UPDATE SKIP LOCKED``, so concurrent sign-ups never wait for each other) and
  renames it to the account's ``t_<hex>`` (:func:`take_spare`), all in the caller's
  transaction. If that transaction rolls back, the spare is back in the pool.
- Only spares at the current head are claimed. The fleet migration does not touch
  spares: a spare left behind by a new tenant revision is dropped and replaced by
  :func:`fill` (``flask tenants spares --fill N``, run after ``flask tenants migrate``)
  or by the next :func:`replenish` job; until then sign-ups render the script instead.
- Each claim enqueues :func:`replenish` (one replacement) on the ``low`` RQ queue once
  the sign-up has committed, so the pool keeps the size the operator last filled it to.
  An empty pool is never an error: provisioning falls back to the rendered script.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy import (
    DateTime,
    Engine,
    ScalarSelect,
    String,
    bindparam,
    column,
    delete,
    exists,
    func,
    insert,
    select,
    table,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.jobs import enqueue
from migrations import tenant_head
from provisioning.ddl import SPARE_NAME, spare_schema_script
from tenants.db import PublicBase, db, utcnow
from tenants.hooks import after_commit
from tenants.naming import InvalidSchemaName, validate_schema_name

QUEUE = "low"
SPARE_REVISION = "spare_revision"
#: Serialises :func:`fill` runs, so two of them cannot overshoot the target together.
FILL_LOCK = 0x7370_6172_6573  # "spares"


class SpareSchema(PublicBase):
    __tablename__ = "spare_schemas"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    #: The tenant head the schema was rendered at; only spares at head are claimed.
    revision: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


_table = SpareSchema.__table__
_namespace = table("pg_namespace", column("nspname"), schema="pg_catalog")


def validate_spare_name(name: str) -> str:
    if not SPARE_NAME.fullmatch(name):
        raise InvalidSchemaName(f"{name!r} is not a spare schema name")
    return name


def new_spare_name() -> str:
    return f"s_{uuid.uuid4().hex}"


def next_spare() -> ScalarSelect:
    """A subquery that locks the oldest free spare at head and yields its name, or NULL.

    ``create_account`` puts it in the ``RETURNING`` of the registry insert, so looking
    for a spare costs no round trip of its own. ``SKIP LOCKED``: concurrent sign-ups
    never wait for each other, each gets another spare (or none). A row whose schema
    is missing (dropped by hand) is passed over; :func:`fill` removes it. The head is
    the bound parameter :data:`SPARE_REVISION`, so the statement can be built once.
    """
    return (
        select(_table.c.name)
        .where(_table.c.revision == bindparam(SPARE_REVISION), _schema_exists())
        .order_by(_table.c.created_at)
        .limit(1)
        .with_for_update(of=_table, skip_locked=True)
        .scalar_subquery()
    )


def _schema_exists():
    """The spare's schema exists (a catalog cache lookup, not a scan)."""
    return func.to_regnamespace(_table.c.name).is_not(None)


def take_spare(session: Session, spare: str, schema: str) -> None:
    """Make the (locked) ``spare`` the tenant schema ``schema``, in one round trip."""
    spare, schema = validate_spare_name(spare), validate_schema_name(schema)
    session.connection().exec_driver_sql(
        f'ALTER SCHEMA "{spare}" RENAME TO "{schema}"; '
        f"DELETE FROM public.spare_schemas WHERE name = '{spare}'"
    )
    after_commit(session, _enqueue_replenish)


def _enqueue_replenish() -> None:
    if not has_app_context():
        return
    try:
        enqueue(replenish, 1, queue_name=QUEUE)
    except Exception:  # the sign-up has committed; a missed refill only slows later ones
        current_app.logger.warning("spare schema replenishment not enqueued", exc_info=True)


def create_spare(engine: Engine) -> str:
    """One new spare at head, in a transaction of its own."""
    name = new_spare_name()
    with engine.begin() as conn:
        conn.exec_driver_sql(spare_schema_script(name))
        conn.execute(insert(_table).values(name=name, revision=tenant_head(), created_at=utcnow()))
    return name


def _drop(engine: Engine, condition, limit: int | None = None) -> int:
    """Take spares matching ``condition`` out of the pool and drop their schemas."""
    pick = select(_table.c.name).where(condition).order_by(_table.c.created_at.desc())
    if limit is not None:
        pick = pick.limit(limit)
    with engine.begin() as conn:
        names = list(
            conn.scalars(
                delete(_table)
                .where(_table.c.name.in_(pick.with_for_update(skip_locked=True)))
                .returning(_table.c.name)
            )
        )
        for name in names:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{validate_spare_name(name)}" CASCADE')
    return len(names)


def drop_stale(engine: Engine) -> int:
    """Drop the spares that are not at the current head; how many went."""
    return _drop(engine, _table.c.revision != tenant_head())


@dataclass(frozen=True)
class PoolStatus:
    head: str
    available: int
    stale: int


def status(engine: Engine) -> PoolStatus:
    head = tenant_head()
    at_head = _table.c.revision == head
    with engine.connect() as conn:
        available, stale = conn.execute(
            select(func.count().filter(at_head), func.count().filter(~at_head))
        ).one()
    return PoolStatus(head=head, available=available, stale=stale)


@dataclass(frozen=True)
class FillResult:
    created: int
    dropped: int
    available: int


def repair(engine: Engine) -> int:
    """Forget rows whose schema is gone and drop ``s_`` schemas no row knows; how many.

    Neither happens unless somebody intervened by hand: a spare's schema and row are
    created, claimed and dropped together, in one transaction each time.
    """
    with engine.begin() as conn:
        forgotten = conn.execute(
            delete(_table).where(~_schema_exists()).returning(_table.c.name)
        ).all()
        orphans = list(
            conn.scalars(
                select(_namespace.c.nspname).where(
                    _namespace.c.nspname.regexp_match(SPARE_NAME.pattern),
                    ~exists().where(_table.c.name == _namespace.c.nspname),
                )
            )
        )
        for name in orphans:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{validate_spare_name(name)}" CASCADE')
    return len(forgotten) + len(orphans)


def fill(engine: Engine, target: int) -> FillResult:
    """Make the pool exactly ``target`` spares at head: repair it, drop stale and surplus
    spares, create the missing ones (each in its own transaction)."""
    with engine.connect() as holder:
        holder.scalar(select(func.pg_advisory_lock(FILL_LOCK)))
        holder.commit()
        try:
            dropped = repair(engine) + drop_stale(engine)
            available = status(engine).available
            if available > target:
                dropped += _drop(engine, _table.c.revision == tenant_head(), available - target)
            created = 0
            while status(engine).available < target:
                create_spare(engine)
                created += 1
        finally:
            holder.scalar(select(func.pg_advisory_unlock(FILL_LOCK)))
            holder.commit()
    return FillResult(created=created, dropped=dropped, available=status(engine).available)


def replenish(count: int = 1) -> FillResult:
    """RQ job: replace ``count`` claimed spares and every stale one (runs in the app context)."""
    engine = db.engine
    dropped = drop_stale(engine)
    for _ in range(count + dropped):
        create_spare(engine)
    return FillResult(created=count + dropped, dropped=dropped, available=status(engine).available)
