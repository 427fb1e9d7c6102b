"""The dashboard: the inbox's tab counts, SLA risk, contacts and members online, per caller
and per account."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update

from helpdesk import presence
from helpdesk.sla.models import SlaTarget
from tenants.db import utcnow
from tenants.registry import registry
from tenants.session import tenant_session

from .test_conversations import set_status, setup_desk
from .test_inbox import assign, inbox, make, staffed_desk
from .test_sla import backdate, policy

ACTIVE = ["open", "assigned", "pending"]


def dashboard(client, member):
    response = client.get(member.url("/dashboard"), headers=member.headers)
    assert response.status_code == 200, response.json
    return response.json


def figures(client, member):
    """The dashboard's inbox figures, named as the inbox's tabs."""
    seen = dashboard(client, member)["conversations"]
    return {"all": seen["open"], "unassigned": seen["unassigned"], "mine": seen["mine"]}


def tabs(client, member):
    """What the inbox itself counts for ``member`` under the active statuses."""
    counts = inbox(client, member, status=ACTIVE)["counts"]
    return {tab: counts[tab] for tab in ("all", "unassigned", "mine")}


def at_risk(client, member):
    return dashboard(client, member)["conversations"]["sla_at_risk"]


def moved(client, member, conversation_id, status):
    response = set_status(client, member, {"id": conversation_id}, status)
    assert response.status_code == 200, response.json


def custom_member(client, owner, add_member, name, permissions):
    role = client.post(
        owner.url("/roles"), json={"name": name, "permissions": permissions}, headers=owner.headers
    )
    assert role.status_code == 201, role.json
    return add_member(owner.account_id, name.lower(), custom_role_id=role.json["id"])


def tenant(member):
    return tenant_session(registry().get(uuid.UUID(member.account_id)))


def test_conversation_figures_are_the_inbox_tabs_without_snoozed_or_finished(
    client, account, agent, other_account
):
    worked, contact_id = staffed_desk(client, account, agent)  # in the agent's reach
    elsewhere, _ = setup_desk(client, account)  # not in it
    make(client, account, worked, contact_id)
    make(client, account, worked, contact_id, assignee_id=agent.user_id)
    moved(client, account, make(client, account, worked, contact_id), "pending")
    moved(client, account, make(client, account, worked, contact_id), "snoozed")
    moved(client, account, make(client, account, worked, contact_id), "resolved")
    make(client, account, elsewhere, contact_id)
    make(client, account, elsewhere, contact_id, assignee_id=account.user_id)
    moved(client, account, make(client, account, elsewhere, contact_id), "snoozed")
    theirs, their_contact = setup_desk(client, other_account)
    for _ in range(3):
        make(client, other_account, theirs, their_contact, assignee_id=other_account.user_id)

    # The owner reads all: both channels; the agent only the inbox they work.
    assert figures(client, account) == tabs(client, account)
    assert figures(client, account) == {"all": 5, "unassigned": 3, "mine": 1}
    assert figures(client, agent) == tabs(client, agent)
    assert figures(client, agent) == {"all": 3, "unassigned": 3, "mine": 1}
    # Another account's conversations are theirs alone, and theirs are not ours.
    assert figures(client, other_account) == {"all": 3, "unassigned": 0, "mine": 3}

    # Figures follow the conversations as the inbox does.
    assign(client, account, make(client, account, worked, contact_id), agent.user_id)
    assert figures(client, agent) == tabs(client, agent) == {"all": 4, "unassigned": 3, "mine": 2}


def test_sla_at_risk_counts_pending_targets_past_their_warning_or_deadline(
    app, client, account, agent, other_account, settle
):
    sla = {"targets": {"none": {"first_response": 60}}, "warning": {"minutes_before": 30}}
    assert policy(client, account, **sla).status_code == 201
    assert policy(client, other_account, **sla).status_code == 201
    worked, contact_id = staffed_desk(client, account, agent)
    elsewhere, _ = setup_desk(client, account)
    theirs, their_contact = setup_desk(client, other_account)

    def opened(member, channel_id, contact, minutes_ago=0):
        conversation_id = make(client, member, channel_id, contact)
        if minutes_ago:
            backdate(app, member, conversation_id, utcnow() - timedelta(minutes=minutes_ago))
        return conversation_id

    warned = opened(account, worked, contact_id, minutes_ago=45)  # warns at 30, due at 60
    overdue = opened(account, worked, contact_id)
    opened(account, worked, contact_id)  # fresh: neither warned nor due
    met = opened(account, worked, contact_id, minutes_ago=45)
    snoozed = opened(account, worked, contact_id, minutes_ago=45)
    resolved = opened(account, worked, contact_id, minutes_ago=45)
    opened(account, worked, contact_id, minutes_ago=120)  # breached: missed, still unanswered
    out_of_reach = opened(account, elsewhere, contact_id, minutes_ago=45)
    opened(other_account, theirs, their_contact, minutes_ago=45)
    settle()
    reply = client.post(
        account.url(f"/conversations/{met}/messages"),
        json={"direction": "outbound", "sender_type": "agent", "body": "On it"},
        headers=account.headers,
    )
    assert reply.status_code == 201, reply.json
    moved(client, account, snoozed, "snoozed")  # snoozing keeps the clock running
    settle()
    # Deadline passed, its timer not fired yet: still pending, and overdue.
    with app.app_context(), tenant(account) as session:
        session.execute(
            update(SlaTarget)
            .where(SlaTarget.conversation_id == uuid.UUID(overdue))
            .values(due_at=utcnow() - timedelta(minutes=1), warn_at=None)
        )
    # Resolved before the consumers run: its target is still pending, the status rules it out.
    moved(client, account, resolved, "resolved")

    with app.app_context(), tenant(account) as session:
        first_response = dict(
            session.execute(select(SlaTarget.conversation_id, SlaTarget.status)).all()
        )
    warned_ones = (warned, snoozed, resolved, out_of_reach)
    assert {first_response[uuid.UUID(c)] for c in warned_ones} == {"pending"}
    assert first_response[uuid.UUID(met)] == "hit"
    assert list(first_response.values()).count("missed") == 1

    # warned, overdue, breached, and the one out of the agent's reach
    assert at_risk(client, account) == 4
    assert at_risk(client, agent) == 3  # warned, overdue and breached
    assert at_risk(client, other_account) == 1


def test_contacts_are_the_live_ones_and_only_for_readers_of_contacts(
    client, account, agent, other_account, add_member
):
    def create(member, name):
        response = client.post(member.url("/contacts"), json={"name": name}, headers=member.headers)
        assert response.status_code == 201, response.json
        return response.json["id"]

    assert dashboard(client, account)["contacts"] == 0
    create(account, "Ada")
    gone = create(account, "Grace")
    create(agent, "Linus")
    for name in ("Secret", "Hidden"):
        create(other_account, name)
    assert dashboard(client, account)["contacts"] == 3
    deleted = client.delete(account.url(f"/contacts/{gone}"), headers=account.headers)
    assert deleted.status_code == 204
    assert dashboard(client, account)["contacts"] == 2
    assert dashboard(client, agent)["contacts"] == 2
    assert dashboard(client, other_account)["contacts"] == 2

    reader = custom_member(client, account, add_member, "Triage", ["conversations:read"])
    seen = dashboard(client, reader)
    assert seen["contacts"] is None
    assert seen["members"]["total"] == 3  # the rest is theirs to see


def test_members_online_follow_availability_and_presence(
    app, client, account, agent, other_account, add_member
):
    colleague = add_member(account.account_id, "agent")
    outsider = add_member(other_account.account_id, "agent")

    def available(member, status):
        response = client.put(
            member.url("/agents/me/availability"), json={"status": status}, headers=member.headers
        )
        assert response.status_code == 200, response.json

    def online_in_agents_list(member):
        listed = client.get(member.url("/agents"), headers=member.headers).json["items"]
        return sum(1 for row in listed if row["status"] == "online")

    assert dashboard(client, account)["members"] == {"total": 3, "online": 0}
    available(agent, "online")
    available(outsider, "online")  # online in the other account only
    assert dashboard(client, agent)["members"] == {"total": 3, "online": 1}
    assert dashboard(client, other_account)["members"] == {"total": 2, "online": 1}

    # A console tab connecting is how agents usually come online.
    with app.app_context():
        status = presence.arrive(
            registry().get(uuid.UUID(account.account_id)),
            sid=f"tab-{uuid.uuid4().hex}",
            user_id=uuid.UUID(colleague.user_id),
            read_all=False,
        )
    assert status == "online"
    assert dashboard(client, account)["members"] == {"total": 3, "online": 2}

    available(agent, "away")  # away is not online
    assert dashboard(client, account)["members"] == {"total": 3, "online": 1}
    assert dashboard(client, account)["members"]["online"] == online_in_agents_list(account)


def test_callers_without_conversations_read_or_membership_are_refused(
    client, account, other_account, add_member
):
    bookkeeper = custom_member(client, account, add_member, "Bookkeeper", ["contacts:read"])
    refused = client.get(bookkeeper.url("/dashboard"), headers=bookkeeper.headers)
    assert refused.status_code == 403
    assert refused.json["errors"]["permission"] == ["conversations:read"]

    foreign = client.get(other_account.url("/dashboard"), headers=account.headers)
    assert foreign.status_code == 404
    assert foreign.json["code"] == "account_not_found"
