"""SLA: policies and holidays, deadlines kept by event consumers, warnings and breaches
fired by timers, hit/miss per target, the report, and snoozed conversations waking up."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from events.outbox import OutboxEvent
from events.relay import relay_once
from events.timers import Timer, fire_due
from helpdesk.activity import ConversationActivity
from helpdesk.models import Conversation
from tenants.db import db, utcnow
from tenants.registry import registry
from tenants.session import tenant_session

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
NINE_TO_FIVE = {day: [{"start": "09:00", "end": "17:00"}] for day in WEEKDAYS}


# -- helpers --------------------------------------------------------------------------


def policy(client, member, name="Standard", **fields):
    body = {"name": name, "hours": "calendar", **fields}
    return client.post(member.url("/sla/policies"), json=body, headers=member.headers)


def desk(client, member):
    channel = client.post(
        member.url("/channels"), json={"type": "email", "name": "Support"}, headers=member.headers
    )
    contact = client.post(
        member.url("/contacts"),
        json={"name": "Grace", "email": f"g{uuid.uuid4().hex[:8]}@example.com"},
        headers=member.headers,
    )
    assert channel.status_code == 201 and contact.status_code == 201
    return channel.json["id"], contact.json["id"]


def conversation(client, member, channel_id, contact_id, **fields):
    body = {"channel_id": channel_id, "contact_id": contact_id, "subject": "Help", **fields}
    response = client.post(member.url("/conversations"), json=body, headers=member.headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


def message(client, member, conversation_id, direction="inbound", **fields):
    sender = "contact" if direction == "inbound" else "agent"
    response = client.post(
        member.url(f"/conversations/{conversation_id}/messages"),
        json={"direction": direction, "sender_type": sender, "body": "Hello", **fields},
        headers=member.headers,
    )
    assert response.status_code == 201, response.json


def set_status(client, member, conversation_id, status, **extra):
    response = client.post(
        member.url(f"/conversations/{conversation_id}/status"),
        json={"status": status, **extra},
        headers=member.headers,
    )
    assert response.status_code == 200, response.json


def settle(app, run_jobs):
    """Relay every committed event and run the consumers, until nothing is left."""
    for _ in range(3):
        with app.app_context():
            while relay_once(db.session):
                pass
        run_jobs()


def sla_of(client, member, conversation_id):
    response = client.get(
        member.url(f"/conversations/{conversation_id}/sla"), headers=member.headers
    )
    assert response.status_code == 200, response.json
    return response.json


def target(state, name, index=-1):
    rows = [row for row in state["targets"] if row["target"] == name]
    return rows[index]


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def backdate(app, member, conversation_id, created_at):
    """Pretend the conversation was opened at ``created_at`` (before its events run)."""
    with app.app_context(), tenant_session(registry().get(uuid.UUID(member.account_id))) as s:
        s.execute(
            update(Conversation)
            .where(Conversation.id == uuid.UUID(conversation_id))
            .values(created_at=created_at)
        )


def sla_events(app, member, conversation_id):
    """``(name, target)`` of the SLA events written, oldest first, and the timeline's."""
    with app.app_context():
        outbox = db.session.scalars(
            select(OutboxEvent)
            .where(
                OutboxEvent.account_id == uuid.UUID(member.account_id),
                OutboxEvent.subject_id == uuid.UUID(conversation_id),
                OutboxEvent.name.like("sla.%"),
            )
            .order_by(OutboxEvent.occurred_at)
        )
        events = [(e.name, e.payload["target"]) for e in outbox]
        with tenant_session(registry().get(uuid.UUID(member.account_id))) as s:
            timeline = [
                (a.event, a.data["target"])
                for a in s.scalars(
                    select(ConversationActivity)
                    .where(
                        ConversationActivity.conversation_id == uuid.UUID(conversation_id),
                        ConversationActivity.event.like("sla.%"),
                    )
                    .order_by(ConversationActivity.created_at)
                )
            ]
    assert timeline == events
    return events


def pending_timer(app, member, conversation_id, kind="sla"):
    with app.app_context():
        return db.session.scalar(
            select(Timer.due_at).where(
                Timer.account_id == uuid.UUID(member.account_id),
                Timer.subject_id == uuid.UUID(conversation_id),
                Timer.kind == kind,
                Timer.fired_at.is_(None),
            )
        )


def fire_at(app, moment: datetime) -> None:
    with app.app_context():
        fire_due(limit=10_000, now=moment)


# -- configuration --------------------------------------------------------------------


def test_admins_manage_policies_and_agents_read_them(client, account, agent, add_member):
    admin = add_member(account.account_id, "admin")
    made = policy(
        client,
        admin,
        description="Everyone",
        targets={"high": {"first_response": 60, "resolution": None}, "low": {}},
        warning={"percent": 80},
        conditions={"priorities": ["high"]},
    )
    assert made.status_code == 201, made.json
    assert made.json["targets"] == {"high": {"first_response": 60}}  # empty entries dropped
    assert made.json["conditions"]["priorities"] == ["high"]
    assert made.json["position"] == 0 and made.json["enabled"] is True
    second = policy(client, account, name="Second").json
    assert second["position"] == 1  # goes last unless told
    url = account.url(f"/sla/policies/{made.json['id']}")

    listed = client.get(agent.url("/sla/policies"), headers=agent.headers)
    assert [p["name"] for p in listed.json["items"]] == ["Standard", "Second"]
    assert client.get(url, headers=agent.headers).json["warning"] == {"percent": 80}
    for refused in (
        policy(client, agent, name="Mine"),
        client.patch(url, json={"enabled": False}, headers=agent.headers),
        client.delete(url, headers=agent.headers),
    ):
        assert refused.status_code == 403
        assert refused.json["errors"]["permission"] == ["sla:manage"]

    changed = client.patch(url, json={"enabled": False, "position": 5}, headers=admin.headers)
    assert changed.status_code == 200
    assert changed.json["enabled"] is False and changed.json["targets"] == made.json["targets"]
    clash = client.patch(url, json={"name": "Second"}, headers=admin.headers)
    assert clash.status_code == 409 and clash.json["code"] == "sla_policy_name_taken"
    audit = client.get(
        account.url("/audit-log"),
        query_string={"filter": "target_type:eq:sla_policy"},
        headers=account.headers,
    ).json["items"]
    assert {"sla_policy.created", "sla_policy.updated"} <= {e["action"] for e in audit}
    updated = next(e for e in audit if e["action"] == "sla_policy.updated")
    assert updated["before"] == {"enabled": True, "position": 0}

    assert client.delete(url, headers=admin.headers).status_code == 204
    gone = client.get(url, headers=agent.headers)
    assert gone.status_code == 404 and gone.json["code"] == "sla_policy_not_found"


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"warning": {"percent": 50, "minutes_before": 5}}, "warning"),
        ({"warning": {"percent": 100}}, "warning"),
        ({"targets": {"critical": {"first_response": 5}}}, "targets"),
        ({"targets": {"high": {"first_response": 0}}}, "targets"),
        ({"targets": {"high": {"reply": 5}}}, "targets"),
        ({"hours": "lunar"}, "hours"),
        ({"conditions": {"channel_ids": [str(uuid.uuid4())]}}, "conditions"),
        ({"conditions": {"priorities": ["asap"]}}, "conditions"),
    ],
)
def test_policies_are_validated(client, account, fields, field):
    refused = policy(client, account, **fields)
    assert refused.status_code == 422, refused.json
    assert field in refused.json["errors"]


def test_holidays(client, account, agent):
    url = account.url("/sla/holidays")
    made = client.post(
        url, json={"name": "Christmas", "date": "2026-12-25"}, headers=account.headers
    )
    assert made.status_code == 201, made.json
    earlier = client.post(url, json={"name": "Eve", "date": "2026-12-24"}, headers=account.headers)
    twice = client.post(url, json={"name": "Again", "date": "2026-12-25"}, headers=account.headers)
    assert twice.status_code == 409 and twice.json["code"] == "holiday_date_taken"
    listed = client.get(agent.url("/sla/holidays"), headers=agent.headers).json["items"]
    assert [h["date"] for h in listed] == ["2026-12-24", "2026-12-25"]
    one = f"{url}/{earlier.json['id']}"
    refused = client.patch(one, json={"name": "Nope"}, headers=agent.headers)
    assert refused.status_code == 403
    assert (
        client.post(
            url, json={"name": "x", "date": "2027-01-01"}, headers=agent.headers
        ).status_code
        == 403
    )
    renamed = client.patch(one, json={"name": "Christmas Eve"}, headers=account.headers)
    assert renamed.status_code == 200 and renamed.json["name"] == "Christmas Eve"
    assert client.delete(one, headers=account.headers).status_code == 204
    assert client.get(one, headers=account.headers).json["code"] == "holiday_not_found"


def test_another_account_cannot_see_or_touch_any_of_it(client, account, other_account):
    made = policy(client, account, targets={"none": {"first_response": 30}}).json
    holiday = client.post(
        account.url("/sla/holidays"),
        json={"name": "Day", "date": "2027-05-01"},
        headers=account.headers,
    ).json
    channel_id, contact_id = desk(client, account)
    conversation_id = conversation(client, account, channel_id, contact_id)
    theirs = other_account
    for path, ours, code, methods in (
        ("/sla/policies/{}", made["id"], "sla_policy_not_found", ("get", "patch", "delete")),
        ("/sla/holidays/{}", holiday["id"], "holiday_not_found", ("get", "patch", "delete")),
        ("/conversations/{}/sla", conversation_id, "conversation_not_found", ("get",)),
    ):
        for method in methods:
            # Exactly what an id that never existed answers: no existence oracle.
            never = getattr(client, method)(
                theirs.url(path.format(uuid.uuid4())), json={}, headers=theirs.headers
            )
            response = getattr(client, method)(
                theirs.url(path.format(ours)), json={}, headers=theirs.headers
            )
            assert response.status_code == never.status_code == 404
            assert response.json["code"] == never.json["code"] == code
            assert response.json["message"] == never.json["message"]
    applied = client.post(
        theirs.url(f"/conversations/{conversation_id}/sla"),
        json={"policy_id": None},
        headers=theirs.headers,
    )
    assert applied.status_code == 404 and applied.json["code"] == "conversation_not_found"
    # Their own conversation cannot borrow our policy either.
    their_channel, their_contact = desk(client, theirs)
    their_conversation = conversation(client, theirs, their_channel, their_contact)
    borrowed = client.post(
        theirs.url(f"/conversations/{their_conversation}/sla"),
        json={"policy_id": made["id"]},
        headers=theirs.headers,
    )
    assert borrowed.status_code == 422 and "policy_id" in borrowed.json["errors"]
    assert client.get(theirs.url("/sla/policies"), headers=theirs.headers).json["items"] == []
    assert client.get(theirs.url("/sla/holidays"), headers=theirs.headers).json["items"] == []
    assert client.get(theirs.url("/sla/report"), headers=theirs.headers).json["items"] == []
    # Outsiders get the account's 404 on every route.
    for path in ("/sla/policies", "/sla/holidays", "/sla/report"):
        assert (
            client.get(account.url(path), headers=theirs.headers).json["code"]
            == "account_not_found"
        )


# -- tracking -------------------------------------------------------------------------


def test_warning_then_breach_fire_once_at_their_business_time_moments(
    app, client, account, run_jobs
):
    client.patch(
        account.url("/settings"),
        json={"timezone": "Europe/Berlin", "business_hours": NINE_TO_FIVE},
        headers=account.headers,
    )
    policy(
        client,
        account,
        hours="business",
        targets={"urgent": {"first_response": 120, "resolution": 480}},
        warning={"minutes_before": 30},
    )
    channel_id, contact_id = desk(client, account)
    conversation_id = conversation(client, account, channel_id, contact_id, priority="urgent")
    # Friday 2027-03-26 16:00 in Berlin (15:00Z); the clocks go forward that Sunday.
    backdate(app, account, conversation_id, datetime(2027, 3, 26, 15, 0, tzinfo=UTC))
    settle(app, run_jobs)

    state = sla_of(client, account, conversation_id)
    first, resolution = target(state, "first_response"), target(state, "resolution")
    # 60 minutes on Friday, the rest from Monday 09:00 CEST (07:00Z).
    assert at(first["due_at"]) == datetime(2027, 3, 29, 8, 0, tzinfo=UTC)
    assert at(first["warn_at"]) == datetime(2027, 3, 29, 7, 30, tzinfo=UTC)
    assert at(resolution["due_at"]) == datetime(2027, 3, 29, 14, 0, tzinfo=UTC)
    assert first["status"] == resolution["status"] == "pending"
    assert pending_timer(app, account, conversation_id) == at(first["warn_at"])

    fire_at(app, datetime(2027, 3, 29, 7, 29, tzinfo=UTC))
    assert sla_events(app, account, conversation_id) == []
    fire_at(app, datetime(2027, 3, 29, 7, 31, tzinfo=UTC))
    assert sla_events(app, account, conversation_id) == [("sla.warning", "first_response")]
    assert pending_timer(app, account, conversation_id) == at(first["due_at"])
    fire_at(app, datetime(2027, 3, 29, 7, 45, tzinfo=UTC))
    fire_at(app, datetime(2027, 3, 29, 8, 1, tzinfo=UTC))
    fire_at(app, datetime(2027, 3, 29, 8, 2, tzinfo=UTC))
    assert sla_events(app, account, conversation_id) == [
        ("sla.warning", "first_response"),
        ("sla.breached", "first_response"),
    ]
    state = sla_of(client, account, conversation_id)
    assert target(state, "first_response")["status"] == "missed"
    assert target(state, "first_response")["breached_at"] is not None
    assert target(state, "resolution")["status"] == "pending"
    assert pending_timer(app, account, conversation_id) == datetime(2027, 3, 29, 13, 30, tzinfo=UTC)

    fire_at(app, datetime(2027, 3, 29, 14, 0, 1, tzinfo=UTC))
    # Already past its warning moment too: only the breach is announced.
    assert sla_events(app, account, conversation_id)[2:] == [("sla.breached", "resolution")]
    assert pending_timer(app, account, conversation_id) is None
    fire_at(app, datetime(2027, 4, 30, tzinfo=UTC))
    assert len(sla_events(app, account, conversation_id)) == 3


def test_holidays_close_business_hours_for_deadlines(app, client, account, run_jobs):
    client.patch(
        account.url("/settings"),
        json={"timezone": "Europe/Berlin", "business_hours": NINE_TO_FIVE},
        headers=account.headers,
    )
    client.post(
        account.url("/sla/holidays"),
        json={"name": "Bridge day", "date": "2027-03-29"},
        headers=account.headers,
    )
    policy(client, account, hours="business", targets={"none": {"first_response": 60}})
    channel_id, contact_id = desk(client, account)
    conversation_id = conversation(client, account, channel_id, contact_id)
    backdate(app, account, conversation_id, datetime(2027, 3, 26, 15, 30, tzinfo=UTC))
    settle(app, run_jobs)
    first = target(sla_of(client, account, conversation_id), "first_response")
    # 30 minutes on Friday, Monday closed, 30 more from Tuesday 09:00 CEST (07:00Z).
    assert at(first["due_at"]) == datetime(2027, 3, 30, 7, 30, tzinfo=UTC)


def test_replies_and_resolution_are_stored_as_hit_or_missed_and_reported(
    app, client, account, agent, run_jobs
):
    made = policy(
        client,
        account,
        targets={"none": {"first_response": 60, "next_response": 30, "resolution": 240}},
    ).json
    channel_id, contact_id = desk(client, account)
    quick = conversation(client, account, channel_id, contact_id)
    late = conversation(client, account, channel_id, contact_id)
    backdate(app, account, late, utcnow() - timedelta(hours=2))
    settle(app, run_jobs)
    assert target(sla_of(client, agent, late), "first_response")["status"] == "missed"
    assert ("sla.breached", "first_response") in sla_events(app, account, late)

    message(client, agent, quick, "inbound")
    message(client, agent, quick, "outbound", private=True)  # a note answers nobody
    settle(app, run_jobs)
    assert target(sla_of(client, agent, quick), "first_response")["status"] == "pending"
    message(client, agent, quick, "outbound")
    message(client, agent, late, "outbound")
    settle(app, run_jobs)
    state = sla_of(client, agent, quick)
    assert target(state, "first_response")["status"] == "hit"
    assert target(state, "first_response")["completed_at"] is not None
    assert [row["target"] for row in state["targets"]] == ["first_response", "resolution"]
    late_first = target(sla_of(client, agent, late), "first_response")
    assert late_first["status"] == "missed" and late_first["completed_at"] is not None

    message(client, agent, quick, "inbound")  # the customer writes again: a next response
    settle(app, run_jobs)
    waiting = target(sla_of(client, agent, quick), "next_response")
    assert waiting["status"] == "pending"
    assert at(waiting["due_at"]) - at(waiting["started_at"]) == timedelta(minutes=30)
    message(client, agent, quick, "outbound")
    set_status(client, agent, quick, "resolved")
    settle(app, run_jobs)
    state = sla_of(client, agent, quick)
    assert [(row["target"], row["status"]) for row in state["targets"]] == [
        ("first_response", "hit"),
        ("resolution", "hit"),
        ("next_response", "hit"),
    ]
    assert pending_timer(app, account, quick) is None

    totals = client.get(account.url("/sla/report"), headers=agent.headers)
    assert totals.status_code == 200, totals.json
    (row,) = totals.json["items"]
    assert row["policy_id"] == made["id"]
    assert row["targets"]["first_response"] == {
        "total": 2,
        "hit": 1,
        "missed": 1,
        "pending": 0,
        "hit_rate": 0.5,
    }
    assert row["targets"]["next_response"]["hit_rate"] == 1.0
    assert row["targets"]["resolution"] == {
        "total": 2,
        "hit": 1,
        "missed": 0,
        "pending": 1,
        "hit_rate": 1.0,
    }
    window = client.get(
        account.url("/sla/report"),
        query_string={
            "from": (utcnow() - timedelta(minutes=30)).isoformat(),
            "policy_id": made["id"],
        },
        headers=account.headers,
    ).json["items"][0]["targets"]
    assert window["first_response"]["total"] == 1  # the late one started two hours ago
    future = client.get(
        account.url("/sla/report"),
        query_string={"from": "2030-01-01T00:00:00Z"},
        headers=account.headers,
    ).json["items"][0]["targets"]
    assert future["resolution"] == {
        "total": 0,
        "hit": 0,
        "missed": 0,
        "pending": 0,
        "hit_rate": None,
    }


def test_resolution_pauses_while_pending_and_keeps_its_remaining_time(
    app, client, account, run_jobs
):
    policy(client, account, targets={"none": {"resolution": 600}})
    channel_id, contact_id = desk(client, account)
    conversation_id = conversation(client, account, channel_id, contact_id)
    backdate(app, account, conversation_id, utcnow() - timedelta(minutes=100))
    settle(app, run_jobs)
    set_status(client, account, conversation_id, "pending")
    settle(app, run_jobs)
    paused = target(sla_of(client, account, conversation_id), "resolution")
    assert paused["paused"] is True and paused["due_at"] is None
    assert pending_timer(app, account, conversation_id) is None
    set_status(client, account, conversation_id, "open")
    settle(app, run_jobs)
    running = target(sla_of(client, account, conversation_id), "resolution")
    assert running["paused"] is False
    left = at(running["due_at"]) - utcnow()
    # About 500 of the 600 minutes remain: the pause did not eat into them.
    assert timedelta(minutes=495) < left <= timedelta(minutes=500)


def test_priority_changes_move_a_conversation_between_policies(app, client, account, run_jobs):
    urgent = policy(
        client,
        account,
        name="Urgent",
        position=0,
        targets={"urgent": {"first_response": 15}},
        conditions={"priorities": ["urgent"]},
    ).json
    rest = policy(
        client,
        account,
        name="Rest",
        position=1,
        targets={p: {"first_response": 240} for p in ("low", "urgent")},
    ).json
    channel_id, contact_id = desk(client, account)
    conversation_id = conversation(client, account, channel_id, contact_id, priority="low")
    settle(app, run_jobs)
    state = sla_of(client, account, conversation_id)
    assert state["policy_id"] == rest["id"] and state["explicit"] is False
    first = target(state, "first_response")
    assert at(first["due_at"]) - at(first["started_at"]) == timedelta(minutes=240)

    client.patch(
        account.url(f"/conversations/{conversation_id}"),
        json={"priority": "urgent"},
        headers=account.headers,
    )
    settle(app, run_jobs)
    state = sla_of(client, account, conversation_id)
    assert state["policy_id"] == urgent["id"]
    first = target(state, "first_response")
    assert first["policy_id"] == urgent["id"]
    assert at(first["due_at"]) - at(first["started_at"]) == timedelta(minutes=15)
    assert pending_timer(app, account, conversation_id) == at(first["due_at"])

    client.patch(
        account.url(f"/conversations/{conversation_id}"),
        json={"priority": "medium"},
        headers=account.headers,
    )
    settle(app, run_jobs)
    state = sla_of(client, account, conversation_id)
    # Still the catch-all policy, which promises nothing at this priority: dropped.
    assert state["policy_id"] == rest["id"] and state["targets"] == []
    assert pending_timer(app, account, conversation_id) is None


def test_a_policy_applied_by_hand_wins_over_conditions(app, client, account, agent, run_jobs):
    policy(client, account, name="Default", targets={"none": {"first_response": 60}})
    vip = policy(
        client,
        account,
        name="VIP",
        targets={"none": {"first_response": 5}},
        conditions={"priorities": ["urgent"]},
    ).json
    channel_id, contact_id = desk(client, account)
    conversation_id = conversation(client, account, channel_id, contact_id)
    settle(app, run_jobs)
    url = account.url(f"/conversations/{conversation_id}/sla")
    refused = client.post(url, json={"policy_id": vip["id"]}, headers=agent.headers)
    assert refused.status_code == 403 and refused.json["errors"]["permission"] == ["sla:manage"]
    applied = client.post(url, json={"policy_id": vip["id"]}, headers=account.headers)
    assert applied.status_code == 200, applied.json
    assert applied.json["policy_id"] == vip["id"] and applied.json["explicit"] is True
    first = target(applied.json, "first_response")
    assert at(first["due_at"]) - at(first["started_at"]) == timedelta(minutes=5)
    settle(app, run_jobs)
    assert sla_of(client, agent, conversation_id)["policy_id"] == vip["id"]

    none = client.post(url, json={"policy_id": None}, headers=account.headers)
    assert none.status_code == 200 and none.json["policy_id"] is None
    assert none.json["targets"] == []
    client.patch(
        account.url(f"/conversations/{conversation_id}"),
        json={"subject": "Still none"},
        headers=account.headers,
    )
    settle(app, run_jobs)
    assert sla_of(client, agent, conversation_id)["targets"] == []
    disabled = policy(client, account, name="Off", enabled=False).json
    off = client.post(url, json={"policy_id": disabled["id"]}, headers=account.headers)
    assert off.status_code == 422
    unknown = client.post(url, json={"policy_id": str(uuid.uuid4())}, headers=account.headers)
    assert unknown.status_code == 422


# -- snooze ---------------------------------------------------------------------------


def test_a_snoozed_conversation_wakes_up_at_its_time(app, client, account, agent, run_jobs):
    channel_id, contact_id = desk(client, account)
    mine = conversation(client, account, channel_id, contact_id, assignee_id=agent.user_id)
    nobodys = conversation(client, account, channel_id, contact_id)
    until = utcnow() + timedelta(days=1)
    later = until + timedelta(days=1)
    set_status(client, agent, mine, "snoozed", snoozed_until=until.isoformat())
    set_status(client, agent, nobodys, "snoozed", snoozed_until=later.isoformat())
    settle(app, run_jobs)
    assert pending_timer(app, account, mine, "snooze") == until
    assert pending_timer(app, account, nobodys, "snooze") == later

    fire_at(app, until + timedelta(seconds=1))
    url = account.url("/conversations/{}")
    assert client.get(url.format(mine), headers=agent.headers).json["status"] == "assigned"
    assert client.get(url.format(nobodys), headers=agent.headers).json["status"] == "snoozed"
    fire_at(app, later + timedelta(seconds=1))
    woken = client.get(url.format(nobodys), headers=agent.headers).json
    assert woken["status"] == "open" and woken["snoozed_until"] is None
    with app.app_context():
        (event,) = db.session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.subject_id == uuid.UUID(nobodys),
                OutboxEvent.name == "conversation.status_changed",
                OutboxEvent.actor_type == "system",
            )
        )
        assert event.payload["status"] == ["snoozed", "open"]


def test_waking_by_hand_cancels_the_timer(app, client, account, run_jobs):
    channel_id, contact_id = desk(client, account)
    conversation_id = conversation(client, account, channel_id, contact_id)
    until = utcnow() + timedelta(hours=3)
    set_status(client, account, conversation_id, "snoozed", snoozed_until=until.isoformat())
    settle(app, run_jobs)
    assert pending_timer(app, account, conversation_id, "snooze") == until
    set_status(client, account, conversation_id, "pending")
    settle(app, run_jobs)
    assert pending_timer(app, account, conversation_id, "snooze") is None
    fire_at(app, until + timedelta(seconds=1))
    state = client.get(account.url(f"/conversations/{conversation_id}"), headers=account.headers)
    assert state.json["status"] == "pending"
