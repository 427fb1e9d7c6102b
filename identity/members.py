"""Members of an account: their roles, and leaving or being removed.

The rules, whoever asks:

- granting or taking away the owner role (or removing an owner) needs ``owners:manage``;
- nobody grants a role with permissions they do not hold themselves, nor changes or
  removes a member whose permissions exceed theirs (a custom role with
  ``members:manage`` cannot make its holder an admin);
- an account never loses its last owner (:class:`LastOwner`), neither by a role change
  nor by removal nor by the owner leaving.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from identity.models import User
from identity.roles import PermissionMissing, require_subset, role_permissions
from tenants.models import AccountRole, Membership, Role


class LastOwner(Exception):
    pass


def members_query(account_id: uuid.UUID) -> Select:
    """Memberships of the account joined to their users (for listing and filtering)."""
    return (
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.account_id == account_id)
    )


def describe(session: Session, memberships: list[Membership]) -> list[dict]:
    """Each membership with its user's name and email and its custom role, in two queries."""
    user_ids = {m.user_id for m in memberships}
    role_ids = {m.custom_role_id for m in memberships if m.custom_role_id}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    roles = (
        {r.id: r for r in session.scalars(select(AccountRole).where(AccountRole.id.in_(role_ids)))}
        if role_ids
        else {}
    )
    return [
        {
            "user_id": m.user_id,
            "name": users[m.user_id].name,
            "email": users[m.user_id].email,
            "avatar_url": users[m.user_id].avatar_url,
            "role": m.role,
            "custom_role": roles.get(m.custom_role_id),
            "joined_at": m.created_at,
        }
        for m in memberships
    ]


def get_membership(
    session: Session, *, account_id: uuid.UUID, user_id: uuid.UUID
) -> Membership | None:
    return session.get(Membership, (account_id, user_id))


def _custom_role(session: Session, membership: Membership) -> AccountRole | None:
    if membership.custom_role_id is None:
        return None
    return session.get(AccountRole, membership.custom_role_id)


def _owner_count(session: Session, account_id: uuid.UUID) -> int:
    """Owners of the account, locking their rows so two demotions cannot both pass."""
    owners = session.scalars(
        select(Membership.user_id)
        .where(Membership.account_id == account_id, Membership.role == Role.OWNER)
        .with_for_update()
    ).all()
    return len(owners)


def _may_act_on(session: Session, membership: Membership, actor: frozenset[str]) -> None:
    if membership.role is Role.OWNER and "owners:manage" not in actor:
        raise PermissionMissing(["owners:manage"])
    require_subset(role_permissions(membership.role, _custom_role(session, membership)), actor)


def snapshot(membership: Membership) -> dict:
    """What the audit log keeps of a membership."""
    return {
        "role": membership.role.value,
        "custom_role_id": str(membership.custom_role_id) if membership.custom_role_id else None,
    }


def change_role(
    session: Session,
    membership: Membership,
    *,
    role: Role | None = None,
    custom_role: AccountRole | None = None,
    actor: frozenset[str],
) -> Membership:
    """Give the member a built-in ``role`` or a ``custom_role`` of the same account.

    ``actor`` is the acting member's permissions. Raises :class:`PermissionMissing` or
    :class:`LastOwner`.
    """
    if (role is None) == (custom_role is None):
        raise ValueError("give exactly one of role and custom_role")
    if custom_role is not None and custom_role.account_id != membership.account_id:
        raise ValueError("the custom role belongs to another account")
    new_role = Role.AGENT if custom_role is not None else role
    _may_act_on(session, membership, actor)
    if new_role is Role.OWNER and "owners:manage" not in actor:
        raise PermissionMissing(["owners:manage"])
    require_subset(role_permissions(new_role, custom_role), actor)
    if (
        membership.role is Role.OWNER
        and new_role is not Role.OWNER
        and _owner_count(session, membership.account_id) <= 1
    ):
        raise LastOwner
    membership.role = new_role
    membership.custom_role_id = custom_role.id if custom_role is not None else None
    session.flush()
    return membership


def remove_member(
    session: Session, membership: Membership, *, actor_id: uuid.UUID, actor: frozenset[str]
) -> None:
    """Remove the member; ``actor_id`` leaving needs no permission, removing others does."""
    if membership.user_id != actor_id:
        if "members:manage" not in actor:
            raise PermissionMissing(["members:manage"])
        _may_act_on(session, membership, actor)
    if membership.role is Role.OWNER and _owner_count(session, membership.account_id) <= 1:
        raise LastOwner
    session.delete(membership)
    session.flush()


def update_profile(session: Session, user: User, **changes) -> User:
    """What a user may change about themselves here: ``name`` and ``avatar_url``."""
    unknown = set(changes) - {"name", "avatar_url"}
    if unknown:
        raise ValueError(f"not editable here: {', '.join(sorted(unknown))}")
    if "name" in changes:
        user.name = changes["name"].strip()
    if "avatar_url" in changes:
        user.avatar_url = changes["avatar_url"]
    session.flush()
    return user
