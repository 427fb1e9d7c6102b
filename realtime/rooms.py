"""The Socket.IO rooms, named in one place: the server puts connections in them (never
at a client's asking), and every process that pushes names them the same way."""

from __future__ import annotations

import uuid

Id = uuid.UUID | str


def account_room(account_id: Id) -> str:
    """Every agent of the account connected: the inbox's pushes."""
    return f"account:{account_id}"


def user_room(account_id: Id, user_id: Id) -> str:
    """One agent's connections (all tabs) in one account: their unread counts and
    notifications."""
    return f"user:{account_id}:{user_id}"


def team_room(account_id: Id, team_id: Id) -> str:
    """The connected members of one team."""
    return f"team:{account_id}:{team_id}"


def conversation_room(account_id: Id, conversation_id: Id) -> str:
    """The agents who have one conversation open: typing and who else is viewing."""
    return f"conversation:{account_id}:{conversation_id}"
