"""The tenant lifecycle: create, suspend, resume, delete (soft) and purge (hard).

Callers own the transaction. ``create_account`` writes the registry row, the schema with
every tenant table and the owner's membership in the caller's transaction, so a failure
anywhere leaves none of them behind.
"""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from migrations import tenant_head
from provisioning.ddl import tenant_schema_script
from tenants.db import utcnow
from tenants.hooks import after_commit
from tenants.models import Account, AccountStatus, Membership, Role
from tenants.naming import is_valid_slug, schema_for, slugify, validate_schema_name
from tenants.registry import registry


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


def _free_slug(session: Session, name: str) -> str:
    """A slug derived from ``name``, suffixed when the plain one is taken."""
    base = slugify(name)[:56].strip("-") or "account"
    candidate = base
    while session.scalar(select(exists().where(Account.slug == candidate))):
        candidate = f"{base}-{secrets.token_hex(3)}"
    return candidate


def create_account(
    session: Session,
    *,
    name: str,
    slug: str | None = None,
    owner_id: uuid.UUID | None = None,
    plan: str = "free",
) -> Account:
    if slug is not None and not is_valid_slug(slug):
        raise InvalidSlug(
            "a slug is 1-63 lower-case letters, digits and hyphens, not starting or ending "
            "with a hyphen"
        )
    account_id = uuid.uuid4()
    account = Account(
        id=account_id,
        name=name,
        slug=slug or _free_slug(session, name),
        schema_name=schema_for(account_id),
        status=AccountStatus.ACTIVE,
        plan=plan,
        schema_revision=tenant_head(),
    )
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError as exc:
        if getattr(exc.orig.diag, "constraint_name", None) == "uq_accounts_slug":
            raise SlugTaken(account.slug) from exc
        raise
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
