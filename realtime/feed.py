"""Each room's feed: every push gets the room's next sequence number and is kept for a
while, so a client that missed some can ask for them instead of living with a gap.

A push is numbered and stored in one step (a Lua script: ``INCR`` the room's counter,
``XADD`` the push to the room's capped stream under that number), then handed to the
Socket.IO message queue, which every web process listens to. A push may be meant for
fewer connections than the feed's room (an account's feed carries each conversation's
pushes to the rooms of those following it): the feed keeps each push's rooms, and a
replay hands a connection only what was sent to a room it is in, so sequence numbers a
connection sees increase but may skip what was not for it. The numbers belong to an
*epoch*, a random id made with the first number: Redis keeps nothing on disk, so after a
restart the counters start again from 1 under a new epoch, and a client asking for what
came after its last number in the old epoch is told to reload instead of being handed a
silent gap (:func:`replay`).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from redis import RedisError
from sqlalchemy.orm import Session

from core.redis import redis_client
from events.consumers import Event
from tenants.hooks import after_commit
from tenants.registry import live_account
from tenants.session import tenant_session

#: Pushes each room keeps for replay (``XADD … MAXLEN ~``).
KEPT = 1000
_SEQ = "turumba:rt:seq:{room}"
_FEED = "turumba:rt:feed:{room}"
_EPOCH = "turumba:rt:epoch"
#: How many connections each room counted by :func:`arrived` has (a process that dies
#: leaves its count too high: its rooms' pushes are made for nobody, never skipped wrongly).
_LISTENERS = "turumba:rt:listeners"
#: KEYS: the room's counter, its feed, the epoch; ARGV: the push, the new epoch, KEPT.
_NUMBER = """
redis.call('SET', KEYS[3], ARGV[2], 'NX')
local epoch = redis.call('GET', KEYS[3])
local seq = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], seq .. '-1', 'push', ARGV[1])
return {seq, epoch}
"""

log = logging.getLogger(__name__)


def publish(
    room: str,
    event: str,
    data: dict[str, Any],
    *,
    to: list[str] | None = None,
    namespace: str = "/",
) -> dict[str, Any]:
    """Number ``data`` in ``room``'s feed, keep it, and send it as ``event`` to the
    connections in any of the rooms ``to`` (default: ``room`` itself; a connection in
    several hears it once) of the Socket.IO ``namespace`` (the agents' by default, or
    ``/widget``: room names differ between them, so their feeds never mix); return the
    envelope sent (``event``, ``seq``, ``epoch``, ``room``, ``data``)."""
    redis = redis_client()
    script = redis.register_script(_NUMBER)
    audience = to or [room]
    kept = {"event": event, "data": data, "to": audience}
    body = json.dumps(kept, default=str, separators=(",", ":"))
    seq, epoch = script(
        keys=[_SEQ.format(room=room), _FEED.format(room=room), _EPOCH],
        args=[body, secrets.token_hex(8), KEPT],
    )
    envelope = {"event": event, "seq": int(seq), "epoch": _text(epoch), "room": room}
    envelope["data"] = json.loads(body)["data"]  # as a replay will hand it out
    current_app.extensions["socketio"].emit(event, envelope, to=audience, namespace=namespace)
    return envelope


def publish_after_commit(session: Session, room: str, event: str, data: dict[str, Any]) -> None:
    """:func:`publish` once ``session``'s transaction commits, best effort: for news whose
    state stays readable over REST (a job's progress, its end), a push lost while Redis is
    away is logged, not retried, and never undoes the commit."""

    def push() -> None:
        try:
            publish(room, event, data)
        except RedisError:
            log.warning("%s to %s not pushed: Redis is unavailable", event, room)

    after_commit(session, push)


def skip(room: str) -> None:
    """Count a push nobody was there to hear without keeping it: a client that comes back
    and asks for what it missed finds the number but not the push, and is told to reload
    (cheaper than shaping and storing pushes for a room that is empty)."""
    redis_client().incr(_SEQ.format(room=room))


def listening(room: str) -> bool:
    """Whether any connection is in ``room`` (see :func:`arrived`)."""
    return bool(int(redis_client().hget(_LISTENERS, room) or 0) > 0)


def arrived(room: str) -> None:
    """A connection joined ``room`` (for rooms whose pushes are skipped while empty)."""
    redis_client().hincrby(_LISTENERS, room, 1)


def left(room: str) -> None:
    if redis_client().hincrby(_LISTENERS, room, -1) <= 0:
        redis_client().hdel(_LISTENERS, room)


def answer_resync(data: Any, *, feeds: set[str], within: set[str]) -> dict[str, Any]:
    """A connection's ``resync`` ``{"room", "epoch", "after"}``: the :func:`replay` of
    one of ``feeds`` (those the connection may ask for) to the rooms ``within`` (those it
    is in), or the error to answer."""
    if not isinstance(data, dict):
        return {"reload": True}
    room = str(data.get("room", ""))
    if room not in feeds:
        return {"error": "not_in_room"}
    try:
        after = int(data.get("after", 0))
    except (TypeError, ValueError):
        return {"error": "invalid_after"}
    return replay(room, epoch=str(data.get("epoch", "")), after=after, within=within)


def replay(room: str, *, epoch: str, after: int, within: set[str]) -> dict[str, Any]:
    """What ``room`` pushed after ``after`` in ``epoch`` to any of the rooms ``within``
    (those of the connection asking): ``{"events": [...]}``, or, when that cannot be told
    exactly (another epoch, or pushes already dropped from the feed), ``{"reload": true,
    "epoch", "after"}``: reload the state, then carry on from that epoch and number."""
    redis = redis_client()
    current, last = redis.mget(_EPOCH, _SEQ.format(room=room))
    last = int(last or 0)
    reload = {"reload": True, "epoch": _text(current), "after": last}
    if _text(current) != epoch or after > last:
        return reload
    if after == last:
        return {"events": []}
    entries = redis.xrange(_FEED.format(room=room), min=f"{after + 1}-1", max="+")
    if not entries or int(_text(entries[0][0]).split("-")[0]) != after + 1:
        return reload  # the oldest missed one is gone
    events = []
    for entry_id, fields in entries:
        push = json.loads(fields[b"push"])
        if within.isdisjoint(push.pop("to")):
            continue
        seq = int(_text(entry_id).split("-")[0])
        events.append({**push, "seq": seq, "epoch": epoch, "room": room})
    return {"events": events}


@dataclass(frozen=True)
class Push:
    """One :func:`publish` to make."""

    room: str
    event: str
    data: dict[str, Any]
    to: list[str] | None = None
    namespace: str = "/"


def consumer(pushes_of: Callable[[Session, Event], list[Push]]) -> Callable[[Event], None]:
    """An event consumer publishing what ``pushes_of`` makes of an event in its account's
    session (read as it is now), once that session is closed."""

    def push(event: Event) -> None:
        account = live_account(event.account_id)
        if account is None:
            return
        with tenant_session(account) as session:
            found = pushes_of(session, event)
        for one in found:
            publish(one.room, one.event, one.data, to=one.to, namespace=one.namespace)

    push.__module__ = pushes_of.__module__  # it runs where that module's consumers run
    return push


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
