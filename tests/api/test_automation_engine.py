"""The engine, end to end: an event goes through the outbox, the relay and a real RQ
worker; matching rules act through the same services as agents and leave a run log."""

from __future__ import annotations

import uuid
from datetime import timedelta

import psycopg
from rq import SimpleWorker
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import select

from automation.engine import FAILURE_LIMIT, RUN_RETENTION_DAYS
from automation.models import RuleRun
from automation.runners import AUTOMATED_PER_HOUR
from core.jobs import queue
from core.redis import redis_client
from events.relay import relay_once
from tenants.db import db, utcnow
from tenants.registry import registry
from tenants.session import tenant_session

from .test_assignment import converse, desk, set_status
from .test_conversations import setup_desk
from .test_inbox import make
from .test_reading import inbound, reply

INBOUND_REFUND = {
    "and": [
        {"==": [{"var": "message.kind"}, "inbound"]},
        {"in_ci": ["refund", {"var": "message.body"}]},
    ]
}


def rule(client, member, **fields):
    body = {"name": "Rule", "events": ["message.created"], "conditions": True, **fields}
    response = client.post(member.url("/automation/rules"), json=body, headers=member.headers)
    assert response.status_code == 201, response.json
    return response.json


def conversation(client, member, conversation_id):
    response = client.get(member.url(f"/conversations/{conversation_id}"), headers=member.headers)
    assert response.status_code == 200, response.json
    return response.json


def runs(app, member) -> list[RuleRun]:
    with app.app_context():
        account = registry().get(uuid.UUID(member.account_id))
        with tenant_session(account) as session:
            found = list(session.scalars(select(RuleRun).order_by(RuleRun.created_at)))
            session.expunge_all()
            return found


def test_an_inbound_message_is_assigned_tagged_and_logged(app, client, settle, account, agent):
    made = rule(
        client,
        account,
        name="Refunds to billing",
        conditions=INBOUND_REFUND,
        actions=[
            {"type": "assign_agent", "params": {"agent_id": agent.user_id}},
            {"type": "add_tag", "params": {"tag": "billing"}},
            {"type": "set_priority", "params": {"priority": "high"}},
        ],
    )
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    inbound(client, account, conversation_id, body="I want a REFUND please")
    settle()
    after = conversation(client, account, conversation_id)
    assert after["assignee_id"] == agent.user_id
    assert after["status"] == "assigned"
    assert after["priority"] == "high"
    assert after["tags"] == ["billing"]
    (run,) = runs(app, account)
    assert str(run.rule_id) == made["id"] and run.rule_version == 1 and run.matched
    assert [a["outcome"] for a in run.actions] == ["done", "done", "done"]
    assert run.conditions[0] == {"at": "/", "rule": INBOUND_REFUND, "result": True}
    assert [c["result"] for c in run.conditions[1:]] == [True, True]
    timeline = client.get(
        account.url(f"/conversations/{conversation_id}/activity"), headers=account.headers
    ).json["items"]
    by_rule = [e for e in timeline if e["actor"]["type"] == "automation"]
    assert {e["event"] for e in by_rule} >= {"conversation.assigned", "tag.added"}
    assert {e["actor"]["id"] for e in by_rule} == {made["id"]}


def test_a_message_the_conditions_refuse_changes_nothing(app, client, settle, account):
    rule(
        client,
        account,
        conditions=INBOUND_REFUND,
        actions=[{"type": "add_tag", "params": {"tag": "billing"}}],
    )
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    reply(client, account, conversation_id, body="About your refund")  # outbound
    inbound(client, account, conversation_id, body="Thanks!")  # no refund in it
    settle()
    assert conversation(client, account, conversation_id)["tags"] == []
    assert runs(app, account) == []


def test_two_rules_that_would_ping_pong_stop(app, client, settle, account):
    """Each rule reacts to the other's change once; neither reacts to an event its own
    action led to, so the chain ends instead of looping until the depth cap."""

    def flip(when: str, to: str):
        return rule(
            client,
            account,
            name=f"{when} to {to}",
            events=["conversation.updated"],
            conditions={"==": [{"var": "conversation.priority"}, when]},
            actions=[{"type": "set_priority", "params": {"priority": to}}],
        )

    down, up = flip("high", "low"), flip("low", "high")
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    client.patch(
        account.url(f"/conversations/{conversation_id}"),
        json={"priority": "high"},
        headers=account.headers,
    )
    settle()  # fails with "events kept coming" if they loop
    assert [str(r.rule_id) for r in runs(app, account)] == [down["id"], up["id"]]
    assert conversation(client, account, conversation_id)["priority"] == "high"


def test_a_failing_action_does_not_stop_the_others(app, client, settle, account, agent):
    rule(
        client,
        account,
        actions=[
            {"type": "assign_agent", "params": {"agent_id": agent.user_id}},
            {"type": "add_tag", "params": {"tag": "seen"}},
            {"type": "resolve", "params": {}},
        ],
    )
    removed = client.delete(account.url(f"/members/{agent.user_id}"), headers=account.headers)
    assert removed.status_code == 204, removed.json
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    inbound(client, account, conversation_id)
    settle()
    (run,) = runs(app, account)
    assert [a["outcome"] for a in run.actions] == ["failed", "done", "done"]
    assert "not a member" in run.actions[0]["error"]
    after = conversation(client, account, conversation_id)
    assert after["assignee_id"] is None
    assert after["status"] == "resolved"
    assert after["tags"] == ["seen"]


def test_a_matching_rule_can_stop_the_ones_after_it(app, client, settle, account):
    first = rule(
        client,
        account,
        name="First",
        stop_processing=True,
        actions=[{"type": "add_tag", "params": {"tag": "first"}}],
    )
    rule(client, account, name="Second", actions=[{"type": "add_tag", "params": {"tag": "second"}}])
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    inbound(client, account, conversation_id)
    settle()
    assert conversation(client, account, conversation_id)["tags"] == ["first"]
    assert [str(r.rule_id) for r in runs(app, account)] == [first["id"]]


def test_rules_act_only_on_their_own_accounts_events(app, client, settle, account, other_account):
    rule(client, account, actions=[{"type": "add_tag", "params": {"tag": "ours"}}])
    channel_id, contact_id = setup_desk(client, other_account)
    theirs = make(client, other_account, channel_id, contact_id)
    inbound(client, other_account, theirs)
    settle()
    assert conversation(client, other_account, theirs)["tags"] == []
    assert runs(app, account) == [] and runs(app, other_account) == []


def test_a_reply_and_a_note_are_posted_as_the_rule(app, client, settle, account):
    made = rule(
        client,
        account,
        conditions={"==": [{"var": "message.kind"}, "inbound"]},
        actions=[
            {"type": "send_message", "params": {"body": "Hi {{ contact.name }}, we got it."}},
            {"type": "add_note", "params": {"body": "Auto-acknowledged"}},
        ],
    )
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    inbound(client, account, conversation_id)
    settle()  # the rule's own reply is message.created too: it must not answer itself
    items = client.get(
        account.url(f"/conversations/{conversation_id}/messages"), headers=account.headers
    ).json["items"]
    posted = [(m["sender_type"], m["private"], m["body"]) for m in items]
    assert posted == [
        ("contact", False, "Hello?"),
        ("automation", False, "Hi Grace, we got it."),
        ("automation", True, "Auto-acknowledged"),
    ]
    assert {m["sender_id"] for m in items[1:]} == {made["id"]}


def test_every_action_acts_through_its_service(app, client, settle, account):
    team = client.post(account.url("/teams"), json={"name": "Tier 2"}, headers=account.headers)
    sla = client.post(
        account.url("/sla/policies"),
        json={"name": "Gold", "hours": "calendar"},
        headers=account.headers,
    )
    assert sla.status_code == 201, sla.json
    template = client.post(
        account.url("/templates"),
        json={"name": "Ack", "body": "Dear {{ contact.name }}"},
        headers=account.headers,
    )
    actions = [
        {"type": "assign_team", "params": {"team_id": team.json["id"]}},
        {"type": "set_custom_attribute", "params": {"key": "plan", "value": "gold"}},
        {"type": "apply_sla", "params": {"policy_id": sla.json["id"]}},
        {"type": "remove_tag", "params": {"tag": "urgent"}},
        {"type": "add_tag", "params": {"tag": "urgent"}},
        {"type": "add_tag", "params": {"tag": "urgent"}},
        {"type": "remove_tag", "params": {"tag": "urgent"}},
        {"type": "unassign", "params": {}},
        {"type": "send_message", "params": {"template_id": template.json["id"]}},
        {"type": "set_status", "params": {"status": "pending"}},
        {"type": "set_status", "params": {"status": "pending"}},
        {"type": "snooze", "params": {"minutes": 30}},
        {"type": "close", "params": {}},
    ]
    rule(client, account, conditions={"==": [{"var": "message.kind"}, "inbound"]}, actions=actions)
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    inbound(client, account, conversation_id)
    settle()
    (run,) = runs(app, account)
    outcomes = [a["outcome"] for a in run.actions]
    assert outcomes == ["done"] * 3 + ["skipped", "done", "skipped", "done", "skipped"] + [
        "done",
        "done",
        "skipped",
        "done",
        "done",
    ]
    after = conversation(client, account, conversation_id)
    assert after["team_id"] == team.json["id"]
    assert after["custom_attributes"] == {"plan": "gold"}
    assert after["tags"] == []
    assert after["status"] == "closed"
    sla_state = client.get(
        account.url(f"/conversations/{conversation_id}/sla"), headers=account.headers
    ).json
    assert sla_state["policy_id"] == sla.json["id"]
    bodies = client.get(
        account.url(f"/conversations/{conversation_id}/messages"), headers=account.headers
    ).json["items"]
    assert bodies[-1]["body"] == "Dear Grace"


def test_a_rule_on_an_event_without_a_conversation_skips_its_actions(app, client, settle, account):
    rule(
        client,
        account,
        events=["contact.created"],
        conditions={"starts_with": [{"var": "contact.name"}, "VIP"]},
        actions=[{"type": "add_tag", "params": {"tag": "vip"}}],
    )
    for name in ("VIP Ada", "Bob"):
        created = client.post(
            account.url("/contacts"), json={"name": name}, headers=account.headers
        )
        assert created.status_code == 201, created.json
    settle()
    (run,) = runs(app, account)
    assert run.event_name == "contact.created" and run.conversation_id is None
    assert run.actions[0]["outcome"] == "skipped"
    assert "no conversation" in run.actions[0]["reason"]


def try_out(client, member, path, **body):
    return client.post(member.url(f"/automation/rules/{path}"), json=body, headers=member.headers)


def test_a_dry_run_explains_itself_and_changes_nothing(client, account, agent, other_account):
    made = rule(
        client,
        account,
        conditions=INBOUND_REFUND,
        actions=[{"type": "add_tag", "params": {"tag": "billing"}}],
    )
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    message = inbound(client, account, conversation_id, body="Refund, please")
    tried = try_out(
        client,
        agent,  # reading rules is enough to try one
        f"{made['id']}/test",
        conversation_id=conversation_id,
        message_id=message["id"],
    )
    assert tried.status_code == 200, tried.json
    assert tried.json["matched"] is True
    assert tried.json["actions"] == made["actions"]
    assert [(c["at"], c["result"]) for c in tried.json["conditions"]] == [
        ("/", True),
        ("/and/0", True),
        ("/and/1", True),
    ]
    assert tried.json["context"]["message"]["body"] == "Refund, please"
    assert conversation(client, account, conversation_id)["tags"] == []
    given = try_out(
        client,
        account,
        f"{made['id']}/test",
        context={"message": {"kind": "outbound", "body": "refund"}},
    )
    assert given.json["matched"] is False and given.json["actions"] == []
    assert [c["result"] for c in given.json["conditions"]] == [False, False, True]
    # Another account's conversation, or our rule tried from another account: not found.
    foreign = try_out(client, account, f"{made['id']}/test", conversation_id=str(uuid.uuid4()))
    assert foreign.status_code == 404 and foreign.json["code"] == "conversation_not_found"
    theirs = try_out(client, other_account, f"{made['id']}/test", conversation_id=conversation_id)
    assert theirs.status_code == 404 and theirs.json["code"] == "rule_not_found"
    neither = try_out(client, account, f"{made['id']}/test")
    assert neither.status_code == 422


def test_an_unsaved_rule_is_checked_then_tried(client, account, agent):
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id, priority="urgent")
    draft = {
        "name": "Draft",
        "events": ["conversation.updated"],
        "conditions": {"==": [{"var": "conversation.priority"}, "urgent"]},
        "actions": [{"type": "add_tag", "params": {"tag": "hot"}}],
    }
    tried = try_out(client, account, "test", rule=draft, conversation_id=conversation_id)
    assert tried.status_code == 200, tried.json
    assert tried.json["matched"] is True
    assert tried.json["context"]["event"]["name"] == "conversation.updated"
    broken = {**draft, "conditions": {"==": [{"var": "conversation.urgency"}, "urgent"]}}
    refused = try_out(client, account, "test", rule=broken, conversation_id=conversation_id)
    assert refused.status_code == 422
    assert "conditions/==/0/var" in refused.json["errors"]
    by_agent = try_out(client, agent, "test", rule=draft, conversation_id=conversation_id)
    assert by_agent.status_code == 403
    listed = client.get(account.url("/automation/rules"), headers=account.headers)
    assert listed.json["items"] == []  # trying saved nothing


def test_the_run_log_is_filterable_and_private(client, settle, account, agent, other_account):
    tagging = rule(client, account, actions=[{"type": "add_tag", "params": {"tag": "a"}}])
    rule(client, account, name="Other", actions=[{"type": "add_tag", "params": {"tag": "b"}}])
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    inbound(client, account, conversation_id)
    settle()
    log = account.url("/automation/runs")
    every = client.get(log, headers=agent.headers)
    assert every.status_code == 200, every.json
    assert len(every.json["items"]) == 2
    one = client.get(
        log, query_string={"filter": f"rule_id:eq:{tagging['id']}"}, headers=account.headers
    ).json["items"]
    assert [r["rule_id"] for r in one] == [tagging["id"]]
    assert one[0]["conversation_id"] == conversation_id
    assert one[0]["actions"][0]["outcome"] == "done"
    theirs = client.get(other_account.url("/automation/runs"), headers=other_account.headers)
    assert theirs.json["items"] == []


def test_a_rule_can_assign_by_rotation_whatever_the_channel_policy(
    app, client, settle, account, add_member
):
    """The channel stays manual; the rule picks among its online inbox agents, and the
    rotation goes on from the last pick."""
    first, second = (add_member(account.account_id, "agent") for _ in range(2))
    channel_id = desk(client, account, [first, second])  # no policy: manual
    set_status(client, "online", first, second)
    rule(
        client,
        account,
        conditions={"==": [{"var": "message.kind"}, "inbound"]},
        actions=[
            {"type": "assign_agent", "params": {"strategy": "round_robin"}},
            {"type": "unassign", "params": {}},
            {"type": "assign_agent", "params": {"strategy": "round_robin"}},
            {"type": "assign_agent", "params": {"agent_id": second.user_id}},
        ],
    )
    conversation_id = converse(client, account, channel_id)
    inbound(client, account, conversation_id)
    settle()
    (run,) = runs(app, account)
    assert [a["outcome"] for a in run.actions] == ["done", "done", "done", "skipped"]
    assert conversation(client, account, conversation_id)["assignee_id"] == second.user_id
    set_status(client, "offline", first, second)
    later = converse(client, account, channel_id)
    inbound(client, account, later)
    settle()
    latest = max(runs(app, account), key=lambda r: r.created_at)
    assert latest.actions[0]["outcome"] == "skipped"
    assert "no agent" in latest.actions[0]["reason"]


def test_emails_go_to_an_address_or_a_team_and_never_answer_a_machine(
    client, settle, account, agent, mailbox
):
    team = client.post(account.url("/teams"), json={"name": "Night"}, headers=account.headers)
    joined = client.post(
        account.url(f"/teams/{team.json['id']}/members"),
        json={"user_id": agent.user_id},
        headers=account.headers,
    )
    assert joined.status_code == 200, joined.json
    ops = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    rule(
        client,
        account,
        conditions={"==": [{"var": "message.kind"}, "inbound"]},
        actions=[
            {
                "type": "send_email",
                "params": {"to": ops, "subject": "New from {{ contact.name }}", "body": "Look"},
            },
            {
                "type": "send_email",
                "params": {"team_id": team.json["id"], "subject": "Heads up", "body": "Hi team"},
            },
        ],
    )
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    inbound(client, account, conversation_id)
    settle()
    assert mailbox.last_to(ops)["Subject"] == "New from Grace"
    assert mailbox.last_to(agent.email).get_content().strip() == "Hi team"
    before = len(mailbox.to(ops))
    out_of_office = client.post(
        account.url(f"/conversations/{conversation_id}/messages"),
        json={
            "direction": "inbound",
            "sender_type": "contact",
            "body": "I am away until Monday",
            "metadata": {"headers": {"Auto-Submitted": "auto-replied"}},
        },
        headers=account.headers,
    )
    assert out_of_office.status_code == 201, out_of_office.json
    settle()
    assert len(mailbox.to(ops)) == before


def test_automated_messages_to_one_conversation_are_capped(app, client, settle, account):
    rule(
        client,
        account,
        conditions={"==": [{"var": "message.kind"}, "inbound"]},
        actions=[{"type": "send_message", "params": {"body": "Got it"}}],
    )
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    for number in range(AUTOMATED_PER_HOUR + 2):
        inbound(client, account, conversation_id, body=f"Message {number}")
    settle()
    items = client.get(
        account.url(f"/conversations/{conversation_id}/messages"),
        query_string={"limit": 100},
        headers=account.headers,
    ).json["items"]
    assert sum(m["sender_type"] == "automation" for m in items) == AUTOMATED_PER_HOUR
    outcomes = [r.actions[0]["outcome"] for r in runs(app, account)]
    assert outcomes.count("skipped") == 2


def test_a_rule_that_keeps_failing_is_switched_off_and_admins_told(
    app, client, settle, account, agent, mailbox
):
    made = rule(
        client,
        account,
        name="Broken",
        actions=[{"type": "assign_agent", "params": {"agent_id": agent.user_id}}],
    )
    client.delete(account.url(f"/members/{agent.user_id}"), headers=account.headers)
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    for number in range(FAILURE_LIMIT + 1):
        inbound(client, account, conversation_id, body=f"Message {number}")
        settle()
    assert len(runs(app, account)) == FAILURE_LIMIT  # the last message found it off
    url = account.url(f"/automation/rules/{made['id']}")
    off = client.get(url, headers=account.headers).json
    assert off["enabled"] is False and off["failures"] == FAILURE_LIMIT
    assert "not a member" in off["disabled_reason"]
    assert "Broken" in mailbox.last_to(account.email)["Subject"]
    unfixed = client.patch(url, json={"enabled": True}, headers=account.headers)
    assert unfixed.status_code == 422  # it still names someone who left
    assert "actions/0/params/agent_id" in unfixed.json["errors"]
    fixed = {"enabled": True, "actions": [{"type": "add_tag", "params": {"tag": "x"}}]}
    back = client.patch(url, json=fixed, headers=account.headers).json
    assert back["enabled"] is True and back["failures"] == 0
    assert back["disabled_reason"] is None


def test_a_changed_rule_applies_from_the_next_event(app, client, settle, account):
    """Workers keep the rules they read; a change reaches them through Redis at once."""
    made = rule(client, account, actions=[{"type": "add_tag", "params": {"tag": "a"}}])
    url = account.url(f"/automation/rules/{made['id']}")
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    inbound(client, account, conversation_id)
    settle()
    assert len(runs(app, account)) == 1
    client.patch(url, json={"conditions": False}, headers=account.headers)
    inbound(client, account, conversation_id)
    settle()
    assert len(runs(app, account)) == 1
    changed = {"conditions": True, "actions": [{"type": "add_tag", "params": {"tag": "b"}}]}
    client.patch(url, json=changed, headers=account.headers)
    inbound(client, account, conversation_id)
    settle()
    assert [r.rule_version for r in runs(app, account)] == [1, 3]
    assert conversation(client, account, conversation_id)["tags"] == ["a", "b"]


def test_runs_past_the_retention_period_are_pruned(app, client, settle, account):
    made = rule(client, account, actions=[{"type": "add_tag", "params": {"tag": "a"}}])

    def logged(days_ago: int) -> RuleRun:
        return RuleRun(
            id=uuid.uuid4(),
            rule_id=uuid.UUID(made["id"]),
            rule_version=1,
            event_name="message.created",
            matched=True,
            conditions=[],
            actions=[],
            duration_ms=1.0,
            created_at=utcnow() - timedelta(days=days_ago),
        )

    old, recent = logged(RUN_RETENTION_DAYS + 1), logged(1)
    ids = {"old": old.id, "recent": recent.id}
    with app.app_context():
        record = registry().get(uuid.UUID(account.account_id))
        with tenant_session(record) as session:
            session.add_all([old, recent])
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    inbound(client, account, conversation_id)
    settle()
    kept = runs(app, account)
    assert ids["recent"] in {r.id for r in kept} and ids["old"] not in {r.id for r in kept}
    assert len(kept) == 2


def test_a_transient_failure_retries_the_whole_event_later(
    app, client, settle, run_jobs, make_app, database_url, account
):
    """The tag an action applies stays locked longer than the worker's lock timeout: the
    event's evaluation fails as a whole (not as one failed action), keeps nothing, and RQ
    retries it; the retry acts."""
    rule(
        client,
        account,
        actions=[
            {"type": "set_priority", "params": {"priority": "high"}},
            {"type": "add_tag", "params": {"tag": "seen"}},
        ],
    )
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    tagged_by_hand = make(client, account, channel_id, contact_id)
    client.post(
        account.url(f"/conversations/{tagged_by_hand}/tags"),
        json={"tags": ["seen"]},
        headers=account.headers,
    )
    settle()
    inbound(client, account, conversation_id, body="Hello")
    with app.app_context():
        while relay_once(db.session):
            pass
        schema = registry().get(uuid.UUID(account.account_id)).schema_name
    impatient = make_app(db_lock_timeout=100)
    with psycopg.connect(database_url.replace("+psycopg", "")) as holder:
        locked = holder.execute(f"SELECT 1 FROM \"{schema}\".tags WHERE key = 'seen' FOR UPDATE")
        assert locked.fetchall() == [(1,)]
        with impatient.app_context():
            default = queue("default")
            SimpleWorker([default], connection=redis_client(), serializer=JSONSerializer).work(
                burst=True, logging_level="CRITICAL"
            )
            waiting = default.scheduled_job_registry.get_job_ids()
    assert len(waiting) >= 1  # failed, and scheduled for a retry after a delay
    assert runs(app, account) == []
    untouched = conversation(client, account, conversation_id)
    assert (untouched["tags"], untouched["priority"]) == ([], "none")
    with app.app_context():
        for job_id in waiting:  # the delay is over
            job = Job.fetch(job_id, connection=redis_client(), serializer=JSONSerializer)
            default.scheduled_job_registry.remove(job)
            default.enqueue_job(job)
    run_jobs()
    done = conversation(client, account, conversation_id)
    assert (done["tags"], done["priority"]) == (["seen"], "high")
    (run,) = runs(app, account)
    assert [a["outcome"] for a in run.actions] == ["done", "done"]
