"""Domain events become pushes to the agents who follow them, carrying the latest state.

The Socket.IO face of the event stream, so it lives with the other faces (the REST
schemas it reuses); the workers load it by name (:data:`events.subscribers.MODULES`).

A consumer of the event stream (so it runs in the RQ workers, whatever wrote the event:
an agent's request, an inbound email, an automation rule): for each event it reads the
conversation, message or contact **as it is now**, not as it was when the event was
queued, shapes it as the REST API answers it, and publishes it in the account's feed
(:func:`realtime.feed.publish`) to the rooms of those following it
(:mod:`realtime.rooms`). Names follow Chatwoot's vocabulary where ours differ
(``conversation.assigned`` is ``assignee.changed``; a team change is also
``team.changed``; an agent's availability is ``presence.update``).

Unread counts go to each agent's own room as ``unread.updated``: the conversation's
count for them and their inbox's tab counts, exact, computed when they change for that
agent: they read a conversation, one was assigned to them or taken from them, they were
mentioned, or a new message made a conversation they had read unread again. While a
conversation stays unread, its further messages only add to its count, which the console
keeps from the ``message.created`` pushes (every message is unread to all agents but its
sender): one query per event instead of one per agent per message. Only connected agents
(:mod:`helpdesk.presence`) are counted for.
"""

from __future__ import annotations

import uuid
from typing import Any

from api.contacts import ContactOut
from api.conversations import ConversationOut, MessageOut
from crm.models import Contact
from events import names
from events.consumers import Event, register
from helpdesk import presence
from helpdesk.inbox import tab_counts
from helpdesk.models import Conversation, Message
from helpdesk.reading import unread_counts_of
from realtime import feed
from realtime.rooms import (
    account_room,
    channel_room,
    conversation_room,
    inbox_room,
    team_room,
    user_room,
)

_CONVERSATION_EVENTS = {
    names.CONVERSATION_CREATED: "conversation.created",
    names.CONVERSATION_UPDATED: "conversation.updated",
    names.CONVERSATION_STATUS_CHANGED: "conversation.status_changed",
    names.CONVERSATION_ASSIGNED: "assignee.changed",
    names.CONVERSATION_READ: "conversation.read",
    names.TAG_ADDED: "conversation.updated",
    names.TAG_REMOVED: "conversation.updated",
    names.CONVERSATION_MERGED: "conversation.merged",
    names.CONVERSATION_SPLIT: "conversation.split",
    names.SLA_WARNING: "conversation.sla_warning",
    names.SLA_BREACHED: "conversation.sla_breached",
}
#: Events whose push also carries what the event says beyond the state (``details``):
#: which conversations were merged or split, which SLA target is at risk or missed.
_DETAILED = {
    names.CONVERSATION_MERGED,
    names.CONVERSATION_SPLIT,
    names.SLA_WARNING,
    names.SLA_BREACHED,
}
_MESSAGE_EVENTS = {
    names.MESSAGE_CREATED: "message.created",
    names.MESSAGE_UPDATED: "message.updated",
}
_CONTACT_EVENTS = {
    names.CONTACT_CREATED: "contact.created",
    names.CONTACT_UPDATED: "contact.updated",
    names.CONTACT_RESTORED: "contact.restored",
    names.CONTACT_MERGED: "contact.merged",  # the target, with the merge as ``details``
}


Push = tuple[str, dict[str, Any], list[str]]


def followers(account_id: uuid.UUID, conversation: Conversation, change: dict) -> list[str]:
    """The rooms of those following ``conversation``, and of those it just left (the
    team and assignee before ``change``)."""
    teams, assignees = {conversation.team_id}, {conversation.assignee_id}
    for field, found in (("team_id", teams), ("assignee_id", assignees)):
        if isinstance(change.get(field), list):
            found.update(uuid.UUID(str(value)) for value in change[field] if value)
    return [
        inbox_room(account_id),
        conversation_room(account_id, conversation.id),
        channel_room(account_id, conversation.channel_id),
        *(team_room(account_id, team_id) for team_id in teams if team_id),
        *(user_room(account_id, user_id) for user_id in assignees if user_id),
    ]


def pushes_of(session, event: Event) -> list[Push]:
    """The ``(socket event, data, rooms)`` an event makes, from the state now."""
    if event.name in _MESSAGE_EVENTS:
        message = session.get(Message, event.subject_id)
        if message is None:
            return []
        conversation = session.get(Conversation, message.conversation_id)
        data = {
            "message": MessageOut().dump(message),
            "conversation": ConversationOut().dump(conversation),
        }
        return [(_MESSAGE_EVENTS[event.name], data, followers(event.account_id, conversation, {}))]
    if event.name in _CONVERSATION_EVENTS:
        conversation_id = event.conversation_id
        conversation = session.get(Conversation, conversation_id) if conversation_id else None
        if event.subject_type == "contact":  # a contact's tags: the contact changed
            return _contact_tagged(session, event)
        if conversation is None:
            return []
        data = {"conversation": ConversationOut().dump(conversation)}
        if event.name == names.CONVERSATION_READ:
            data["reader_id"] = str(event.actor_id) if event.actor_id else None
        if event.name in _DETAILED:
            data["details"] = event.payload
        rooms = followers(event.account_id, conversation, event.payload)
        found = [(_CONVERSATION_EVENTS[event.name], data, rooms)]
        if event.name == names.CONVERSATION_UPDATED and "team_id" in event.payload:
            found.append(("team.changed", data, rooms))
        return found
    everyone = [account_room(event.account_id)]
    if event.name == names.CONTACT_DELETED:
        return [("contact.deleted", {"contact_id": str(event.subject_id)}, everyone)]
    if event.name in _CONTACT_EVENTS:
        contact = session.get(Contact, event.subject_id)
        data = {"contact": ContactOut().dump(contact)} if contact else None
        if data and event.name == names.CONTACT_MERGED:
            data["details"] = event.payload
        return [(_CONTACT_EVENTS[event.name], data, everyone)] if data else []
    if event.name == names.AGENT_AVAILABILITY_CHANGED and "status" in event.payload:
        before, after = event.payload["status"]
        data = {"user_id": str(event.subject_id), "status": after, "previous": before}
        return [("presence.update", data, everyone)]
    return []


def _contact_tagged(session, event: Event) -> list[Push]:
    """``contact.updated`` with the contact as it is now, and the tag change as
    ``details`` (``{"tag", "tag_id", "change": "added" | "removed"}``)."""
    contact = session.get(Contact, event.subject_id)
    if contact is None:
        return []
    change = "added" if event.name == names.TAG_ADDED else "removed"
    data = {"contact": ContactOut().dump(contact), "details": {**event.payload, "change": change}}
    return [("contact.updated", data, [account_room(event.account_id)])]


def account_pushes(session, event: Event) -> list[feed.Push]:
    """:func:`pushes_of`, numbered in the account's feed."""
    account = str(event.account_id)
    return [
        feed.Push(account_room(account), name, {"account_id": account, **data}, to=rooms)
        for name, data, rooms in pushes_of(session, event)
    ]


def _counted_for(session, event: Event, connected: dict[uuid.UUID, bool]) -> set[uuid.UUID]:
    """The connected agents whose unread counts ``event`` changed in a way the pushes
    they already got do not tell (see the module's note)."""
    if event.name == names.CONVERSATION_READ:
        return {uuid.UUID(event.payload["user_id"])} & connected.keys()
    if event.name == names.CONVERSATION_ASSIGNED:
        change = event.payload.get("assignee_id") or []
        return {uuid.UUID(str(user_id)) for user_id in change if user_id} & connected.keys()
    message = session.get(Message, event.subject_id)
    if message is None:
        return set()
    others = connected.keys() - {message.sender_id}
    unread = unread_counts_of(session, message.conversation_id, others)
    mentioned = {uuid.UUID(user_id) for user_id in event.payload.get("mentions") or ()}
    return {user_id for user_id, count in unread.items() if count == 1} | (mentioned & others)


def unread_pushes(session, event: Event) -> list[feed.Push]:
    """``unread.updated`` for each agent whose counts to push, from the state now, in the
    agent's own feed."""
    connected: dict[uuid.UUID, bool] = {}
    for tab in presence.tabs(event.account_id):
        connected[tab.user_id] = connected.get(tab.user_id, False) or tab.read_all
    if not connected:
        return []  # nobody to count for: no query at all
    agents = _counted_for(session, event, connected)
    conversation_id = event.conversation_id
    if not agents or conversation_id is None:
        return []
    counts = unread_counts_of(session, conversation_id, agents)
    return [
        feed.Push(
            user_room(event.account_id, user_id),
            "unread.updated",
            {
                "account_id": str(event.account_id),
                "conversation_id": str(conversation_id),
                "unread_count": counts.get(user_id, 0),
                "inbox": tab_counts(session, user_id=user_id, read_all=connected[user_id]),
            },
        )
        for user_id in sorted(agents)
    ]


push = feed.consumer(account_pushes)
for _name in (
    *_CONVERSATION_EVENTS,
    *_MESSAGE_EVENTS,
    *_CONTACT_EVENTS,
    names.AGENT_AVAILABILITY_CHANGED,
    names.CONTACT_DELETED,
):
    register(_name, push, key="api.pushes.push")
push_unread = feed.consumer(unread_pushes)
for _name in (names.MESSAGE_CREATED, names.CONVERSATION_READ, names.CONVERSATION_ASSIGNED):
    register(_name, push_unread, key="api.pushes.push_unread")
