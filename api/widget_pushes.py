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


def _widget_conversation(session, conversation_id: uuid.UUID | None) -> Conversation | None:
    """The conversation if a contact talks in it through an in-app channel."""
    conversation = session.get(Conversation, conversation_id) if conversation_id else None
    channel = session.get(Channel, conversation.channel_id) if conversation else None
    return conversation if channel is not None and channel.type == CHANNEL_TYPE else None


def widget_pushes_of(session, event: Event) -> list[Push]:
    """The pushes ``event`` makes for a contact's widgets, from the state now."""
    if event.name in _MESSAGE_EVENTS:
        if event.payload.get("private"):
            return []
        message = session.get(Message, event.subject_id)
        if message is None or message.private:
            return []
        conversation = _widget_conversation(session, message.conversation_id)
        if conversation is None:
            return []
        (view,) = message_views(session, [message])
        data = {"message": WidgetMessageOut().dump(view)}
        return [(_MESSAGE_EVENTS[event.name], data, conversation.contact_id)]
    conversation = _widget_conversation(session, event.conversation_id)
    if conversation is None:
        return []
    if event.name == names.CONVERSATION_CREATED:
        (view,) = conversation_views(session, [conversation])
        data = {"conversation": WidgetConversationOut().dump(view)}
        return [("conversation.created", data, conversation.contact_id)]
    if event.name == names.CONVERSATION_STATUS_CHANGED:
        before, after = event.payload.get("status") or (None, None)
        if contact_status(before) == contact_status(after):
            return []
        shown = {"id": str(conversation.id), "status": contact_status(conversation.status)}
        return [("conversation.status_changed", {"conversation": shown}, conversation.contact_id)]
    return []


def contact_pushes(session, event: Event) -> list[feed.Push]:
    """:func:`widget_pushes_of`, numbered in each contact's feed."""
    return [
        feed.Push(
            contact_room(event.account_id, contact_id), name, data, namespace=WIDGET_NAMESPACE
        )
        for name, data, contact_id in widget_pushes_of(session, event)
    ]


push = feed.consumer(contact_pushes)
for _name in (
    *_MESSAGE_EVENTS,
    names.CONVERSATION_CREATED,
    names.CONVERSATION_STATUS_CHANGED,
):
    register(_name, push, key="api.widget_pushes.push")
