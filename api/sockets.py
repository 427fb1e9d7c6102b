"""The Socket.IO endpoint: who may connect, which rooms they are in, and what they may ask.

A client connects with the REST API's access token and the account it works in
(``auth={"token": …, "account_id": …}``, or the same as query parameters; never a
cookie). The checks are the REST API's own (:func:`api.auth.enter_account`: a valid,
unrevoked token of a member of a live account), plus ``conversations:read``; a refusal
carries the same ``code`` and ``message`` as the REST answer would. Rooms are named by
the server (:mod:`realtime.rooms`), never asked for by the client: a connection is in its
account's room and its own, and follows conversations by its ``scope``: ``all`` (the
default: the account's inbox room) or ``mine`` (the rooms of its teams, of the channel
inboxes it works, and its own, so it hears only about the conversations in its reach).
``conversation.join`` puts it in one conversation's room: who else is viewing it, and
typing.

Every push is an envelope ``{"event", "seq", "epoch", "room", "data"}`` numbered in the
account's feed or the user's (:mod:`realtime.feed`); ``resync`` with ``{"room", "epoch",
"after"}`` answers what the client missed, or ``{"reload": true}``.

The access token's expiry is kept with the connection: a minute before it, the server
emits ``auth.expiring``; the client answers ``auth.refresh`` with a new token, or is
disconnected when the old one expires. The same watch keeps the tab's presence fresh
(:mod:`helpdesk.presence`); ``presence`` reports it ``away`` or back ``online``.

Every web process serves sockets, and every process (workers included) pushes through
the Redis message queue (:data:`CHANNEL`), so a push reaches a browser whatever process
it is connected to.
"""

from __future__ import annotations

import logging
import random
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, g, request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room, leave_room
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from api import widget_sockets
from api.auth import enter_account, leave_account, token_issuer
from audit.service import Actor
from core.redis import redis_client
from helpdesk import presence
from helpdesk.assignment import AWAY, ONLINE
from helpdesk.channels import channels_worked_by
from helpdesk.errors import InvalidField
from helpdesk.models import Conversation, TeamMember
from helpdesk.reading import mark_read
from identity.tokens import AccessClaims, InvalidToken
from realtime import feed
from realtime.queue import Queue
from realtime.rooms import (
    account_room,
    channel_room,
    conversation_room,
    inbox_room,
    team_room,
    user_room,
)
from tenants.db import db
from tenants.registry import AccountRecord, live_account
from tenants.session import tenant_session

log = logging.getLogger(__name__)

CHANNEL = "turumba-socketio"
#: Seconds before a token's expiry when the client is asked for a new one.
REFRESH_AHEAD = 60

#: Seconds a member's typing in one conversation is announced at most once.
TYPING_EVERY = 2

SCOPES = ("all", "mine")
#: Seconds a conversation's viewers are remembered without a refresh (a process that
#: died cannot say its connections left).
VIEWERS_KEPT = presence.LIFETIME
_VIEWERS = "turumba:rt:viewers:{account}:{conversation}"


@dataclass
class _Connection:
    account_id: uuid.UUID
    user_id: uuid.UUID
    scope: str
    #: The access token it was admitted (or last refreshed) with, and when that expires.
    token: str
    expires_at: int
    #: The conversations it has open.
    viewing: set[uuid.UUID] = field(default_factory=set)


#: This process's connections, by their id.
_connections: dict[str, _Connection] = {}


class _Refusal(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class _Admission:
    account: AccountRecord
    claims: AccessClaims
    read_all: bool
    #: For a ``mine`` scope, the rooms of the teams and channel inboxes the user works.
    reach: list[str]


def init_app(app: Flask, *, redis_url: str) -> None:
    """Give ``app`` a Socket.IO server of its own: every app of a process (tests make
    several, on different Redis servers) pushes through its own message queue.

    It runs the way its process does: on greenlets under gunicorn's gevent workers (they
    monkey-patch the standard library before loading the app), on threads everywhere
    else (gthread workers, RQ workers, the CLI, tests)."""
    monkey = sys.modules.get("gevent.monkey")
    on_gevent = monkey is not None and monkey.is_module_patched("socket")
    io = SocketIO(
        app,
        client_manager=Queue(redis_url, channel=CHANNEL),
        async_mode="gevent" if on_gevent else "threading",
        cors_allowed_origins=None,  # the console is served by the same origin
    )
    for name, handler in _HANDLERS.items():
        io.on_event(name, handler)
    widget_sockets.init_namespace(io)


def _io() -> SocketIO:
    return current_app.extensions["socketio"]


def _refused(code: str, message: str) -> ConnectionRefusedError:
    """The ``connect_error`` the client gets: ``{"message", "data": {"code", "message"}}``."""
    return ConnectionRefusedError(message, {"code": code, "message": message})


def _credentials(auth: Any) -> tuple[str, str, str]:
    given = auth if isinstance(auth, dict) else {}

    def pick(name: str, default: str = "") -> str:
        return str(given.get(name) or request.args.get(name) or default)

    return pick("token"), pick("account_id"), pick("scope", "all")


def _reach(account_id: uuid.UUID, user_id: uuid.UUID) -> list[str]:
    """The rooms of the teams and channel inboxes ``user_id`` works (the tenant entered)."""
    teams = db.session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user_id))
    channels = db.session.scalars(channels_worked_by(user_id))
    return [
        *(team_room(account_id, team_id) for team_id in teams),
        *(channel_room(account_id, channel_id) for channel_id in channels),
    ]


def _admit(account_id: uuid.UUID, token: str, *, scope: str = "all") -> _Admission:
    """What the REST API makes of ``token`` in ``account_id`` now (in the context of the
    socket event asking, or of one made for the check), or the refusal; with the rooms
    it may follow for a ``mine`` scope."""
    request.environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    try:
        enter_account(account_id)
        if "conversations:read" not in g.permissions:
            raise _Refusal("permission_denied", "Your role does not allow the inbox.")
        claims = token_issuer().verify(token)
        read_all = "conversations:read_all" in g.permissions
        reach = _reach(account_id, claims.user_id) if scope == "mine" else []
        return _Admission(g.account, claims, read_all, reach)
    except HTTPException as exc:
        data = getattr(exc, "data", None) or {}
        raise _Refusal(data.get("code", "refused"), data.get("message", str(exc))) from None
    except InvalidToken:
        raise _Refusal("invalid_token", "Use an access token.") from None
    finally:
        leave_account()


def connect(auth: Any = None) -> None:
    token, account, scope = _credentials(auth)
    if not token:
        raise _refused("unauthenticated", "Send an access token: auth={token: …}.")
    try:
        account_id = uuid.UUID(account)
    except ValueError:
        raise _refused("account_not_found", "No such account.") from None
    if scope not in SCOPES:
        raise _refused("invalid_scope", "scope is all (every conversation) or mine (your own).")
    try:
        admitted = _admit(account_id, token, scope=scope)
    except _Refusal as refusal:
        raise _refused(refusal.code, refusal.message) from None
    user_id = admitted.claims.user_id
    rooms = [account_room(account_id), user_room(account_id, user_id)]
    rooms += [inbox_room(account_id)] if scope == "all" else admitted.reach
    for room in rooms:
        join_room(room)
    sid = request.sid
    _connections[sid] = _Connection(
        account_id, user_id, scope, token, expires_at=admitted.claims.expires_at
    )
    presence.arrive(admitted.account, sid=sid, user_id=user_id, read_all=admitted.read_all)
    io = _io()
    io.start_background_task(_watch, io, current_app._get_current_object(), sid)


def gone(*args: Any) -> None:
    sid = request.sid
    connection = _connections.pop(sid, None)
    if connection is None:
        return
    for conversation_id in connection.viewing:
        _unview(connection.account_id, conversation_id, sid)
    account = live_account(connection.account_id)
    if account is not None:
        presence.leave(account, sid=sid)


def _connection() -> tuple[AccountRecord, uuid.UUID] | None:
    """This connection's (live) account and user."""
    connection = _connections.get(request.sid)
    account = live_account(connection.account_id) if connection else None
    return (account, connection.user_id) if account else None


def _conversation_of(data: Any) -> tuple[AccountRecord, uuid.UUID, uuid.UUID] | dict[str, Any]:
    """The account, user and conversation a message about ``data["conversation_id"]``
    concerns, or the error to answer."""
    given = data if isinstance(data, dict) else {}
    try:
        conversation_id = uuid.UUID(str(given.get("conversation_id")))
    except ValueError:
        return {"error": "invalid_conversation_id"}
    found = _connection()
    if found is None:
        return {"error": "disconnected"}
    account, user_id = found
    with tenant_session(account) as session:
        if session.get(Conversation, conversation_id) is None:
            return {"error": "conversation_not_found"}
    return account, user_id, conversation_id


def typing(data: Any = None) -> dict[str, Any]:
    """``{"conversation_id", "on": true|false}``: the others who have the conversation
    open hear ``conversation.typing_on`` / ``_off``; starting to type is announced at most
    every :data:`TYPING_EVERY` seconds per conversation (stopping always is). Not numbered
    nor kept: a client that missed it has nothing to catch up on."""
    found = _conversation_of(data)
    if isinstance(found, dict):
        return found
    account, user_id, conversation_id = found
    on = bool(data.get("on", True))
    throttle = f"turumba:rt:typing:{conversation_id}:{user_id}"
    if on and not redis_client().set(throttle, 1, nx=True, ex=TYPING_EVERY):
        return {"ok": True, "throttled": True}
    if not on:
        redis_client().delete(throttle)
    payload = {
        "account_id": str(account.id),
        "conversation_id": str(conversation_id),
        "user_id": str(user_id),
    }
    event = "conversation.typing_on" if on else "conversation.typing_off"
    room = conversation_room(account.id, conversation_id)
    _io().emit(event, payload, to=room, skip_sid=request.sid)
    return {"ok": True}


def view(data: Any = None) -> dict[str, Any]:
    """``{"conversation_id"}``: this connection has the conversation open. It hears who
    else does (``conversation.viewers``, also answered here) and their typing."""
    found = _conversation_of(data)
    if isinstance(found, dict):
        return found
    account, user_id, conversation_id = found
    join_room(conversation_room(account.id, conversation_id))
    _connections[request.sid].viewing.add(conversation_id)
    key = _VIEWERS.format(account=account.id, conversation=conversation_id)
    redis_client().hset(key, request.sid, str(user_id))
    redis_client().expire(key, VIEWERS_KEPT)
    return {"ok": True, "viewers": _announce_viewers(account.id, conversation_id)}


def unview(data: Any = None) -> dict[str, Any]:
    """``{"conversation_id"}``: this connection closed the conversation."""
    given = data if isinstance(data, dict) else {}
    connection = _connections.get(request.sid)
    open_ones = connection.viewing if connection else set()
    match = [c for c in open_ones if str(c) == str(given.get("conversation_id"))]
    if not match:
        return {"error": "not_viewing"}
    open_ones.discard(match[0])
    leave_room(conversation_room(connection.account_id, match[0]))
    _unview(connection.account_id, match[0], request.sid)
    return {"ok": True}


def _unview(account_id: uuid.UUID, conversation_id: uuid.UUID, sid: str) -> None:
    redis_client().hdel(_VIEWERS.format(account=account_id, conversation=conversation_id), sid)
    _announce_viewers(account_id, conversation_id)


def _announce_viewers(account_id: uuid.UUID, conversation_id: uuid.UUID) -> list[str]:
    key = _VIEWERS.format(account=account_id, conversation=conversation_id)
    viewers = sorted({user_id.decode() for user_id in redis_client().hvals(key)})
    payload = {
        "account_id": str(account_id),
        "conversation_id": str(conversation_id),
        "viewers": viewers,
    }
    _io().emit("conversation.viewers", payload, to=conversation_room(account_id, conversation_id))
    return viewers


def read(data: Any = None) -> dict[str, Any]:
    """``{"conversation_id", "up_to_message_id"?}``: mark the conversation read, as
    ``POST …/conversations/{id}/read`` does; the reader's other tabs hear the new counts."""
    found = _conversation_of(data)
    if isinstance(found, dict):
        return found
    account, user_id, conversation_id = found
    up_to = data.get("up_to_message_id")
    try:
        up_to = uuid.UUID(str(up_to)) if up_to is not None else None
    except ValueError:
        return {"error": "invalid_up_to_message_id"}
    try:
        with tenant_session(account) as session:
            mark = mark_read(
                session,
                session.get(Conversation, conversation_id),
                account_id=account.id,
                actor=Actor("user", user_id),
                user_id=user_id,
                up_to_message_id=up_to,
            )
    except InvalidField:
        return {"error": "invalid_up_to_message_id"}
    last_read_at = mark["last_read_at"]
    return {
        "ok": True,
        "last_read_at": last_read_at.isoformat() if last_read_at else None,
        "unread_count": mark["unread_count"],
    }


def report_presence(data: Any = None) -> dict[str, Any]:
    """``{"status": "online" | "away"}``: what this tab says of its agent (the console
    reports ``away`` when left idle); the agent's status across their tabs is answered."""
    status = data.get("status") if isinstance(data, dict) else None
    if status not in (ONLINE, AWAY):
        return {"error": "invalid_status"}
    found = _connection()
    if found is None:
        return {"error": "disconnected"}
    return {"ok": True, "status": presence.report(found[0], sid=request.sid, status=status)}


def refresh(data: Any = None) -> dict[str, Any]:
    """``{"token"}``: a new access token for this connection, checked as a connection's
    is, and of the same user."""
    token = str((data.get("token") if isinstance(data, dict) else None) or "")
    connection = _connections.get(request.sid)
    if connection is None:
        return {"ok": False, "code": "disconnected"}
    try:
        admitted = _admit(connection.account_id, token)
    except _Refusal as refusal:
        return {"ok": False, "code": refusal.code, "message": refusal.message}
    if admitted.claims.user_id != connection.user_id:
        return {"ok": False, "code": "invalid_token", "message": "Not this connection's user."}
    connection.token, connection.expires_at = token, admitted.claims.expires_at
    return {"ok": True, "expires_at": connection.expires_at}


def _watch(io: SocketIO, app: Flask, sid: str) -> None:
    """Over the connection's life: warn ahead of its token's expiry and disconnect at it
    unless refreshed since; every ``socket_recheck`` seconds, check again as a connect
    does (a revoked session, a removed member, a role without the inbox, a suspended
    account are disconnected with ``auth.revoked``) and follow the user's teams and
    inboxes as they change; keep the tab's presence, and what it has open, fresh."""
    recheck = app.extensions["turumba.config"].socket_recheck
    warned = None
    checked = time.monotonic()
    beat = checked - random.uniform(0, presence.HEARTBEAT)  # tabs opened together spread out
    while (connection := _connections.get(sid)) is not None:
        left = connection.expires_at - time.time()
        if left <= 0:
            io.emit("auth.expired", {"code": "token_expired"}, to=sid)
            io.server.disconnect(sid, namespace="/")  # no request context in this thread
            return
        if left <= REFRESH_AHEAD and warned != connection.expires_at:
            io.emit("auth.expiring", {"expires_at": connection.expires_at}, to=sid)
            warned = connection.expires_at
        if time.monotonic() - checked >= recheck:
            checked = time.monotonic()
            with app.test_request_context("/socket.io/"):
                refusal = _unless_down(_recheck, io, sid, connection)
            if refusal is not None:
                revoked = {"code": refusal.code, "message": refusal.message}
                io.emit("auth.revoked", revoked, to=sid)
                io.server.disconnect(sid, namespace="/")
                return
        if time.monotonic() - beat >= presence.HEARTBEAT:
            beat = time.monotonic()
            with app.app_context():
                _unless_down(_heartbeat, sid, connection)
        io.sleep(min(max(left - REFRESH_AHEAD, 0.5), 5, recheck))


def _unless_down(check: Callable[..., Any], *args: Any) -> Any:
    """``check(*args)``, unless Redis or PostgreSQL is out of reach: then the connection
    is left as it is until the next round (a watch that died would never expire it)."""
    try:
        return check(*args)
    except (RedisError, SQLAlchemyError) as exc:
        log.warning("a socket's checks failed (%s); again next round", exc)
        return None


def _recheck(io: SocketIO, sid: str, connection: _Connection) -> _Refusal | None:
    try:
        admitted = _admit(connection.account_id, connection.token, scope=connection.scope)
    except _Refusal as refusal:
        return refusal
    if connection.scope == "mine":
        now = set(admitted.reach)
        was = {room for room in io.server.rooms(sid) if room.startswith(("team:", "channel:"))}
        for room in now - was:
            io.server.enter_room(sid, room)
        for room in was - now:
            io.server.leave_room(sid, room)
    return None


def _heartbeat(sid: str, connection: _Connection) -> None:
    presence.refresh(connection.account_id, sid)
    for conversation_id in connection.viewing:
        key = _VIEWERS.format(account=connection.account_id, conversation=conversation_id)
        redis_client().expire(key, VIEWERS_KEPT)


def resync(data: Any = None) -> dict[str, Any]:
    """What this connection's account feed or user feed pushed after ``after`` to rooms
    it is in (see :func:`realtime.feed.replay`)."""
    connection = _connections.get(request.sid)
    feeds = (
        {account_room(connection.account_id), user_room(connection.account_id, connection.user_id)}
        if connection
        else set()
    )
    return feed.answer_resync(data, feeds=feeds, within=set(_io().server.rooms(request.sid)))


_HANDLERS = {
    "connect": connect,
    "disconnect": gone,
    "typing": typing,
    "conversation.join": view,
    "conversation.leave": unview,
    "conversation.read": read,
    "presence": report_presence,
    "auth.refresh": refresh,
    "resync": resync,
}
