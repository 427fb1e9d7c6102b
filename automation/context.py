"""The evaluation context: the JSON document a rule's conditions read.

Built when the rule runs, from the latest state in the database (not a snapshot taken
when the event was queued), so a rule sees what an agent opening the conversation would.
Its shape is :data:`automation.catalogue.FIELDS` (version
:data:`~automation.catalogue.CONTEXT_VERSION`); timestamps are ISO-8601 strings in UTC,
ids are strings, and anything the event does not concern is ``null``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from automation.catalogue import CONTEXT_VERSION
from crm.models import Contact
from events import names
from events.consumers import Event
from helpdesk.models import Channel, Conversation, Message, Team
from helpdesk.tags import ContactTag, Tag
from identity.models import User
from tenants.db import utcnow
from tenants.registry import AccountRecord

#: Events whose payload is the changed fields, each as ``[before, after]``.
CHANGE_EVENTS = frozenset(
    {
        names.CONVERSATION_UPDATED,
        names.CONVERSATION_STATUS_CHANGED,
        names.CONVERSATION_ASSIGNED,
        names.CONTACT_UPDATED,
        names.MESSAGE_UPDATED,
    }
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _row(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(row, name)) for name in fields}


def _changes(event: Event) -> dict[str, Any]:
    if event.name not in CHANGE_EVENTS:
        return {}
    return {
        key: {"before": value[0], "after": value[1]}
        for key, value in event.payload.items()
        if isinstance(value, list) and len(value) == 2
    }


def conversation_of(event: Event) -> uuid.UUID | None:
    """The conversation an event concerns, if any."""
    if event.subject_type == "conversation":
        return event.subject_id
    conversation_id = event.payload.get("conversation_id")
    return uuid.UUID(conversation_id) if conversation_id else None


def _conversation(conversation: Conversation) -> dict[str, Any]:
    document = _row(
        conversation,
        (
            "id",
            "status",
            "priority",
            "subject",
            "channel_id",
            "assignee_id",
            "team_id",
            "created_at",
            "last_activity_at",
            "waiting_since",
            "first_reply_at",
            "snoozed_until",
            "resolved_at",
            "muted",
        ),
    )
    document["tags"] = sorted(tag.name for tag in conversation.tags)
    document["custom_attributes"] = dict(conversation.custom_attributes or {})
    return document


def _contact(session: Session, contact: Contact) -> dict[str, Any]:
    document = _row(contact, ("id", "name", "email", "phone", "company", "created_at"))
    document["tags"] = sorted(
        session.scalars(
            select(Tag.name)
            .join(ContactTag, ContactTag.tag_id == Tag.id)
            .where(ContactTag.contact_id == contact.id)
        )
    )
    return document


#: Headers that mark an email as sent by a machine (RFC 3834 and the common vendors').
_AUTOMATIC = {
    "auto-submitted": lambda v: v.lower() != "no",
    "x-autoreply": lambda v: True,
    "x-autorespond": lambda v: True,
    "x-auto-response-suppress": lambda v: v.lower() in ("all", "oof", "autoreply"),
    "precedence": lambda v: v.lower() in ("bulk", "junk", "list", "auto_reply"),
}


def is_auto_reply(metadata: dict[str, Any]) -> bool:
    """Whether a message's email ``headers`` (kept in its metadata by the channel) say a
    machine sent it: an out-of-office, a bounce, a list. Rules do not answer those, or two
    auto-responders would answer each other forever."""
    headers = metadata.get("headers") if isinstance(metadata, dict) else None
    if not isinstance(headers, dict):
        return False
    return any(
        test(str(value))
        for name, value in headers.items()
        if (test := _AUTOMATIC.get(name.lower()))
    )


def _message(message: Message) -> dict[str, Any]:
    document = _row(message, ("id", "direction", "private", "sender_type", "body", "created_at"))
    document["kind"] = "note" if message.private else message.direction
    document["auto_reply"] = is_auto_reply(message.meta)
    return document


def build(session: Session, event: Event, *, account: AccountRecord) -> dict[str, Any]:
    """The context document of ``event`` in ``account`` (``session`` in its tenant)."""
    context: dict[str, Any] = {
        "version": CONTEXT_VERSION,
        "event": {
            "id": str(event.id),
            "name": event.name,
            "occurred_at": event.occurred_at.isoformat(),
            "actor": {"type": event.actor_type, "id": _plain(event.actor_id)},
            "changes": _changes(event),
        },
        "account": {"id": str(account.id), "name": account.name},
        **dict.fromkeys(("conversation", "message", "contact", "assignee", "team", "channel")),
    }
    conversation_id = conversation_of(event)
    conversation = session.get(Conversation, conversation_id) if conversation_id else None
    contact_id = conversation.contact_id if conversation else None
    if event.subject_type == "contact":
        contact_id = event.subject_id
    if conversation is not None:
        context["conversation"] = _conversation(conversation)
        channel = session.get(Channel, conversation.channel_id)
        context["channel"] = _row(channel, ("id", "type", "name"))
        if conversation.team_id:
            context["team"] = _row(session.get(Team, conversation.team_id), ("id", "name"))
        if conversation.assignee_id:
            user = session.get(User, conversation.assignee_id)
            context["assignee"] = _row(user, ("id", "name", "email")) if user else None
    if event.subject_type == "message" and event.subject_id:
        message = session.get(Message, event.subject_id)
        context["message"] = _message(message) if message else None
    contact = session.get(Contact, contact_id) if contact_id else None
    if contact is not None:
        context["contact"] = _contact(session, contact)
    return context


def sample_event(
    *,
    account: AccountRecord,
    name: str,
    conversation_id: uuid.UUID,
    message_id: uuid.UUID | None = None,
) -> Event:
    """An event ``name`` about an existing conversation (or one of its messages), for a
    dry run: the context built from it is the conversation as it is now."""
    about_message = message_id is not None
    return Event(
        id=uuid.uuid4(),
        name=name,
        account_id=account.id,
        occurred_at=utcnow(),
        actor_type="system",
        actor_id=None,
        causation_depth=0,
        subject_type="message" if about_message else "conversation",
        subject_id=message_id if about_message else conversation_id,
        payload={"conversation_id": str(conversation_id)} if about_message else {},
    )
