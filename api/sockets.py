"""The Socket.IO endpoint: who may connect, which rooms they join, and replays.

A client connects with the REST API's access token and the account it works in
(``auth={"token": …, "account_id": …}``, or the same as query parameters; never a
cookie). The checks are the REST API's own (:func:`api.auth.enter_account`: a valid,
unrevoked token of a member of a live account), plus ``conversations:read``; a refusal
carries the same ``code`` and ``message`` as the REST answer would. A connection joins
its account's room and its own (``account:<id>``, ``user:<account id>:<user id>``) and
nothing else: rooms are named by the server, never asked for by the client.

Every push is an envelope ``{"event", "seq", "epoch", "room", "data"}`` numbered per room
(:mod:`realtime.feed`); ``resync`` with ``{"room", "epoch", "after"}`` answers what the
client missed, or ``{"reload": true}``.

The access token's expiry is kept with the connection: a minute before it, the server
emits ``auth.expiring``; the client answers ``auth.refresh`` with a new token, or is
disconnected when the old one expires.

Every web process serves sockets, and every process (workers included) pushes through
the Redis message queue (:data:`CHANNEL`), so a push reaches a browser whatever process
it is connected to.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask import Flask, current_app, g, request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room
from werkzeug.exceptions import HTTPException

from api.auth import enter_account, leave_account, token_issuer
from core.redis import redis_client
from helpdesk.models import Conversation
from identity.tokens import InvalidToken
from realtime import feed
from realtime.rooms import account_room, user_room
from tenants.registry import live_account
from tenants.session import tenant_session

CHANNEL = "turumba-socketio"
#: Seconds before a token's expiry when the client is asked for a new one.
REFRESH_AHEAD = 60

#: Seconds a member's typing in one conversation is announced at most once.
TYPING_EVERY = 2

_expiries: dict[str, int] = {}
#: Each connection's account and user.
_who: dict[str, tuple[uuid.UUID, uuid.UUID]] = {}


def init_app(app: Flask, *, redis_url: str) -> None:
    """Give ``app`` a Socket.IO server of its own: every app of a process (tests make
    several, on different Redis servers) pushes through its own message queue."""
    io = SocketIO(
        app,
        message_queue=redis_url,
        channel=CHANNEL,
        async_mode="threading",
        cors_allowed_origins=None,  # the console is served by the same origin
    )
    for name, handler in _HANDLERS.items():
        io.on_event(name, handler)


def _io() -> SocketIO:
    return current_app.extensions["socketio"]


def _refused(code: str, message: str) -> ConnectionRefusedError:
    """The ``connect_error`` the client gets: ``{"message", "data": {"code", "message"}}``."""
    return ConnectionRefusedError(message, {"code": code, "message": message})


def _credentials(auth: Any) -> tuple[str, str]:
    given = auth if isinstance(auth, dict) else {}
    token = given.get("token") or request.args.get("token") or ""
    account = given.get("account_id") or request.args.get("account_id") or ""
    return str(token), str(account)


def connect(auth: Any = None) -> None:
    token, account = _credentials(auth)
    if not token:
        raise _refused("unauthenticated", "Send an access token: auth={token: …}.")
    try:
        account_id = uuid.UUID(account)
    except ValueError:
        raise _refused("account_not_found", "No such account.") from None
    request.environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    try:
        enter_account(account_id)
        if "conversations:read" not in g.permissions:
            raise _refused("permission_denied", "Your role does not allow the inbox.")
        claims = token_issuer().verify(token)
    except HTTPException as exc:
        data = getattr(exc, "data", None) or {}
        raise _refused(data.get("code", "refused"), data.get("message", str(exc))) from None
    finally:
        leave_account()
    join_room(account_room(account_id))
    join_room(user_room(account_id, claims.user_id))
    _who[request.sid] = (account_id, claims.user_id)
    _expiries[request.sid] = claims.expires_at
    io = _io()
    io.start_background_task(_watch_expiry, io, request.sid)


def gone(*args: Any) -> None:
    _expiries.pop(request.sid, None)
    _who.pop(request.sid, None)


def typing(data: Any) -> dict[str, Any]:
    """``{"conversation_id", "on": true|false}``: the account's other agents hear
    ``conversation.typing_on`` / ``_off``; starting to type is announced at most every
    :data:`TYPING_EVERY` seconds per conversation (stopping always is). Not numbered nor
    kept: a client that missed it has nothing to catch up on."""
    who = _who.get(request.sid)
    given = data if isinstance(data, dict) else {}
    try:
        conversation_id = uuid.UUID(str(given.get("conversation_id")))
    except ValueError:
        return {"error": "invalid_conversation_id"}
    if who is None:
        return {"error": "disconnected"}
    account_id, user_id = who
    account = live_account(account_id)
    if account is None:
        return {"error": "account_not_found"}
    with tenant_session(account) as session:
        if session.get(Conversation, conversation_id) is None:
            return {"error": "conversation_not_found"}
    on = bool(given.get("on", True))
    throttle = f"turumba:rt:typing:{conversation_id}:{user_id}"
    if on and not redis_client().set(throttle, 1, nx=True, ex=TYPING_EVERY):
        return {"ok": True, "throttled": True}
    if not on:
        redis_client().delete(throttle)
    payload = {
        "account_id": str(account_id),
        "conversation_id": str(conversation_id),
        "user_id": str(user_id),
    }
    event = "conversation.typing_on" if on else "conversation.typing_off"
    _io().emit(event, payload, to=account_room(account_id), skip_sid=request.sid)
    return {"ok": True}


def refresh(data: Any) -> dict[str, Any]:
    """A new access token for this connection (the same user's)."""
    token = data.get("token") if isinstance(data, dict) else None
    try:
        claims = token_issuer().verify(str(token or ""))
    except InvalidToken:
        return {"ok": False, "code": "invalid_token"}
    if request.sid not in _expiries:
        return {"ok": False, "code": "disconnected"}
    _expiries[request.sid] = claims.expires_at
    return {"ok": True, "expires_at": claims.expires_at}


def _watch_expiry(io: SocketIO, sid: str) -> None:
    """Warn ahead of the token's expiry; disconnect at it unless refreshed since."""
    warned = None
    while (expires := _expiries.get(sid)) is not None:
        left = expires - time.time()
        if left <= 0:
            io.emit("auth.expired", {"code": "token_expired"}, to=sid)
            io.server.disconnect(sid, namespace="/")  # no app context in this thread
            _expiries.pop(sid, None)
            return
        if left <= REFRESH_AHEAD and warned != expires:
            io.emit("auth.expiring", {"expires_at": expires}, to=sid)
            warned = expires
        io.sleep(min(max(left - REFRESH_AHEAD, 0.5), 5))


def resync(data: Any) -> dict[str, Any]:
    """What a room this connection is in pushed after ``after`` (see :mod:`feed`)."""
    if not isinstance(data, dict):
        return {"reload": True}
    room = str(data.get("room", ""))
    if room not in _io().server.rooms(request.sid):
        return {"error": "not_in_room"}
    try:
        after = int(data.get("after", 0))
    except (TypeError, ValueError):
        return {"error": "invalid_after"}
    return feed.replay(room, epoch=str(data.get("epoch", "")), after=after)


_HANDLERS = {
    "connect": connect,
    "disconnect": gone,
    "typing": typing,
    "auth.refresh": refresh,
    "resync": resync,
}
