"""Waking snoozed conversations when their time comes.

Snoozing until a time keeps one ``snooze`` timer per conversation at ``snoozed_until``
(moved when it is snoozed again, dropped when it leaves ``snoozed`` earlier). When it
fires, a conversation still snoozed until then goes back to work: ``assigned`` if it has
an assignee, else ``open``, through the same lifecycle rules as an agent, by the system.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from audit.service import SYSTEM
from events import names, timers
from events.consumers import Event, consumer
from helpdesk import states
from helpdesk.conversations import change_status
from helpdesk.models import Conversation
from tenants.registry import live_account
from tenants.session import tenant_session

TIMER = "snooze"


@consumer(names.CONVERSATION_STATUS_CHANGED)
def plan_wake_up(event: Event) -> None:
    account = live_account(event.account_id)
    if account is None:
        return
    with tenant_session(account) as session:
        conversation = session.get(Conversation, event.subject_id)
        if conversation is None:
            return
        snoozed = conversation.status == states.SNOOZED
        timers.plan(
            session,
            account_id=account.id,
            kind=TIMER,
            subject_id=conversation.id,
            due_at=conversation.snoozed_until if snoozed else None,
        )


@timers.handler(TIMER)
def wake_up(session: Session, timer: timers.Timer, now: datetime) -> None:
    conversation = session.get(Conversation, timer.subject_id)
    if (
        conversation is None
        or conversation.status != states.SNOOZED
        or conversation.snoozed_until is None
        or conversation.snoozed_until > now
    ):
        return  # woken already, snoozed again for longer, or no longer there
    change_status(
        session,
        conversation,
        account_id=timer.account_id,
        actor=SYSTEM,
        status=states.ASSIGNED if conversation.assignee_id else states.OPEN,
    )
