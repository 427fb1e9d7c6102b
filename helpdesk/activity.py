"""A conversation's activity timeline, written with the event that announces each change.

Every conversation event (status, assignment, team, priority, tags, SLA, merges) goes
through :func:`conversation_event`, which writes the outbox event *and* the timeline
entry in the caller's transaction: the timeline cannot miss what the event stream saw,
and it outlives the outbox rows, which are pruned once published. The actor is kept as
type and id (a user, an API token, an automation rule, or the system).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, Uuid, select, tuple_
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from audit.service import Actor
from events.outbox import emit
from helpdesk.errors import InvalidField
from tenants.db import TenantBase, UuidPrimaryKey, utcnow

MAX_LIMIT = 100


class ConversationActivity(UuidPrimaryKey, TenantBase):
    __tablename__ = "conversation_activities"
    __table_args__ = (
        Index("ix_conversation_activities_timeline", "conversation_id", "created_at", "id"),
    )

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    #: The event name (``conversation.status_changed``, ``tag.added``, ``sla.breached``…).
    event: Mapped[str] = mapped_column(String(64))
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    #: The event's payload: changed fields as ``{"field": [before, after]}`` and context.
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def conversation_event(
    session: Session,
    *,
    conversation_id: uuid.UUID,
    account_id: uuid.UUID,
    actor: Actor,
    name: str,
    payload: dict[str, Any],
    subject_type: str = "conversation",
    subject_id: uuid.UUID | None = None,
    causation_depth: int = 0,
) -> ConversationActivity:
    """Emit ``name`` and append it to the conversation's timeline, in one transaction.

    The subject defaults to the conversation; events about something inside it (a
    message, a tag) name that instead and still land on the conversation's timeline.
    """
    if subject_type != "conversation":
        payload = {**payload, "conversation_id": str(conversation_id)}
    emit(
        session,
        account_id=account_id,
        name=name,
        actor=actor,
        subject_type=subject_type,
        subject_id=subject_id or conversation_id,
        payload=payload,
        causation_depth=causation_depth,
    )
    entry = ConversationActivity(
        id=uuid.uuid4(),
        conversation_id=conversation_id,
        event=name,
        actor_type=actor.type,
        actor_id=actor.id,
        data=payload,
        created_at=utcnow(),
    )
    session.add(entry)
    return entry


def list_activity(
    session: Session,
    conversation_id: uuid.UUID,
    *,
    after: uuid.UUID | None = None,
    limit: int = 50,
) -> tuple[list[ConversationActivity], bool]:
    """Oldest first, at most ``limit``, from just after the entry ``after`` (refused when
    it is not one of this conversation's, as a message cursor is)."""
    key = tuple_(ConversationActivity.created_at, ConversationActivity.id)
    query = select(ConversationActivity).where(
        ConversationActivity.conversation_id == conversation_id
    )
    if after is not None:
        cursor = session.get(ConversationActivity, after)
        if cursor is None or cursor.conversation_id != conversation_id:
            raise InvalidField("after", "no such entry in this conversation's activity")
        query = query.where(key > tuple_(cursor.created_at, cursor.id))
    rows = list(
        session.scalars(
            query.order_by(ConversationActivity.created_at, ConversationActivity.id).limit(
                limit + 1
            )
        )
    )
    return rows[:limit], len(rows) > limit
