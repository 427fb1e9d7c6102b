"""Contacts: soft delete, restore within the retention period, purge after it, and
merging one contact into another."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from crm.models import Contact
from crm.retention import TIMER, purge_expired, retention_days
from events import timers
from events.outbox import OutboxEvent
from tenants.db import db, utcnow
from tenants.registry import registry
from tenants.session import tenant_session

from .test_contact_identity import audit_entries
from .test_custom_fields import defined
from .test_inbox import make
from .test_tags import tag_contact


def create(client, member, **fields):
    response = client.post(
        member.url("/contacts"), json={"name": "Ada", **fields}, headers=member.headers
    )
    assert response.status_code == 201, response.json
    return response.json


def delete(client, member, contact_id):
    return client.delete(member.url(f"/contacts/{contact_id}"), headers=member.headers)


def restore(client, member, contact_id):
    return client.post(member.url(f"/contacts/{contact_id}/restore"), headers=member.headers)


def merge(client, member, target_id, source_id):
    return client.post(
        member.url(f"/contacts/{target_id}/merge"),
        json={"source_id": str(source_id)},
        headers=member.headers,
    )


def listed(client, member, **query):
    response = client.get(member.url("/contacts"), query_string=query, headers=member.headers)
    assert response.status_code == 200, response.json
    return [c["id"] for c in response.json["items"]]


def age(app, member, contact_id, days):
    """Pretend the contact was deleted ``days`` ago."""
    with app.app_context(), tenant_session(registry().get(uuid.UUID(member.account_id))) as s:
        when = utcnow() - timedelta(days=days)
        s.execute(update(Contact).where(Contact.id == contact_id).values(deleted_at=when))


def events_named(app, member, name):
    with app.app_context():
        return db.session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.account_id == uuid.UUID(member.account_id), OutboxEvent.name == name)
            .order_by(OutboxEvent.id)
        ).all()


def setup_channel(client, member):
    channel = client.post(
        member.url("/channels"), json={"type": "email", "name": "Support"}, headers=member.headers
    )
    assert channel.status_code == 201, channel.json
    return channel.json["id"]


# -- soft delete and restore ----------------------------------------------------------


class TestSoftDelete:
    def test_a_deleted_contact_is_hidden_and_its_email_and_phone_are_free(self, client, account):
        gone = create(client, account, email="ada@example.com", phone="+14155550123")
        assert delete(client, account, gone["id"]).status_code == 204
        url = account.url(f"/contacts/{gone['id']}")
        missing = client.get(url, headers=account.headers)
        assert (missing.status_code, missing.json["code"]) == (404, "contact_not_found")
        assert "merged_into" not in missing.json
        assert gone["id"] not in listed(client, account)
        assert delete(client, account, gone["id"]).status_code == 404
        duplicates = client.get(
            account.url("/contacts/duplicates"),
            query_string={"email": "ada@example.com"},
            headers=account.headers,
        )
        assert duplicates.json["items"] == []
        again = create(client, account, email="ADA@example.com", phone="+1 415 555 0123")
        assert again["id"] != gone["id"]

    def test_deleted_contacts_are_listed_for_those_who_may_restore_them(
        self, client, account, agent
    ):
        kept, gone = create(client, account), create(client, account, name="Gone")
        assert delete(client, account, gone["id"]).status_code == 204
        deleted = client.get(
            account.url("/contacts"), query_string={"deleted": "true"}, headers=account.headers
        ).json["items"]
        assert [c["id"] for c in deleted] == [gone["id"]]
        assert deleted[0]["deleted_at"] is not None
        assert deleted[0]["restorable_until"] > deleted[0]["deleted_at"]
        assert listed(client, account) == [kept["id"]]
        refused = client.get(
            agent.url("/contacts"), query_string={"deleted": "true"}, headers=agent.headers
        )
        assert refused.status_code == 403
        assert refused.json["errors"] == {"permission": ["contacts:delete"]}

    def test_restoring_brings_it_back_with_an_event_and_an_audit_entry(self, client, account):
        contact = create(client, account, email="ada@example.com")
        assert delete(client, account, contact["id"]).status_code == 204
        restored = restore(client, account, contact["id"])
        assert restored.status_code == 200, restored.json
        assert restored.json["email"] == "ada@example.com"
        assert restored.json["deleted_at"] is None
        assert contact["id"] in listed(client, account)
        (event,) = events_named(client.application, account, "contact.restored")
        assert str(event.subject_id) == contact["id"]
        entries = audit_entries(client, account, contact["id"])
        assert [e["action"] for e in entries][-2:] == ["contact.deleted", "contact.restored"]
        assert entries[-1]["after"] == {"deleted_at": None}

    def test_restoring_is_refused_when_its_email_was_taken_meanwhile(self, client, account):
        contact = create(client, account, email="ada@example.com")
        assert delete(client, account, contact["id"]).status_code == 204
        taker = create(client, account, name="Ada II", email="ada@example.com")
        refused = restore(client, account, contact["id"])
        assert refused.status_code == 409
        assert refused.json["code"] == "contact_email_taken"
        assert refused.json["errors"] == {"email": ["already used by another contact"]}
        assert refused.json["duplicate_of"] == taker["id"]
        assert contact["id"] not in listed(client, account)

    def test_only_deleted_contacts_within_retention_are_restored(self, app, client, account):
        live = create(client, account)
        refused = restore(client, account, live["id"])
        assert (refused.status_code, refused.json["code"]) == (409, "contact_not_deleted")
        old = create(client, account, name="Old")
        assert delete(client, account, old["id"]).status_code == 204
        with app.app_context():
            days = retention_days()
        age(app, account, old["id"], days + 1)
        expired = restore(client, account, old["id"])
        assert (expired.status_code, expired.json["code"]) == (404, "contact_not_found")
        assert old["id"] not in [
            c for c in listed(client, account, deleted="true")
        ]  # past retention: awaiting the purge, no longer offered

    def test_contacts_past_retention_are_purged_with_their_tags(self, app, client, account):
        old, recent = create(client, account, name="Old"), create(client, account, name="New")
        assert tag_contact(client, account, old["id"], "vip").status_code == 200
        for contact in (old, recent):
            assert delete(client, account, contact["id"]).status_code == 204
        age(app, account, old["id"], 31)
        with app.app_context(), tenant_session(registry().get(uuid.UUID(account.account_id))) as s:
            assert purge_expired(s, retention_days=30) == 1
        with app.app_context(), tenant_session(registry().get(uuid.UUID(account.account_id))) as s:
            assert s.get(Contact, uuid.UUID(old["id"])) is None
            assert s.get(Contact, uuid.UUID(recent["id"])) is not None

    def test_a_timer_purges_each_deleted_contact_when_it_expires(
        self, app, client, account, settle
    ):
        first, second = create(client, account, name="First"), create(client, account, name="Next")
        assert delete(client, account, first["id"]).status_code == 204
        age(app, account, first["id"], 10)  # deleted ten days before the second
        assert delete(client, account, second["id"]).status_code == 204
        settle()
        account_id = uuid.UUID(account.account_id)

        def due_at():
            with app.app_context(), tenant_session(registry().get(account_id)) as s:
                timer = timers.pending_timer(
                    s, account_id=account_id, kind=TIMER, subject_id=account_id
                )
                return timer and timer.due_at

        def present():
            with app.app_context(), tenant_session(registry().get(account_id)) as s:
                return {
                    str(i)
                    for i in s.scalars(select(Contact.id).where(Contact.deleted_at.is_not(None)))
                }

        first_expiry = due_at()
        assert abs(first_expiry - (utcnow() + timedelta(days=20))) < timedelta(minutes=1)
        with app.app_context():
            timers.fire_due(limit=10_000, now=first_expiry - timedelta(seconds=1))
        assert present() == {first["id"], second["id"]}
        with app.app_context():
            timers.fire_due(limit=10_000, now=first_expiry + timedelta(seconds=1))
        assert present() == {second["id"]}  # no contact activity was needed
        assert abs(due_at() - (utcnow() + timedelta(days=30))) < timedelta(minutes=1)
        with app.app_context():
            timers.fire_due(limit=10_000, now=utcnow() + timedelta(days=31))
        assert present() == set()
        assert due_at() is None  # nothing left to wait for

    def test_a_deleted_contact_with_conversations_sets_no_purge_timer(
        self, app, client, account, settle
    ):
        contact = create(client, account)
        make(client, account, setup_channel(client, account), contact["id"])
        assert delete(client, account, contact["id"]).status_code == 204
        settle()
        account_id = uuid.UUID(account.account_id)
        with app.app_context(), tenant_session(registry().get(account_id)) as s:
            assert (
                timers.pending_timer(s, account_id=account_id, kind=TIMER, subject_id=account_id)
                is None
            )


# -- merging --------------------------------------------------------------------------


class TestMerge:
    def test_the_target_keeps_its_values_and_takes_what_it_lacks(self, client, account):
        defined(client, account, key="plan", label="Plan")
        defined(client, account, key="seats", label="Seats", type="number")
        target = create(
            client, account, name="Ada L.", email="ada@example.com", custom_fields={"plan": "pro"}
        )
        source = create(
            client,
            account,
            name="Ada Lovelace",
            email="ada@old.example",
            phone="+14155550123",
            company="Engines",
            custom_fields={"plan": "free", "seats": 3},
        )
        assert tag_contact(client, account, target["id"], "vip").status_code == 200
        assert tag_contact(client, account, source["id"], "vip", "beta").status_code == 200
        merged = merge(client, account, target["id"], source["id"])
        assert merged.status_code == 200, merged.json
        assert merged.json["id"] == target["id"]
        assert merged.json["name"] == "Ada L."  # the target's name, always
        assert merged.json["email"] == "ada@example.com"  # the target's, not empty
        assert merged.json["phone"] == "+14155550123"  # filled from the source
        assert merged.json["company"] == "Engines"
        assert merged.json["custom_fields"] == {"plan": "pro", "seats": 3}
        tags = client.get(account.url(f"/contacts/{target['id']}/tags"), headers=account.headers)
        assert sorted(tags.json["tags"]) == ["beta", "vip"]
        # The source is gone, pointing at the target; its phone is the target's now.
        gone = client.get(account.url(f"/contacts/{source['id']}"), headers=account.headers)
        assert (gone.status_code, gone.json["code"]) == (404, "contact_not_found")
        assert gone.json["merged_into"] == target["id"]
        assert listed(client, account) == [target["id"]]
        refused = restore(client, account, source["id"])
        assert (refused.status_code, refused.json["code"]) == (409, "contact_merged")
        assert refused.json["merged_into"] == target["id"]

    def test_conversations_and_messages_move_to_the_target(self, client, account):
        channel_id = setup_channel(client, account)
        target, source = create(client, account), create(client, account, name="Twin")
        kept = make(client, account, channel_id, target["id"])
        moved = [make(client, account, channel_id, source["id"]) for _ in range(2)]
        assert merge(client, account, target["id"], source["id"]).status_code == 200
        mine = client.get(
            account.url("/conversations"),
            query_string={"filter": f"contact_id:eq:{target['id']}"},
            headers=account.headers,
        ).json["items"]
        assert {c["id"] for c in mine} == {kept, *moved}
        (event,) = events_named(client.application, account, "contact.merged")
        assert event.payload["source_id"] == source["id"]
        assert event.payload["target_id"] == target["id"]
        assert event.payload["moved"]["conversations"] == 2
        (deleted,) = events_named(client.application, account, "contact.deleted")
        assert str(deleted.subject_id) == source["id"]

    def test_the_merge_is_audited_on_the_target(self, client, account):
        target = create(client, account, email="ada@example.com")
        source = create(client, account, name="Twin", company="Engines")
        assert merge(client, account, target["id"], source["id"]).status_code == 200
        entry = audit_entries(client, account, target["id"])[-1]
        assert entry["action"] == "contact.merged"
        assert entry["before"] == {"merged_from": None, "company": None}
        assert entry["after"] == {"merged_from": source["id"], "company": "Engines"}

    def test_email_and_phone_move_when_the_target_has_none(self, client, account):
        target = create(client, account)
        source = create(client, account, name="Twin", email="ada@example.com")
        merged = merge(client, account, target["id"], source["id"])
        assert merged.json["email"] == "ada@example.com"
        # Restoring nothing, creating again: the email is the target's, not free.
        clash = client.post(
            account.url("/contacts"),
            json={"name": "Ada III", "email": "ada@example.com"},
            headers=account.headers,
        )
        assert clash.status_code == 409
        assert clash.json["duplicate_of"] == target["id"]

    def test_refusals_have_stable_codes_and_change_nothing(self, client, account):
        target, source = create(client, account), create(client, account, name="Twin")
        itself = merge(client, account, target["id"], target["id"])
        assert (itself.status_code, itself.json["code"]) == (409, "contact_merge_into_self")
        missing = merge(client, account, target["id"], uuid.uuid4())
        assert (missing.status_code, missing.json["code"]) == (404, "contact_not_found")
        assert missing.json["errors"] == {"source_id": ["No such contact."]}
        assert delete(client, account, source["id"]).status_code == 204
        deleted = merge(client, account, target["id"], source["id"])
        assert (deleted.status_code, deleted.json["code"]) == (404, "contact_not_found")
        into_deleted = merge(client, account, source["id"], target["id"])
        assert (into_deleted.status_code, into_deleted.json["code"]) == (404, "contact_not_found")
        assert "errors" not in into_deleted.json
        assert events_named(client.application, account, "contact.merged") == []


# -- who may, and in which account ----------------------------------------------------


class TestAccess:
    @pytest.mark.parametrize("action", ["delete", "restore", "merge"])
    def test_an_agent_without_contacts_delete_is_refused(self, client, account, agent, action):
        target, source = create(client, account), create(client, account, name="Twin")
        if action == "restore":
            assert delete(client, account, target["id"]).status_code == 204
        calls = {
            "delete": lambda: delete(client, agent, target["id"]),
            "restore": lambda: restore(client, agent, target["id"]),
            "merge": lambda: merge(client, agent, target["id"], source["id"]),
        }
        refused = calls[action]()
        assert refused.status_code == 403
        assert refused.json["errors"] == {"permission": ["contacts:delete"]}
        if action != "restore":
            assert source["id"] in listed(client, account)
            assert target["id"] in listed(client, account)

    @pytest.mark.parametrize("who", ["account", "admin"])
    def test_another_accounts_contacts_are_404_everywhere(
        self, client, account, other_account, add_member, who
    ):
        me = account if who == "account" else add_member(account.account_id, "admin")
        mine = create(client, account)
        theirs = create(client, other_account, name="Theirs")
        gone = create(client, other_account, name="Gone")
        assert delete(client, other_account, gone["id"]).status_code == 204
        for response in (
            delete(client, me, theirs["id"]),
            restore(client, me, gone["id"]),
            merge(client, me, theirs["id"], mine["id"]),
            merge(client, me, mine["id"], theirs["id"]),
        ):
            assert (response.status_code, response.json["code"]) == (404, "contact_not_found")
        assert theirs["id"] not in listed(client, me, deleted="true")
        assert gone["id"] not in listed(client, me, deleted="true")
        assert listed(client, other_account) == [theirs["id"]]
        assert listed(client, other_account, deleted="true") == [gone["id"]]
        assert listed(client, account) == [mine["id"]]
