"""Merging a conversation into another, and splitting one in two from a message onward.

Both run in the caller's transaction and check everything before changing anything, so
a refusal leaves both conversations (and the event stream) as they were. The rows
involved are locked in id order first: two merges over the same pair wait for each
other instead of interleaving, and never deadlock.

Messages keep their ids and timestamps when they move; the timestamps the messages
decide (``last_activity_at``, ``first_reply_at``, ``waiting_since``) are then recomputed
on both sides by the rules of :func:`helpdesk.messages.post_message`.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, true, tuple_, update
from sqlalchemy.orm import Session

from audit.service import Actor
from events import names
from helpdesk import states
from helpdesk.activity import ConversationActivity, conversation_event
from helpdesk.conversations import change_status, create_conversation
from helpdesk.errors import Conflict, InvalidField
from helpdesk.models import Conversation, Message
from helpdesk.reading import MessageMention
from helpdesk.tags import CONVERSATIONS, attach, tags_on


def _lock(session: Session, *conversations: Conversation) -> None:
    session.scalars(
        select(Conversation)
        .where(Conversation.id.in_([c.id for c in conversations]))
        .order_by(Conversation.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()


def _refuse_closed(conversation: Conversation, *, role: str, field: str | None) -> None:
    if conversation.merged_into_id is not None:
        raise Conflict(
            "conversation_merged",
            f"The {role} conversation was merged into {conversation.merged_into_id}.",
            field,
        )
    if conversation.status == states.CLOSED:
        raise Conflict("conversation_closed", f"The {role} conversation is closed.", field)


def _move_messages(
    session: Session,
    *,
    source: uuid.UUID,
    into: uuid.UUID,
    where: ColumnElement[bool] | None = None,
) -> int:
    """Move the messages of ``source`` (those matching ``where``), their mentions with them."""
    where = true() if where is None else where
    moving = select(Message.id).where(Message.conversation_id == source, where)
    session.execute(
        update(MessageMention)
        .where(MessageMention.message_id.in_(moving))
        .values(conversation_id=into)
        .execution_options(synchronize_session=False)
    )
    return session.execute(
        update(Message)
        .where(Message.conversation_id == source, where)
        .values(conversation_id=into)
        .execution_options(synchronize_session=False)
    ).rowcount


def refresh_timestamps(session: Session, conversation: Conversation) -> None:
    """Recompute what its messages decide: last activity, first reply, waiting since."""
    public = (Message.conversation_id == conversation.id, Message.private.is_(False))
    reply = and_(Message.direction == "outbound", Message.sender_type == "agent")
    last, first_reply, last_reply = session.execute(
        select(
            func.max(Message.created_at),
            func.min(Message.created_at).filter(reply),
            func.max(Message.created_at).filter(reply),
        ).where(*public)
    ).one()
    waiting = select(func.min(Message.created_at)).where(*public, Message.direction == "inbound")
    if last_reply is not None:
        waiting = waiting.where(Message.created_at > last_reply)
    conversation.last_activity_at = last or conversation.created_at
    conversation.first_reply_at = first_reply
    conversation.waiting_since = session.scalar(waiting)


def merge_conversations(
    session: Session,
    target: Conversation,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    source_id: uuid.UUID,
    allow_different_contacts: bool = False,
) -> Conversation:
    """Merge ``source_id`` into ``target``: its messages, activity and tags move over.

    The source is then closed (through ``resolved`` when it cannot close directly) and
    points at the target with ``merged_into_id``; ``conversation.merged`` lands on both
    timelines. Refused: merging into itself, a closed or merged source or target, and
    conversations with different contacts unless ``allow_different_contacts``.
    """
    if source_id == target.id:
        raise Conflict("merge_into_self", "A conversation cannot be merged into itself.")
    source = session.get(Conversation, source_id)
    if source is None:
        raise InvalidField("source_id", "no such conversation")
    _lock(session, target, source)
    _refuse_closed(target, role="target", field=None)
    _refuse_closed(source, role="source", field="source_id")
    if source.contact_id != target.contact_id and not allow_different_contacts:
        raise Conflict(
            "contacts_differ",
            "The conversations are with different contacts; send "
            "allow_different_contacts: true to merge them anyway.",
            "allow_different_contacts",
        )
    moved = _move_messages(session, source=source.id, into=target.id)
    activity = session.execute(
        update(ConversationActivity)
        .where(ConversationActivity.conversation_id == source.id)
        .values(conversation_id=target.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    attach(
        session,
        CONVERSATIONS,
        target.id,
        tags_on(session, CONVERSATIONS, source.id),
        account_id=account_id,
        actor=actor,
    )
    session.expire(target, ["tags"])
    refresh_timestamps(session, target)
    source.merged_into_id = target.id
    session.flush()
    pair = {"source_id": str(source.id), "target_id": str(target.id)}
    for conversation, payload in (
        (target, {**pair, "messages_moved": moved, "activity_moved": activity}),
        (source, {**pair, "merged_into_id": [None, str(target.id)]}),
    ):
        conversation_event(
            session,
            conversation_id=conversation.id,
            account_id=account_id,
            actor=actor,
            name=names.CONVERSATION_MERGED,
            payload=payload,
        )
    context: dict[str, Any] = {"account_id": account_id, "actor": actor}
    if states.CLOSED not in states.allowed_from(source.status):
        change_status(session, source, **context, status=states.RESOLVED)
    change_status(session, source, **context, status=states.CLOSED)
    return target


def split_conversation(
    session: Session,
    conversation: Conversation,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    message_id: uuid.UUID,
    subject: str | None = None,
) -> Conversation:
    """Move ``message_id`` and every later message to a new conversation; return it.

    The new conversation has the same channel, contact, priority, team and tags, the
    given subject (else the original's), and starts open and unassigned.
    ``conversation.split`` lands on both timelines. Splitting at the first message is
    refused (nothing would remain), as is splitting a closed conversation.
    """
    if conversation.status == states.CLOSED:
        raise Conflict("conversation_closed", "A closed conversation cannot be split.")
    message = session.get(Message, message_id)
    if message is None or message.conversation_id != conversation.id:
        raise InvalidField("message_id", "no such message in this conversation")
    _lock(session, conversation)
    later = tuple_(Message.created_at, Message.id) >= tuple_(message.created_at, message.id)
    remaining = session.scalar(
        select(func.count()).where(Message.conversation_id == conversation.id, ~later)
    )
    if not remaining:
        raise InvalidField("message_id", "the first message: nothing would remain to split from")
    context: dict[str, Any] = {"account_id": account_id, "actor": actor}
    split = create_conversation(
        session,
        **context,
        channel_id=conversation.channel_id,
        contact_id=conversation.contact_id,
        subject=conversation.subject if subject is None else subject,
        priority=conversation.priority,
        team_id=conversation.team_id,
    )
    attach(session, CONVERSATIONS, split.id, conversation.tags, **context)
    moved = _move_messages(session, source=conversation.id, into=split.id, where=later)
    for side in (conversation, split):
        refresh_timestamps(session, side)
    session.flush()
    payload = {
        "source_id": str(conversation.id),
        "split_id": str(split.id),
        "message_id": str(message_id),
        "messages_moved": moved,
    }
    for side in (conversation, split):
        conversation_event(
            session,
            conversation_id=side.id,
            **context,
            name=names.CONVERSATION_SPLIT,
            payload=payload,
        )
    return split
