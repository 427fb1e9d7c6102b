"""Sign-up, log-in and "which accounts am I in": the rules the API and the CLI share."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from identity.models import User
from identity.passwords import hash_password, verify_password
from identity.permissions import permissions_of
from identity.verification import send_verification
from provisioning.accounts import create_account
from tenants.models import Account, AccountRole, AccountStatus, Membership, Role


class EmailTaken(Exception):
    pass


class InvalidCredentials(Exception):
    pass


@dataclass(frozen=True)
class AccountAccess:
    account: Account
    role: Role
    #: The member's custom role, which then alone decides ``permissions``.
    custom_role: AccountRole | None = None
    permissions: frozenset[str] = frozenset()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(session: Session, *, email: str, password: str, name: str) -> User:
    user = User(
        email=normalise_email(email), name=name.strip(), password_hash=hash_password(password)
    )
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError as exc:
        raise EmailTaken(user.email) from exc
    return user


def signup(
    session: Session,
    *,
    email: str,
    password: str,
    name: str,
    account_name: str,
    slug: str | None = None,
) -> tuple[User, Account]:
    """A new user owning a new, fully provisioned account, in the caller's transaction.

    Once it commits, the user is mailed a verification link (see identity.verification).
    """
    user = create_user(session, email=email, password=password, name=name)
    account = create_account(session, name=account_name, slug=slug, owner_id=user.id)
    send_verification(session, user=user)
    return user, account


def authenticate(session: Session, *, email: str, password: str) -> User:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if not verify_password(user.password_hash if user else None, password):
        raise InvalidCredentials
    if user.deleted_at is not None:  # soft-deleted (DELETE /v1/me): same answer, no oracle
        raise InvalidCredentials
    return user


def accounts_of(session: Session, user_id: uuid.UUID) -> list[AccountAccess]:
    """Every account the user belongs to that still exists for them (not deleted)."""
    rows = session.execute(
        select(Account, Membership.role, AccountRole)
        .join(Membership, Membership.account_id == Account.id)
        .outerjoin(AccountRole, AccountRole.id == Membership.custom_role_id)
        .where(Membership.user_id == user_id, Account.status != AccountStatus.DELETED)
        .order_by(Account.name, Account.id)
    ).all()
    return [
        AccountAccess(
            account,
            role,
            custom,
            permissions_of(role, custom.permissions if custom is not None else None),
        )
        for account, role, custom in rows
    ]


def role_in(session: Session, *, account_id: uuid.UUID, user_id: uuid.UUID) -> Role | None:
    return session.scalar(
        select(Membership.role).where(
            Membership.account_id == account_id, Membership.user_id == user_id
        )
    )
