"""Account settings: read with settings:read, change with settings:manage, validated, audited."""

from __future__ import annotations

import pytest

HOURS = {
    "tue": [{"start": "13:30", "end": "17:00"}, {"start": "09:00", "end": "12:30"}],
    "mon": [{"start": "09:00", "end": "17:00"}],
}


def settings(client, member):
    response = client.get(member.url("/settings"), headers=member.headers)
    assert response.status_code == 200, response.json
    return response.json


def patch(client, member, **body):
    return client.patch(member.url("/settings"), headers=member.headers, json=body)


def audit(client, member, *filters):
    response = client.get(
        member.url("/audit-log"), headers=member.headers, query_string={"filter": filters}
    )
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_defaults_then_changes_are_saved_normalised_and_audited(client, account, other_account):
    assert settings(client, account) == {
        "name": "Acme",
        "logo_url": None,
        "timezone": "UTC",
        "locale": "en",
        "business_hours": {},
        "updated_at": None,
    }
    response = patch(
        client,
        account,
        timezone="Africa/Addis_Ababa",
        locale="pt_br",
        logo_url="https://cdn.example.test/logo.png",
        business_hours=HOURS,
    )
    assert response.status_code == 200, response.json
    saved = settings(client, account)
    assert saved["timezone"] == "Africa/Addis_Ababa"
    assert saved["locale"] == "pt-BR"
    assert saved["logo_url"] == "https://cdn.example.test/logo.png"
    assert saved["business_hours"] == {
        "mon": [{"start": "09:00", "end": "17:00"}],
        "tue": [{"start": "09:00", "end": "12:30"}, {"start": "13:30", "end": "17:00"}],
    }
    assert saved["updated_at"] is not None

    (entry,) = audit(client, account, "action:eq:settings.updated")
    assert entry["actor_type"] == "user"
    assert entry["actor_id"] == account.user_id
    assert entry["target_type"] == "account"
    assert entry["target_id"] == account.account_id
    assert entry["before"]["timezone"] == "UTC"
    assert entry["after"]["timezone"] == "Africa/Addis_Ababa"
    assert entry["before"]["locale"] == "en" and entry["after"]["locale"] == "pt-BR"
    assert "name" not in entry["after"]

    # The other account is untouched and its log is empty of it.
    assert settings(client, other_account)["timezone"] == "UTC"
    assert audit(client, other_account, "action:eq:settings.updated") == []

    # A change to the same values records nothing new.
    assert patch(client, account, timezone="Africa/Addis_Ababa").status_code == 200
    assert len(audit(client, account, "action:eq:settings.updated")) == 1
    # null resets to the default.
    assert patch(client, account, timezone=None).json["timezone"] == "UTC"


def test_a_name_change_reaches_the_registry_at_once(client, account):
    response = patch(client, account, name="  Acme Renamed ")
    assert response.status_code == 200
    assert response.json["name"] == "Acme Renamed"
    assert client.get(account.url(), headers=account.headers).json["name"] == "Acme Renamed"
    context = client.get("/v1/me/context", headers=account.headers).json
    assert [a["name"] for a in context["accounts"]] == ["Acme Renamed"]
    (entry,) = audit(client, account, "action:eq:settings.updated")
    assert entry["before"] == {"name": "Acme"} and entry["after"] == {"name": "Acme Renamed"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"locale": "english please"}, "locale"),
        ({"logo_url": "javascript:alert(1)"}, "logo_url"),
        ({"name": "   "}, "name"),
        ({"business_hours": {"mon": [{"start": "9:00", "end": "17:00"}]}}, "business_hours"),
        ({"business_hours": {"mon": [{"start": "17:00", "end": "09:00"}]}}, "business_hours"),
        ({"business_hours": {"mon": [{"start": "25:00", "end": "26:00"}]}}, "business_hours"),
        (
            {
                "business_hours": {
                    "wed": [{"start": "09:00", "end": "13:00"}, {"start": "12:00", "end": "18:00"}]
                }
            },
            "business_hours",
        ),
        ({"business_hours": {"funday": []}}, "business_hours"),
        ({"plan": "enterprise"}, "plan"),
    ],
)
def test_invalid_settings_are_refused_by_field(client, account, body, field):
    response = patch(client, account, **body)
    assert response.status_code == 422, response.json
    assert response.json["code"] == "validation_failed"
    assert field in response.json["errors"]
    assert settings(client, account)["updated_at"] is None


def test_overlap_errors_name_the_weekday_and_intervals(client, account):
    body = {"wed": [{"start": "09:00", "end": "13:00"}, {"start": "12:00", "end": "18:00"}]}
    response = patch(client, account, business_hours=body)
    assert response.json["errors"]["business_hours"] == {
        "wed": ["09:00-13:00 overlaps 12:00-18:00"]
    }
    adjacent = {"wed": [{"start": "09:00", "end": "13:00"}, {"start": "13:00", "end": "24:00"}]}
    assert patch(client, account, business_hours=adjacent).status_code == 200


def test_agents_read_but_cannot_change_and_strangers_get_404(client, account, agent, other_account):
    assert settings(client, agent)["name"] == "Acme"
    response = patch(client, agent, timezone="Europe/Paris")
    assert response.status_code == 403
    assert response.json["errors"] == {"permission": ["settings:manage"]}
    for method in ("get", "patch"):
        response = getattr(client, method)(
            account.url("/settings"), headers=other_account.headers, json={"locale": "fr"}
        )
        assert response.status_code == 404
        assert response.json["code"] == "account_not_found"
    assert settings(client, account)["locale"] == "en"
