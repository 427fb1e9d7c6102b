"""Presence: which agents have the console open, and so how available they are.

Each Socket.IO connection (one browser tab) is a *tab* kept in Redis, in one hash per
account (``turumba:rt:presence:<account id>``, field: the connection's id), with its user,
the status the tab reports (``online``, or ``away`` when the browser says the agent left
it idle) and the moment it is presumed gone unless refreshed. An agent is ``online`` while
any tab is, ``away`` while all of their tabs are away, and ``offline`` once the last tab
has been closed for :attr:`core.config.Config.presence_grace` seconds, so a reload or a
flaky network does not bounce them out of the assignment rotation.

Presence speaks through the one door availability has
(:func:`helpdesk.assignment.set_availability`), only when the status changes: automatic
assignment reacts to the event as to a status the agent set by hand, and the console
hears ``presence.update``. A status set by hand holds until presence next changes.

A web process that dies takes its tabs' disconnects with it: every live tab is refreshed
every :data:`HEARTBEAT` seconds, a tab not refreshed for :data:`LIFETIME` is ignored, and
each connected agent keeps one timer (kind :data:`TIMER`) due when their tabs would lapse,
which re-checks and makes them offline if none is left.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.service import SYSTEM, Actor
from core.redis import redis_client
from events import timers
from helpdesk.assignment import AWAY, OFFLINE, ONLINE, AgentAvailability, set_availability
from tenants.registry import AccountRecord
from tenants.session import tenant_session

#: Seconds between refreshes of a live tab.
HEARTBEAT = 60
#: Seconds a tab counts as open after its last refresh.
LIFETIME = 3 * HEARTBEAT
TIMER = "presence.check"
_KEY = "turumba:rt:presence:{account}"


@dataclass(frozen=True)
class Tab:
    sid: str
    user_id: uuid.UUID
    status: str
    until: float
    #: Whether the agent may read every conversation (their inbox's ``all`` tab).
    read_all: bool


def tabs(account_id: uuid.UUID) -> list[Tab]:
    """The account's open tabs."""
    now = time.time()
    found = []
    for sid, value in redis_client().hgetall(_KEY.format(account=account_id)).items():
        entry = json.loads(value)
        if entry["until"] > now:
            found.append(
                Tab(
                    sid=sid.decode(),
                    user_id=uuid.UUID(entry["user"]),
                    status=entry["status"],
                    until=entry["until"],
                    read_all=entry["read_all"],
                )
            )
    return found


def status_of(user_tabs: list[Tab]) -> str:
    if any(tab.status == ONLINE for tab in user_tabs):
        return ONLINE
    return AWAY if user_tabs else OFFLINE


def arrive(
    account: AccountRecord, *, sid: str, user_id: uuid.UUID, read_all: bool, status: str = ONLINE
) -> str:
    """A tab opened; the agent's status now."""
    _keep(account.id, Tab(sid, user_id, status, time.time() + LIFETIME, read_all))
    return _settle(account, user_id, actor=Actor("user", user_id))


def report(account: AccountRecord, *, sid: str, status: str) -> str | None:
    """The tab says the agent is ``online`` or ``away``; the agent's status now (None for a
    tab presence does not know)."""
    tab = _tab(account.id, sid)
    if tab is None:
        return None
    _keep(account.id, Tab(sid, tab.user_id, status, time.time() + LIFETIME, tab.read_all))
    return _settle(account, tab.user_id, actor=Actor("user", tab.user_id))


def refresh(account_id: uuid.UUID, sid: str) -> None:
    """The tab is still open."""
    tab = _tab(account_id, sid)
    if tab is not None:
        _keep(account_id, Tab(sid, tab.user_id, tab.status, time.time() + LIFETIME, tab.read_all))


def leave(account: AccountRecord, *, sid: str) -> None:
    """A tab closed."""
    tab = _tab(account.id, sid)
    redis_client().hdel(_KEY.format(account=account.id), sid)
    if tab is not None:
        _settle(account, tab.user_id, actor=Actor("user", tab.user_id))


def _tab(account_id: uuid.UUID, sid: str) -> Tab | None:
    value = redis_client().hget(_KEY.format(account=account_id), sid)
    if value is None:
        return None
    entry = json.loads(value)
    return Tab(sid, uuid.UUID(entry["user"]), entry["status"], entry["until"], entry["read_all"])


def _keep(account_id: uuid.UUID, tab: Tab) -> None:
    entry = {"user": str(tab.user_id), "status": tab.status, "until": tab.until}
    redis_client().hset(
        _KEY.format(account=account_id), tab.sid, json.dumps({**entry, "read_all": tab.read_all})
    )


def _grace() -> timedelta:
    return timedelta(seconds=current_app.extensions["turumba.config"].presence_grace)


def _settle(account: AccountRecord, user_id: uuid.UUID, *, actor: Actor) -> str:
    """Make the agent's availability what their open tabs say, except that going offline
    waits out the grace: the agent's timer checks again then (or, while tabs are open,
    when they would lapse)."""
    with tenant_session(account) as session:
        user_tabs = _tabs_of(account.id, user_id)
        status = status_of(user_tabs)
        if status != OFFLINE:
            _set(session, account.id, user_id, status, actor=actor)
        _check_again(session, account.id, user_id, user_tabs, now=datetime.now(UTC))
        return status


def _tabs_of(account_id: uuid.UUID, user_id: uuid.UUID) -> list[Tab]:
    return [tab for tab in tabs(account_id) if tab.user_id == user_id]


def _set(session: Session, account_id: uuid.UUID, user_id: uuid.UUID, status: str, *, actor):
    current = session.scalar(
        select(AgentAvailability.status).where(AgentAvailability.user_id == user_id)
    )
    if (current or OFFLINE) != status:
        set_availability(
            session, account_id=account_id, actor=actor, user_id=user_id, status=status
        )


def _check_again(
    session: Session, account_id: uuid.UUID, user_id: uuid.UUID, user_tabs: list[Tab], *, now
) -> None:
    if user_tabs:
        due = datetime.fromtimestamp(max(tab.until for tab in user_tabs), UTC) + _grace()
    else:
        due = now + _grace()
    timers.schedule(session, account_id=account_id, kind=TIMER, subject_id=user_id, due_at=due)


@timers.handler(TIMER)
def _check(session: Session, timer: timers.Timer, now: datetime) -> None:
    """The grace is over, or the agent's tabs would have lapsed: offline unless a tab is
    still open (then check again when it would lapse)."""
    user_tabs = _tabs_of(timer.account_id, timer.subject_id)
    if user_tabs:
        _check_again(session, timer.account_id, timer.subject_id, user_tabs, now=now)
    else:
        _set(session, timer.account_id, timer.subject_id, OFFLINE, actor=SYSTEM)
