"""The OpenAPI document covers every route, completely, and Swagger UI works offline."""

from __future__ import annotations

import re

import pytest

PUBLIC = {("/v1/auth/signup", "post"), ("/v1/auth/login", "post")}
PUBLIC |= {  # email verification and password reset: the emailed token is the credential
    ("/v1/auth/verify-email", "post"),
    ("/v1/auth/password/forgot", "post"),
    ("/v1/auth/password/reset", "post"),
}
PUBLIC |= {  # sessions: the refresh / MFA-step token is the credential; published keys
    ("/v1/auth/refresh", "post"),
    ("/v1/auth/login/mfa", "post"),
    ("/.well-known/jwks.json", "get"),
}
PUBLIC |= {("/v1/invitations/accept", "post")}  # the emailed token; a bearer is optional
PUBLIC |= {  # a chat widget's visitor opens a session with no log-in
    ("/v1/widget/accounts/{account_id}/channels/{channel_id}/sessions", "post"),
}
PUBLIC_PREFIXES = ("/health",)
BODY_METHODS = {"post", "put", "patch"}
UNDOCUMENTED_ENDPOINTS = ("static", "api-docs.", "docs_assets.", "console.")
ERROR_REF = "#/components/schemas/Error"


@pytest.fixture(scope="module")
def spec(app):
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.json


def openapi_path(rule: str) -> str:
    """``/v1/accounts/<uuid:account_id>`` -> ``/v1/accounts/{account_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def routes(app) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(UNDOCUMENTED_ENDPOINTS):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((openapi_path(rule.rule), method.lower()))
    return found


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "patch", "delete"}:
                yield path, method, operation


def resolve(spec, node: dict) -> dict:
    while "$ref" in node:
        section, kind, name = node["$ref"].removeprefix("#/").split("/")
        node = spec[section][kind][name]
    return node


def is_public(path: str, method: str) -> bool:
    return (path, method) in PUBLIC or path.startswith(PUBLIC_PREFIXES)


def test_the_route_list_is_what_we_think_it_is(app):
    found = set(routes(app))
    assert ("/v1/accounts/{account_id}/contacts", "get") in found
    assert ("/health/ready", "get") in found
    assert not any(path.startswith(("/docs", "/openapi", "/static")) for path, _ in found)


def test_every_route_is_documented_and_nothing_else(app, spec):
    documented = {(path, method) for path, method, _ in operations(spec)}
    assert documented == set(routes(app))


def test_every_operation_has_a_summary_and_a_tag(spec):
    for path, method, operation in operations(spec):
        assert operation.get("summary", "").strip(), (path, method)
        assert operation.get("tags"), (path, method)


def test_operations_taking_a_body_document_its_schema_415_and_422(spec):
    bodies = 0
    for path, method, operation in operations(spec):
        if method not in BODY_METHODS:
            assert "requestBody" not in operation, (path, method)
            continue
        if "requestBody" not in operation:  # an action taking no input (a POST to resend)
            continue
        bodies += 1
        content = operation["requestBody"]["content"]
        (kind,) = content  # JSON, or a file upload (contact imports)
        assert kind in ("application/json", "multipart/form-data"), (path, method)
        schema = content[kind]["schema"]
        assert resolve(spec, schema)["properties"], (path, method)
        for status in ("400", "413", "415", "422"):
            assert status in operation["responses"], (path, method, status)
    assert bodies >= 4


def test_every_operation_documents_its_success_response_with_a_schema(spec):
    for path, method, operation in operations(spec):
        successes = [code for code in operation["responses"] if code.startswith("2")]
        assert len(successes) == 1, (path, method, successes)
        (code,) = successes
        response = resolve(spec, operation["responses"][code])
        if code == "204":
            assert "content" not in response, (path, method)
        elif "text/csv" in response["content"]:  # a download: text, not an object
            assert response["content"]["text/csv"]["schema"]["type"] == "string", path
        else:
            schema = response["content"]["application/json"]["schema"]
            assert resolve(spec, schema).get("properties"), (path, method)


def test_every_error_response_is_the_envelope(spec):
    for path, method, operation in operations(spec):
        errors = {c: r for c, r in operation["responses"].items() if not c.startswith("2")}
        assert "default" in errors, (path, method)
        for code, response in errors.items():
            content = resolve(spec, response)["content"]["application/json"]
            assert content["schema"] == {"$ref": ERROR_REF}, (path, method, code)
            assert resolve(spec, response)["description"], (path, method, code)


def test_the_envelope_schema_is_documented(spec):
    error = spec["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {
        "code",
        "message",
        "status",
        "errors",
        "request_id",
        "duplicate_of",  # on a duplicate contact's 409
        "report",  # on a refused all-or-nothing bulk operation
        "rules",  # on a segment that automation rules use
    }
    assert {"code", "message", "status"} <= set(error["required"])


def test_tenant_routes_document_401_403_and_404(spec):
    tenant = [op for path, _, op in operations(spec) if path.startswith("/v1/accounts/{")]
    assert len(tenant) >= 6
    for operation in tenant:
        assert {"401", "403", "404"} <= set(operation["responses"]), operation["summary"]


def test_operations_with_query_arguments_document_422(spec):
    listed = spec["paths"]["/v1/accounts/{account_id}/contacts"]["get"]
    names = {p["name"] for p in listed["parameters"] if p["in"] == "query"}
    assert {"page", "per_page", "sort", "filter"} <= names
    assert {"400", "422"} <= set(listed["responses"])


def test_security_is_bearer_except_sign_up_log_in_and_health(spec):
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert spec["security"] == [{"bearerAuth": []}]
    public = set()
    for path, method, operation in operations(spec):
        effective = operation.get("security", spec["security"])
        if is_public(path, method):
            public.add((path, method))
            assert effective == [], (path, method)
        else:
            assert effective == [{"bearerAuth": []}], (path, method)
            assert "401" in operation["responses"], (path, method)
    assert public == PUBLIC | {("/health", "get"), ("/health/ready", "get")}


def test_rate_limited_operations_document_429_with_retry_after(spec):
    for path in ("/v1/auth/signup", "/v1/auth/login"):
        response = resolve(spec, spec["paths"][path]["post"]["responses"]["429"])
        assert "Retry-After" in response["headers"]


def test_every_reference_resolves(spec):
    refs = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    assert refs
    for ref in refs:
        resolve(spec, {"$ref": ref})  # KeyError if dangling


def test_swagger_ui_is_served_with_local_assets(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', html)
    assert "/docs/assets/swagger-ui-bundle.js" in assets
    assert "/openapi.json" in html
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert response.content_length and response.content_length > 1000, asset
    missing = client.get("/docs/assets/no-such-file.js")
    assert missing.status_code == 404
    assert missing.json["code"] == "not_found"
