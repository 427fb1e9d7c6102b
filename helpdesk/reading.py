"""Who has read what, and who was mentioned: per-agent read marks and @mentions.

**Unread**, for one agent, are the messages of a conversation created after the agent's
read mark (``conversation_reads.last_read_at``) that the agent did not write: inbound
messages, and replies and private notes by other agents, automation or the system. The
agent's own replies and notes are never unread to them. An agent who never marked a
conversation read has every such message unread. Counts are exact (``COUNT(*)`` in SQL,
never capped) and come from one grouped subquery for a whole inbox page.

A read mark only moves forward: a client marking read up to an older message (a stale
tab, a retry) never makes newer messages unread again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    Select,
    Subquery,
    Uuid,
    and_,
    column,
    exists,
    func,
    or_,
    select,
    values,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, Session, backref, mapped_column, relationship

from audit.service import Actor
from events import names
from events.outbox import emit
from helpdesk.errors import InvalidField
from helpdesk.members import require_member
from helpdesk.models import Conversation, Message
from tenants.db import TenantBase, utcnow


class MessageMention(TenantBase):
    """An agent @mentioned in a message; the conversation is kept to find it by agent."""

    __tablename__ = "message_mentions"
    __table_args__ = (
        Index("ix_message_mentions_user_id_conversation_id", "user_id", "conversation_id"),
    )

    message_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    #: A member of the account (public schema: no foreign key across).
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    # ``Message.mentions``, loaded for a whole page of messages in one extra query.
    message: Mapped[Message] = relationship(
        backref=backref("mentions", lazy="selectin", order_by="MessageMention.created_at")
    )


class ConversationRead(TenantBase):
    """How far one agent has read one conversation."""

    __tablename__ = "conversation_reads"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    last_read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def check_mentions(
    session: Session, *, account_id: uuid.UUID, user_ids: Iterable[uuid.UUID]
) -> list[uuid.UUID]:
    """``user_ids`` once each, in order, after refusing any who is not a member."""
    mentioned = list(dict.fromkeys(user_ids))
    for user_id in mentioned:
        require_member(session, account_id=account_id, user_id=user_id, field="mentions")
    return mentioned


def record_mentions(
    session: Session, message: Message, *, user_ids: list[uuid.UUID]
) -> list[MessageMention]:
    """Record that ``message`` (already written) mentions each of ``user_ids``."""
    rows = [
        MessageMention(
            message_id=message.id,
            conversation_id=message.conversation_id,
            user_id=user_id,
            created_at=message.created_at,
        )
        for user_id in user_ids
    ]
    session.add_all(rows)
    return rows


def mentioned(user_id: uuid.UUID | None) -> ColumnElement[bool]:
    """Conversations with a message that mentions ``user_id``."""
    return exists().where(
        MessageMention.conversation_id == Conversation.id, MessageMention.user_id == user_id
    )


def _unseen(user_id: uuid.UUID | ColumnElement | None) -> list[ColumnElement[bool]]:
    """Messages unread to ``user_id`` (an id, or a column of them), given
    ``ConversationRead`` outer-joined for them."""
    return [
        or_(
            ConversationRead.last_read_at.is_(None),
            Message.created_at > ConversationRead.last_read_at,
        ),
        or_(Message.direction == "inbound", Message.sender_id.is_distinct_from(user_id)),
    ]


def _read_join(user_id: uuid.UUID | ColumnElement | None) -> ColumnElement[bool]:
    return and_(
        ConversationRead.conversation_id == Message.conversation_id,
        ConversationRead.user_id == user_id,
    )


def unread_counts(user_id: uuid.UUID | None, conversations: Select) -> Subquery:
    """``(conversation_id, unread)`` for ``user_id`` over the conversations that
    ``conversations`` (a select of ``Conversation.id``) returns, as one grouped subquery.

    Conversations with nothing unread have no row: outer-join it and coalesce to 0.
    """
    return (
        select(Message.conversation_id, func.count().label("unread"))
        .outerjoin(ConversationRead, _read_join(user_id))
        .where(Message.conversation_id.in_(conversations), *_unseen(user_id))
        .group_by(Message.conversation_id)
        .subquery("unread")
    )


def unread_count(session: Session, conversation: Conversation, *, user_id: uuid.UUID) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Message)
        .outerjoin(ConversationRead, _read_join(user_id))
        .where(Message.conversation_id == conversation.id, *_unseen(user_id))
    )


def unread_counts_of(
    session: Session, conversation_id: uuid.UUID, user_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many messages of one conversation are unread to each of ``user_ids``, in one
    query (users with none unread are left out)."""
    users = list(dict.fromkeys(user_ids))
    if not users:
        return {}
    readers = values(column("user_id", Uuid), name="readers").data([(u,) for u in users])
    rows = session.execute(
        select(readers.c.user_id, func.count())
        .select_from(readers)
        .join(Message, Message.conversation_id == conversation_id)
        .outerjoin(ConversationRead, _read_join(readers.c.user_id))
        .where(*_unseen(readers.c.user_id))
        .group_by(readers.c.user_id)
    )
    return {user_id: count for user_id, count in rows}


def mark_read(
    session: Session,
    conversation: Conversation,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    user_id: uuid.UUID,
    up_to_message_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Mark ``conversation`` read by ``user_id`` up to a message (default: the newest one).

    The mark only moves forward; when it moves, ``conversation.read`` is emitted with
    ``last_read_at`` as ``[before, after]`` (realtime pushes the new counts). Returns the
    mark and the messages still unread.
    """
    if up_to_message_id is not None:
        message = session.get(Message, up_to_message_id)
        if message is None or message.conversation_id != conversation.id:
            raise InvalidField("up_to_message_id", "no such message in this conversation")
        read_at = message.created_at
    else:
        read_at = session.scalar(
            select(func.max(Message.created_at)).where(Message.conversation_id == conversation.id)
        )
    before = session.scalar(
        select(ConversationRead.last_read_at).where(
            ConversationRead.conversation_id == conversation.id,
            ConversationRead.user_id == user_id,
        )
    )
    after = before
    if read_at is not None:
        upsert = insert(ConversationRead).values(
            conversation_id=conversation.id, user_id=user_id, last_read_at=read_at
        )
        after = session.scalar(
            upsert.on_conflict_do_update(
                index_elements=[ConversationRead.conversation_id, ConversationRead.user_id],
                set_={
                    "last_read_at": func.greatest(
                        ConversationRead.last_read_at, upsert.excluded.last_read_at
                    )
                },
            ).returning(ConversationRead.last_read_at)
        )
    if after != before:
        emit(
            session,
            account_id=account_id,
            name=names.CONVERSATION_READ,
            actor=actor,
            subject_type="conversation",
            subject_id=conversation.id,
            payload={
                "user_id": str(user_id),
                "last_read_at": [before.isoformat() if before else None, after.isoformat()],
            },
        )
    return {
        "conversation_id": conversation.id,
        "user_id": user_id,
        "last_read_at": after,
        "unread_count": unread_count(session, conversation, user_id=user_id),
    }
