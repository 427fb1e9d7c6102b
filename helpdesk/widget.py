"""The contact's side of an in-app channel: the chat widget on a customer's website.

A visitor is a contact. An identified visitor proves their email with ``identifier_hash``,
the hex HMAC-SHA256 of the email (exactly as sent) under the channel's ``secret``, which
the customer's own backend computes (Chatwoot's identity validation): they become the
contact with that email, created if missing. An anonymous visitor becomes a new contact
of their own. A channel whose config sets ``require_identity`` admits identified visitors
only.

What a contact sees of their conversations is a view of its own, never the agents' rows:
private notes are left out, messages carry no metadata, mentions or delivery details, a
sender is a type and a display name (an agent's name, never their id), and a
conversation's status is what it means to the contact (:func:`contact_status`).

Writes go through the services agents' requests use (:func:`create_conversation`,
:func:`post_message`), so a visitor's message makes the same events, and with them the
same assignment, automation, notifications and pushes. Callers own the transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from audit.service import Actor
from crm.models import Contact
from crm.service import ContactConflict, InvalidContact, create_contact
from helpdesk import states
from helpdesk.conversations import create_conversation
from helpdesk.errors import HelpdeskError, InvalidField
from helpdesk.messages import post_message
from helpdesk.models import Channel, Conversation, Message
from identity.models import User

CHANNEL_TYPE = "in_app"
#: The name of an anonymous visitor who gave none.
ANONYMOUS_NAME = "Visitor"
MAX_CONVERSATIONS = 50
#: A conversation's status as the contact sees it: an agent's assignment, a pending
#: state or a snooze are the helpdesk's business; to the contact it is still open.
CONTACT_STATUSES = ("open", "resolved", "closed")
#: How a sender shows to the contact, by the message's ``sender_type``.
SENDER_TYPES = {"contact": "contact", "agent": "agent", "automation": "bot", "system": "system"}


class IdentityRefused(HelpdeskError):
    """The visitor's session cannot be opened as asked (``code`` says why):
    ``invalid_identifier_hash``, ``identity_not_configured`` (no secret to check a hash
    with) or ``identity_required`` (the channel admits identified visitors only)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def widget_channel(session: Session, channel_id: uuid.UUID) -> Channel | None:
    """The in-app channel ``channel_id``, or None (no such channel, or another type)."""
    channel = session.get(Channel, channel_id)
    return channel if channel is not None and channel.type == CHANNEL_TYPE else None


def identifier_hash_of(secret: str, email: str) -> str:
    """What the customer's backend sends along with ``email`` to identify a visitor."""
    return hmac.new(secret.encode(), email.encode(), hashlib.sha256).hexdigest()


def visitor_contact(
    session: Session,
    channel: Channel,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    name: str | None = None,
    email: str | None = None,
    identifier_hash: str | None = None,
) -> Contact:
    """The contact a widget session is for: the one with ``email`` once its hash checks
    out (created if missing), or a new anonymous one."""
    config = channel.config or {}
    if email is None:
        if identifier_hash is not None:
            raise InvalidField("email", "required with identifier_hash")
        if config.get("require_identity"):
            raise IdentityRefused("identity_required", "This chat admits identified visitors only.")
        return create_contact(
            session, account_id=account_id, actor=actor, name=name or ANONYMOUS_NAME
        )
    secret = config.get("secret")
    if not secret:
        raise IdentityRefused(
            "identity_not_configured",
            "This channel has no secret to verify a visitor's identity with; set one, or "
            "start an anonymous session (no email).",
        )
    if identifier_hash is None:
        raise InvalidField("identifier_hash", "required with email")
    expected = identifier_hash_of(str(secret), email).encode()
    if not hmac.compare_digest(expected, identifier_hash.strip().lower().encode()):
        raise IdentityRefused(
            "invalid_identifier_hash",
            "identifier_hash is not the HMAC-SHA256 of this email under the channel's secret.",
        )
    found = _contact_with_email(session, email)
    if found is not None:
        return found
    try:
        return create_contact(
            session, account_id=account_id, actor=actor, name=name or email, email=email
        )
    except ContactConflict:  # made meanwhile by a concurrent session
        return _contact_with_email(session, email)
    except InvalidContact as exc:  # e.g. a reserved domain the form's check let through
        field, (message, *_) = next(iter(exc.errors.items()))
        raise InvalidField(field, message) from exc


def _contact_with_email(session: Session, email: str) -> Contact | None:
    return session.scalar(
        select(Contact).where(Contact.email == email.strip().lower(), Contact.deleted_at.is_(None))
    )


def contact_status(status: str | None) -> str | None:
    """``status`` as the contact sees it (one of :data:`CONTACT_STATUSES`)."""
    if status in (states.RESOLVED, states.CLOSED):
        return status
    return None if status is None else "open"


def visitor_conversation(
    session: Session, conversation_id: uuid.UUID, *, channel_id: uuid.UUID, contact_id: uuid.UUID
) -> Conversation | None:
    """The contact's conversation ``conversation_id`` in this channel, or None (anyone
    else's, another channel's, or one merged into another: its messages moved there)."""
    conversation = session.get(Conversation, conversation_id)
    if (
        conversation is None
        or conversation.contact_id != contact_id
        or conversation.channel_id != channel_id
        or conversation.merged_into_id is not None
    ):
        return None
    return conversation


def visitor_conversations(
    session: Session,
    *,
    channel_id: uuid.UUID,
    contact_id: uuid.UUID,
    before: uuid.UUID | None = None,
    limit: int = 20,
) -> tuple[list[Conversation], bool]:
    """The contact's conversations in this channel, latest activity first, at most
    ``limit``; ``before``: those after that conversation in this order."""
    key = tuple_(Conversation.last_activity_at, Conversation.id)
    query = select(Conversation).where(
        Conversation.channel_id == channel_id,
        Conversation.contact_id == contact_id,
        Conversation.merged_into_id.is_(None),
    )
    if before is not None:
        cursor = visitor_conversation(session, before, channel_id=channel_id, contact_id=contact_id)
        if cursor is None:
            raise InvalidField("before", "no such conversation")
        query = query.where(key < tuple_(cursor.last_activity_at, cursor.id))
    order = (Conversation.last_activity_at.desc(), Conversation.id.desc())
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def start_conversation(
    session: Session,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    channel_id: uuid.UUID,
    contact_id: uuid.UUID,
    body: str,
) -> tuple[Conversation, Message]:
    """A new conversation of the contact's in this channel, with their first message."""
    context: dict[str, Any] = {"account_id": account_id, "actor": actor}
    conversation = create_conversation(
        session, **context, channel_id=channel_id, contact_id=contact_id
    )
    message = post_message(session, conversation.id, **context, **inbound(contact_id), body=body)
    return conversation, message


def inbound(contact_id: uuid.UUID) -> dict[str, Any]:
    """The keywords of :func:`post_message` for a message the contact wrote."""
    return {"direction": "inbound", "sender_type": "contact", "sender_id": contact_id}


def message_views(session: Session, messages: list[Message]) -> list[dict[str, Any]]:
    """``messages`` as the contact sees them (private notes are dropped): id,
    conversation, body (text and sanitised HTML), time, and the sender as a type and a
    display name."""
    public = [message for message in messages if not message.private]
    names = _sender_names(session, public)
    return [
        {
            "id": message.id,
            "conversation_id": message.conversation_id,
            "body": message.body,
            "body_html": message.body_html,
            "created_at": message.created_at,
            "sender": {
                "type": SENDER_TYPES.get(message.sender_type, "system"),
                "name": names.get((message.sender_type, message.sender_id)),
            },
        }
        for message in public
    ]


def conversation_views(session: Session, conversations: list[Conversation]) -> list[dict[str, Any]]:
    """``conversations`` as the contact sees them: status (:func:`contact_status`), times,
    the assigned agent's display name, and the latest message they can see."""
    latest = _latest_public_messages(session, [c.id for c in conversations])
    views = dict(zip(latest, message_views(session, list(latest.values())), strict=True))
    agents = _user_names(session, {c.assignee_id for c in conversations if c.assignee_id})
    return [
        {
            "id": conversation.id,
            "status": contact_status(conversation.status),
            "created_at": conversation.created_at,
            "last_activity_at": conversation.last_activity_at,
            "agent_name": agents.get(conversation.assignee_id),
            "last_message": views.get(conversation.id),
        }
        for conversation in conversations
    ]


def _latest_public_messages(
    session: Session, conversation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Message]:
    if not conversation_ids:
        return {}
    rows = session.scalars(
        select(Message)
        .where(Message.conversation_id.in_(conversation_ids), Message.private.is_(False))
        .ext(distinct_on(Message.conversation_id))
        .order_by(Message.conversation_id, Message.created_at.desc(), Message.id.desc())
    )
    return {message.conversation_id: message for message in rows}


def _sender_names(
    session: Session, messages: list[Message]
) -> dict[tuple[str, uuid.UUID | None], str]:
    """Display names by ``(sender_type, sender_id)``: agents' from their user, contacts'
    from their contact record."""
    agents = {m.sender_id for m in messages if m.sender_type == "agent" and m.sender_id}
    contacts = {m.sender_id for m in messages if m.sender_type == "contact" and m.sender_id}
    names: dict[tuple[str, uuid.UUID | None], str] = {}
    for user_id, name in _user_names(session, agents).items():
        names["agent", user_id] = name
    if contacts:
        rows = session.execute(select(Contact.id, Contact.name).where(Contact.id.in_(contacts)))
        names.update((("contact", contact_id), name) for contact_id, name in rows)
    return names


def _user_names(session: Session, user_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(user_ids)))
    return {user_id: name for user_id, name in rows}
