"""The chat widget's Socket.IO namespace, ``/widget``, on the agents' server.

A visitor connects with their widget token and the account and channel it is for
(``auth={"token", "account_id", "channel_id"}``, or the same as query parameters: the ids
of the widget's REST URLs), checked as the widget's REST API checks them
(:func:`api.widget.admit`); a refusal is a ``connect_error`` carrying ``{code, message}``
as the REST answer would (``unauthenticated``, ``invalid_token``, ``channel_not_found``,
``channel_disabled``…).
The connection is put in its contact's room (:func:`realtime.rooms.contact_room`) and
nowhere else: it hears what :mod:`api.widget_pushes` publishes there, numbered in the
contact's own feed, and ``resync`` ``{room, epoch, after}`` answers what it missed, as
on the agents' namespace.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room

from api.widget import Refusal, admit
from identity.tokens import WidgetClaims
from realtime import feed
from realtime.rooms import WIDGET_NAMESPACE, contact_room

#: This process's widget connections: the visitor each was admitted as, by its id.
_visitors: dict[str, WidgetClaims] = {}


def init_namespace(io: SocketIO) -> None:
    """Serve the ``/widget`` namespace on ``io`` (called by :func:`api.sockets.init_app`)."""
    for name, handler in _HANDLERS.items():
        io.on_event(name, handler, namespace=WIDGET_NAMESPACE)


def connect(auth: Any = None) -> None:
    given = auth if isinstance(auth, dict) else {}

    def pick(name: str) -> str:
        return str(given.get(name) or request.args.get(name) or "")

    token = pick("token")
    if not token:
        raise _refused("unauthenticated", "Send a widget token: auth={token: …}.")
    try:
        account_id, channel_id = uuid.UUID(pick("account_id")), uuid.UUID(pick("channel_id"))
    except ValueError:
        raise _refused(
            "channel_not_found", "Name the chat: auth={account_id, channel_id}."
        ) from None
    try:
        claims, _ = admit(token, account_id=account_id, channel_id=channel_id)
    except Refusal as refusal:
        raise _refused(refusal.code, refusal.message) from None
    room = contact_room(claims.account_id, claims.contact_id)
    join_room(room)
    feed.arrived(room)
    _visitors[request.sid] = claims


def _refused(code: str, message: str) -> ConnectionRefusedError:
    return ConnectionRefusedError(message, {"code": code, "message": message})


def gone(*args: Any) -> None:
    claims = _visitors.pop(request.sid, None)
    if claims is not None:
        feed.left(contact_room(claims.account_id, claims.contact_id))


def resync(data: Any = None) -> dict[str, Any]:
    """What the contact's feed pushed after ``after`` (see :func:`realtime.feed.replay`)."""
    claims = _visitors.get(request.sid)
    feeds = {contact_room(claims.account_id, claims.contact_id)} if claims else set()
    io = current_app.extensions["socketio"]
    within = set(io.server.rooms(request.sid, namespace=WIDGET_NAMESPACE))
    return feed.answer_resync(data, feeds=feeds, within=within)


_HANDLERS = {"connect": connect, "disconnect": gone, "resync": resync}
