"""What a chat widget hears: an event consumer publishing, to the contact's room of the
``/widget`` namespace, what the contact may see of their conversations in in-app
channels, numbered in the contact's own feed (:func:`realtime.feed.publish`).

Like the agents' pushes (:mod:`api.pushes`) it runs in the RQ workers whatever made the
change, and reads the state when it goes out; unlike them it carries only the contact's
view (:mod:`helpdesk.widget`): ``message.created`` / ``message.updated`` ``{message}``
(never a private note), ``conversation.created`` ``{conversation}`` and
``conversation.status_changed`` ``{conversation: {id, status}}`` when the status the
contact sees changes (an assignment or a snooze does not show).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from sqlalchemy import select

from api.widget import WidgetConversationOut, WidgetMessageOut
from events import names
from events.consumers import Event, register
from helpdesk.models import Channel, Conversation, Message
from helpdesk.widget import (
    CHANNEL_TYPE,
    contact_status,
    conversation_views,
    message_views,
)
from realtime import feed
from realtime.rooms import WIDGET_NAMESPACE, contact_room

_MESSAGE_EVENTS = {
    names.MESSAGE_CREATED: "message.created",
    names.MESSAGE_UPDATED: "message.updated",
}

#: ``(socket event, data, contact)``.
Push = tuple[str, dict[str, Any], uuid.UUID]


def _widget_contact(session, conversation_id: uuid.UUID | None) -> uuid.UUID | None:
    """The contact of the conversation if they talk in it through an in-app channel."""
    if conversation_id is None:
        return None
    return session.scalar(
        select(Conversation.contact_id)
        .join(Channel, Channel.id == Conversation.channel_id)
        .where(Conversation.id == conversation_id, Channel.type == CHANNEL_TYPE)
    )


def _heard(account_id: uuid.UUID, contact_id: uuid.UUID) -> bool:
    """Whether the contact has a widget open; if not, the push is only counted in their
    feed (:func:`realtime.feed.skip`): a widget that comes back and asks for what it
    missed reloads, and nothing is shaped for nobody."""
    room = contact_room(account_id, contact_id)
    if feed.listening(room):
        return True
    feed.skip(room)
    return False


def widget_pushes_of(session, event: Event) -> list[Push]:
    """The pushes ``event`` makes for a contact's widgets, from the state now."""
    if event.name in _MESSAGE_EVENTS and event.payload.get("private"):
        return []
    if event.name == names.CONVERSATION_STATUS_CHANGED:
        before, after = event.payload.get("status") or (None, None)
        if contact_status(before) == contact_status(after):
            return []
    contact_id = _widget_contact(session, event.conversation_id)
    if contact_id is None or not _heard(event.account_id, contact_id):
        return []
    if event.name in _MESSAGE_EVENTS:
        message = session.get(Message, event.subject_id)
        if message is None or message.private:
            return []
        (view,) = message_views(session, [message])
        return [
            (_MESSAGE_EVENTS[event.name], {"message": WidgetMessageOut().dump(view)}, contact_id)
        ]
    conversation = session.get(Conversation, event.conversation_id)
    if event.name == names.CONVERSATION_CREATED:
        (view,) = conversation_views(session, [conversation])
        data = {"conversation": WidgetConversationOut().dump(view)}
        return [("conversation.created", data, contact_id)]
    shown = {"id": str(conversation.id), "status": contact_status(conversation.status)}
    return [("conversation.status_changed", {"conversation": shown}, contact_id)]


def contact_pushes(session, event: Event) -> list[feed.Push]:
    """:func:`widget_pushes_of`, numbered in each contact's feed."""
    return [
        feed.Push(
            contact_room(event.account_id, contact_id), name, data, namespace=WIDGET_NAMESPACE
        )
        for name, data, contact_id in widget_pushes_of(session, event)
    ]


push = feed.consumer(contact_pushes)


def end_sessions(event: Event) -> None:
    """A deleted contact's open widgets hear ``session.ended`` and are put out of their
    room (in every web process: the queue carries both, in order); their token no longer
    opens anything either."""
    room = contact_room(event.account_id, event.subject_id)
    if feed.listening(room):
        ended = {"reason": "contact_deleted"}
        feed.publish(room, "session.ended", ended, namespace=WIDGET_NAMESPACE)
        current_app.extensions["socketio"].close_room(room, namespace=WIDGET_NAMESPACE)


register(names.CONTACT_DELETED, end_sessions, key="api.widget_pushes.end_sessions")
for _name in (
    *_MESSAGE_EVENTS,
    names.CONVERSATION_CREATED,
    names.CONVERSATION_STATUS_CHANGED,
):
    register(_name, push, key="api.widget_pushes.push")
