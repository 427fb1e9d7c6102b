"""Deadlines per conversation, kept in step with the conversation by event consumers.

Every conversation event (created, updated, status changed, a message) and the ``sla``
timer call :func:`refresh`, which derives everything from the conversation's current
state, so it is idempotent and does not care in which order events arrive:

- **Which policy**: the one applied explicitly, else the first enabled policy by
  position whose conditions (channels, teams, priorities) match. A priority, team or
  channel change can move the conversation to another policy, or to none.
- **Which targets run** (one :class:`~helpdesk.sla.models.SlaTarget` row each), for the
  targets the policy sets for the conversation's priority:
  ``first_response`` from creation until the first public agent reply;
  ``next_response`` from a customer message waiting for an answer (after the first
  reply) until the next public agent reply; ``resolution`` from creation (or from the
  reopening) until resolved.
- **Pauses**: resolution stops counting while the conversation is ``pending`` (waiting
  for the customer, as Zendesk does); it resumes with the time it had left. Snoozing is
  the team's own choice to wait, so every clock keeps running; response targets never
  pause: the customer is still waiting.
- **Deadlines** count business minutes (account time zone, opening hours, holidays) or
  calendar minutes, per the policy (:mod:`helpdesk.business_time`). A target that no
  longer applies (priority lowered to one without it) is dropped unless already missed.
- **Warnings and breaches**: ``sla.warning`` once the warning threshold passes and
  ``sla.breached`` once the deadline passes, each at most once per target row (a new
  customer message starts a new next-response row), through the conversation timeline.
  One ``sla`` timer per conversation is kept at the next such moment; it fires
  :func:`refresh`, which announces what is due then.
- **Outcome**: a target completed by its deadline is ``hit``; one whose deadline passed
  is ``missed`` from that moment. Resolving drops the response targets still running
  unless they were already missed.

Edits to a policy reach each conversation at its next event.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from accounts.settings import current_settings
from audit.service import SYSTEM
from events import names, timers
from events.consumers import Event, consumer
from helpdesk import states
from helpdesk.activity import conversation_event
from helpdesk.business_time import CALENDAR, Schedule
from helpdesk.models import Conversation, Message
from helpdesk.sla.models import TARGETS, ConversationSla, Holiday, SlaPolicy, SlaTarget
from tenants.db import utcnow
from tenants.registry import live_account
from tenants.session import tenant_session

TIMER = "sla"
FINISHED = (states.RESOLVED, states.CLOSED)


# -- which policy ---------------------------------------------------------------------


def matches(policy: SlaPolicy, conversation: Conversation) -> bool:
    """Every condition the policy sets holds (a condition left out holds always)."""
    conditions = policy.conditions or {}
    checks = (
        ("channel_ids", str(conversation.channel_id)),
        ("team_ids", str(conversation.team_id) if conversation.team_id else None),
        ("priorities", conversation.priority),
    )
    return all(not conditions.get(key) or value in conditions[key] for key, value in checks)


def matching_policy(session: Session, conversation: Conversation) -> SlaPolicy | None:
    policies = session.scalars(
        select(SlaPolicy)
        .where(SlaPolicy.enabled)
        .order_by(SlaPolicy.position, SlaPolicy.created_at, SlaPolicy.id)
    )
    return next((p for p in policies if matches(p, conversation)), None)


def lock_link(session: Session, conversation_id: uuid.UUID) -> ConversationSla:
    """The conversation's policy link, created if missing and locked: refreshes of one
    conversation run one at a time."""
    now = utcnow()
    session.execute(
        insert(ConversationSla)
        .values(conversation_id=conversation_id, explicit=False, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["conversation_id"])
    )
    return session.scalars(
        select(ConversationSla)
        .where(ConversationSla.conversation_id == conversation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _current_policy(session: Session, conversation: Conversation) -> SlaPolicy | None:
    link = lock_link(session, conversation.id)
    if not link.explicit:
        policy = matching_policy(session, conversation)
        link.policy_id = policy.id if policy else None
        return policy
    policy = session.get(SlaPolicy, link.policy_id) if link.policy_id else None
    return policy if policy is not None and policy.enabled else None


def schedule_of(session: Session, policy: SlaPolicy) -> Schedule:
    if policy.hours == "calendar":
        return CALENDAR
    settings = current_settings(session)
    return Schedule.business(
        timezone=settings.timezone,
        hours=settings.business_hours,
        holidays=session.scalars(select(Holiday.date)),
    )


# -- the refresh ----------------------------------------------------------------------


def refresh(
    session: Session,
    conversation: Conversation,
    *,
    account_id: uuid.UUID,
    now: datetime | None = None,
) -> list[SlaTarget]:
    """Bring the conversation's targets, announcements and timer up to date at ``now``.

    Returns the rows still running (not completed).
    """
    now = now or utcnow()
    policy = _current_policy(session, conversation)
    clock = schedule_of(session, policy) if policy is not None else CALENDAR
    active = {
        row.target: row
        for row in session.scalars(
            select(SlaTarget).where(
                SlaTarget.conversation_id == conversation.id, SlaTarget.completed_at.is_(None)
            )
        )
    }
    for row in list(active.values()):
        if _complete(session, conversation, row, now=now):
            del active[row.target]
    _announce(session, conversation, active.values(), account_id=account_id, now=now)
    minutes = ((policy.targets or {}).get(conversation.priority) or {}) if policy else {}
    for target in TARGETS:
        row = active.get(target)
        if row is None and target in minutes:
            row = _start(session, conversation, target, now=now)
        if row is None:
            continue
        if row.breached_at is not None:
            continue  # missed already: it only waits for its completion
        if target not in minutes:
            session.delete(row)
            del active[target]
            continue
        active[target] = row
        row.policy_id = policy.id
        _clock(row, clock, minutes[target], policy.warning, conversation=conversation, now=now)
    session.flush()
    _announce(session, conversation, active.values(), account_id=account_id, now=now)
    _plan(session, conversation, active.values(), account_id=account_id, now=now)
    session.flush()
    return list(active.values())


def _first_reply_after(session: Session, conversation_id: uuid.UUID, since: datetime):
    return session.scalar(
        select(func.min(Message.created_at)).where(
            Message.conversation_id == conversation_id,
            Message.direction == "outbound",
            Message.sender_type == "agent",
            Message.private.is_(False),
            Message.created_at >= since,
        )
    )


def _complete(
    session: Session, conversation: Conversation, row: SlaTarget, *, now: datetime
) -> bool:
    """Close ``row`` if what it waits for happened (or can no longer happen)."""
    finished_at = (conversation.resolved_at or now) if conversation.status in FINISHED else None
    if row.target == "resolution":
        done_at = finished_at
    else:
        done_at = _first_reply_after(session, conversation.id, row.started_at)
        if done_at is None and finished_at is not None:
            if row.breached_at is None:
                session.delete(row)  # resolved unanswered before its deadline: not measured
                return True
            done_at = finished_at
    if done_at is None:
        return False
    row.completed_at = done_at
    if row.breached_at is None:
        row.status = "hit" if row.due_at is None or done_at <= row.due_at else "missed"
    return True


def _start(session: Session, conversation: Conversation, target: str, *, now: datetime):
    """A new running row for ``target`` if the conversation is owed it, else None."""
    if conversation.status in FINISHED:
        return None
    earlier = session.scalars(
        select(SlaTarget.started_at).where(
            SlaTarget.conversation_id == conversation.id, SlaTarget.target == target
        )
    ).all()
    if target == "first_response":
        if conversation.first_reply_at is not None or earlier:
            return None
        started = conversation.created_at
    elif target == "next_response":
        waiting = conversation.waiting_since
        if conversation.first_reply_at is None or waiting is None or waiting in earlier:
            return None
        started = waiting
    else:
        started = now if earlier else conversation.created_at
    row = SlaTarget(
        id=uuid.uuid4(),
        conversation_id=conversation.id,
        target=target,
        status="pending",
        started_at=started,
        elapsed_seconds=0,
        running_since=started,
        created_at=utcnow(),
    )
    session.add(row)
    return row


def _clock(
    row: SlaTarget,
    clock: Schedule,
    minutes: int,
    warning: dict[str, Any] | None,
    *,
    conversation: Conversation,
    now: datetime,
) -> None:
    """Pause or resume ``row`` as the status says, and set its deadline and warning."""
    paused = row.target == "resolution" and conversation.status == states.PENDING
    if paused and row.running_since is not None:
        spent = clock.business_minutes_between(row.running_since, now)
        row.elapsed_seconds += round(spent * 60)
        row.running_since = None
    elif not paused and row.running_since is None:
        row.running_since = now
    if row.running_since is None:
        row.due_at = row.warn_at = None
        return
    spent = row.elapsed_seconds / 60
    row.due_at = clock.add_business_minutes(row.running_since, max(minutes - spent, 0))
    offset = warning_offset(minutes, warning)
    row.warn_at = (
        None
        if offset is None
        else clock.add_business_minutes(row.running_since, max(offset - spent, 0))
    )


def warning_offset(minutes: int, warning: dict[str, Any] | None) -> float | None:
    """Minutes into a ``minutes`` target at which it warns (None: it does not)."""
    if not warning:
        return None
    if "percent" in warning:
        return minutes * warning["percent"] / 100
    return max(minutes - warning["minutes_before"], 0)


def _announce(
    session: Session,
    conversation: Conversation,
    rows,
    *,
    account_id: uuid.UUID,
    now: datetime,
) -> None:
    """Emit what has come due by ``now``: each row's warning and breach, once."""
    for row in rows:
        if row.breached_at is not None or row.due_at is None:
            continue
        if row.due_at <= now:
            row.breached_at = now
            row.status = "missed"
            _event(session, conversation, row, names.SLA_BREACHED, account_id, status=True)
        elif row.warned_at is None and row.warn_at is not None and row.warn_at <= now:
            row.warned_at = now
            _event(session, conversation, row, names.SLA_WARNING, account_id)


def _event(session, conversation, row, name, account_id, *, status: bool = False) -> None:
    payload: dict[str, Any] = {
        "target": row.target,
        "policy_id": str(row.policy_id),
        "started_at": row.started_at.isoformat(),
        "due_at": row.due_at.isoformat(),
    }
    if status:
        payload["status"] = ["pending", "missed"]
    conversation_event(
        session,
        conversation_id=conversation.id,
        account_id=account_id,
        actor=SYSTEM,
        name=name,
        payload=payload,
    )


def _plan(session, conversation, rows, *, account_id: uuid.UUID, now: datetime) -> None:
    """Keep one ``sla`` timer at the next warning or deadline to come, or none."""
    moments = []
    for row in rows:
        if row.breached_at is not None or row.due_at is None:
            continue
        moments.append(row.due_at)
        if row.warned_at is None and row.warn_at is not None and row.warn_at > now:
            moments.append(row.warn_at)
    timers.plan(
        session,
        account_id=account_id,
        kind=TIMER,
        subject_id=conversation.id,
        due_at=min(moments, default=None),
    )


# -- what runs it ---------------------------------------------------------------------


@timers.handler(TIMER)
def _timer_fired(session: Session, timer: timers.Timer, now: datetime) -> None:
    conversation = session.get(Conversation, timer.subject_id)
    if conversation is not None:
        refresh(session, conversation, account_id=timer.account_id, now=now)


@consumer(names.CONVERSATION_CREATED)
@consumer(names.CONVERSATION_UPDATED)
@consumer(names.CONVERSATION_STATUS_CHANGED)
@consumer(names.MESSAGE_CREATED)
def track(event: Event) -> None:
    """Refresh the conversation the event is about, as of the event."""
    account = live_account(event.account_id)
    if account is None:
        return
    conversation_id = event.conversation_id
    if conversation_id is None:
        return
    with tenant_session(account) as session:
        if not _measured(session, conversation_id):
            return
        conversation = session.get(Conversation, conversation_id)
        if conversation is not None:
            refresh(session, conversation, account_id=account.id, now=event.occurred_at)


def _measured(session: Session, conversation_id: uuid.UUID) -> bool:
    """Whether there is anything to measure: an account without policies, and the
    conversation without a running target, costs its busiest events one query."""
    running = select(SlaTarget.id).where(
        SlaTarget.conversation_id == conversation_id, SlaTarget.completed_at.is_(None)
    )
    return bool(session.scalar(select(or_(exists(select(SlaPolicy.id)), exists(running)))))


# -- reading --------------------------------------------------------------------------


def conversation_state(session: Session, conversation: Conversation) -> dict[str, Any]:
    """The policy applied and every target measured so far (oldest first)."""
    link = session.get(ConversationSla, conversation.id)
    rows = session.scalars(
        select(SlaTarget)
        .where(SlaTarget.conversation_id == conversation.id)
        .order_by(SlaTarget.started_at, SlaTarget.created_at)
    )
    return {
        "conversation_id": conversation.id,
        "policy_id": link.policy_id if link else None,
        "explicit": bool(link and link.explicit),
        "targets": list(rows),
    }


def report(
    session: Session,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    policy_id: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    """Per policy and target, the rows started in ``[start, end)``: total, hit, missed,
    pending and the hit rate (hit over decided; None while nothing is decided)."""
    counts = select(SlaTarget.policy_id, SlaTarget.target, SlaTarget.status, func.count())
    policies = select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.name, SlaPolicy.id)
    if start is not None:
        counts = counts.where(SlaTarget.started_at >= start)
    if end is not None:
        counts = counts.where(SlaTarget.started_at < end)
    if policy_id is not None:
        counts = counts.where(SlaTarget.policy_id == policy_id)
        policies = policies.where(SlaPolicy.id == policy_id)
    tally: dict[tuple[uuid.UUID, str], dict[str, int]] = {}
    for row_policy, target, status, count in session.execute(
        counts.group_by(SlaTarget.policy_id, SlaTarget.target, SlaTarget.status)
    ):
        tally.setdefault((row_policy, target), {})[status] = count
    result = []
    for policy in session.scalars(policies):
        targets = {}
        for target in TARGETS:
            seen = tally.get((policy.id, target), {})
            hit, missed, pending = (seen.get(s, 0) for s in ("hit", "missed", "pending"))
            targets[target] = {
                "total": hit + missed + pending,
                "hit": hit,
                "missed": missed,
                "pending": pending,
                "hit_rate": round(hit / (hit + missed), 4) if hit + missed else None,
            }
        result.append({"policy_id": policy.id, "name": policy.name, "targets": targets})
    return result
