"""Soft deletion with a retention period: accounts and users, restore, and the purge.

An owner deletes an account: it becomes ``deleted`` (hidden, 404 to everyone) and
``accounts.status_changed_at`` records when. Until the retention period has passed
(``TURUMBA_RETENTION_DAYS``) its owners see it among their deleted accounts and may
restore it; afterwards ``flask tenants purge-expired`` (or the job of the same name)
drops its schema and registry row for good.

A user deletes themself (``users.deleted_at``): they can no longer log in, and an
operator may restore them within the same period (``flask users restore EMAIL``). A user
who is the last owner of an account that still exists must first hand it over or
delete it. Callers own the transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from audit.service import Actor, record
from identity.models import User
from provisioning.accounts import change_status, purge_account
from tenants.db import utcnow
from tenants.models import Account, AccountStatus, Membership, Role


class NotRestorable(Exception):
    """No deleted account (or user) of this caller is still within its retention period."""


class LastOwner(Exception):
    """The user is the only owner of these accounts, which would be left without one."""

    def __init__(self, accounts: list[Account]) -> None:
        names = ", ".join(f"{a.name} ({a.slug})" for a in accounts)
        super().__init__(f"the only owner of: {names}")
        self.accounts = accounts


@dataclass(frozen=True)
class DeletedAccount:
    account: Account
    deleted_at: datetime
    purge_after: datetime


def retention(days: int) -> timedelta:
    return timedelta(days=days)


def delete_account(
    session: Session, *, account_id: uuid.UUID, actor: Actor, retention_days: int
) -> DeletedAccount:
    """Soft-delete the active account (its schema must be the session's tenant); audited."""
    account = session.get(Account, account_id)
    before = account.status.value
    change_status(session, account, AccountStatus.DELETED)
    deleted = DeletedAccount(
        account, account.status_changed_at, account.status_changed_at + retention(retention_days)
    )
    record(
        session,
        actor=actor,
        action="account.deleted",
        target_type="account",
        target_id=account_id,
        before={"status": before},
        after={"status": account.status.value, "purge_after": deleted.purge_after},
    )
    return deleted


def _restorable(now: datetime, retention_days: int):
    return (Account.status == AccountStatus.DELETED) & (
        Account.status_changed_at > now - retention(retention_days)
    )


def deleted_accounts_of(
    session: Session, *, user_id: uuid.UUID, retention_days: int
) -> list[DeletedAccount]:
    """The deleted accounts ``user_id`` owns that may still be restored, newest first."""
    rows = session.scalars(
        select(Account)
        .join(Membership, Membership.account_id == Account.id)
        .where(
            Membership.user_id == user_id,
            Membership.role == Role.OWNER,
            _restorable(utcnow(), retention_days),
        )
        .order_by(Account.status_changed_at.desc(), Account.id)
    ).all()
    return [
        DeletedAccount(a, a.status_changed_at, a.status_changed_at + retention(retention_days))
        for a in rows
    ]


def restore_account(
    session: Session,
    *,
    account_id: uuid.UUID,
    user_id: uuid.UUID,
    actor: Actor,
    retention_days: int,
) -> Account:
    """Bring back a deleted account its owner ``user_id`` still may; audited.

    The account's schema must be the session's tenant (for the audit entry).
    """
    for deleted in deleted_accounts_of(session, user_id=user_id, retention_days=retention_days):
        if deleted.account.id == account_id:
            account = change_status(session, deleted.account, AccountStatus.ACTIVE)
            record(
                session,
                actor=actor,
                action="account.restored",
                target_type="account",
                target_id=account_id,
                before={"status": AccountStatus.DELETED.value},
                after={"status": account.status.value},
            )
            return account
    raise NotRestorable(account_id)


def sole_owned_accounts(session: Session, user_id: uuid.UUID) -> list[Account]:
    """Accounts (not deleted) where ``user_id`` is the one and only owner."""
    others = aliased(Membership)
    other_owners = (
        select(func.count())
        .select_from(others)
        .join(User, User.id == others.user_id)
        .where(
            others.account_id == Account.id,
            others.role == Role.OWNER,
            others.user_id != user_id,
            User.deleted_at.is_(None),
        )
        .scalar_subquery()
    )
    return list(
        session.scalars(
            select(Account)
            .join(Membership, Membership.account_id == Account.id)
            .where(
                Membership.user_id == user_id,
                Membership.role == Role.OWNER,
                Account.status != AccountStatus.DELETED,
                other_owners == 0,
            )
            .order_by(Account.name, Account.id)
        )
    )


def delete_user(session: Session, *, user: User) -> User:
    """Soft-delete ``user``, unless that would leave an account without an owner."""
    sole = sole_owned_accounts(session, user.id)
    if sole:
        raise LastOwner(sole)
    user.deleted_at = utcnow()
    session.flush()
    return user


def restore_user(session: Session, *, email: str, retention_days: int) -> User:
    """Undo a user's soft deletion, within the retention period (operators only)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    cutoff = utcnow() - retention(retention_days)
    if user is None or user.deleted_at is None or user.deleted_at <= cutoff:
        raise NotRestorable(email)
    user.deleted_at = None
    session.flush()
    return user


@dataclass(frozen=True)
class Purged:
    accounts: list[str]
    users: list[str]


def purge_expired(session: Session, *, retention_days: int, now: datetime | None = None) -> Purged:
    """Drop every account deleted, and every user deleted, longer ago than the retention."""
    cutoff = (now or utcnow()) - retention(retention_days)
    accounts = session.scalars(
        select(Account).where(
            Account.status == AccountStatus.DELETED, Account.status_changed_at <= cutoff
        )
    ).all()
    purged_accounts = []
    for account in accounts:
        purge_account(session, account)
        purged_accounts.append(account.slug)
    users = session.scalars(select(User).where(User.deleted_at <= cutoff)).all()
    purged_users = []
    for user in users:
        try:
            with session.begin_nested():
                session.delete(user)
                session.flush()
        except IntegrityError:  # still referenced by something that must stay: keep them
            continue
        purged_users.append(user.email)
    return Purged(purged_accounts, purged_users)
