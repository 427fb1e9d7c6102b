"""A contact's email and phone: normalised, validated, unique per account, looked up, audited.

Phones are stored in E.164 whatever the format they were typed in; a number without
``+`` is read as one of the account's country (its locale's region) when it has one.
Emails are checked for syntax (no DNS) and lower-cased. The same email or phone on two
contacts of one account is a 409 naming the other contact; across accounts it is fine
and nothing leaks.
"""

from __future__ import annotations

import pytest

NUMBER = "+14155550123"


def create(client, member, **fields):
    body = {"name": "Ada Lovelace", **fields}
    return client.post(member.url("/contacts"), json=body, headers=member.headers)


def update(client, member, contact_id, **fields):
    return client.patch(member.url(f"/contacts/{contact_id}"), json=fields, headers=member.headers)


def lookup(client, member, **params):
    return client.get(
        member.url("/contacts/duplicates"), query_string=params, headers=member.headers
    )


def set_locale(client, owner, locale):
    response = client.patch(owner.url("/settings"), json={"locale": locale}, headers=owner.headers)
    assert response.status_code == 200, response.json


def audit_entries(client, owner, contact_id):
    response = client.get(
        owner.url("/audit-log"),
        query_string={"filter": f"target_id:eq:{contact_id}", "sort": "occurred_at"},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.json
    return response.json["items"]


class TestPhoneNumbers:
    @pytest.mark.parametrize(
        "typed",
        ["+1 (415) 555-0123", "+1.415.555.0123", "+1-415-555-0123", " +14155550123 ", NUMBER],
    )
    def test_international_formats_are_stored_in_e164(self, client, account, typed):
        created = create(client, account, phone=typed)
        assert created.status_code == 201, created.json
        assert created.json["phone"] == NUMBER

    def test_a_national_number_needs_a_country_the_account_has_none_by_default(
        self, client, account
    ):
        refused = create(client, account, phone="(415) 555-0123")
        assert refused.status_code == 422
        assert refused.json["code"] == "validation_failed"
        assert set(refused.json["errors"]) == {"phone"}
        assert "international format" in refused.json["errors"]["phone"][0]

    @pytest.mark.parametrize(
        "typed", ["020 7946 0958", "(020) 7946-0958", "+44 (0)20 7946 0958", "00 44 20 7946 0958"]
    )
    def test_national_numbers_are_read_in_the_accounts_country(self, client, account, typed):
        set_locale(client, account, "en-GB")
        created = create(client, account, phone=typed)
        assert created.status_code == 201, created.json
        assert created.json["phone"] == "+442079460958"
        # International numbers of other countries still read as such.
        other = create(client, account, name="Grace", phone="+1 415 555 0123")
        assert other.json["phone"] == NUMBER

    @pytest.mark.parametrize(
        "typed,says",
        [
            ("+1 555 0100", "not a valid phone number"),  # too short for the US
            ("+999 1234 5678", "not a phone number"),  # no such country code
            ("abc", "not a phone number"),
            ("+1 415 555 0123 ext. 12", "extensions are not supported"),
        ],
    )
    def test_invalid_numbers_are_a_422_naming_phone(self, client, account, typed, says):
        refused = create(client, account, phone=typed)
        assert refused.status_code == 422
        assert set(refused.json["errors"]) == {"phone"}
        assert says in refused.json["errors"]["phone"][0]
        listed = client.get(account.url("/contacts"), headers=account.headers).json
        assert listed["meta"]["total"] == 0

    def test_a_change_to_an_invalid_number_is_refused_and_changes_nothing(self, client, account):
        contact = create(client, account, phone=NUMBER).json
        refused = update(client, account, contact["id"], phone="+1 555 0100")
        assert refused.status_code == 422
        assert set(refused.json["errors"]) == {"phone"}
        fetched = client.get(account.url(f"/contacts/{contact['id']}"), headers=account.headers)
        assert fetched.json["phone"] == NUMBER


class TestEmails:
    def test_emails_are_lower_cased(self, client, account):
        created = create(client, account, email="Grace.Hopper+Navy@Example.COM")
        assert created.status_code == 201
        assert created.json["email"] == "grace.hopper+navy@example.com"

    @pytest.mark.parametrize(
        "typed",
        ["not-an-email", "ada@@example.com", "ada@example", "ada@localhost", "ada @example.com"],
    )
    def test_invalid_emails_are_a_422_naming_email(self, client, account, typed):
        refused = create(client, account, email=typed)
        assert refused.status_code == 422
        assert refused.json["code"] == "validation_failed"
        assert set(refused.json["errors"]) == {"email"}

    def test_every_bad_field_is_named_at_once(self, client, account):
        refused = create(client, account, name="", email="ada@example", phone="abc")
        assert refused.status_code == 422
        assert set(refused.json["errors"]) == {"name", "email", "phone"}


class TestDuplicates:
    @pytest.mark.parametrize(
        "field,first,second,code",
        [
            ("email", "ada@example.com", "ADA@Example.com", "contact_email_taken"),
            ("phone", "+1 (415) 555-0123", NUMBER, "contact_phone_taken"),
        ],
    )
    def test_creating_a_duplicate_is_a_409_naming_the_existing_contact(
        self, client, account, field, first, second, code
    ):
        existing = create(client, account, **{field: first}).json
        clash = create(client, account, name="Someone Else", **{field: second})
        assert clash.status_code == 409
        assert clash.json["code"] == code
        assert set(clash.json["errors"]) == {field}
        assert clash.json["duplicate_of"] == existing["id"]

    def test_changing_to_another_contacts_phone_is_a_409_and_changes_nothing(self, client, account):
        existing = create(client, account, phone=NUMBER).json
        other = create(client, account, name="Grace", phone="+1 415 555 0199").json
        clash = update(client, account, other["id"], phone="+1 (415) 555-0123")
        assert clash.status_code == 409
        assert clash.json["code"] == "contact_phone_taken"
        assert clash.json["errors"] == {"phone": ["already used by another contact"]}
        assert clash.json["duplicate_of"] == existing["id"]
        fetched = client.get(account.url(f"/contacts/{other['id']}"), headers=account.headers)
        assert fetched.json["phone"] == "+14155550199"

    def test_changing_to_another_contacts_email_names_it_too(self, client, account):
        existing = create(client, account, email="ada@example.com").json
        other = create(client, account, name="Grace", email="grace@example.com").json
        clash = update(client, account, other["id"], email="Ada@EXAMPLE.com")
        assert clash.status_code == 409
        assert clash.json["code"] == "contact_email_taken"
        assert clash.json["duplicate_of"] == existing["id"]

    def test_resending_ones_own_values_in_another_format_is_no_conflict(self, client, account):
        contact = create(client, account, email="ada@example.com", phone=NUMBER).json
        same = update(
            client, account, contact["id"], email="ADA@example.com", phone="+1 415-555-0123"
        )
        assert same.status_code == 200
        assert (same.json["email"], same.json["phone"]) == ("ada@example.com", NUMBER)


class TestLookup:
    """``GET /contacts/duplicates``: what a form asks before saving."""

    @pytest.fixture
    def ada(self, client, account):
        return create(client, account, email="ada@example.com", phone=NUMBER).json

    def test_finds_the_contact_whatever_the_format(self, client, account, ada):
        by_phone = lookup(client, account, phone="+1 (415) 555-0123")
        assert by_phone.status_code == 200
        assert [(d["contact"]["id"], d["matched_on"]) for d in by_phone.json["items"]] == [
            (ada["id"], ["phone"])
        ]
        both = lookup(client, account, email="ADA@Example.com", phone="+1.415.555.0123").json
        assert [(d["contact"]["id"], d["matched_on"]) for d in both["items"]] == [
            (ada["id"], ["email", "phone"])
        ]

    def test_each_matching_contact_is_listed_once(self, client, account, ada):
        grace = create(client, account, name="Grace", email="grace@example.com").json
        found = lookup(client, account, email="grace@example.com", phone=NUMBER).json
        assert [(d["contact"]["id"], d["matched_on"]) for d in found["items"]] == [
            (ada["id"], ["phone"]),
            (grace["id"], ["email"]),
        ]

    def test_the_contact_being_edited_can_be_left_out(self, client, account, ada):
        found = lookup(client, account, email="ada@example.com", exclude=ada["id"])
        assert found.json["items"] == []

    def test_nothing_asked_or_nothing_matching_is_an_empty_list(self, client, account, ada):
        assert lookup(client, account).json == {"items": []}
        assert lookup(client, account, email="grace@example.com").json == {"items": []}

    def test_an_unreadable_value_is_a_422_naming_it(self, client, account, ada):
        refused = lookup(client, account, phone="555-1234", email="ada@example.com")
        assert refused.status_code == 422
        assert set(refused.json["errors"]) == {"phone"}

    def test_national_numbers_are_read_in_the_accounts_country(self, client, account):
        set_locale(client, account, "en-GB")
        london = create(client, account, phone="+44 20 7946 0958").json
        found = lookup(client, account, phone="020 7946 0958").json
        assert [d["contact"]["id"] for d in found["items"]] == [london["id"]]


class TestAudit:
    def test_create_update_and_delete_are_logged_with_before_and_after(
        self, client, account, agent
    ):
        contact = create(client, agent, email="Ada@Example.com", phone="+1 (415) 555-0123").json
        update(client, agent, contact["id"], phone="+1 415 555 0199", company="Engines")
        update(client, agent, contact["id"], company="Engines")  # no change: no entry
        deleted = client.delete(account.url(f"/contacts/{contact['id']}"), headers=account.headers)
        assert deleted.status_code == 204

        created, updated, removed = audit_entries(client, account, contact["id"])
        assert (created["action"], created["actor_id"]) == ("contact.created", agent.user_id)
        assert created["target_type"] == "contact"
        assert created["before"] is None
        assert created["after"]["email"] == "ada@example.com"
        assert created["after"]["phone"] == NUMBER
        assert created["after"]["name"] == "Ada Lovelace"

        assert (updated["action"], updated["actor_id"]) == ("contact.updated", agent.user_id)
        assert updated["before"] == {"phone": NUMBER, "company": None}
        assert updated["after"] == {"phone": "+14155550199", "company": "Engines"}

        assert (removed["action"], removed["actor_id"]) == ("contact.deleted", account.user_id)
        assert removed["before"]["email"] == "ada@example.com"
        assert removed["after"] is None

    def test_refused_changes_leave_no_entry(self, client, account):
        create(client, account, email="ada@example.com")
        other = create(client, account, name="Grace", email="grace@example.com").json
        assert update(client, account, other["id"], email="ada@example.com").status_code == 409
        assert update(client, account, other["id"], phone="555-1234").status_code == 422
        assert [e["action"] for e in audit_entries(client, account, other["id"])] == [
            "contact.created"
        ]


class TestAccountsAndRoles:
    def test_the_same_email_and_phone_in_two_accounts_are_two_contacts(
        self, client, account, other_account
    ):
        ours = create(client, account, email="ada@example.com", phone=NUMBER)
        theirs = create(client, other_account, email="ADA@example.com", phone="+1 415-555-0123")
        assert (ours.status_code, theirs.status_code) == (201, 201)
        # Each account's lookup sees its own contact only.
        for member, contact in ((account, ours.json), (other_account, theirs.json)):
            found = lookup(client, member, email="ada@example.com", phone=NUMBER).json
            assert [d["contact"]["id"] for d in found["items"]] == [contact["id"]]

    def test_a_duplicate_in_another_account_never_shows(self, client, account, other_account):
        theirs = create(client, other_account, email="secret@globex.example").json
        found = lookup(client, account, email="secret@globex.example")
        assert found.json == {"items": []}
        mine = create(client, account, email="secret@globex.example")
        assert mine.status_code == 201
        assert theirs["id"] not in mine.get_data(as_text=True)

    def test_agents_look_up_and_hit_duplicates_like_owners(self, client, account, agent):
        existing = create(client, account, phone=NUMBER).json
        found = lookup(client, agent, phone="+1 (415) 555-0123").json
        assert [d["contact"]["id"] for d in found["items"]] == [existing["id"]]
        clash = create(client, agent, name="Grace", phone="+1 415 555 0123")
        assert clash.status_code == 409
        assert clash.json["duplicate_of"] == existing["id"]

    def test_a_member_without_contacts_permissions_is_refused(self, client, account, add_member):
        role = client.post(
            account.url("/roles"),
            json={"name": "Inbox only", "permissions": ["conversations:read"]},
            headers=account.headers,
        )
        assert role.status_code == 201, role.json
        member = add_member(account.account_id, "inbox", custom_role_id=role.json["id"])
        create(client, account, email="ada@example.com")

        refused = lookup(client, member, email="ada@example.com")
        assert refused.status_code == 403
        assert refused.json["errors"] == {"permission": ["contacts:read"]}
        made = create(client, member, name="Grace", email="ada@example.com")
        assert made.status_code == 403
        assert made.json["errors"] == {"permission": ["contacts:write"]}
        assert "duplicate_of" not in made.json
