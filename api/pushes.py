"""Domain events become pushes to the account's agents, carrying the latest state.

The Socket.IO face of the event stream, so it lives with the other faces (the REST
schemas it reuses); the workers load it by name (:data:`events.subscribers.MODULES`).

A consumer of the event stream (so it runs in the RQ workers, whatever wrote the event:
an agent's request, an inbound email, an automation rule): for each event it reads the
conversation, message or contact **as it is now**, not as it was when the event was
queued, shapes it as the REST API answers it, and publishes it to the account's room
(:func:`realtime.feed.publish`). Names follow Chatwoot's vocabulary where ours differ
(``conversation.assigned`` is ``assignee.changed``; a team change is also
``team.changed``).
"""

from __future__ import annotations

from typing import Any

from api.contacts import ContactOut
from api.conversations import ConversationOut, MessageOut
from crm.models import Contact
from events import names
from events.consumers import Event, register
from helpdesk.models import Conversation, Message
from realtime import feed
from realtime.rooms import account_room
from tenants.registry import live_account
from tenants.session import tenant_session

_CONVERSATION_EVENTS = {
    names.CONVERSATION_CREATED: "conversation.created",
    names.CONVERSATION_UPDATED: "conversation.updated",
    names.CONVERSATION_STATUS_CHANGED: "conversation.status_changed",
    names.CONVERSATION_ASSIGNED: "assignee.changed",
    names.CONVERSATION_READ: "conversation.read",
    names.TAG_ADDED: "conversation.updated",
    names.TAG_REMOVED: "conversation.updated",
}
_MESSAGE_EVENTS = {
    names.MESSAGE_CREATED: "message.created",
    names.MESSAGE_UPDATED: "message.updated",
}
_CONTACT_EVENTS = {
    names.CONTACT_CREATED: "contact.created",
    names.CONTACT_UPDATED: "contact.updated",
}


def pushes_of(session, event: Event) -> list[tuple[str, dict[str, Any]]]:
    """The ``(socket event, data)`` pairs ``event`` makes, from the state now."""
    if event.name in _MESSAGE_EVENTS:
        message = session.get(Message, event.subject_id)
        if message is None:
            return []
        conversation = session.get(Conversation, message.conversation_id)
        data = {
            "message": MessageOut().dump(message),
            "conversation": ConversationOut().dump(conversation),
        }
        return [(_MESSAGE_EVENTS[event.name], data)]
    if event.name in _CONVERSATION_EVENTS:
        conversation_id = event.conversation_id
        conversation = session.get(Conversation, conversation_id) if conversation_id else None
        if conversation is None or (
            event.subject_type == "contact"  # a contact's tags are not a conversation's
        ):
            return []
        data = {"conversation": ConversationOut().dump(conversation)}
        if event.name == names.CONVERSATION_READ:
            data["reader_id"] = str(event.actor_id) if event.actor_id else None
        found = [(_CONVERSATION_EVENTS[event.name], data)]
        if event.name == names.CONVERSATION_UPDATED and "team_id" in event.payload:
            found.append(("team.changed", data))
        return found
    if event.name in _CONTACT_EVENTS:
        contact = session.get(Contact, event.subject_id)
        return (
            [(_CONTACT_EVENTS[event.name], {"contact": ContactOut().dump(contact)})]
            if contact
            else []
        )
    return []


def push(event: Event) -> None:
    account = live_account(event.account_id)
    if account is None:
        return
    with tenant_session(account) as session:
        found = pushes_of(session, event)
    for name, data in found:
        feed.publish(account_room(account.id), name, {"account_id": str(account.id), **data})


for _name in (*_CONVERSATION_EVENTS, *_MESSAGE_EVENTS, *_CONTACT_EVENTS):
    register(_name, push, key="api.pushes.push")
