"""Messages of a conversation and what they do to its timestamps and status."""

from __future__ import annotations

import uuid
from typing import Any

import nh3
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from audit.service import Actor
from events import names
from events.outbox import emit
from helpdesk import states
from helpdesk.conversations import change_status
from helpdesk.errors import Conflict, InvalidField
from helpdesk.models import Conversation, Message
from helpdesk.reading import add_mentions
from tenants.db import utcnow

MAX_LIMIT = 100
#: Where a delivery status may go next: forward only; delivered and failed are final.
DELIVERY_MOVES: dict[str, tuple[str, ...]] = {
    "queued": ("sent", "delivered", "failed"),
    "sent": ("delivered", "failed"),
    "delivered": (),
    "failed": (),
}
#: Link schemes kept in HTML bodies; anything else (``javascript:``, ``data:``) loses its URL.
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})


def sanitize_html(html: str) -> str:
    """Keep an allow-list of tags and attributes (ammonia's defaults, via nh3).

    Scripts and styles go with their content, event handler attributes (``onclick``…)
    and URLs outside :data:`URL_SCHEMES` are dropped, and every link gets
    ``rel="noopener noreferrer"``. Bodies are shown to agents inside the console, so
    this is what stands between a contact's email and an agent's session.
    """
    return nh3.clean(html, url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer")


def _wake(
    session: Session, conversation: Conversation, *, account_id: uuid.UUID, actor: Actor
) -> None:
    """The contact wrote again: a snoozed conversation (timed or not) wakes, a resolved
    one reopens, each back to ``assigned`` when it has an assignee, else ``open``."""
    if conversation.status not in (states.SNOOZED, states.RESOLVED):
        return
    context = {"account_id": account_id, "actor": actor}
    if conversation.status == states.RESOLVED:  # the lifecycle reopens through open
        change_status(session, conversation, **context, status=states.OPEN)
    target = states.ASSIGNED if conversation.assignee_id else states.OPEN
    if conversation.status != target:
        change_status(session, conversation, **context, status=target)


def post_message(
    session: Session,
    conversation: Conversation,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    direction: str,
    sender_type: str,
    body: str,
    html: str | None = None,
    sender_id: uuid.UUID | None = None,
    private: bool = False,
    mentions: list[uuid.UUID] | None = None,
    metadata: dict[str, Any] | None = None,
    delivery_status: str | None = None,
    failure_reason: str | None = None,
) -> Message:
    """Add a message; update the conversation's activity timestamps and status.

    Every public message updates ``last_activity_at`` (private notes touch nothing). An
    inbound one starts ``waiting_since`` (if not already waiting); a public outbound
    reply by an agent sets ``first_reply_at`` once and ends the wait.

    An inbound message wakes a snoozed conversation and reopens a resolved one (status
    events by the message's actor follow ``message.created``). A closed conversation is
    final: inbound messages are refused with ``conversation_closed``, and the channel
    starts a new conversation instead (as Chatwoot does).

    ``html`` is kept sanitised (:func:`sanitize_html`) as ``body_html``; ``body`` stays
    the text. ``mentions`` are members @mentioned by an outbound message (a note, usually).
    """
    if private and direction == "inbound":
        raise InvalidField("private", "only outbound messages can be private notes")
    if mentions and direction == "inbound":
        raise InvalidField("mentions", "only outbound messages mention agents")
    if delivery_status == "failed" and not failure_reason:
        raise InvalidField("failure_reason", "required when delivery failed")
    if direction == "inbound" and conversation.status == states.CLOSED:
        raise Conflict("conversation_closed", "The conversation is closed; start a new one.")
    now = utcnow()
    message = Message(
        id=uuid.uuid4(),
        conversation_id=conversation.id,
        direction=direction,
        sender_type=sender_type,
        sender_id=sender_id,
        body=body,
        body_html=sanitize_html(html) if html is not None else None,
        private=private,
        meta=metadata or {},
        delivery_status=delivery_status or ("delivered" if direction == "inbound" else "queued"),
        failure_reason=failure_reason,
        created_at=now,
    )
    session.add(message)
    mentioned = add_mentions(session, message, account_id=account_id, user_ids=mentions or ())
    if not private:
        conversation.last_activity_at = now
        if direction == "inbound":
            if conversation.waiting_since is None:
                conversation.waiting_since = now
        elif sender_type == "agent":
            if conversation.first_reply_at is None:
                conversation.first_reply_at = now
            conversation.waiting_since = None
    # No flush here: ids are made in Python, so the message, the conversation's new
    # timestamps and the event reach the database in one flush, at commit.
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
            "mentions": [str(user_id) for user_id in mentioned],
        },
    )
    if direction == "inbound":
        _wake(session, conversation, account_id=account_id, actor=actor)
    return message


def get_message(
    session: Session, conversation: Conversation, message_id: uuid.UUID
) -> Message | None:
    """The message ``message_id`` if it belongs to ``conversation``."""
    message = session.get(Message, message_id)
    return message if message is not None and message.conversation_id == conversation.id else None


def update_delivery(
    session: Session,
    message: Message,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    delivery_status: str,
    failure_reason: str | None = None,
) -> Message:
    """Record how delivery went: only forward (:data:`DELIVERY_MOVES`); a failure needs
    its reason. Emits ``message.updated`` with the changed fields as ``[before, after]``.
    """
    current = message.delivery_status
    if delivery_status == current and failure_reason in (None, message.failure_reason):
        return message
    if delivery_status not in DELIVERY_MOVES[current]:
        allowed = ", ".join(DELIVERY_MOVES[current]) or "none"
        raise Conflict(
            "illegal_transition",
            f"A {current} message cannot become {delivery_status}; allowed: {allowed}.",
            "delivery_status",
        )
    if delivery_status == "failed" and not failure_reason:
        raise InvalidField("failure_reason", "required when delivery failed")
    if delivery_status != "failed" and failure_reason is not None:
        raise InvalidField("failure_reason", "only for failed deliveries")
    changed = {"delivery_status": [current, delivery_status]}
    if failure_reason != message.failure_reason:
        changed["failure_reason"] = [message.failure_reason, failure_reason]
    message.delivery_status = delivery_status
    message.failure_reason = failure_reason
    session.flush()
    emit(
        session,
        account_id=account_id,
        name=names.MESSAGE_UPDATED,
        actor=actor,
        subject_type="message",
        subject_id=message.id,
        payload={"conversation_id": str(message.conversation_id), **changed},
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
