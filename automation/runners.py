"""What each action does, through the same service functions the API calls.

An action acts as the rule (actor ``automation`` with the rule's id), so the services
apply the same validation, write the same timeline entries and emit the same events as
for an agent; the events carry the causation the engine sets (:func:`events.outbox.caused_by`).
Parameters arrive as :mod:`automation.actions` checked them at save time; what may have
changed since (an agent who left, a deleted template) is refused here by the services.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.service import Actor
from automation.actions import ACTIONS
from automation.rulebook import Listed
from automation.webhooks import queue_delivery
from core.mail import send_email
from core.redis import redis_client
from helpdesk import states
from helpdesk.assignment import assign_by
from helpdesk.conversations import assign, change_status, update_conversation
from helpdesk.errors import InvalidField
from helpdesk.messages import post_message
from helpdesk.models import Conversation
from helpdesk.replies import get_template, preview_context, render, render_template
from helpdesk.sla.policies import apply_policy
from helpdesk.tags import CONVERSATIONS, add_tags, find_tag, remove_tag
from helpdesk.teams import get_team, team_members
from identity.models import User
from tenants.db import utcnow
from tenants.registry import AccountRecord


class Skipped(Exception):
    """The action had nothing to do (the conversation already is as it would make it)."""


#: Messages and emails automation may send about one conversation per hour: past it,
#: two systems answering each other (or a rule misfiring) stop flooding the contact.
AUTOMATED_PER_HOUR = 10


@dataclass(frozen=True)
class Job:
    """One action's circumstances: the tenant session, the account, the rule as actor,
    the conversation the event concerns (locked by the engine), the context, the rule.

    A runner returns nothing, or what the run log should add to the action's outcome.
    """

    session: Session
    account: AccountRecord
    actor: Actor
    conversation: Conversation
    context: dict[str, Any]
    rule: Listed

    @property
    def who(self) -> dict[str, Any]:
        return {"account_id": self.account.id, "actor": self.actor}


def _assign_agent(job: Job, params: dict[str, Any]) -> None:
    if "strategy" in params:
        chosen = assign_by(job.session, job.conversation, **job.who, mode=params["strategy"])
        if chosen is None:
            raise Skipped("no agent of the inbox is available")
        return
    agent_id = uuid.UUID(params["agent_id"])
    if job.conversation.assignee_id == agent_id:
        raise Skipped("already assigned to that agent")
    assign(job.session, job.conversation, **job.who, assignee_id=agent_id)


def _unassign(job: Job, params: dict[str, Any]) -> None:
    if job.conversation.assignee_id is None:
        raise Skipped("not assigned")
    assign(job.session, job.conversation, **job.who, assignee_id=None)


def _assign_team(job: Job, params: dict[str, Any]) -> None:
    team_id = uuid.UUID(params["team_id"])
    update_conversation(job.session, job.conversation, **job.who, team_id=team_id)


def _set_priority(job: Job, params: dict[str, Any]) -> None:
    update_conversation(job.session, job.conversation, **job.who, priority=params["priority"])


def _custom_attribute(job: Job, params: dict[str, Any]) -> None:
    attributes = {params["key"]: params["value"]}
    update_conversation(job.session, job.conversation, **job.who, custom_attributes=attributes)


def _status(job: Job, status: str, **extra: Any) -> None:
    if job.conversation.status == status:
        raise Skipped(f"already {status}")
    change_status(job.session, job.conversation, **job.who, status=status, **extra)


def _set_status(job: Job, params: dict[str, Any]) -> None:
    _status(job, params["status"])


def _snooze(job: Job, params: dict[str, Any]) -> None:
    minutes = params.get("minutes")
    until = utcnow() + timedelta(minutes=minutes) if minutes else None
    _status(job, states.SNOOZED, snoozed_until=until)


def _resolve(job: Job, params: dict[str, Any]) -> None:
    _status(job, states.RESOLVED)


def _close(job: Job, params: dict[str, Any]) -> None:
    if job.conversation.status not in (states.RESOLVED, states.CLOSED):
        _status(job, states.RESOLVED)  # the lifecycle closes through resolved
    _status(job, states.CLOSED)


def _add_tag(job: Job, params: dict[str, Any]) -> None:
    conversation_id = job.conversation.id
    if not add_tags(job.session, CONVERSATIONS, conversation_id, **job.who, names=[params["tag"]]):
        raise Skipped("already tagged")


def _remove_tag(job: Job, params: dict[str, Any]) -> None:
    tag = find_tag(job.session, params["tag"])
    conversation_id = job.conversation.id
    if tag is None or not remove_tag(job.session, CONVERSATIONS, conversation_id, tag, **job.who):
        raise Skipped("not tagged")


def _outgoing(job: Job) -> None:
    """Refuse to answer a machine, and to send more than the hourly cap."""
    message = job.context.get("message") or {}
    if message.get("auto_reply"):
        raise Skipped("the message is an automatic reply")
    hour = int(time.time() // 3600)
    key = f"turumba:automation:sent:{job.account.id}:{job.conversation.id}:{hour}"
    sent, _ = redis_client().pipeline().incr(key).expire(key, 3600).execute()
    if sent > AUTOMATED_PER_HOUR:
        raise Skipped(f"over {AUTOMATED_PER_HOUR} automated messages this hour")


def _variables(job: Job) -> dict[str, Any]:
    return preview_context(
        job.session,
        account_name=job.account.name,
        caller_id=None,
        conversation_id=job.conversation.id,
    )


def _text(job: Job, params: dict[str, Any]) -> str:
    """The body to post: the rule's text or template, rendered for this conversation."""
    variables = _variables(job)
    if "template_id" in params:
        template = get_template(job.session, uuid.UUID(params["template_id"]))
        if template is None:
            raise InvalidField("template_id", "the template no longer exists")
        return render_template(template, variables)["body"]
    return render(params["body"], variables)


def _post(*, private: bool) -> Callable[[Job, dict[str, Any]], None]:
    def run(job: Job, params: dict[str, Any]) -> None:
        if not private:
            _outgoing(job)
        post_message(
            job.session,
            job.conversation.id,
            **job.who,
            direction="outbound",
            sender_type="automation",
            sender_id=job.actor.id,
            body=_text(job, params),
            private=private,
        )

    return run


def _send_email(job: Job, params: dict[str, Any]) -> None:
    _outgoing(job)
    variables = _variables(job)
    subject = render(params["subject"], variables, field="subject")
    text = render(params["body"], variables)
    if "to" in params:
        recipients = [params["to"]]
    else:
        team = get_team(job.session, uuid.UUID(params["team_id"]))
        if team is None:
            raise InvalidField("team_id", "the team no longer exists")
        members = team_members(job.session, team)
        recipients = list(job.session.scalars(select(User.email).where(User.id.in_(members))))
        if not recipients:
            raise Skipped("the team has no members")
    for address in recipients:
        send_email(job.session, to=address, subject=subject, text=text)


def _mute(job: Job, params: dict[str, Any]) -> None:
    if job.conversation.muted:
        raise Skipped("already muted")
    update_conversation(job.session, job.conversation, **job.who, muted=True)


def _send_webhook(job: Job, params: dict[str, Any]) -> dict[str, Any]:
    event = job.context["event"]
    delivery = queue_delivery(
        job.session,
        account_id=job.account.id,
        url=params["url"],
        payload={
            "type": event["name"],
            "created_at": utcnow().isoformat(),
            "rule": {"id": str(job.rule.id), "name": job.rule.name, "version": job.rule.version},
            "data": job.context,
        },
        rule_id=job.rule.id,
        event_id=uuid.UUID(event["id"]),
        event_name=event["name"],
        conversation_id=job.conversation.id,
    )
    return {"delivery_id": str(delivery.id)}


def _apply_sla(job: Job, params: dict[str, Any]) -> None:
    policy_id = uuid.UUID(params["policy_id"])
    apply_policy(job.session, job.conversation, **job.who, policy_id=policy_id)


RUNNERS: dict[str, Callable[[Job, dict[str, Any]], dict[str, Any] | None]] = {
    "assign_agent": _assign_agent,
    "assign_team": _assign_team,
    "unassign": _unassign,
    "add_tag": _add_tag,
    "remove_tag": _remove_tag,
    "set_status": _set_status,
    "set_priority": _set_priority,
    "snooze": _snooze,
    "resolve": _resolve,
    "close": _close,
    "set_custom_attribute": _custom_attribute,
    "send_message": _post(private=False),
    "add_note": _post(private=True),
    "send_email": _send_email,
    "apply_sla": _apply_sla,
    "mute": _mute,
    "send_webhook": _send_webhook,
}
assert RUNNERS.keys() == ACTIONS.keys(), "every action type needs its runner"
