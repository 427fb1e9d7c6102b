"""Messages of a conversation and what they do to its timestamps and status."""

from __future__ import annotations

import functools
import uuid
from typing import Any

import nh3
from sqlalchemy import Select, Table, Uuid, bindparam, func, insert, select, tuple_, update
from sqlalchemy.orm import Session, make_transient_to_detached, scoped_session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from audit.service import Actor
from events import names
from events.outbox import OutboxEvent, emit, event_values
from helpdesk import states
from helpdesk.conversations import change_status
from helpdesk.errors import Conflict, InvalidField, NotFound
from helpdesk.models import Conversation, Message
from helpdesk.reading import check_mentions, record_mentions
from tenants.db import utcnow
from tenants.driver import first_autocommitted

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
    context = {"account_id": account_id, "actor": actor}
    if conversation.status == states.RESOLVED:  # the lifecycle reopens through open
        change_status(session, conversation, **context, status=states.OPEN)
    target = states.ASSIGNED if conversation.assignee_id else states.OPEN
    if conversation.status != target:
        change_status(session, conversation, **context, status=target)


#: What a message does to its conversation (see :func:`_posting`): an inbound message,
#: an agent's public reply, another public outbound message, a private note.
INBOUND, REPLY, OUTBOUND, NOTE = "inbound", "reply", "outbound", "note"
_MESSAGE_COLUMNS = (
    "id",
    "direction",
    "sender_type",
    "sender_id",
    "body",
    "body_html",
    "private",
    "metadata",
    "delivery_status",
    "failure_reason",
    "created_at",
)
_EVENT_COLUMNS = tuple(column.name for column in OutboxEvent.__table__.columns)


def _bound(table: Table, prefix: str, names: tuple[str, ...]) -> list:
    return [bindparam(f"{prefix}{name}", type_=table.c[name].type) for name in names]


#: Statuses an inbound message changes (closed refuses it; the others wake up).
_NOT_PLAIN = (states.CLOSED, states.SNOOZED, states.RESOLVED)


def _in_transaction(session: Session | scoped_session) -> bool:
    return (session() if isinstance(session, scoped_session) else session).in_transaction()


@functools.cache
def _posting(kind: str, alone: bool = False) -> Select:
    """The statement that posts a message of ``kind``, built once: it updates the
    conversation's timestamps (a note only reads it), inserts the message and inserts its
    ``message.created`` event, all in one round trip, and returns the conversation's
    status and whether it is muted. Nothing is written when the conversation does not
    exist, or, for an inbound message, when it is closed: the statement then returns no
    row.

    ``alone``: the statement is the whole transaction, so an inbound message that would
    also change the status (see :func:`_wake`) is left to the transactional path: the
    statement returns no row for it either.
    """
    now = bindparam("now", type_=Conversation.__table__.c.last_activity_at.type)
    target = Conversation.id == bindparam("conversation_id", type_=Uuid)
    returned = (Conversation.id, Conversation.status, Conversation.muted)
    if kind == NOTE:  # private notes touch nothing
        conversation = select(*returned).where(target)
    else:
        changes = {Conversation.last_activity_at: now, Conversation.updated_at: now}
        if kind == INBOUND:
            changes[Conversation.waiting_since] = func.coalesce(Conversation.waiting_since, now)
        elif kind == REPLY:
            changes[Conversation.first_reply_at] = func.coalesce(Conversation.first_reply_at, now)
            changes[Conversation.waiting_since] = None
        conversation = update(Conversation).where(target).values(changes).returning(*returned)
        if kind == INBOUND and alone:  # no NOT IN: its list is expanded per execution
            conversation = conversation.where(*(Conversation.status != s for s in _NOT_PLAIN))
        elif kind == INBOUND:  # a closed conversation is final
            conversation = conversation.where(Conversation.status != states.CLOSED)
    found = conversation.cte("conversation")
    messages, events = Message.__table__, OutboxEvent.__table__
    message = insert(messages).from_select(
        ["conversation_id", *_MESSAGE_COLUMNS],
        select(found.c.id, *_bound(messages, "message_", _MESSAGE_COLUMNS)),
    )
    event = insert(events).from_select(
        list(_EVENT_COLUMNS),
        select(*_bound(events, "event_", _EVENT_COLUMNS)).select_from(found),
    )
    return select(found.c.status, found.c.muted).add_cte(message.cte("message"), event.cte("event"))


def post_message(
    session: Session,
    conversation_id: uuid.UUID,
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
    commit: bool = False,
) -> Message:
    """Add a message; update the conversation's activity timestamps and status.

    Every public message updates ``last_activity_at`` (private notes touch nothing). An
    inbound one starts ``waiting_since`` (if not already waiting); a public outbound
    reply by an agent sets ``first_reply_at`` once and ends the wait.

    An inbound message wakes a snoozed conversation and reopens a resolved one (status
    events by the message's actor follow ``message.created``), unless the conversation
    is muted: then it stays as it is. A closed conversation is
    final: inbound messages are refused with ``conversation_closed``, and the channel
    starts a new conversation instead (as Chatwoot does).

    ``html`` is kept sanitised (:func:`sanitize_html`) as ``body_html``; ``body`` stays
    the text. ``mentions`` are members @mentioned by an outbound message (a note, usually).

    This is the busiest write of the product, so the conversation's update, the message
    and its event go to the database as one statement (:func:`_posting`); the returned
    message is detached, with every field as written.

    ``commit``: the message is the caller's whole unit of work; it is committed before
    this returns. A plain message (no mentions, no status change) posted from a session
    with no transaction open then costs a single round trip to the database.
    """
    if private and direction == "inbound":
        raise InvalidField("private", "only outbound messages can be private notes")
    if mentions and direction == "inbound":
        raise InvalidField("mentions", "only outbound messages mention agents")
    if delivery_status == "failed" and not failure_reason:
        raise InvalidField("failure_reason", "required when delivery failed")
    mentioned = check_mentions(session, account_id=account_id, user_ids=mentions or ())
    if private:
        kind = NOTE
    elif direction == "inbound":
        kind = INBOUND
    else:
        kind = REPLY if sender_type == "agent" else OUTBOUND
    now = utcnow()
    written = {
        "id": uuid.uuid4(),
        "direction": direction,
        "sender_type": sender_type,
        "sender_id": sender_id,
        "body": body,
        "body_html": sanitize_html(html) if html is not None else None,
        "private": private,
        "metadata": metadata or {},
        "delivery_status": delivery_status or ("delivered" if direction == "inbound" else "queued"),
        "failure_reason": failure_reason,
        "created_at": now,
    }
    message = Message(
        conversation_id=conversation_id,
        meta=written.pop("metadata"),
        **written,
    )
    written["metadata"] = message.meta
    event = event_values(
        account_id=account_id,
        name=names.MESSAGE_CREATED,
        actor=actor,
        subject_type="message",
        subject_id=message.id,
        occurred_at=now,
        payload={
            "conversation_id": str(conversation_id),
            "direction": direction,
            "sender_type": sender_type,
            "sender_id": str(sender_id) if sender_id else None,
            "private": private,
            "mentions": [str(user_id) for user_id in mentioned],
        },
    )
    params = {"conversation_id": conversation_id, "now": now}
    params.update((f"message_{name}", value) for name, value in written.items())
    params.update((f"event_{name}", value) for name, value in event.items())
    if commit and not mentioned and not _in_transaction(session):
        # The message is the whole unit of work: one statement in autocommit mode is
        # atomic on its own and spares the BEGIN and COMMIT round trips.
        alone = _posting(kind, alone=True)
        if first_autocommitted(session.get_bind(), alone, params) is not None:
            make_transient_to_detached(message)
            set_committed_value(message, "mentions", [])
            return message
    row = session.connection().execute(_posting(kind), params).first()
    if row is None:
        if session.scalar(select(Conversation.status).where(Conversation.id == conversation_id)):
            raise Conflict("conversation_closed", "The conversation is closed; start a new one.")
        raise NotFound("conversation_not_found", "No such conversation.")
    loaded = session.identity_map.get(identity_key(Conversation, conversation_id))
    if loaded is not None:  # changed behind the ORM's back
        session.expire(loaded)
    make_transient_to_detached(message)
    set_committed_value(message, "mentions", record_mentions(session, message, user_ids=mentioned))
    if kind == INBOUND and row.status in (states.SNOOZED, states.RESOLVED) and not row.muted:
        conversation = session.get(Conversation, conversation_id)
        _wake(session, conversation, account_id=account_id, actor=actor)
    if commit:
        session.flush()
        for mention in message.mentions:  # read after the commit, which would expire them
            session.expunge(mention)
        session.commit()
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
    notes: bool = True,
) -> tuple[list[Message], bool]:
    """Oldest first, at most ``limit``; ``has_more`` says whether more lie beyond.

    Without a cursor: the newest page. ``before``: the page just older than that message;
    ``after``: the page just newer. A cursor from another conversation is refused.
    ``notes=False`` (what a contact sees) leaves private notes out, and refuses a cursor
    naming one as it refuses another conversation's message.
    """
    if before is not None and after is not None:
        raise InvalidField("before", "use before or after, not both")
    key = tuple_(Message.created_at, Message.id)
    query = select(Message).where(Message.conversation_id == conversation.id)
    if not notes:
        query = query.where(Message.private.is_(False))
    for field, cursor_id in (("before", before), ("after", after)):
        if cursor_id is None:
            continue
        cursor = session.get(Message, cursor_id)
        if (
            cursor is None
            or cursor.conversation_id != conversation.id
            or (cursor.private and not notes)
        ):
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
