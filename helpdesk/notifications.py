"""Agents' notifications: what happened that concerns one agent, kept until they read it.

Three kinds (:data:`TYPES`), each made from one event of the stream:

- ``mention``: a message (a note, usually) @mentioned the agent (``message.created``
  whose payload lists ``mentions``);
- ``assigned``: a conversation was assigned to the agent by somebody else: another
  member, an automation rule, automatic assignment (``conversation.assigned``, and
  ``conversation.created`` for one created assigned);
- ``new_message_in_assigned``: the contact wrote in a conversation assigned to the agent
  (an inbound ``message.created``; not while the conversation is muted).

Nobody is notified of their own doing: the acting user (an API token's creator, for a
token) and a message's sender are left out.

They are made by an event consumer (:func:`on_event`), so in the RQ workers, whatever
caused the event. A notification names the event it came from, and ``(event_id,
user_id)`` is unique: the consumer inserts with ``ON CONFLICT DO NOTHING``, so an event
delivered again (a retried job, a relay that published twice) adds nothing and pushes
nothing. Each notification it does add is pushed, once the transaction has committed, to
the recipient's own room as ``notification.created`` with the REST shape
(:func:`shape`) and the recipient's count of unread ones; reading marks them read
everywhere the agent is connected (``notification.read``).

Opening a conversation (``conversation.read``, by the agent) marks the agent's
notifications about it read, as the inbox would. Read notifications are pruned after
:data:`READ_RETENTION_DAYS`, where they are written (at most hourly per worker and
account, as automation's run log is), so no sweep visits every tenant.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    Uuid,
    and_,
    delete,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from crm.models import Contact
from events import names
from events.consumers import Event, register
from helpdesk.errors import InvalidField, NotFound
from helpdesk.models import Conversation, Message
from helpdesk.reading import ConversationRead
from identity.api_tokens import ApiToken
from identity.models import User
from realtime import feed
from realtime.rooms import user_room
from tenants.db import TenantBase, UuidPrimaryKey, utcnow
from tenants.registry import AccountRecord, live_account
from tenants.session import tenant_session

MENTION = "mention"
ASSIGNED = "assigned"
NEW_MESSAGE_IN_ASSIGNED = "new_message_in_assigned"
TYPES = (MENTION, ASSIGNED, NEW_MESSAGE_IN_ASSIGNED)
#: The socket events, to the recipient's room (:func:`realtime.rooms.user_room`).
CREATED_PUSH = "notification.created"
READ_PUSH = "notification.read"
MAX_LIMIT = 100
#: Characters of a message kept as the notification's preview.
PREVIEW_LENGTH = 140
#: Days a read notification is kept; unread ones are kept until read.
READ_RETENTION_DAYS = 30
PRUNE_EVERY = 3600.0
_pruned: dict[uuid.UUID, float] = {}


class Notification(UuidPrimaryKey, TenantBase):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        CheckConstraint(f"type IN ({', '.join(repr(t) for t in TYPES)})", name="type"),
        Index("ix_notifications_user_id_created_at", "user_id", "created_at", "id"),
        Index(
            "ix_notifications_unread",
            "user_id",
            "created_at",
            "id",
            postgresql_where="read_at IS NULL",
        ),
        Index("ix_notifications_read_at", "read_at"),
    )

    #: The recipient, a member of the account (public schema: no foreign key across).
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    type: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("messages.id", ondelete="CASCADE")
    )
    #: Who caused it: ``user``, ``api_token``, ``automation`` (id: the rule) or ``system``.
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    #: The event it was made from (one notification per event and recipient).
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    #: What a list shows without further reads: the conversation's subject, the contact's
    #: name, the acting user's name, the message's start (``preview``), the policy.
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def actor(self) -> dict[str, Any]:
        return {"type": self.actor_type, "id": _text(self.actor_id)}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _text(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def shape(notification: Notification) -> dict[str, Any]:
    """The notification as the REST API answers it (``api.notifications.NotificationOut``)
    and as pushes carry it, in JSON types."""
    return {
        "id": str(notification.id),
        "type": notification.type,
        "conversation_id": _text(notification.conversation_id),
        "message_id": _text(notification.message_id),
        "actor": notification.actor,
        "data": notification.data,
        "read_at": _iso(notification.read_at),
        "created_at": _iso(notification.created_at),
    }


# --- reading and marking ---------------------------------------------------------------


def _own(user_id: uuid.UUID):
    return Notification.user_id == user_id


def get_notification(
    session: Session, *, user_id: uuid.UUID, notification_id: uuid.UUID
) -> Notification:
    """``user_id``'s notification ``notification_id``; anyone else's is not found."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        raise NotFound("notification_not_found", "No such notification.")
    return notification


def list_notifications(
    session: Session,
    *,
    user_id: uuid.UUID,
    unread: bool = False,
    types: list[str] | None = None,
    conversation_id: uuid.UUID | None = None,
    before: uuid.UUID | None = None,
    limit: int = 25,
) -> tuple[list[Notification], bool]:
    """``user_id``'s notifications, newest first, at most ``limit``; ``has_more`` says
    whether older ones lie beyond. ``before``: the page just older than that notification
    (one of the caller's, else refused)."""
    key = tuple_(Notification.created_at, Notification.id)
    query = select(Notification).where(_own(user_id))
    if unread:
        query = query.where(Notification.read_at.is_(None))
    if types:
        query = query.where(Notification.type.in_(types))
    if conversation_id is not None:
        query = query.where(Notification.conversation_id == conversation_id)
    if before is not None:
        cursor = session.get(Notification, before)
        if cursor is None or cursor.user_id != user_id:
            raise InvalidField("before", "no such notification")
        query = query.where(key < tuple_(cursor.created_at, cursor.id))
    order = (Notification.created_at.desc(), Notification.id.desc())
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def unread_count(session: Session, *, user_id: uuid.UUID) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(_own(user_id), Notification.read_at.is_(None))
    )


def mark_read(session: Session, notification: Notification) -> Notification:
    """Read (it stays read at the first time it was marked)."""
    if notification.read_at is None:
        notification.read_at = utcnow()
        session.flush()
    return notification


def mark_unread(session: Session, notification: Notification) -> Notification:
    notification.read_at = None
    session.flush()
    return notification


def mark_all_read(
    session: Session,
    *,
    user_id: uuid.UUID,
    conversation_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Mark ``user_id``'s unread notifications read (only those about one conversation,
    with ``conversation_id``); return their ids."""
    conditions = [_own(user_id), Notification.read_at.is_(None)]
    if conversation_id is not None:
        conditions.append(Notification.conversation_id == conversation_id)
    marked = session.scalars(
        update(Notification).where(*conditions).values(read_at=utcnow()).returning(Notification.id)
    )
    return list(marked)


def delete_notification(session: Session, notification: Notification) -> None:
    session.delete(notification)
    session.flush()


def publish_read(
    account_id: uuid.UUID, user_id: uuid.UUID, ids: list[uuid.UUID], unread: int
) -> None:
    """Tell the agent's connections (every tab) which notifications are read now, after
    the commit that marked them."""
    feed.publish(
        user_room(account_id, user_id),
        READ_PUSH,
        {
            "account_id": str(account_id),
            "notification_ids": [str(i) for i in ids],
            "unread_notifications": unread,
        },
    )


# --- making them from events -------------------------------------------------------------


def _acting_user(session: Session, event: Event) -> uuid.UUID | None:
    """The user behind the event: the acting user, or an API token's creator."""
    if event.actor_type == "user":
        return event.actor_id
    if event.actor_type == "api_token" and event.actor_id is not None:
        return session.scalar(select(ApiToken.created_by).where(ApiToken.id == event.actor_id))
    return None


def _data(
    session: Session, event: Event, conversation: Conversation, **extra: Any
) -> dict[str, Any]:
    contact = session.get(Contact, conversation.contact_id)
    actor = session.get(User, event.actor_id) if event.actor_type == "user" else None
    data = {
        "subject": conversation.subject,
        "contact_name": contact.name if contact is not None else None,
        "actor_name": actor.name if actor is not None else None,
        **extra,
    }
    return {key: value for key, value in data.items() if value is not None}


def _preview(message: Message) -> str:
    body = " ".join(message.body.split())
    return body if len(body) <= PREVIEW_LENGTH else body[: PREVIEW_LENGTH - 1] + "…"


def _assigned(session: Session, conversation_id: uuid.UUID | None) -> bool:
    return conversation_id is not None and (
        session.scalar(select(Conversation.assignee_id).where(Conversation.id == conversation_id))
        is not None
    )


def _about_message(session: Session, event: Event) -> list[dict[str, Any]]:
    if event.payload.get("direction") == "inbound" and not _assigned(
        session, event.conversation_id
    ):
        return []  # nobody to tell: the usual inbound message, in one query
    message = session.get(Message, event.subject_id) if event.subject_id else None
    if message is None:
        return []
    conversation = session.get(Conversation, message.conversation_id)
    if conversation is None:
        return []
    skip = {_acting_user(session, event), message.sender_id}
    common = {"conversation_id": conversation.id, "message_id": message.id}
    found = []
    if event.payload.get("direction") == "inbound":
        assignee = conversation.assignee_id
        if assignee is not None and assignee not in skip and not conversation.muted:
            data = _data(session, event, conversation, preview=_preview(message))
            found.append({"user_id": assignee, "type": NEW_MESSAGE_IN_ASSIGNED, "data": data})
    else:
        mentioned = [uuid.UUID(u) for u in event.payload.get("mentions") or ()]
        data = _data(session, event, conversation, preview=_preview(message))
        found += [
            {"user_id": user_id, "type": MENTION, "data": data}
            for user_id in dict.fromkeys(mentioned)
            if user_id not in skip
        ]
    if not found:
        return []
    # Whoever has already read past the message (a tab open on the conversation) has
    # seen it: nothing to notify.
    seen = set(
        session.scalars(
            select(ConversationRead.user_id).where(
                ConversationRead.conversation_id == conversation.id,
                ConversationRead.user_id.in_([row["user_id"] for row in found]),
                ConversationRead.last_read_at >= message.created_at,
            )
        )
    )
    return [{**common, **row} for row in found if row["user_id"] not in seen]


def _about_assignment(session: Session, event: Event) -> list[dict[str, Any]]:
    after = (event.payload.get("assignee_id") or [None, None])[1]
    conversation = session.get(Conversation, event.subject_id) if event.subject_id else None
    if after is None or conversation is None:
        return []
    assignee = uuid.UUID(after)
    # The state now: a conversation already handed on does not call its former assignee.
    if conversation.assignee_id != assignee or assignee == _acting_user(session, event):
        return []
    data = _data(session, event, conversation, policy=event.payload.get("policy"))
    return [
        {"user_id": assignee, "type": ASSIGNED, "conversation_id": conversation.id, "data": data}
    ]


def notify(session: Session, event: Event) -> list[Notification]:
    """Write the notifications ``event`` makes; those it made before (the same event
    delivered again) are not written again, and not returned."""
    if event.name == names.MESSAGE_CREATED:
        wanted = _about_message(session, event)
    elif event.name in (names.CONVERSATION_ASSIGNED, names.CONVERSATION_CREATED):
        wanted = _about_assignment(session, event)
    else:
        return []
    if not wanted:
        return []
    rows = [
        {
            "id": uuid.uuid4(),
            "actor_type": event.actor_type,
            "actor_id": event.actor_id,
            "event_id": event.id,
            "created_at": utcnow(),
            "read_at": None,
            "message_id": None,
            **row,
        }
        for row in wanted
    ]
    statement = (
        insert(Notification)
        .values(rows)
        .on_conflict_do_nothing(constraint="uq_notifications_event_id_user_id")
        .returning(Notification)
    )
    return list(session.scalars(statement))


def _prune(session: Session, account: AccountRecord) -> None:
    """Drop read notifications past retention, at most hourly per worker and account."""
    now = time.monotonic()
    if now - _pruned.get(account.id, -PRUNE_EVERY) < PRUNE_EVERY:
        return
    _pruned[account.id] = now
    expired = utcnow() - timedelta(days=READ_RETENTION_DAYS)
    session.execute(delete(Notification).where(Notification.read_at < expired))


def _may_notify(event: Event) -> bool:
    """Whether ``event`` can make a notification at all, from its payload alone: most
    messages (agents' replies, notes without mentions) and conversations created
    unassigned cost no transaction."""
    if event.name == names.MESSAGE_CREATED:
        return event.payload.get("direction") == "inbound" or bool(event.payload.get("mentions"))
    return (event.payload.get("assignee_id") or [None, None])[1] is not None


def on_event(event: Event) -> None:
    """The consumer: write the event's notifications, then push each to its recipient."""
    account = live_account(event.account_id) if _may_notify(event) else None
    if account is None:
        return
    with tenant_session(account) as session:  # commits at the end of the block
        made = notify(session, event)
        pushes = [(n.user_id, shape(n), unread_count(session, user_id=n.user_id)) for n in made]
        if made:
            _prune(session, account)
    for user_id, notification, unread in pushes:
        feed.publish(
            user_room(account.id, user_id),
            CREATED_PUSH,
            {
                "account_id": str(account.id),
                "notification": notification,
                "unread_notifications": unread,
            },
        )


def mark_read_by_reading(
    session: Session,
    *,
    user_id: uuid.UUID,
    conversation_id: uuid.UUID,
    read_up_to: datetime,
    at: datetime,
) -> list[uuid.UUID]:
    """The agent read the conversation up to ``read_up_to`` (at ``at``): their unread
    notifications about the messages it covers, and those about the conversation itself
    made by then, become read; return their ids."""
    covered = select(Message.id).where(
        Message.conversation_id == conversation_id, Message.created_at <= read_up_to
    )
    marked = session.scalars(
        update(Notification)
        .where(
            _own(user_id),
            Notification.read_at.is_(None),
            Notification.conversation_id == conversation_id,
            or_(
                Notification.message_id.in_(covered),
                and_(Notification.message_id.is_(None), Notification.created_at <= at),
            ),
        )
        .values(read_at=utcnow())
        .returning(Notification.id)
    )
    return list(marked)


def on_read(event: Event) -> None:
    """An agent read a conversation: their notifications about what they read are read."""
    reader = event.payload.get("user_id")
    read_up_to = (event.payload.get("last_read_at") or [None, None])[1]
    account = live_account(event.account_id)
    if account is None or reader is None or read_up_to is None or event.subject_id is None:
        return
    user_id = uuid.UUID(reader)
    with tenant_session(account) as session:
        marked = mark_read_by_reading(
            session,
            user_id=user_id,
            conversation_id=event.subject_id,
            read_up_to=datetime.fromisoformat(read_up_to),
            at=event.occurred_at,
        )
        unread = unread_count(session, user_id=user_id) if marked else 0
    if marked:
        publish_read(account.id, user_id, marked, unread)


register(names.MESSAGE_CREATED, on_event, key="helpdesk.notifications")
register(names.CONVERSATION_CREATED, on_event, key="helpdesk.notifications")
register(names.CONVERSATION_ASSIGNED, on_event, key="helpdesk.notifications")
register(names.CONVERSATION_READ, on_read, key="helpdesk.notifications.read")
