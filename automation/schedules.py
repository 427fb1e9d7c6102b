"""Time-based rules: "idle for 30 minutes", "waiting for a reply for 2 hours", "15
minutes before an SLA deadline", without scanning conversations.

Each conversation of an account with time-based rules has at most one timer
(:mod:`events.timers`, kind :data:`TIMER`) at the next moment one of those rules comes
due for it. The engine re-plans it after every event that can move those moments
(:data:`MOVES_ANCHORS`: new activity, a status change; see :func:`replan`), and saving
a time-based rule arms the account's active conversations with one set-based statement
(:func:`arm`).

A rule's moment counts from an *anchor*: the last activity (``idle``), the start of the
contact's wait (``waiting``), the earliest running SLA deadline (``sla_due``, minus the
minutes). When the timer fires, every rule whose moment has come and that was not yet
considered for its current anchor is recorded in :class:`ScheduleFired` and announced by
one ``automation.schedule_due`` event naming them; the RQ workers then run them like any
event (conditions, actions, run log). A rule therefore fires once per moment, not every
minute: the conversation must see new activity, a new anchor, to come due again.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from audit.service import SYSTEM
from automation.models import Rule, ScheduleFired
from automation.rulebook import BOOK, SCHEDULED, Listed
from events import names, timers
from events.outbox import emit
from helpdesk import states
from helpdesk.models import Conversation
from helpdesk.sla.models import SlaTarget
from tenants.registry import live_account

TIMER = "automation.schedule"
#: Statuses in which a conversation can sit idle or keep a contact waiting.
ACTIVE = (states.OPEN, states.ASSIGNED, states.PENDING)
#: The events that can move an anchor: activity, the status, what decides the SLA.
MOVES_ANCHORS = frozenset(
    {
        names.CONVERSATION_CREATED,
        names.CONVERSATION_UPDATED,
        names.CONVERSATION_STATUS_CHANGED,
        names.MESSAGE_CREATED,
        names.SLA_WARNING,
        names.SLA_BREACHED,
    }
)


def _sla_deadline(conversation_id):
    """The earliest deadline still running for the conversation (a scalar subquery)."""
    return (
        select(func.min(SlaTarget.due_at))
        .where(
            SlaTarget.conversation_id == conversation_id,
            SlaTarget.completed_at.is_(None),
            SlaTarget.breached_at.is_(None),
        )
        .scalar_subquery()
    )


def anchors(session: Session, conversation: Conversation) -> dict[str, datetime | None]:
    """What each type of time-based rule counts from, for ``conversation`` now."""
    active = conversation.status in ACTIVE
    return {
        "idle": conversation.last_activity_at if active else None,
        "waiting": conversation.waiting_since if active else None,
        "sla_due": session.scalar(select(_sla_deadline(conversation.id))),
    }


def moment(schedule: dict, anchor: datetime) -> datetime:
    """When a rule of ``schedule`` comes due for ``anchor``."""
    minutes = timedelta(minutes=schedule["minutes"])
    return anchor - minutes if schedule["type"] == "sla_due" else anchor + minutes


def _split(
    session: Session, conversation: Conversation, rules: list[Listed], now: datetime
) -> tuple[list[tuple[Listed, datetime]], list[datetime], list[datetime]]:
    """The rules due now that were not yet considered for their anchor (with it), the
    moments still to come, and the current anchors."""
    current = anchors(session, conversation)
    fired = {
        (rule_id, anchor)
        for rule_id, anchor in session.execute(
            select(ScheduleFired.rule_id, ScheduleFired.anchor).where(
                ScheduleFired.conversation_id == conversation.id
            )
        )
    }
    due, later = [], []
    for rule in rules:
        anchor = current[rule.schedule["type"]]
        if anchor is None or (rule.id, anchor) in fired:
            continue
        at = moment(rule.schedule, anchor)
        if at <= now:
            due.append((rule, anchor))
        else:
            later.append(at)
    return due, later, [anchor for anchor in current.values() if anchor]


def replan(
    session: Session,
    conversation: Conversation,
    rules: list[Listed],
    *,
    account_id: uuid.UUID,
    now: datetime,
) -> None:
    """Keep the conversation's timer at the next moment a rule comes due, or drop it;
    one due already fires with the next pass of the timers."""
    due, later, _ = _split(session, conversation, rules, now)
    next_at = now if due else min(later, default=None)
    timers.plan(
        session, account_id=account_id, kind=TIMER, subject_id=conversation.id, due_at=next_at
    )


@timers.handler(TIMER)
def fire(session: Session, timer: timers.Timer, now: datetime) -> None:
    """Announce the rules due for the timer's conversation, and plan the next moment."""
    conversation = session.get(Conversation, timer.subject_id)
    account = live_account(timer.account_id)
    if conversation is None or account is None:
        return
    rules = BOOK.rules(session, account.schema_name).get(SCHEDULED, [])
    due, later, current = _split(session, conversation, rules, now)
    session.execute(  # marks of past anchors can never match again
        delete(ScheduleFired).where(
            ScheduleFired.conversation_id == conversation.id, ScheduleFired.anchor.not_in(current)
        )
    )
    if due:
        session.execute(
            insert(ScheduleFired)
            .values(
                [
                    {
                        "conversation_id": conversation.id,
                        "rule_id": rule.id,
                        "anchor": anchor,
                        "created_at": now,
                    }
                    for rule, anchor in due
                ]
            )
            .on_conflict_do_nothing()
        )
        emit(
            session,
            account_id=timer.account_id,
            name=names.AUTOMATION_SCHEDULE_DUE,
            actor=SYSTEM,
            subject_type="conversation",
            subject_id=conversation.id,
            payload={
                "rules": [str(rule.id) for rule, _ in due],
                "anchors": {str(rule.id): anchor.isoformat() for rule, anchor in due},
            },
        )
    timers.plan(
        session,
        account_id=timer.account_id,
        kind=TIMER,
        subject_id=conversation.id,
        due_at=min(later, default=None),
    )


def arm(session: Session, *, account_id: uuid.UUID, rule: Rule) -> None:
    """Give every active conversation a timer no later than ``rule``'s moment for it, in
    one statement: a conversation already past it fires within seconds, once."""
    schedule = rule.schedule
    minutes = timedelta(minutes=schedule["minutes"])
    at = {
        "idle": Conversation.last_activity_at + minutes,
        "waiting": Conversation.waiting_since + minutes,
        "sla_due": _sla_deadline(Conversation.id) - minutes,
    }[schedule["type"]]
    rows = select(
        func.gen_random_uuid(),
        literal(account_id),
        literal(TIMER),
        Conversation.id,
        at,
        literal(0),
        func.now(),
    ).where(Conversation.status.in_(ACTIVE), at.is_not(None))
    table = timers.Timer.__table__
    stmt = insert(table).from_select(
        ["id", "account_id", "kind", "subject_id", "due_at", "attempts", "created_at"], rows
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["account_id", "kind", "subject_id"],
            index_where=table.c.fired_at.is_(None),
            set_={"due_at": func.least(table.c.due_at, stmt.excluded.due_at)},
        )
    )
