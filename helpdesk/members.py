"""Who may be attached to helpdesk things: users who are members of the account."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.errors import InvalidField
from tenants.models import Membership


def require_member(
    session: Session, *, account_id: uuid.UUID, user_id: uuid.UUID, field: str = "user_id"
) -> None:
    """Refuse (``InvalidField``) a user who is not a member of the account."""
    found = session.scalar(
        select(Membership.user_id).where(
            Membership.account_id == account_id, Membership.user_id == user_id
        )
    )
    if found is None:
        raise InvalidField(field, "not a member of this account")
