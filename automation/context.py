"""The evaluation context: the JSON document a rule's conditions read.

Built when the rule runs, from the latest state in the database (not a snapshot taken
when the event was queued), so a rule sees what an agent opening the conversation would.
Its shape is :data:`automation.catalogue.FIELDS` (version
:data:`~automation.catalogue.CONTEXT_VERSION`); timestamps are ISO-8601 strings in UTC,
ids are strings, and anything the event does not concern is ``null``. The contact's
``segments`` are only filled for the rules that read them (:func:`add_segments`).
"""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Uuid, and_, bindparam, func, select
from sqlalchemy.orm import Session

from automation.catalogue import CONTEXT_VERSION, reads
from crm.custom_fields import typed_values
from crm.models import Contact
from crm.segments.service import SEGMENTS_FIELD, memberships
from events import names
from events.consumers import Event
from helpdesk.models import Channel, Conversation, Message, Team
from helpdesk.tags import ContactTag, ConversationTag, Tag
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


def _changes(event: Event) -> dict[str, Any]:
    if event.name not in CHANGE_EVENTS:
        return {}
    return {
        key: {"before": value[0], "after": value[1]}
        for key, value in event.payload.items()
        if isinstance(value, list) and len(value) == 2
    }


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


_FIELDS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "conversation": (
        Conversation,
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
            "custom_attributes",
        ),
    ),
    "channel": (Channel, ("id", "type", "name")),
    "team": (Team, ("id", "name")),
    "assignee": (User, ("id", "name", "email")),
    "message": (Message, ("id", "direction", "private", "sender_type", "body", "created_at")),
    "contact": (
        Contact,
        ("id", "name", "email", "phone", "company", "created_at", "updated_at"),
    ),
}


def _columns(*parts: str) -> list:
    """The columns of each part, labelled ``<part>__<field>``."""
    return [
        getattr(model, name).label(f"{part}__{name}")
        for part in parts
        for model, names in [_FIELDS[part]]
        for name in names
    ]


def _tag_names(link: Any, owner: Any, owner_id: Any) -> Any:
    """The names of the tags on ``owner_id``, sorted, as one array column."""
    names = select(Tag.name).join(link, link.tag_id == Tag.id).where(owner == owner_id)
    return func.array(names.order_by(Tag.name).scalar_subquery())


def _about_the_contact() -> list:
    """The contact's tags and custom fields (those of a defined key whose value fits its
    type: a segment's SQL reads them so too, :mod:`crm.segments.fields`)."""
    return [
        _tag_names(ContactTag, ContactTag.contact_id, Contact.id).label("contact__tags"),
        typed_values(Contact.custom_fields, "contact").label("contact__custom_fields"),
    ]


@functools.cache
def _about_conversation() -> Select:
    """Everything a conversation's event shows a rule, in one round trip: the
    conversation with its tags, channel, team, assignee, contact with its tags, and the
    event's message if any."""
    message_id = bindparam("message_id", type_=Uuid)
    return (
        select(
            *_columns("conversation", "channel", "team", "assignee", "message", "contact"),
            Message.meta.label("message__metadata"),
            _tag_names(ConversationTag, ConversationTag.conversation_id, Conversation.id).label(
                "conversation__tags"
            ),
            *_about_the_contact(),
        )
        .select_from(Conversation)
        .join(Channel, Channel.id == Conversation.channel_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .outerjoin(Team, Team.id == Conversation.team_id)
        .outerjoin(User, User.id == Conversation.assignee_id)
        .outerjoin(
            Message, and_(Message.id == message_id, Message.conversation_id == Conversation.id)
        )
        .where(Conversation.id == bindparam("conversation_id", type_=Uuid))
    )


@functools.cache
def _about_contact() -> Select:
    return select(*_columns("contact"), *_about_the_contact()).where(
        Contact.id == bindparam("contact_id", type_=Uuid)
    )


def _parts(row: Any) -> dict[str, dict[str, Any] | None]:
    """A joined row split into its parts; a part the outer joins found nothing for is
    None."""
    parts: dict[str, dict[str, Any]] = {}
    for label, value in row._mapping.items():
        part, name = label.split("__", 1)
        parts.setdefault(part, {})[name] = _plain(value)
    return {part: (fields if fields.get("id") else None) for part, fields in parts.items()}


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
    conversation_id = event.conversation_id
    about_message = event.subject_type == "message" and event.subject_id
    row = None
    if conversation_id:
        row = session.execute(
            _about_conversation(),
            {
                "conversation_id": conversation_id,
                "message_id": event.subject_id if about_message else None,
            },
        ).first()
    elif event.subject_type == "contact" and event.subject_id:
        context["contact"] = contact_document(session, event.subject_id)
    if row is not None:
        context |= _parts(row)
    message = context["message"]
    if message is not None:
        message["kind"] = "note" if message["private"] else message["direction"]
        message["auto_reply"] = is_auto_reply(message.pop("metadata"))
    return context


def contact_document(session: Session, contact_id: uuid.UUID) -> dict[str, Any] | None:
    """The context's ``contact``: what a condition about a contact reads."""
    row = session.execute(_about_contact(), {"contact_id": contact_id}).first()
    return None if row is None else _parts(row)["contact"]


def add_segments(session: Session, context: dict[str, Any], conditions: list[Any]) -> None:
    """Fill ``contact.segments`` (the ids of the segments the contact is in, sorted) when
    one of ``conditions`` reads it: every segment is evaluated in one statement, so the
    documents of rules that do not ask never pay for it."""
    contact = context.get("contact")
    if contact is not None and any(reads(c, SEGMENTS_FIELD) for c in conditions):
        contact["segments"] = memberships(session, uuid.UUID(contact["id"]))


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
