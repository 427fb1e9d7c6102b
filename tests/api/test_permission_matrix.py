"""Every tenant endpoint, every kind of member: allowed or refused exactly as declared.

The routes come from the app's URL map, so an endpoint added later is covered without
touching this file: it must declare its permission with ``@requires`` (read back from
the view), and then owners, admins, agents and a custom-role member are each either let
through or refused with ``403 permission_denied`` naming that permission. Members of
another account get ``404 account_not_found`` on every one of them.
"""

from __future__ import annotations

import re
import uuid

import pytest

TENANT_PREFIX = "/v1/accounts/<uuid:account_id>"
CUSTOM_PERMISSIONS = ["audit:read", "contacts:read", "members:read"]
#: Account routes outside the tenant guard (their own tests cover them).
OWN_CHECKS = {
    # A deleted account is 404 to the tenant guard; the view checks ownership itself
    # (tests/api/test_account_deletion.py).
    ("/v1/accounts/<uuid:account_id>/restore", "POST"),
}


def tenant_routes(app) -> list[tuple[str, str, str | None, str | None]]:
    """``(rule, method, permission, permission_unless_self)`` for every tenant operation."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(TENANT_PREFIX):
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            handler = getattr(getattr(view, "view_class", None), method.lower(), view)
            found.append(
                (
                    rule.rule,
                    method,
                    getattr(handler, "required_permission", None),
                    getattr(handler, "required_permission_unless_self", None),
                )
            )
    return found


def concrete(rule: str, account_id: str) -> str:
    """The rule with the account filled in, any number 1 and any other parameter a
    random id."""
    path = re.sub(r"<int:[^<>]+>", "1", rule.replace("<uuid:account_id>", account_id))
    return re.sub(r"<(?:uuid:)?[^<>]+>", lambda _: str(uuid.uuid4()), path)


def call(client, method: str, url: str, member):
    kwargs = {"headers": member.headers}
    if method in {"POST", "PUT", "PATCH"}:
        kwargs["json"] = {}
    return client.open(url, method=method, **kwargs)


@pytest.fixture
def cast(client, account, add_member, other_account):
    role = client.post(
        account.url("/roles"),
        json={"name": "Auditor", "permissions": CUSTOM_PERMISSIONS},
        headers=account.headers,
    )
    assert role.status_code == 201, role.json
    members = {
        "owner": account,
        "admin": add_member(account.account_id, "admin"),
        "agent": add_member(account.account_id, "agent"),
        "custom": add_member(account.account_id, "auditor", custom_role_id=role.json["id"]),
    }
    permissions = {}
    for name, member in members.items():
        accounts = client.get("/v1/me/context", headers=member.headers).json["accounts"]
        (mine,) = [a for a in accounts if a["id"] == account.account_id]
        permissions[name] = set(mine["permissions"])
    assert permissions["custom"] == set(CUSTOM_PERMISSIONS)
    return members, permissions, other_account


def test_every_tenant_route_declares_its_permission(app):
    routes = tenant_routes(app)
    assert len(routes) >= 10
    undeclared = {
        (rule, method) for rule, method, p, unless_self in routes if not (p or unless_self)
    }
    assert undeclared <= OWN_CHECKS, "tenant endpoints must use @requires(...)"


def test_each_role_is_allowed_or_refused_as_declared(app, client, cast):
    members, permissions, _ = cast
    checked = 0
    for rule, method, permission, unless_self in tenant_routes(app):
        needed = permission or unless_self
        if needed is None:
            continue
        # Deleting the account itself would end the test; its refusal is still checked.
        destructive = method == "DELETE" and rule == TENANT_PREFIX
        for name, member in members.items():
            if destructive and needed in permissions[name]:
                continue
            response = call(client, method, concrete(rule, member.account_id), member)
            denied = response.status_code == 403 and response.json["code"] == "permission_denied"
            if needed in permissions[name]:
                assert not denied, (name, method, rule, response.json)
            else:
                assert denied, (name, method, rule, response.status_code, response.json)
                assert response.json["errors"]["permission"] == [needed], (name, method, rule)
            checked += 1
    assert checked >= 40


def test_built_in_role_expectations_hold(cast):
    _, permissions, _ = cast
    assert {"owners:manage", "account:delete"} <= permissions["owner"]
    assert not {"owners:manage", "account:delete"} & permissions["admin"]
    assert "members:manage" in permissions["admin"]
    assert "members:manage" not in permissions["agent"]
    assert "contacts:write" not in permissions["custom"]


def test_another_accounts_members_get_404_everywhere(app, client, cast):
    members, _, outsider = cast
    for rule, method, _, _ in tenant_routes(app):
        for url, member in (
            (concrete(rule, members["owner"].account_id), outsider),
            (concrete(rule, outsider.account_id), members["admin"]),
            (concrete(rule, outsider.account_id), members["custom"]),
        ):
            response = call(client, method, url, member)
            assert response.status_code == 404, (method, rule, response.json)
            assert response.json["code"] == "account_not_found", (method, rule)
