"""Custom roles per account, and what a member may do in an account.

A custom role is a named subset of :data:`identity.permissions.PERMISSIONS` without the
owner-only permissions. A member holding one has exactly its permissions; their built-in
``role`` stays ``agent`` (the base tier code that only knows built-in roles sees).

Nobody can hand out more than they hold: a role's permissions must be a subset of the
permissions of whoever creates or changes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from identity.models import User
from identity.permissions import NOT_FOR_CUSTOM_ROLES, PERMISSIONS, permissions_of
from tenants.models import AccountRole, Invitation, Membership, Role


class InvalidPermissions(ValueError):
    """Unknown permissions, or permissions a custom role may not hold."""

    def __init__(self, unknown: list[str], forbidden: list[str]) -> None:
        self.unknown = unknown
        self.forbidden = forbidden
        parts = []
        if unknown:
            parts.append(f"unknown permissions: {', '.join(unknown)}")
        if forbidden:
            parts.append(f"not allowed in a custom role: {', '.join(forbidden)}")
        super().__init__("; ".join(parts))


class PermissionMissing(Exception):
    """The acting member lacks ``permissions`` (sorted) for what they tried."""

    def __init__(self, permissions: Iterable[str]) -> None:
        self.permissions = sorted(permissions)
        super().__init__(", ".join(self.permissions))


class RoleNameTaken(Exception):
    pass


class RoleInUse(Exception):
    def __init__(self, members: int, invitations: int) -> None:
        self.members = members
        self.invitations = invitations
        super().__init__(f"{members} member(s) and {invitations} open invitation(s)")


@dataclass(frozen=True)
class MemberAccess:
    """A user's standing in one account."""

    role: Role
    custom_role_id: uuid.UUID | None
    custom_role_name: str | None
    permissions: frozenset[str]


def _access(role, custom_id, custom_name, custom_permissions) -> MemberAccess:
    return MemberAccess(
        role=role,
        custom_role_id=custom_id,
        custom_role_name=custom_name,
        permissions=permissions_of(role, custom_permissions if custom_id else None),
    )


_ACCESS_COLUMNS = (Membership.role, AccountRole.id, AccountRole.name, AccountRole.permissions)


def access_in(
    session: Session, *, account_id: uuid.UUID, user_id: uuid.UUID
) -> MemberAccess | None:
    """The member's built-in role, custom role and effective permissions (one query)."""
    row = session.execute(
        select(*_ACCESS_COLUMNS)
        .outerjoin(AccountRole, AccountRole.id == Membership.custom_role_id)
        .where(Membership.account_id == account_id, Membership.user_id == user_id)
    ).first()
    return None if row is None else _access(*row)


@dataclass(frozen=True)
class Standing:
    """What entering an account needs to know of a user, read in one query: whether the
    user exists, is deleted, when the password last changed, and their access there."""

    exists: bool
    deleted_at: datetime | None
    password_changed_at: datetime | None
    access: MemberAccess | None


#: Built once: constructing a statement costs more than running it on this hot path.
_STANDING = (
    select(User.deleted_at, User.password_changed_at, *_ACCESS_COLUMNS)
    .select_from(User)
    .outerjoin(
        Membership,
        and_(Membership.user_id == User.id, Membership.account_id == bindparam("account_id")),
    )
    .outerjoin(AccountRole, AccountRole.id == Membership.custom_role_id)
    .where(User.id == bindparam("user_id"))
)


def standing_in(
    session: Session | Connection, *, account_id: uuid.UUID, user_id: uuid.UUID
) -> Standing:
    """The user's state and access in the account, in one round trip."""
    row = session.execute(_STANDING, {"account_id": account_id, "user_id": user_id}).first()
    if row is None:
        return Standing(exists=False, deleted_at=None, password_changed_at=None, access=None)
    deleted_at, changed_at, role, *custom = row
    access = None if role is None else _access(role, *custom)
    return Standing(
        exists=True, deleted_at=deleted_at, password_changed_at=changed_at, access=access
    )


def member_permissions(
    session: Session, *, account_id: uuid.UUID, user_id: uuid.UUID
) -> frozenset[str]:
    """The user's current effective permissions in the account (empty if not a member)."""
    access = access_in(session, account_id=account_id, user_id=user_id)
    return access.permissions if access else frozenset()


def role_permissions(role: Role, custom: AccountRole | None) -> frozenset[str]:
    return permissions_of(role, custom.permissions if custom is not None else None)


def require_subset(granted: Iterable[str], holder: frozenset[str]) -> None:
    """Raise :class:`PermissionMissing` unless ``holder`` has every permission in ``granted``."""
    missing = set(granted) - holder
    if missing:
        raise PermissionMissing(missing)


def clean_permissions(permissions: Iterable[str]) -> list[str]:
    """Sorted, de-duplicated permissions valid for a custom role, or InvalidPermissions."""
    chosen = set(permissions)
    unknown = sorted(chosen - set(PERMISSIONS))
    forbidden = sorted(chosen & NOT_FOR_CUSTOM_ROLES)
    if unknown or forbidden:
        raise InvalidPermissions(unknown, forbidden)
    return sorted(chosen)


def list_roles(session: Session, *, account_id: uuid.UUID) -> list[AccountRole]:
    return list(
        session.scalars(
            select(AccountRole)
            .where(AccountRole.account_id == account_id)
            .order_by(AccountRole.name, AccountRole.id)
        )
    )


def get_role(session: Session, *, account_id: uuid.UUID, role_id: uuid.UUID) -> AccountRole | None:
    """The account's custom role ``role_id``; another account's role is None, like no role."""
    return session.scalar(
        select(AccountRole).where(AccountRole.id == role_id, AccountRole.account_id == account_id)
    )


def _flush_name(session: Session, role: AccountRole) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise RoleNameTaken(role.name) from exc


def create_role(
    session: Session,
    *,
    account_id: uuid.UUID,
    name: str,
    permissions: Iterable[str],
    description: str | None = None,
    grantor: frozenset[str],
) -> AccountRole:
    cleaned = clean_permissions(permissions)
    require_subset(cleaned, grantor)
    role = AccountRole(
        account_id=account_id, name=name.strip(), description=description, permissions=cleaned
    )
    session.add(role)
    _flush_name(session, role)
    return role


def update_role(
    session: Session,
    role: AccountRole,
    *,
    grantor: frozenset[str],
    **changes,
) -> AccountRole:
    """Change ``name``, ``description`` and/or ``permissions``; members feel it at once."""
    # Changing a role one could not have created is refused, even for a rename.
    require_subset(role.permissions, grantor)
    if "permissions" in changes:
        cleaned = clean_permissions(changes["permissions"])
        require_subset(cleaned, grantor)
        role.permissions = cleaned
    if "name" in changes:
        role.name = changes["name"].strip()
    if "description" in changes:
        role.description = changes["description"]
    _flush_name(session, role)
    return role


def delete_role(session: Session, role: AccountRole, *, grantor: frozenset[str]) -> None:
    """Delete an unused role; members or open invitations holding it make it RoleInUse."""
    require_subset(role.permissions, grantor)
    members = session.scalar(select(func.count()).where(Membership.custom_role_id == role.id))
    invitations = session.scalar(
        select(func.count()).where(
            Invitation.custom_role_id == role.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    )
    if members or invitations:
        raise RoleInUse(members, invitations)
    session.delete(role)
    session.flush()


def role_snapshot(role: AccountRole) -> dict:
    """What the audit log keeps of a role."""
    return {
        "name": role.name,
        "description": role.description,
        "permissions": list(role.permissions),
    }
