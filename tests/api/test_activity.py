"""A conversation's activity timeline over the API, and custom attributes (which land on it)."""

from __future__ import annotations

import uuid

import pytest

from .test_conversations import count_events, events, open_conversation, set_status


def activity(client, member, conversation_id, headers=None, **query):
    response = client.get(
        member.url(f"/conversations/{conversation_id}/activity"),
        query_string=query,
        headers=headers or member.headers,
    )
    assert response.status_code == 200, response.json
    return response.json


def patch(client, member, conversation, **body):
    return client.patch(
        member.url(f"/conversations/{conversation['id']}"), json=body, headers=member.headers
    )


def test_the_timeline_lists_each_change_oldest_first_with_its_actor(client, account, agent):
    conversation = open_conversation(client, account)
    cid = conversation["id"]
    client.post(
        account.url(f"/conversations/{cid}/assign"),
        json={"assignee_id": agent.user_id},
        headers=account.headers,
    )
    set_status(client, agent, conversation, "pending")
    patch(client, agent, conversation, priority="high")

    page = activity(client, agent, cid)
    assert page["has_more"] is False
    owner = {"type": "user", "id": account.user_id}
    by_agent = {"type": "user", "id": agent.user_id}
    assert [(e["event"], e["actor"], e["data"]) for e in page["items"]] == [
        ("conversation.created", owner, page["items"][0]["data"]),
        ("conversation.assigned", owner, {"assignee_id": [None, agent.user_id]}),
        ("conversation.status_changed", owner, {"status": ["open", "assigned"]}),
        ("conversation.status_changed", by_agent, {"status": ["assigned", "pending"]}),
        ("conversation.updated", by_agent, {"priority": ["none", "high"]}),
    ]
    assert page["items"][0]["data"]["status"] == [None, "open"]
    assert all(uuid.UUID(e["id"]) and e["created_at"] for e in page["items"])


def test_the_timeline_pages_by_cursor(client, account):
    conversation = open_conversation(client, account)
    for priority in ("low", "medium", "high", "urgent"):
        patch(client, account, conversation, priority=priority)
    everything = [e["id"] for e in activity(client, account, conversation["id"])["items"]]
    assert len(everything) == 5

    first = activity(client, account, conversation["id"], limit=2)
    assert ([e["id"] for e in first["items"]], first["has_more"]) == (everything[:2], True)
    rest = activity(client, account, conversation["id"], limit=2, after=everything[1])
    assert ([e["id"] for e in rest["items"]], rest["has_more"]) == (everything[2:4], True)
    last = activity(client, account, conversation["id"], limit=2, after=everything[3])
    assert ([e["id"] for e in last["items"]], last["has_more"]) == (everything[4:], False)
    for limit in (0, 101):
        refused = client.get(
            account.url(f"/conversations/{conversation['id']}/activity"),
            query_string={"limit": limit},
            headers=account.headers,
        )
        assert refused.status_code == 422 and "limit" in refused.json["errors"]
    other = open_conversation(client, account)
    for cursor in (everything[0], str(uuid.uuid4())):
        foreign = client.get(
            account.url(f"/conversations/{other['id']}/activity"),
            query_string={"after": cursor},
            headers=account.headers,
        )
        assert foreign.status_code == 422 and "after" in foreign.json["errors"]


def test_changes_through_an_api_token_name_the_token(client, account, verify_email):
    verify_email(account)
    token = client.post(
        account.url("/api-tokens"),
        json={"name": "CRM sync", "scopes": ["conversations:read", "conversations:write"]},
        headers=account.headers,
    ).json
    conversation = open_conversation(client, account)
    bearer = {"Authorization": f"Bearer {token['token']}"}
    changed = client.patch(
        account.url(f"/conversations/{conversation['id']}"),
        json={"subject": "Synced"},
        headers=bearer,
    )
    assert changed.status_code == 200, changed.json
    entry = activity(client, account, conversation["id"], headers=bearer)["items"][-1]
    assert entry["event"] == "conversation.updated"
    assert entry["actor"] == {"type": "api_token", "id": token["id"]}


class TestCustomAttributes:
    def test_patch_merges_key_by_key_and_null_removes(self, app, client, account, agent):
        conversation = open_conversation(client, account)
        assert conversation["custom_attributes"] == {}
        first = patch(
            client, agent, conversation, custom_attributes={"plan": "pro", "seats": 5, "beta": True}
        )
        assert first.status_code == 200, first.json
        assert first.json["custom_attributes"] == {"plan": "pro", "seats": 5, "beta": True}
        second = patch(
            client,
            agent,
            conversation,
            custom_attributes={"seats": 7, "beta": None, "regions": ["eu", "us"], "plan": "pro"},
            subject="Upgrade",
        )
        assert second.json["custom_attributes"] == {
            "plan": "pro",
            "seats": 7,
            "regions": ["eu", "us"],
        }
        assert second.json["subject"] == "Upgrade"

        updated = [e.payload for e in events(app, account, "conversation.updated")]
        assert updated == [
            {
                "custom_attributes": [
                    {"plan": None, "seats": None, "beta": None},
                    first.json["custom_attributes"],
                ]
            },
            {
                "subject": ["Help", "Upgrade"],
                "custom_attributes": [
                    {"seats": 5, "beta": True, "regions": None},
                    {"seats": 7, "beta": None, "regions": ["eu", "us"]},
                ],
            },
        ]
        entry = activity(client, agent, conversation["id"])["items"][-1]
        assert entry["data"] == updated[-1]

        before = count_events(app, account)
        same = patch(client, agent, conversation, custom_attributes={"seats": 7, "gone": None})
        assert same.status_code == 200
        assert count_events(app, account) == before

    @pytest.mark.parametrize(
        "attributes",
        [
            {"Plan": "pro"},
            {"has-dash": 1},
            {"x" * 65: 1},
            {"nested": {"a": 1}},
            {"deep": [["a"]]},
            {"mixed": ["a", {"b": 1}]},
            {"nulls": [None]},
            {f"k{i}": i for i in range(51)},
        ],
    )
    def test_unusable_attributes_are_refused_and_change_nothing(
        self, app, client, account, attributes
    ):
        conversation = open_conversation(client, account)
        patch(client, account, conversation, custom_attributes={"keep": "me"})
        before = count_events(app, account)
        refused = patch(client, account, conversation, custom_attributes=attributes, subject="x")
        assert refused.status_code == 422
        assert "custom_attributes" in refused.json["errors"]
        assert count_events(app, account) == before
        shown = client.get(
            account.url(f"/conversations/{conversation['id']}"), headers=account.headers
        ).json
        assert (shown["custom_attributes"], shown["subject"]) == ({"keep": "me"}, "Help")

    def test_fifty_keys_fit_counting_those_already_set(self, client, account):
        conversation = open_conversation(client, account)
        keys = {f"k{i}": i for i in range(49)}
        assert patch(client, account, conversation, custom_attributes=keys).status_code == 200
        one_more = patch(client, account, conversation, custom_attributes={"last": 1})
        assert one_more.status_code == 200 and len(one_more.json["custom_attributes"]) == 50
        too_many = patch(client, account, conversation, custom_attributes={"extra": 1})
        assert too_many.status_code == 422
        swap = patch(client, account, conversation, custom_attributes={"extra": 1, "last": None})
        assert swap.status_code == 200 and "extra" in swap.json["custom_attributes"]


class TestAccess:
    @pytest.mark.parametrize("who", ["account", "agent"])
    def test_their_timeline_is_indistinguishable_from_a_missing_one(
        self, request, client, other_account, who
    ):
        me = request.getfixturevalue(who)
        theirs = open_conversation(client, other_account)
        answers = []
        for cid in (theirs["id"], uuid.uuid4()):
            response = client.get(me.url(f"/conversations/{cid}/activity"), headers=me.headers)
            answers.append(
                (
                    response.status_code,
                    {k: v for k, v in response.json.items() if k != "request_id"},
                )
            )
        assert answers[0] == answers[1]
        assert answers[0][0] == 404 and answers[0][1]["code"] == "conversation_not_found"
        # Their timeline is intact.
        assert len(activity(client, other_account, theirs["id"])["items"]) == 1

    def test_a_role_without_conversations_read_is_refused(self, client, account, add_member):
        role = client.post(
            account.url("/roles"),
            json={"name": "Reader", "permissions": ["contacts:read"]},
            headers=account.headers,
        ).json
        reader = add_member(account.account_id, "reader", custom_role_id=role["id"])
        conversation = open_conversation(client, account)
        refused = client.get(
            reader.url(f"/conversations/{conversation['id']}/activity"), headers=reader.headers
        )
        assert refused.status_code == 403
        assert refused.json["errors"]["permission"] == ["conversations:read"]
        denied = client.patch(
            reader.url(f"/conversations/{conversation['id']}"),
            json={"custom_attributes": {"a": 1}},
            headers=reader.headers,
        )
        assert denied.status_code == 403
