"""Tags: one vocabulary for conversations and contacts, tagging by name, curation, filters."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event

from tenants.db import db

from .test_conversations import count_events, events, open_conversation, setup_desk


def tag(client, member, conversation_id, *names):
    return client.post(
        member.url(f"/conversations/{conversation_id}/tags"),
        json={"tags": list(names)},
        headers=member.headers,
    )


def untag(client, member, conversation_id, reference):
    return client.delete(
        member.url(f"/conversations/{conversation_id}/tags/{reference}"), headers=member.headers
    )


def tag_contact(client, member, contact_id, *names):
    return client.post(
        member.url(f"/contacts/{contact_id}/tags"),
        json={"tags": list(names)},
        headers=member.headers,
    )


def vocabulary(client, member, **query):
    response = client.get(member.url("/tags"), query_string=query, headers=member.headers)
    assert response.status_code == 200, response.json
    return {t["name"]: t for t in response.json["items"]}


def create_tag(client, member, name, **fields):
    return client.post(member.url("/tags"), json={"name": name, **fields}, headers=member.headers)


def audit_actions(client, member, prefix="tag."):
    response = client.get(
        member.url("/audit-log"),
        query_string={"filter": f"action:startswith:{prefix}", "sort": "occurred_at"},
        headers=member.headers,
    )
    assert response.status_code == 200, response.json
    return [(e["action"], e["before"], e["after"]) for e in response.json["items"]]


class TestConversationTags:
    def test_tagging_by_name_creates_unknown_tags_and_reuses_known_ones(
        self, app, client, account, agent
    ):
        conversation = open_conversation(client, account)
        first = tag(client, agent, conversation["id"], "Billing", "  VIP  customer ")
        assert first.status_code == 200, first.json
        assert first.json["tags"] == ["Billing", "VIP customer"]
        again = tag(client, agent, conversation["id"], "billing", "vip   CUSTOMER", "refund")
        assert again.json["tags"] == ["Billing", "refund", "VIP customer"]
        known = vocabulary(client, agent)
        assert set(known) == {"Billing", "refund", "VIP customer"}
        assert known["Billing"]["conversation_count"] == 1

        added = events(app, account, "tag.added")
        assert [(e.payload["tag"], e.subject_type) for e in added] == [
            ("Billing", "conversation"),
            ("VIP customer", "conversation"),
            ("refund", "conversation"),
        ]
        assert added[0].subject_id == uuid.UUID(conversation["id"])
        assert added[0].payload["tag_id"] == known["Billing"]["id"]
        assert added[0].actor_id == uuid.UUID(agent.user_id)

    def test_adding_tags_already_carried_changes_nothing_and_announces_nothing(
        self, app, client, account
    ):
        conversation = open_conversation(client, account)
        tag(client, account, conversation["id"], "billing")
        before = count_events(app, account)
        same = tag(client, account, conversation["id"], "Billing", "BILLING")
        assert same.status_code == 200 and same.json["tags"] == ["billing"]
        assert count_events(app, account) == before

    def test_removing_by_name_or_id_and_removing_twice(self, app, client, account, agent):
        conversation = open_conversation(client, account)
        tag(client, agent, conversation["id"], "billing", "vip")
        vip_id = vocabulary(client, agent)["vip"]["id"]
        assert untag(client, agent, conversation["id"], "BILLING").status_code == 204
        assert untag(client, agent, conversation["id"], vip_id).status_code == 204
        url = account.url(f"/conversations/{conversation['id']}")
        assert client.get(url, headers=agent.headers).json["tags"] == []
        removed = events(app, account, "tag.removed")
        assert [e.payload["tag"] for e in removed] == ["billing", "vip"]
        before = count_events(app, account)
        for reference in ("billing", "never-heard-of", str(uuid.uuid4())):
            again = untag(client, agent, conversation["id"], reference)
            assert again.status_code == 404 and again.json["code"] == "tag_not_found"
        assert count_events(app, account) == before
        # The tags stay in the vocabulary, carried by nobody.
        assert vocabulary(client, agent)["billing"]["conversation_count"] == 0

    @pytest.mark.parametrize("name", ["", "   ", "a/b", "a,b", "x" * 65, "tab\x00"])
    def test_unusable_names_are_refused_and_create_nothing(self, client, account, name):
        conversation = open_conversation(client, account)
        refused = tag(client, account, conversation["id"], "fine", name)
        assert refused.status_code == 422
        assert "tags" in refused.json["errors"]
        assert vocabulary(client, account) == {}

    def test_at_least_one_name_is_needed(self, client, account):
        conversation = open_conversation(client, account)
        assert tag(client, account, conversation["id"]).status_code == 422

    def test_tagging_shows_on_the_activity_timeline(self, client, account, agent):
        conversation = open_conversation(client, account)
        tag(client, agent, conversation["id"], "billing")
        untag(client, agent, conversation["id"], "billing")
        timeline = client.get(
            account.url(f"/conversations/{conversation['id']}/activity"), headers=agent.headers
        ).json["items"]
        entries = [(e["event"], e["data"].get("tag"), e["actor"]) for e in timeline]
        actor = {"type": "user", "id": agent.user_id}
        assert entries[-2:] == [("tag.added", "billing", actor), ("tag.removed", "billing", actor)]


class TestFilters:
    def test_inbox_and_list_keep_conversations_carrying_every_tag_asked_for(self, client, account):
        channel_id, contact_id = setup_desk(client, account)
        made = {}
        for name, tags in (("both", ["billing", "vip"]), ("billing", ["billing"]), ("none", [])):
            made[name] = client.post(
                account.url("/conversations"),
                json={"channel_id": channel_id, "contact_id": contact_id, "subject": name},
                headers=account.headers,
            ).json["id"]
            if tags:
                tag(client, account, made[name], *tags)

        def listed(path, tags):
            response = client.get(
                account.url(path), query_string={"tag": tags}, headers=account.headers
            )
            assert response.status_code == 200, response.json
            return sorted(item["subject"] for item in response.json["items"])

        for path in ("/inbox", "/conversations"):
            assert listed(path, ["billing"]) == ["billing", "both"]
            assert listed(path, ["Billing", "VIP"]) == ["both"]
            assert listed(path, ["billing", "unknown"]) == []
            assert listed(path, []) == ["billing", "both", "none"]
        counts = client.get(
            account.url("/inbox"), query_string={"tag": "vip"}, headers=account.headers
        ).json["counts"]
        assert counts["all"] == 1

    def test_lists_load_every_pages_tags_in_one_query(self, app, client, account):
        channel_id, contact_id = setup_desk(client, account)

        def tagged_conversations(count):
            for _ in range(count):
                made = client.post(
                    account.url("/conversations"),
                    json={"channel_id": channel_id, "contact_id": contact_id},
                    headers=account.headers,
                ).json
                tag(client, account, made["id"], "zebra", "common")

        def listed(path):
            statements = []

            def listener(*args):
                statements.append(args[2])

            with app.app_context():
                event.listen(db.engine, "before_cursor_execute", listener)
                try:
                    response = client.get(
                        account.url(path), query_string={"per_page": 100}, headers=account.headers
                    )
                finally:
                    event.remove(db.engine, "before_cursor_execute", listener)
            assert response.status_code == 200, response.json
            return response.json["items"], [s for s in statements if "conversation_tags" in s]

        for added, total in ((2, 2), (10, 12)):
            tagged_conversations(added)
            for path in ("/conversations", "/inbox"):
                items, tag_queries = listed(path)
                assert [item["tags"] for item in items] == [["common", "zebra"]] * total
                assert len(tag_queries) == 1, (path, total)


class TestVocabulary:
    def test_admins_create_rename_and_describe_tags(self, client, account, add_member):
        admin = add_member(account.account_id, "admin")
        made = create_tag(client, admin, " Billing ", color="#AA0000", description="Money")
        assert made.status_code == 201, made.json
        assert made.json["name"] == "Billing"
        assert (made.json["conversation_count"], made.json["contact_count"]) == (0, 0)
        clash = create_tag(client, admin, "BILLING")
        assert clash.status_code == 409 and clash.json["code"] == "tag_name_taken"
        assert create_tag(client, admin, "Other", color="red").status_code == 422

        url = admin.url(f"/tags/{made.json['id']}")
        renamed = client.patch(url, json={"name": "Invoices"}, headers=admin.headers)
        assert renamed.status_code == 200 and renamed.json["name"] == "Invoices"
        create_tag(client, admin, "refunds")
        into_taken = client.patch(url, json={"name": "Refunds"}, headers=admin.headers)
        assert into_taken.status_code == 409 and into_taken.json["code"] == "tag_name_taken"
        # A rename reaches every carrier, and the old name no longer finds the tag.
        conversation = open_conversation(client, admin)
        tag(client, admin, conversation["id"], "invoices")
        client.patch(url, json={"name": "Bills"}, headers=admin.headers)
        shown = client.get(admin.url(f"/conversations/{conversation['id']}"), headers=admin.headers)
        assert shown.json["tags"] == ["Bills"]
        assert untag(client, admin, conversation["id"], "invoices").status_code == 404

        assert client.delete(url, headers=admin.headers).status_code == 204
        assert client.get(url, headers=admin.headers).json["code"] == "tag_not_found"
        shown = client.get(admin.url(f"/conversations/{conversation['id']}"), headers=admin.headers)
        assert shown.json["tags"] == []
        assert [action for action, _, _ in audit_actions(client, account)] == [
            "tag.created",
            "tag.updated",
            "tag.created",
            "tag.updated",
            "tag.deleted",
        ]

    def test_listing_counts_usage_and_filters_by_prefix(self, client, account):
        first, second = open_conversation(client, account), open_conversation(client, account)
        tag(client, account, first["id"], "billing", "bug")
        tag(client, account, second["id"], "Billing")
        tag_contact(client, account, first["contact_id"], "billing", "vip")
        known = vocabulary(client, account)
        assert {n: (t["conversation_count"], t["contact_count"]) for n, t in known.items()} == {
            "billing": (2, 1),
            "bug": (1, 0),
            "vip": (0, 1),
        }
        assert sorted(vocabulary(client, account, prefix="BI")) == ["billing"]
        assert sorted(vocabulary(client, account, prefix="b")) == ["billing", "bug"]
        assert vocabulary(client, account, prefix="%") == {}
        one = client.get(account.url(f"/tags/{known['billing']['id']}"), headers=account.headers)
        assert (one.json["conversation_count"], one.json["contact_count"]) == (2, 1)
        page = client.get(
            account.url("/tags"),
            query_string={"sort": "-name", "per_page": 2},
            headers=account.headers,
        ).json
        assert [t["name"] for t in page["items"]] == ["vip", "bug"]
        assert page["meta"]["total"] == 3

    def test_merging_moves_every_carrier_and_collapses_duplicates(self, app, client, account):
        first, second = open_conversation(client, account), open_conversation(client, account)
        tag(client, account, first["id"], "bill")
        tag(client, account, second["id"], "bill", "billing")
        tag_contact(client, account, first["contact_id"], "bill", "billing")
        tag_contact(client, account, second["contact_id"], "Bill")
        known = vocabulary(client, account)
        source, target = known["bill"]["id"], known["billing"]["id"]
        merged = client.post(
            account.url(f"/tags/{source}/merge"), json={"into": target}, headers=account.headers
        )
        assert merged.status_code == 200, merged.json
        assert merged.json["name"] == "billing"
        assert (merged.json["conversation_count"], merged.json["contact_count"]) == (2, 2)
        for conversation in (first, second):
            shown = client.get(
                account.url(f"/conversations/{conversation['id']}"), headers=account.headers
            )
            assert shown.json["tags"] == ["billing"]
        for contact_id in (first["contact_id"], second["contact_id"]):
            shown = client.get(account.url(f"/contacts/{contact_id}/tags"), headers=account.headers)
            assert shown.json["tags"] == ["billing"]
        assert (
            client.get(account.url(f"/tags/{source}"), headers=account.headers).status_code == 404
        )
        assert audit_actions(client, account)[-1] == (
            "tag.merged",
            {"name": "bill", "color": None, "description": None},
            {"merged_into": target},
        )

        for body in ({"into": target}, {"into": str(uuid.uuid4())}):
            refused = client.post(
                account.url(f"/tags/{target}/merge"), json=body, headers=account.headers
            )
            assert refused.status_code == 422 and "into" in refused.json["errors"]

    def test_agents_read_and_use_tags_but_may_not_curate_them(self, client, account, agent):
        made = create_tag(client, account, "billing").json
        assert "billing" in vocabulary(client, agent)
        calls = [
            ("post", "/tags", {"name": "mine"}),
            ("patch", f"/tags/{made['id']}", {"name": "renamed"}),
            ("delete", f"/tags/{made['id']}", None),
            ("post", f"/tags/{made['id']}/merge", {"into": made["id"]}),
        ]
        for method, path, body in calls:
            kwargs = {"json": body} if body is not None else {}
            refused = getattr(client, method)(agent.url(path), headers=agent.headers, **kwargs)
            assert refused.status_code == 403, (method, path)
            assert refused.json["errors"]["permission"] == ["tags:manage"]
        assert sorted(vocabulary(client, agent)) == ["billing"]

    def test_a_role_without_the_permissions_is_refused(self, client, account, add_member):
        role = client.post(
            account.url("/roles"),
            json={"name": "Auditor", "permissions": ["audit:read"]},
            headers=account.headers,
        ).json
        auditor = add_member(account.account_id, "auditor", custom_role_id=role["id"])
        conversation = open_conversation(client, account)
        made = create_tag(client, account, "billing").json
        for method, path, body, needed in (
            ("get", "/tags", None, "conversations:read"),
            ("get", f"/tags/{made['id']}", None, "conversations:read"),
            ("post", f"/conversations/{conversation['id']}/tags", {"tags": ["x"]}, None),
            ("delete", f"/conversations/{conversation['id']}/tags/billing", None, None),
            ("get", f"/contacts/{conversation['contact_id']}/tags", None, "contacts:read"),
            ("post", f"/contacts/{conversation['contact_id']}/tags", {"tags": ["x"]}, None),
        ):
            kwargs = {"json": body} if body is not None else {}
            refused = getattr(client, method)(auditor.url(path), headers=auditor.headers, **kwargs)
            assert refused.status_code == 403, (method, path)
            expected = needed or (
                "contacts:write" if "/contacts/" in path else "conversations:write"
            )
            assert refused.json["errors"]["permission"] == [expected]


class TestContactTags:
    def test_contacts_are_tagged_from_the_same_vocabulary(self, app, client, account, agent):
        conversation = open_conversation(client, account)
        contact_id = conversation["contact_id"]
        tagged = tag_contact(client, agent, contact_id, "VIP", "churn risk")
        assert tagged.status_code == 200 and tagged.json["tags"] == ["churn risk", "VIP"]
        tag(client, agent, conversation["id"], "vip")
        assert vocabulary(client, agent)["VIP"]["conversation_count"] == 1
        before = count_events(app, account)
        assert tag_contact(client, agent, contact_id, "vip").json["tags"] == ["churn risk", "VIP"]
        assert count_events(app, account) == before

        url = agent.url(f"/contacts/{contact_id}/tags")
        assert client.delete(f"{url}/Churn%20Risk", headers=agent.headers).status_code == 204
        assert client.get(url, headers=agent.headers).json["tags"] == ["VIP"]
        missing = client.delete(f"{url}/churn%20risk", headers=agent.headers)
        assert missing.status_code == 404 and missing.json["code"] == "tag_not_found"

        contact_events = [
            (e.name, e.payload["tag"], str(e.subject_id))
            for e in events(app, account)
            if e.subject_type == "contact" and e.name.startswith("tag.")
        ]
        assert contact_events == [
            ("tag.added", "churn risk", contact_id),
            ("tag.added", "VIP", contact_id),
            ("tag.removed", "churn risk", contact_id),
        ]

    def test_each_tag_change_of_a_contact_is_in_its_audit_log(
        self, client, account, agent, other_account
    ):
        contact_id = open_conversation(client, account)["contact_id"]
        tag_contact(client, agent, contact_id, "VIP", "churn risk")
        tag_contact(client, agent, contact_id, "vip")  # carried already: no change, no entry
        url = agent.url(f"/contacts/{contact_id}/tags/churn%20risk")
        assert client.delete(url, headers=agent.headers).status_code == 204

        log = client.get(
            account.url("/audit-log"),
            query_string={"filter": f"target_id:eq:{contact_id}", "sort": "occurred_at"},
            headers=account.headers,
        ).json["items"]
        changes = [
            (e["action"], e["before"], e["after"], e["actor_id"])
            for e in log
            if e["action"] in ("contact.tagged", "contact.untagged")
        ]
        assert changes == [
            ("contact.tagged", None, {"tags": ["churn risk"]}, agent.user_id),
            ("contact.tagged", None, {"tags": ["VIP"]}, agent.user_id),
            ("contact.untagged", {"tags": ["churn risk"]}, None, agent.user_id),
        ]
        theirs = client.get(
            other_account.url("/audit-log"),
            query_string={"filter": f"target_id:eq:{contact_id}"},
            headers=other_account.headers,
        ).json["items"]
        assert theirs == []

    def test_deleting_a_contact_drops_its_tags(self, client, account):
        contact = client.post(
            account.url("/contacts"), json={"name": "Ada"}, headers=account.headers
        ).json
        tag_contact(client, account, contact["id"], "vip")
        assert vocabulary(client, account)["vip"]["contact_count"] == 1
        deleted = client.delete(account.url(f"/contacts/{contact['id']}"), headers=account.headers)
        assert deleted.status_code == 204
        assert vocabulary(client, account)["vip"]["contact_count"] == 0


class TestIsolation:
    @pytest.fixture
    def theirs(self, client, other_account):
        conversation = open_conversation(client, other_account)
        tag(client, other_account, conversation["id"], "billing")
        tag_contact(client, other_account, conversation["contact_id"], "billing")
        tags = vocabulary(client, other_account)
        return {"conversation": conversation, "tag": tags["billing"]}

    @pytest.mark.parametrize("who", ["account", "agent"])
    def test_their_tags_conversations_and_contacts_are_unknown_here(
        self, request, app, client, theirs, other_account, who
    ):
        me = request.getfixturevalue(who)
        before = count_events(app, other_account)
        conversation_id = theirs["conversation"]["id"]
        contact_id = theirs["conversation"]["contact_id"]
        calls = [
            ("get", "/tags/{tag}", None),
            ("post", f"/conversations/{conversation_id}/tags", {"tags": ["x"]}),
            ("delete", f"/conversations/{conversation_id}/tags/billing", None),
            ("get", f"/contacts/{contact_id}/tags", None),
            ("post", f"/contacts/{contact_id}/tags", {"tags": ["x"]}),
            ("delete", f"/contacts/{contact_id}/tags/billing", None),
        ]
        if who == "account":
            calls += [
                ("patch", "/tags/{tag}", {"name": "stolen"}),
                ("delete", "/tags/{tag}", None),
                ("post", "/tags/{tag}/merge", {"into": theirs["tag"]["id"]}),
            ]
        for method, path, body in calls:
            answers = []
            for ids in ((theirs["tag"]["id"], conversation_id, contact_id), None):
                concrete = path.format(tag=theirs["tag"]["id"])
                if ids is None:  # the same call with ids nobody has
                    concrete = concrete.replace(conversation_id, str(uuid.uuid4()))
                    concrete = concrete.replace(contact_id, str(uuid.uuid4()))
                    concrete = concrete.replace(theirs["tag"]["id"], str(uuid.uuid4()))
                kwargs = {"json": body} if body is not None else {}
                response = getattr(client, method)(me.url(concrete), headers=me.headers, **kwargs)
                answers.append(
                    (
                        response.status_code,
                        {k: v for k, v in response.json.items() if k != "request_id"},
                    )
                )
            assert answers[0] == answers[1], (method, path)
            assert answers[0][0] == 404, (method, path)
        assert count_events(app, other_account) == before
        assert vocabulary(client, me) == {}
        still = vocabulary(client, other_account)["billing"]
        assert (still["name"], still["conversation_count"], still["contact_count"]) == (
            "billing",
            1,
            1,
        )

    def test_the_same_name_is_a_different_tag_in_each_account(
        self, client, account, theirs, other_account
    ):
        mine = open_conversation(client, account)
        assert tag(client, account, mine["id"], "Billing").json["tags"] == ["Billing"]
        my_tag = vocabulary(client, account)["Billing"]
        assert my_tag["id"] != theirs["tag"]["id"]
        merge_across = client.post(
            account.url(f"/tags/{my_tag['id']}/merge"),
            json={"into": theirs["tag"]["id"]},
            headers=account.headers,
        )
        assert merge_across.status_code == 422 and "into" in merge_across.json["errors"]
        listed = client.get(
            account.url("/conversations"), query_string={"tag": "billing"}, headers=account.headers
        ).json
        assert [c["id"] for c in listed["items"]] == [mine["id"]]
