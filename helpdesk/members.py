"""Who may be attached to helpdesk things: users who are members of the account."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.service import Actor
from events.outbox import emit
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


class Roster:
    """Account members attached to something (a channel's inbox, a team) via ``link``.

    ``link`` is a model keyed by (``parent_key``, ``user_id``) with a ``created_at``;
    each new member is announced as ``joined`` (an event name) about the parent, so
    assignment can hand them waiting work.
    """

    def __init__(self, link, parent_key: str, *, joined: str, parent_type: str) -> None:
        self.link = link
        self.parent_key = parent_key
        self.joined = joined
        self.parent_type = parent_type

    def members(self, session: Session, parent_id: uuid.UUID) -> list[uuid.UUID]:
        parent = getattr(self.link, self.parent_key)
        return list(
            session.scalars(
                select(self.link.user_id)
                .where(parent == parent_id)
                .order_by(self.link.created_at, self.link.user_id)
            )
        )

    def add(
        self,
        session: Session,
        parent_id: uuid.UUID,
        *,
        account_id: uuid.UUID,
        actor: Actor,
        user_id: uuid.UUID,
    ) -> bool:
        """Attach a member of the account (idempotent): False when already attached."""
        require_member(session, account_id=account_id, user_id=user_id)
        key = {self.parent_key: parent_id, "user_id": user_id}
        if session.get(self.link, key) is not None:
            return False
        session.add(self.link(**key))
        session.flush()
        emit(
            session,
            account_id=account_id,
            name=self.joined,
            actor=actor,
            subject_type=self.parent_type,
            subject_id=parent_id,
            payload={"user_id": str(user_id)},
        )
        return True

    def remove(self, session: Session, parent_id: uuid.UUID, *, user_id: uuid.UUID) -> bool:
        row = session.get(self.link, {self.parent_key: parent_id, "user_id": user_id})
        if row is None:
            return False
        session.delete(row)
        session.flush()
        return True
