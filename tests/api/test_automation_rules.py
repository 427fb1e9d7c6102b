"""Automation rules over REST: checked at save time, versioned, restorable, ordered, and
invisible to every other account."""

from __future__ import annotations

import uuid

import pytest

VIP = {
    "name": "Tag VIP mail",
    "events": ["message.created"],
    "conditions": {
        "and": [
            {"==": [{"var": "message.kind"}, "inbound"]},
            {"in": ["vip", {"var": "contact.tags"}]},
        ]
    },
    "actions": [{"type": "add_tag", "params": {"tag": "vip"}}],
}
HIGH = {"type": "set_priority", "params": {"priority": "high"}}


def create(client, member, **fields):
    return client.post(
        member.url("/automation/rules"), json={**VIP, **fields}, headers=member.headers
    )


def rule_url(member, rule_id, tail=""):
    return member.url(f"/automation/rules/{rule_id}{tail}")


def refused_at(response, pointer: str) -> str:
    """The message of a 422 that names ``pointer`` as the offending part."""
    assert response.status_code == 422, response.json
    assert response.json["code"] == "validation_failed"
    assert pointer in response.json["errors"], response.json["errors"]
    return response.json["errors"][pointer][0]


def test_a_rule_is_created_as_version_one_after_the_others(client, account):
    first = create(client, account)
    assert first.status_code == 201, first.json
    rule = first.json
    assert rule["version"] == 1 and rule["enabled"] is True and rule["position"] == 0
    assert rule["conditions"] == VIP["conditions"]
    assert rule["actions"] == VIP["actions"]
    assert rule["created_by"] == account.user_id
    second = create(client, account, name="Second").json
    assert second["position"] == 1
    listed = client.get(account.url("/automation/rules"), headers=account.headers).json
    assert [r["name"] for r in listed["items"]] == ["Tag VIP mail", "Second"]
    shown = client.get(rule_url(account, rule["id"]), headers=account.headers)
    assert shown.json == rule


def test_every_edit_is_a_new_version_and_any_version_can_be_restored(client, account):
    rule = create(client, account).json
    url = rule_url(account, rule["id"])
    changed = client.patch(
        url,
        json={
            "name": "Tag VIPs",
            "actions": [{"type": "set_priority", "params": {"priority": "high"}}],
        },
        headers=account.headers,
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["version"] == 2
    same = client.patch(url, json={"name": "Tag VIPs"}, headers=account.headers)
    assert same.json["version"] == 2  # nothing changed, no new version
    versions = client.get(f"{url}/versions", headers=account.headers).json["items"]
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[1]["definition"]["name"] == "Tag VIP mail"
    assert versions[0]["definition"]["actions"][0]["type"] == "set_priority"
    restored = client.post(f"{url}/versions/1/restore", headers=account.headers)
    assert restored.status_code == 200, restored.json
    assert restored.json["version"] == 3
    assert restored.json["name"] == "Tag VIP mail"
    assert restored.json["actions"] == VIP["actions"]
    missing = client.post(f"{url}/versions/9/restore", headers=account.headers)
    assert refused_at(missing, "version")


@pytest.mark.parametrize(
    ("conditions", "pointer", "says"),
    [
        ({"==": [{"var": "conversation.stauts"}, "open"]}, "conditions/==/0/var", "stauts"),
        (
            {"and": [True, {"!": {"var": "contact.nickname"}}]},
            "conditions/and/1/!/var",
            "nickname",
        ),
        ({"missing": ["contact.email", "contact.shoe_size"]}, "conditions/missing/1", "shoe"),
    ],
)
def test_conditions_may_only_read_catalogue_fields(client, account, conditions, pointer, says):
    assert says in refused_at(create(client, account, conditions=conditions), pointer)


def test_open_ended_fields_and_per_item_reads_are_accepted(client, account):
    conditions = {
        "and": [
            {"==": [{"var": "conversation.custom_attributes.plan"}, "gold"]},
            {"some": [{"var": "contact.tags"}, {"==": [{"var": ""}, "vip"]}]},
            {"!=": [{"var": "event.changes.priority.after"}, "low"]},
        ]
    }
    made = create(client, account, conditions=conditions)
    assert made.status_code == 201, made.json


def test_conditions_that_do_not_compile_are_refused_with_their_position(client, account):
    response = create(client, account, conditions={"and": [True, {"frobnicate": [1, 2]}]})
    assert response.status_code == 422
    ((pointer, messages),) = response.json["errors"].items()
    assert pointer.startswith("conditions/and/1")
    assert "frobnicate" in messages[0]


def test_a_trigger_is_events_or_a_schedule(client, account):
    neither = create(client, account, events=[])
    assert refused_at(neither, "events")
    both = create(client, account, schedule={"type": "idle", "minutes": 30})
    assert refused_at(both, "events")
    scheduled = create(client, account, events=[], schedule={"type": "idle", "minutes": 30})
    assert scheduled.status_code == 201, scheduled.json
    assert scheduled.json["schedule"] == {"type": "idle", "minutes": 30}
    unknown = create(client, account, events=["conversation.exploded"])
    assert "conversation.exploded" in refused_at(unknown, "events")
    odd = create(client, account, events=[], schedule={"type": "hourly", "minutes": 5})
    assert refused_at(odd, "schedule")
    too_long = create(client, account, events=[], schedule={"type": "idle", "minutes": 10**7})
    assert refused_at(too_long, "schedule/minutes")


def test_action_parameters_are_checked_against_the_account(client, account, other_account):
    never = str(uuid.uuid4())
    their_team = client.post(
        other_account.url("/teams"), json={"name": "Theirs"}, headers=other_account.headers
    ).json
    cases = [
        ({"type": "assign_agent", "params": {"agent_id": other_account.user_id}}, "agent_id"),
        ({"type": "assign_team", "params": {"team_id": their_team["id"]}}, "team_id"),
        ({"type": "send_message", "params": {"template_id": never}}, "template_id"),
        ({"type": "set_priority", "params": {"priority": "critical"}}, "priority"),
        ({"type": "add_note", "params": {"body": "Hi {{ contact.shoe_size }}"}}, "body"),
        ({"type": "snooze", "params": {"minutes": 0}}, "minutes"),
        ({"type": "add_tag", "params": {"tag": "vip", "colour": "red"}}, "colour"),
        ({"type": "add_tag", "params": {}}, "tag"),
        ({"type": "add_tag", "params": {"tag": "  "}}, "tag"),
        ({"type": "send_email", "params": {"to": "ops", "subject": "S", "body": "B"}}, "to"),
        ({"type": "add_tag", "params": {"tag": "x" * 65}}, "tag"),
        ({"type": "assign_team", "params": {"team_id": "team-one"}}, "team_id"),
        ({"type": "set_custom_attribute", "params": {"key": "k", "value": [1]}}, "value"),
    ]
    for action, param in cases:
        response = create(client, account, actions=[VIP["actions"][0], action])
        assert refused_at(response, f"actions/1/params/{param}"), action
    both = create(
        client,
        account,
        actions=[{"type": "send_message", "params": {"body": "Hi", "template_id": never}}],
    )
    assert "exactly one of" in refused_at(both, "actions/0/params")
    none = create(client, account, actions=[])
    assert refused_at(none, "actions")
    unknown = create(client, account, actions=[{"type": "launch_rocket", "params": {}}])
    assert "add_tag" in refused_at(unknown, "actions/0/type")
    blank = create(client, account, name="   ")
    assert refused_at(blank, "name")


def test_valid_actions_are_kept_as_given(client, account, agent):
    team = client.post(account.url("/teams"), json={"name": "Tier 1"}, headers=account.headers)
    actions = [
        {"type": "assign_agent", "params": {"agent_id": agent.user_id}},
        {"type": "assign_agent", "params": {"strategy": "least_loaded"}},
        {"type": "assign_team", "params": {"team_id": team.json["id"]}},
        {"type": "send_message", "params": {"body": "Hello {{ contact.name }}"}},
        {"type": "snooze", "params": {}},
        {"type": "set_custom_attribute", "params": {"key": "tier", "value": 2}},
    ]
    made = create(client, account, actions=actions)
    assert made.status_code == 201, made.json
    assert made.json["actions"] == actions


def test_restoring_a_version_whose_team_is_gone_is_refused(client, account):
    team = client.post(account.url("/teams"), json={"name": "Gone"}, headers=account.headers)
    rule = create(
        client, account, actions=[{"type": "assign_team", "params": {"team_id": team.json["id"]}}]
    ).json
    url = rule_url(account, rule["id"])
    client.patch(url, json={"actions": VIP["actions"]}, headers=account.headers)
    client.delete(account.url(f"/teams/{team.json['id']}"), headers=account.headers)
    refused = client.post(f"{url}/versions/1/restore", headers=account.headers)
    assert refused_at(refused, "actions/0/params/team_id")
    assert client.get(url, headers=account.headers).json["version"] == 2


def test_the_run_order_is_set_by_naming_every_rule(client, account):
    ids = [create(client, account, name=f"R{n}").json["id"] for n in range(3)]
    order = account.url("/automation/rules/order")
    partial = client.put(order, json={"rule_ids": ids[:2]}, headers=account.headers)
    assert refused_at(partial, "rule_ids")
    repeated = client.put(
        order, json={"rule_ids": [ids[0], ids[0], ids[1]]}, headers=account.headers
    )
    assert refused_at(repeated, "rule_ids")
    moved = client.put(order, json={"rule_ids": ids[::-1]}, headers=account.headers)
    assert moved.status_code == 200, moved.json
    assert [r["name"] for r in moved.json["items"]] == ["R2", "R1", "R0"]
    listed = client.get(account.url("/automation/rules"), headers=account.headers).json["items"]
    assert [r["id"] for r in listed] == ids[::-1]
    assert [r["position"] for r in listed] == [0, 1, 2]


def test_agents_read_rules_but_only_admins_change_them(client, account, agent):
    rule = create(client, account).json
    assert client.get(rule_url(agent, rule["id"]), headers=agent.headers).status_code == 200
    refused = create(client, agent)
    assert refused.status_code == 403
    assert refused.json["errors"]["permission"] == ["automation:write"]
    patch = client.patch(
        rule_url(agent, rule["id"]), json={"enabled": False}, headers=agent.headers
    )
    assert patch.status_code == 403
    assert client.delete(rule_url(agent, rule["id"]), headers=agent.headers).status_code == 403
    restore = client.post(rule_url(agent, rule["id"], "/versions/1/restore"), headers=agent.headers)
    assert restore.status_code == 403


def test_another_account_cannot_see_or_touch_a_rule(client, account, other_account):
    rule = create(client, account).json
    never = str(uuid.uuid4())
    for rule_id in (rule["id"], never):  # theirs and one that never was answer alike
        for method, tail in (("get", ""), ("patch", ""), ("delete", ""), ("get", "/versions")):
            response = getattr(client, method)(
                rule_url(other_account, rule_id, tail),
                headers=other_account.headers,
                **({"json": {"enabled": False}} if method == "patch" else {}),
            )
            assert response.status_code == 404, (method, tail)
            assert response.json["code"] == "rule_not_found"
        restore = client.post(
            rule_url(other_account, rule_id, "/versions/1/restore"), headers=other_account.headers
        )
        assert restore.json["code"] == "rule_not_found"
    listed = client.get(other_account.url("/automation/rules"), headers=other_account.headers)
    assert listed.json["items"] == []
    order = client.put(
        other_account.url("/automation/rules/order"),
        json={"rule_ids": [rule["id"]]},
        headers=other_account.headers,
    )
    assert order.status_code == 422
    mine = client.get(rule_url(account, rule["id"]), headers=account.headers).json
    assert mine["version"] == 1 and mine["enabled"] is True


def test_deleting_a_rule_removes_it_and_its_versions(client, account):
    rule = create(client, account).json
    assert client.delete(rule_url(account, rule["id"]), headers=account.headers).status_code == 204
    gone = client.get(rule_url(account, rule["id"], "/versions"), headers=account.headers)
    assert gone.status_code == 404
    trail = client.get(
        account.url("/audit-log"),
        query_string={"filter": "action:eq:automation_rule.deleted"},
        headers=account.headers,
    )
    assert trail.status_code == 200, trail.json
    assert [e["target_id"] for e in trail.json["items"]] == [rule["id"]]


def test_the_catalogue_describes_fields_events_and_actions(client, account, agent):
    catalogue = client.get(account.url("/automation/fields"), headers=agent.headers)
    assert catalogue.status_code == 200
    body = catalogue.json
    assert body["version"] == 1
    fields = {f["name"]: f for f in body["fields"]}
    assert fields["conversation.status"]["values"] == [
        "open",
        "assigned",
        "pending",
        "snoozed",
        "resolved",
        "closed",
    ]
    assert "in" in fields["conversation.tags"]["operators"]
    assert fields["conversation.custom_attributes"]["open_ended"] is True
    assert "message.created" in body["events"] and "idle" in body["schedules"]
    actions = {a["type"]: a for a in body["actions"]}
    assert actions["assign_agent"]["one_of"] == ["agent_id", "strategy"]
    assert {"name": "tag", "required": True} in actions["add_tag"]["parameters"]
