"""The tenant lifecycle: create, suspend, resume, delete (soft) and purge (hard).

Callers own the transaction. ``create_account`` writes the registry row, the schema with
every tenant table and the owner's membership in the caller's transaction, so a failure
anywhere leaves none of them behind.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from functools import cache
from typing import NamedTuple

from sqlalchemy import Insert, null
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, make_transient_to_detached

from migrations import tenant_head
from provisioning.ddl import tenant_schema_script
from provisioning.spares import SPARE_REVISION, next_spare, take_spare
from tenants.db import utcnow
from tenants.hooks import after_commit
from tenants.models import Account, AccountStatus, Membership, Role
from tenants.naming import is_valid_slug, schema_for, slugify, validate_schema_name
from tenants.registry import registry

_accounts = Account.__table__


class SlugTaken(Exception):
    def __init__(self, slug: str) -> None:
        super().__init__(f"the slug {slug!r} is taken")
        self.slug = slug


class InvalidSlug(ValueError):
    pass


class IllegalTransition(Exception):
    def __init__(self, account: Account, target: str) -> None:
        super().__init__(
            f"account {account.slug} is {account.status.value}; cannot become {target}"
        )


#: Which statuses each status may be reached from.
_TRANSITIONS = {
    AccountStatus.SUSPENDED: {AccountStatus.ACTIVE},
    AccountStatus.ACTIVE: {AccountStatus.SUSPENDED, AccountStatus.DELETED},
    AccountStatus.DELETED: {AccountStatus.ACTIVE, AccountStatus.SUSPENDED},
}


def _derived_slugs(name: str) -> Iterator[str]:
    """Slugs derived from ``name``: the plain one, then randomly suffixed ones."""
    base = slugify(name)[:56].strip("-") or "account"
    yield base
    while True:
        yield f"{base}-{secrets.token_hex(3)}"


#: How many derived slugs to try before giving up (each clash is an existing account
#: or a concurrent sign-up with the same name).
_DERIVED_ATTEMPTS = 8


class _Registered(NamedTuple):
    inserted: bool
    spare: str | None


@cache
def _insert(use_spares: bool) -> Insert:
    """The registry insert, built once: each sign-up only sends parameters."""
    return (
        pg_insert(_accounts)
        .on_conflict_do_nothing(constraint="uq_accounts_slug")
        .returning(_accounts.c.id, next_spare() if use_spares else null())
    )


def _register(session: Session, values: dict, *, use_spares: bool) -> _Registered:
    """Insert the registry row unless its slug is taken, locking a spare schema if asked.

    ``ON CONFLICT DO NOTHING`` instead of a savepoint around a plain insert: one round
    trip instead of three. A concurrent transaction holding the same slug makes this
    wait for its outcome, exactly as the unique index would. The spare is looked for
    in the same statement (:func:`provisioning.spares.next_spare`).
    """
    params = {**values, SPARE_REVISION: tenant_head()} if use_spares else values
    row = session.connection().execute(_insert(use_spares), params).first()
    return _Registered(False, None) if row is None else _Registered(True, row[1])


def create_account(
    session: Session,
    *,
    name: str,
    slug: str | None = None,
    owner_id: uuid.UUID | None = None,
    plan: str = "free",
    use_spares: bool = True,
) -> Account:
    """Register an account and build its schema, in the caller's transaction.

    The schema is a spare from the pool when one is ready at head
    (:mod:`provisioning.spares`), else it is built by the rendered tenant script.
    """
    if slug is not None and not is_valid_slug(slug):
        raise InvalidSlug(
            "a slug is 1-63 lower-case letters, digits and hyphens, not starting or ending "
            "with a hyphen"
        )
    account_id = uuid.uuid4()
    values = {
        "id": account_id,
        "name": name,
        "schema_name": schema_for(account_id),
        "status": AccountStatus.ACTIVE,
        "plan": plan,
        "schema_revision": tenant_head(),
        "created_at": utcnow(),
        "status_changed_at": None,
    }
    candidates = [slug] if slug is not None else _derived_slugs(name)
    for attempt, candidate in enumerate(candidates, 1):
        registered = _register(session, {**values, "slug": candidate}, use_spares=use_spares)
        if registered.inserted:
            break
        if slug is not None or attempt >= _DERIVED_ATTEMPTS:
            raise SlugTaken(candidate)
    # The row is in the database already: attach it to the session as loaded, not new.
    account = Account(**values, slug=candidate)
    make_transient_to_detached(account)
    session.add(account)
    if registered.spare is not None:
        take_spare(session, registered.spare, account.schema_name)
    else:
        session.connection().exec_driver_sql(tenant_schema_script(account.schema_name))
    if owner_id is not None:
        session.add(Membership(account_id=account_id, user_id=owner_id, role=Role.OWNER))
        session.flush()
    return account


def change_status(session: Session, account: Account, target: AccountStatus) -> Account:
    if account.status not in _TRANSITIONS[target]:
        raise IllegalTransition(account, target)
    account.status = target
    account.status_changed_at = utcnow()
    session.flush()
    _forget_after_commit(session, account.id)
    return account


def purge_account(session: Session, account: Account) -> None:
    """Drop the schema and the registry row for good. Only a deleted account may go."""
    if account.status is not AccountStatus.DELETED:
        raise IllegalTransition(account, "purged")
    schema = validate_schema_name(account.schema_name)
    session.connection().exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    session.delete(account)
    session.flush()
    _forget_after_commit(session, account.id)


def _forget_after_commit(session: Session, account_id: uuid.UUID) -> None:
    reg = registry()
    after_commit(session, lambda: reg.invalidate(account_id))
