"""The Socket.IO rooms, named in one place: the server puts connections in them (never
at a client's asking), and every process that pushes names them the same way.

A push about a conversation goes to every room of those who follow it: the account's
inbox room, its team's, its channel's, its assignee's (before and after a change, so a
conversation leaving someone's queue is seen leaving) and the room of those who have it
open. A connection in several hears it once."""

from __future__ import annotations

import uuid

Id = uuid.UUID | str

#: The Socket.IO namespace of contacts' chat widgets (agents use the default, ``/``).
WIDGET_NAMESPACE = "/widget"


def account_room(account_id: Id) -> str:
    """Every connection to the account: what concerns all of its agents (presence,
    contacts). Also the name of the account's feed, which numbers every push about it."""
    return f"account:{account_id}"


def inbox_room(account_id: Id) -> str:
    """The connections following every conversation of the account (the default)."""
    return f"inbox:{account_id}"


def channel_room(account_id: Id, channel_id: Id) -> str:
    """The connected agents who work one channel's inbox and follow only their own
    conversations."""
    return f"channel:{account_id}:{channel_id}"


def user_room(account_id: Id, user_id: Id) -> str:
    """One agent's connections (all tabs) in one account: their unread counts and
    notifications."""
    return f"user:{account_id}:{user_id}"


def team_room(account_id: Id, team_id: Id) -> str:
    """The connected members of one team who follow only their own conversations."""
    return f"team:{account_id}:{team_id}"


def conversation_room(account_id: Id, conversation_id: Id) -> str:
    """The agents who have one conversation open: typing and who else is viewing."""
    return f"conversation:{account_id}:{conversation_id}"


def contact_room(account_id: Id, contact_id: Id) -> str:
    """One contact's chat widgets (namespace ``/widget``): what they may see of their
    own conversations in in-app channels. Also the name of the contact's feed."""
    return f"contact:{account_id}:{contact_id}"
