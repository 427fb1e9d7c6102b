"""Messages of a conversation and what they do to its timestamps."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from audit.service import Actor
from events import names
from events.outbox import emit
from helpdesk.errors import InvalidField
from helpdesk.models import Conversation, Message
from tenants.db import utcnow

MAX_LIMIT = 100


def post_message(
    session: Session,
    conversation: Conversation,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    direction: str,
    sender_type: str,
    body: str,
    sender_id: uuid.UUID | None = None,
    private: bool = False,
    metadata: dict[str, Any] | None = None,
    delivery_status: str | None = None,
    failure_reason: str | None = None,
) -> Message:
    """Add a message; update the conversation's activity timestamps.

    Every public message updates ``last_activity_at`` (private notes touch nothing). An
    inbound one starts ``waiting_since`` (if not already waiting); a public outbound
    reply by an agent sets ``first_reply_at`` once and ends the wait.
    """
    if private and direction == "inbound":
        raise InvalidField("private", "only outbound messages can be private notes")
    if delivery_status == "failed" and not failure_reason:
        raise InvalidField("failure_reason", "required when delivery failed")
    now = utcnow()
    message = Message(
        id=uuid.uuid4(),
        conversation_id=conversation.id,
        direction=direction,
        sender_type=sender_type,
        sender_id=sender_id,
        body=body,
        private=private,
        meta=metadata or {},
        delivery_status=delivery_status or ("delivered" if direction == "inbound" else "queued"),
        failure_reason=failure_reason,
        created_at=now,
    )
    session.add(message)
    if not private:
        conversation.last_activity_at = now
        if direction == "inbound":
            if conversation.waiting_since is None:
                conversation.waiting_since = now
        elif sender_type == "agent":
            if conversation.first_reply_at is None:
                conversation.first_reply_at = now
            conversation.waiting_since = None
    session.flush()
    emit(
        session,
        account_id=account_id,
        name=names.MESSAGE_CREATED,
        actor=actor,
        subject_type="message",
        subject_id=message.id,
        payload={
            "conversation_id": str(conversation.id),
            "direction": direction,
            "sender_type": sender_type,
            "sender_id": str(sender_id) if sender_id else None,
            "private": private,
        },
    )
    return message


def list_messages(
    session: Session,
    conversation: Conversation,
    *,
    before: uuid.UUID | None = None,
    after: uuid.UUID | None = None,
    limit: int = 50,
) -> tuple[list[Message], bool]:
    """Oldest first, at most ``limit``; ``has_more`` says whether more lie beyond.

    Without a cursor: the newest page. ``before``: the page just older than that message;
    ``after``: the page just newer. A cursor from another conversation is refused.
    """
    if before is not None and after is not None:
        raise InvalidField("before", "use before or after, not both")
    key = tuple_(Message.created_at, Message.id)
    query = select(Message).where(Message.conversation_id == conversation.id)
    for field, cursor_id in (("before", before), ("after", after)):
        if cursor_id is None:
            continue
        cursor = session.get(Message, cursor_id)
        if cursor is None or cursor.conversation_id != conversation.id:
            raise InvalidField(field, "no such message in this conversation")
        bound = tuple_(cursor.created_at, cursor.id)
        query = query.where(key < bound if field == "before" else key > bound)
    ascending = after is not None
    order = (
        (Message.created_at, Message.id)
        if ascending
        else (Message.created_at.desc(), Message.id.desc())
    )
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    if not ascending:
        rows.reverse()
    return rows, has_more
