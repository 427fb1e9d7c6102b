"""Time-based rules: a conversation's single timer sits at the next moment one of the
account's time-based rules comes due; each rule fires once per moment, through a real
RQ worker, and new activity makes a new moment."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update

from automation.models import ScheduleFired
from automation.schedules import TIMER
from events.timers import Timer
from helpdesk.models import Conversation
from tenants.db import db, utcnow
from tenants.registry import registry
from tenants.session import tenant_session

from .test_automation_engine import conversation, rule, runs
from .test_sla import at, desk, fire_at, message, pending_timer, policy, sla_of, target
from .test_sla import conversation as open_conversation

TAG_IDLE = [{"type": "add_tag", "params": {"tag": "idle"}}]


def timed(client, member, kind, minutes, **fields):
    return rule(
        client,
        member,
        name=f"{kind} {minutes}",
        events=[],
        schedule={"type": kind, "minutes": minutes},
        **{"actions": TAG_IDLE, **fields},
    )


def timer_of(app, member, conversation_id):
    return pending_timer(app, member, conversation_id, kind=TIMER)


def last_activity(client, member, conversation_id):
    return at(conversation(client, member, conversation_id)["last_activity_at"])


def backdate_activity(app, member, conversation_id, minutes):
    """Pretend the conversation has been quiet for ``minutes``."""
    with app.app_context(), tenant_session(registry().get(uuid.UUID(member.account_id))) as s:
        s.execute(
            update(Conversation)
            .where(Conversation.id == uuid.UUID(conversation_id))
            .values(last_activity_at=utcnow() - timedelta(minutes=minutes))
        )


def test_an_idle_rule_fires_once_at_its_moment_then_again_after_new_activity(
    app, client, settle, account
):
    made = timed(client, account, "idle", 30)
    channel_id, contact_id = desk(client, account)
    conversation_id = open_conversation(client, account, channel_id, contact_id)
    settle()
    quiet_since = last_activity(client, account, conversation_id)
    assert timer_of(app, account, conversation_id) == quiet_since + timedelta(minutes=30)

    fire_at(app, quiet_since + timedelta(minutes=29))
    settle()
    assert runs(app, account) == []

    fire_at(app, quiet_since + timedelta(minutes=31))
    settle()
    (run,) = runs(app, account)
    assert str(run.rule_id) == made["id"] and run.event_name == "automation.schedule_due"
    assert conversation(client, account, conversation_id)["tags"] == ["idle"]
    # Tagging is no activity: the moment has passed and nothing is left to wait for.
    assert timer_of(app, account, conversation_id) is None
    for minutes in (32, 60, 600):  # every later pass of the scheduler
        fire_at(app, quiet_since + timedelta(minutes=minutes))
        settle()
    assert len(runs(app, account)) == 1

    client.delete(
        account.url(f"/conversations/{conversation_id}/tags/idle"), headers=account.headers
    )
    message(client, account, conversation_id)  # the contact writes again: a new moment
    settle()
    active_again = last_activity(client, account, conversation_id)
    assert timer_of(app, account, conversation_id) == active_again + timedelta(minutes=30)
    fire_at(app, active_again + timedelta(minutes=31))
    settle()
    assert len(runs(app, account)) == 2
    assert conversation(client, account, conversation_id)["tags"] == ["idle"]


def test_the_moment_is_missed_when_the_conditions_do_not_hold_then(app, client, settle, account):
    timed(
        client,
        account,
        "idle",
        10,
        conditions={"==": [{"var": "conversation.priority"}, "urgent"]},
        log_misses=True,
    )
    channel_id, contact_id = desk(client, account)
    conversation_id = open_conversation(client, account, channel_id, contact_id)
    settle()
    quiet_since = last_activity(client, account, conversation_id)
    fire_at(app, quiet_since + timedelta(minutes=11))
    settle()
    (miss,) = runs(app, account)
    assert not miss.matched and miss.actions == []
    assert miss.conditions[0]["result"] is False
    client.patch(
        account.url(f"/conversations/{conversation_id}"),
        json={"priority": "urgent"},
        headers=account.headers,
    )
    settle()  # a priority change is not activity: the moment stays the one that passed
    fire_at(app, quiet_since + timedelta(minutes=20))
    settle()
    assert len(runs(app, account)) == 1
    assert conversation(client, account, conversation_id)["tags"] == []


def test_waiting_counts_from_the_contacts_message_and_a_reply_ends_it(app, client, settle, account):
    timed(client, account, "waiting", 60)
    channel_id, contact_id = desk(client, account)
    conversation_id = open_conversation(client, account, channel_id, contact_id)
    settle()
    assert timer_of(app, account, conversation_id) is None  # nobody waits yet
    message(client, account, conversation_id)
    settle()
    waiting_since = conversation(client, account, conversation_id)["waiting_since"]
    assert waiting_since is not None
    due = timer_of(app, account, conversation_id)
    assert due == last_activity(client, account, conversation_id) + timedelta(minutes=60)
    message(client, account, conversation_id, direction="outbound")  # answered in time
    settle()
    assert timer_of(app, account, conversation_id) is None
    fire_at(app, due + timedelta(minutes=1))
    settle()
    assert runs(app, account) == []


def test_a_resolved_conversation_is_never_idle(app, client, settle, account):
    timed(client, account, "idle", 5)
    channel_id, contact_id = desk(client, account)
    conversation_id = open_conversation(client, account, channel_id, contact_id)
    settle()
    assert timer_of(app, account, conversation_id) is not None
    client.post(
        account.url(f"/conversations/{conversation_id}/status"),
        json={"status": "resolved"},
        headers=account.headers,
    )
    settle()
    assert timer_of(app, account, conversation_id) is None
    fire_at(app, utcnow() + timedelta(minutes=10))
    settle()
    assert runs(app, account) == []


def test_minutes_before_an_sla_deadline(app, client, settle, account):
    policy(client, account, targets={"none": {"first_response": 120}})
    timed(client, account, "sla_due", 15)
    channel_id, contact_id = desk(client, account)
    conversation_id = open_conversation(client, account, channel_id, contact_id)
    settle()
    deadline = at(target(sla_of(client, account, conversation_id), "first_response")["due_at"])
    assert timer_of(app, account, conversation_id) == deadline - timedelta(minutes=15)
    fire_at(app, deadline - timedelta(minutes=14))
    settle()
    (run,) = runs(app, account)
    assert run.matched and conversation(client, account, conversation_id)["tags"] == ["idle"]


def test_a_new_rule_arms_the_conversations_already_there(app, client, settle, account):
    channel_id, contact_id = desk(client, account)
    quiet = open_conversation(client, account, channel_id, contact_id)
    busy = open_conversation(client, account, channel_id, contact_id)
    settle()
    backdate_activity(app, account, quiet, minutes=90)
    made = timed(client, account, "idle", 60)
    assert timer_of(app, account, quiet) <= utcnow()  # already past its moment
    assert timer_of(app, account, busy) > utcnow() + timedelta(minutes=59)
    fire_at(app, utcnow())
    settle()
    (run,) = runs(app, account)
    assert str(run.rule_id) == made["id"] and str(run.conversation_id) == quiet
    assert conversation(client, account, busy)["tags"] == []
    with app.app_context(), tenant_session(registry().get(uuid.UUID(account.account_id))) as s:
        (fired,) = s.scalars(select(ScheduleFired)).all()
        assert str(fired.conversation_id) == quiet


def test_another_accounts_conversations_are_never_armed(
    app, client, settle, account, other_account
):
    channel_id, contact_id = desk(client, other_account)
    theirs = open_conversation(client, other_account, channel_id, contact_id)
    settle()
    timed(client, account, "idle", 1)
    assert timer_of(app, other_account, theirs) is None
    with app.app_context():
        kinds = db.session.scalars(
            select(Timer.kind).where(Timer.account_id == uuid.UUID(other_account.account_id))
        ).all()
    assert TIMER not in kinds
    fire_at(app, utcnow() + timedelta(minutes=5))
    settle()
    assert runs(app, other_account) == []
    assert conversation(client, other_account, theirs)["tags"] == []


def test_disabling_the_rule_stops_its_moments(app, client, settle, account):
    made = timed(client, account, "idle", 5)
    channel_id, contact_id = desk(client, account)
    conversation_id = open_conversation(client, account, channel_id, contact_id)
    settle()
    client.patch(
        account.url(f"/automation/rules/{made['id']}"),
        json={"enabled": False},
        headers=account.headers,
    )
    fire_at(app, utcnow() + timedelta(minutes=6))
    settle()
    assert runs(app, account) == []
    assert timer_of(app, account, conversation_id) is None
