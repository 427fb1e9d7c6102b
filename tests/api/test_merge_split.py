"""Merging conversations and splitting one: what moves, what is refused, who may."""

from __future__ import annotations

import uuid

import pytest

from .test_conversations import count_events, events, open_conversation, set_status, setup_desk


def conversation_with(client, member, channel_id, contact_id, **fields):
    body = {"channel_id": channel_id, "contact_id": contact_id, **fields}
    response = client.post(member.url("/conversations"), json=body, headers=member.headers)
    assert response.status_code == 201, response.json
    return response.json


def say(client, member, conversation, body, direction="inbound", **fields):
    sender = {"sender_type": "contact"} if direction == "inbound" else {"sender_type": "agent"}
    response = client.post(
        member.url(f"/conversations/{conversation['id']}/messages"),
        json={"direction": direction, "body": body, **sender, **fields},
        headers=member.headers,
    )
    assert response.status_code == 201, response.json
    return response.json


def bodies(client, member, conversation):
    response = client.get(
        member.url(f"/conversations/{conversation['id']}/messages"), headers=member.headers
    )
    assert response.status_code == 200, response.json
    return [m["body"] for m in response.json["items"]]


def read(client, member, conversation):
    return client.get(
        member.url(f"/conversations/{conversation['id']}"), headers=member.headers
    ).json


def timeline(client, member, conversation):
    response = client.get(
        member.url(f"/conversations/{conversation['id']}/activity"),
        query_string={"limit": 100},
        headers=member.headers,
    )
    assert response.status_code == 200, response.json
    return response.json["items"]


def merge(client, member, target, source_id, **extra):
    return client.post(
        member.url(f"/conversations/{target['id']}/merge"),
        json={"source_id": source_id, **extra},
        headers=member.headers,
    )


def split(client, member, conversation, message_id, **extra):
    return client.post(
        member.url(f"/conversations/{conversation['id']}/split"),
        json={"message_id": message_id, **extra},
        headers=member.headers,
    )


def tag(client, member, conversation, *names):
    response = client.post(
        member.url(f"/conversations/{conversation['id']}/tags"),
        json={"tags": list(names)},
        headers=member.headers,
    )
    assert response.status_code == 200, response.json


@pytest.fixture
def desk(client, account):
    return setup_desk(client, account)


class TestMerge:
    def test_messages_activity_and_tags_move_and_the_source_closes(
        self, app, client, account, agent, desk
    ):
        target = conversation_with(client, account, *desk, subject="Printer")
        source = conversation_with(client, account, *desk, subject="Printer again")
        say(client, agent, target, "t1: it jams")
        say(client, agent, source, "s1: still jams")
        say(client, agent, target, "t2: on it", direction="outbound")
        say(client, agent, source, "s2: note", direction="outbound", private=True)
        last = say(client, agent, source, "s3: hello?")
        tag(client, agent, target, "printer")
        tag(client, agent, source, "Printer", "vip")
        source_history = [e["id"] for e in timeline(client, agent, source)]

        merged = merge(client, agent, target, source["id"])
        assert merged.status_code == 200, merged.json
        assert merged.json["id"] == target["id"]
        assert merged.json["tags"] == ["printer", "vip"]
        assert bodies(client, agent, target) == [
            "t1: it jams",
            "s1: still jams",
            "t2: on it",
            "s2: note",
            "s3: hello?",
        ]
        assert bodies(client, agent, source) == []
        # The unanswered "s3" keeps the merged conversation waiting, and is its last activity.
        assert merged.json["last_activity_at"] == last["created_at"]
        assert merged.json["waiting_since"] == last["created_at"]

        closed = read(client, agent, source)
        assert (closed["status"], closed["merged_into_id"]) == ("closed", target["id"])
        assert closed["resolved_at"] is not None
        assert closed["tags"] == ["printer", "vip"]  # "Printer" was the known "printer"

        actor = {"type": "user", "id": agent.user_id}
        target_entries = timeline(client, agent, target)
        assert set(source_history) <= {e["id"] for e in target_entries}
        merged_entry = target_entries[-1]
        assert (merged_entry["event"], merged_entry["actor"]) == ("conversation.merged", actor)
        assert merged_entry["data"] == {
            "source_id": source["id"],
            "target_id": target["id"],
            "messages_moved": 3,
            "activity_moved": len(source_history),
        }
        assert [(e["event"], e["data"].get("tag")) for e in target_entries[-2:-1]] == [
            ("tag.added", "vip")
        ]
        source_entries = timeline(client, agent, source)
        assert [(e["event"], e["actor"]) for e in source_entries] == [
            ("conversation.merged", actor),
            ("conversation.status_changed", actor),
            ("conversation.status_changed", actor),
        ]
        assert source_entries[0]["data"]["merged_into_id"] == [None, target["id"]]
        assert [e["data"]["status"] for e in source_entries[1:]] == [
            ["open", "resolved"],
            ["resolved", "closed"],
        ]
        announced = events(app, account, "conversation.merged")
        assert {str(e.subject_id) for e in announced} == {target["id"], source["id"]}

    def test_a_resolved_source_closes_directly(self, client, account, desk):
        target = conversation_with(client, account, *desk)
        source = conversation_with(client, account, *desk)
        assert set_status(client, account, source, "resolved").status_code == 200
        assert merge(client, account, target, source["id"]).status_code == 200
        changes = [
            e["data"]["status"]
            for e in timeline(client, account, source)
            if e["event"] == "conversation.status_changed"
        ]
        # Its earlier "open -> resolved" moved to the target with the rest of its activity.
        assert changes == [["resolved", "closed"]]

    def test_mentions_follow_their_messages(self, client, account, agent, desk):
        target = conversation_with(client, account, *desk)
        source = conversation_with(client, account, *desk)
        say(client, account, source, "@agent look", direction="outbound", mentions=[agent.user_id])
        assert merge(client, account, target, source["id"]).status_code == 200
        mentions = client.get(
            agent.url("/inbox"),
            query_string={"tab": "mentions", "status": ["open", "closed"]},
            headers=agent.headers,
        ).json
        assert [item["id"] for item in mentions["items"]] == [target["id"]]

    def test_refusals_change_nothing(self, app, client, account, other_account, desk):
        target = conversation_with(client, account, *desk)
        source = conversation_with(client, account, *desk)
        say(client, account, source, "keep me here")
        tag(client, account, source, "vip")
        _, other_contact = setup_desk(client, account)
        stranger = conversation_with(client, account, desk[0], other_contact)
        closed = conversation_with(client, account, *desk)
        set_status(client, account, closed, "resolved")
        set_status(client, account, closed, "closed")
        absorbed, absorber = (conversation_with(client, account, *desk) for _ in range(2))
        assert merge(client, account, absorber, absorbed["id"]).status_code == 200
        theirs = open_conversation(client, other_account)
        before = (count_events(app, account), timeline(client, account, source))

        for into, source_id, code, field in (
            (target, target["id"], "merge_into_self", None),
            (target, closed["id"], "conversation_closed", "source_id"),
            (closed, source["id"], "conversation_closed", None),
            (target, absorbed["id"], "conversation_merged", "source_id"),
            (absorbed, source["id"], "conversation_merged", None),
            (target, stranger["id"], "contacts_differ", "allow_different_contacts"),
        ):
            refused = merge(client, account, into, source_id)
            assert refused.status_code == 409, (code, refused.json)
            assert refused.json["code"] == code
            assert list(refused.json.get("errors") or {}) == ([field] if field else [])
        unknown = [merge(client, account, target, sid) for sid in (theirs["id"], uuid.uuid4())]
        assert [r.status_code for r in unknown] == [422, 422]
        assert (
            unknown[0].json["errors"]
            == unknown[1].json["errors"]
            == {"source_id": ["no such conversation"]}
        )

        assert (count_events(app, account), timeline(client, account, source)) == before
        assert bodies(client, account, source) == ["keep me here"]
        assert bodies(client, account, target) == []
        assert read(client, account, source)["status"] == "open"
        assert read(client, account, target)["tags"] == []
        assert read(client, other_account, theirs)["status"] == "open"

        allowed = merge(client, account, target, stranger["id"], allow_different_contacts=True)
        assert allowed.status_code == 200
        assert read(client, account, stranger)["merged_into_id"] == target["id"]


class TestSplit:
    def test_the_message_and_every_later_one_move_to_a_new_conversation(
        self, app, client, account, agent, desk
    ):
        team = client.post(account.url("/teams"), json={"name": "L2"}, headers=account.headers)
        original = conversation_with(
            client,
            account,
            *desk,
            subject="Two problems",
            priority="high",
            team_id=team.json["id"],
            assignee_id=agent.user_id,
        )
        tag(client, agent, original, "billing", "vip")
        sent = [
            say(client, agent, original, "m0: invoice wrong"),
            say(client, agent, original, "m1: fixing", direction="outbound"),
            say(client, agent, original, "m2: also my login"),
            say(client, agent, original, "m3: internal", direction="outbound", private=True),
            say(client, agent, original, "m4: and the app"),
        ]

        response = split(client, agent, original, sent[2]["id"], subject="Login")
        assert response.status_code == 201, response.json
        new = response.json
        assert new["id"] != original["id"]
        assert (new["channel_id"], new["contact_id"]) == (desk[0], desk[1])
        assert (new["priority"], new["team_id"], new["subject"]) == (
            "high",
            team.json["id"],
            "Login",
        )
        assert (new["status"], new["assignee_id"]) == ("open", None)
        assert new["tags"] == ["billing", "vip"]
        assert bodies(client, agent, new) == [
            "m2: also my login",
            "m3: internal",
            "m4: and the app",
        ]
        assert bodies(client, agent, original) == ["m0: invoice wrong", "m1: fixing"]
        # Timestamps follow the messages: the original was answered, the new one waits.
        assert new["last_activity_at"] == sent[4]["created_at"]
        assert (new["waiting_since"], new["first_reply_at"]) == (sent[2]["created_at"], None)
        left = read(client, agent, original)
        assert left["last_activity_at"] == left["first_reply_at"] == sent[1]["created_at"]
        assert left["waiting_since"] is None
        assert (left["status"], left["assignee_id"]) == ("assigned", agent.user_id)

        payload = {
            "source_id": original["id"],
            "split_id": new["id"],
            "message_id": sent[2]["id"],
            "messages_moved": 3,
        }
        actor = {"type": "user", "id": agent.user_id}
        for conversation in (original, new):
            entry = timeline(client, agent, conversation)[-1]
            assert (entry["event"], entry["actor"], entry["data"]) == (
                "conversation.split",
                actor,
                payload,
            )
        (created,) = [
            e
            for e in events(app, account, "conversation.created")
            if str(e.subject_id) == new["id"]
        ]
        assert created.actor_id == uuid.UUID(agent.user_id)

    def test_the_subject_defaults_to_the_originals(self, client, account, desk):
        original = conversation_with(client, account, *desk, subject="Same")
        first = say(client, account, original, "first")
        second = say(client, account, original, "second")
        assert first["id"] != second["id"]
        new = split(client, account, original, second["id"]).json
        assert new["subject"] == "Same"

    def test_refusals_change_nothing(self, app, client, account, other_account, desk):
        original = conversation_with(client, account, *desk)
        first = say(client, account, original, "first")
        say(client, account, original, "second")
        elsewhere = conversation_with(client, account, *desk)
        stray = say(client, account, elsewhere, "not here")
        theirs = open_conversation(client, other_account)
        their_message = say(client, other_account, theirs, "theirs")
        before = count_events(app, account)

        for message_id in (first["id"], stray["id"], their_message["id"], str(uuid.uuid4())):
            refused = split(client, account, original, message_id)
            assert refused.status_code == 422, refused.json
            assert "message_id" in refused.json["errors"]
        assert count_events(app, account) == before
        closed = conversation_with(client, account, *desk)
        say(client, account, closed, "one")
        later = say(client, account, closed, "two")
        set_status(client, account, closed, "resolved")
        set_status(client, account, closed, "closed")
        before = count_events(app, account)
        refused = split(client, account, closed, later["id"])
        assert refused.status_code == 409 and refused.json["code"] == "conversation_closed"
        assert count_events(app, account) == before
        assert bodies(client, account, original) == ["first", "second"]
        assert bodies(client, account, closed) == ["one", "two"]
        listed = client.get(account.url("/conversations"), headers=account.headers).json
        assert listed["meta"]["total"] == 3


class TestAccess:
    @pytest.mark.parametrize("who", ["account", "agent"])
    def test_foreign_conversations_are_indistinguishable_from_missing_ones(
        self, request, app, client, other_account, who
    ):
        me = request.getfixturevalue(who)
        theirs = open_conversation(client, other_account)
        message = say(client, other_account, theirs, "theirs")
        mine = open_conversation(client, request.getfixturevalue("account"))
        before = count_events(app, other_account)
        for suffix, body in (
            ("/merge", {"source_id": mine["id"]}),
            ("/split", {"message_id": message["id"]}),
            ("/activity", None),
        ):
            answers = []
            for cid in (theirs["id"], uuid.uuid4()):
                url = me.url(f"/conversations/{cid}{suffix}")
                if body is None:
                    response = client.get(url, headers=me.headers)
                else:
                    response = client.post(url, json=body, headers=me.headers)
                answers.append(
                    (
                        response.status_code,
                        {k: v for k, v in response.json.items() if k != "request_id"},
                    )
                )
            assert answers[0] == answers[1]
            assert answers[0][0] == 404, suffix
        assert count_events(app, other_account) == before
        assert bodies(client, other_account, theirs) == ["theirs"]

    def test_a_role_without_conversation_permissions_is_refused(
        self, client, account, add_member, desk
    ):
        role = client.post(
            account.url("/roles"),
            json={"name": "Reader", "permissions": ["contacts:read"]},
            headers=account.headers,
        ).json
        reader = add_member(account.account_id, "reader", custom_role_id=role["id"])
        target = conversation_with(client, account, *desk)
        source = conversation_with(client, account, *desk)
        message = say(client, account, source, "hi")
        for response, needed in (
            (merge(client, reader, target, source["id"]), "conversations:write"),
            (split(client, reader, source, message["id"]), "conversations:write"),
            (
                client.get(
                    reader.url(f"/conversations/{target['id']}/activity"), headers=reader.headers
                ),
                "conversations:read",
            ),
        ):
            assert response.status_code == 403
            assert response.json["errors"]["permission"] == [needed]
        assert read(client, account, source)["status"] == "open"
