"""The browser console is served at ``/``: its files as they are, its routes as
``index.html``, and nothing of the service's own paths is ever taken for one of its
routes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from api.app import create_app


@pytest.fixture
def built(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Turumba</title>")
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log('turumba')")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    return tmp_path


@pytest.fixture
def serving(config, built):
    app = create_app(replace(config, console_dir=built))
    return app.test_client()


@pytest.mark.parametrize("path", ["/", "/inbox", "/contacts/42", "/verify-email?token=abc"])
def test_the_apps_routes_are_its_page_never_cached(serving, path):
    response = serving.get(path)
    assert response.status_code == 200
    assert b"<title>Turumba</title>" in response.data
    assert response.mimetype == "text/html"
    assert "no-cache" in response.headers["Cache-Control"]
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_built_files_are_sent_as_they_are_and_hashed_assets_cached_long(serving):
    script = serving.get("/assets/app-1a2b.js")
    assert (script.status_code, script.data) == (200, b"console.log('turumba')")
    assert "max-age=31536000" in script.headers["Cache-Control"]
    icon = serving.get("/favicon.svg")
    assert icon.status_code == 200
    assert "max-age=31536000" not in icon.headers.get("Cache-Control", "")


@pytest.mark.parametrize(
    "path",
    ["/v1/nothing-here", "/health/nope", "/docs/missing", "/.well-known/x", "/openapi.json/x"],
)
def test_the_services_own_unknown_paths_stay_json_404s(serving, path):
    response = serving.get(path)
    assert response.status_code == 404
    assert response.json["code"] == "not_found"


def test_the_api_is_untouched(serving):
    assert serving.get("/health").status_code == 200
    assert serving.get("/openapi.json").mimetype == "application/json"


def test_a_path_out_of_the_build_is_never_read(serving, built):
    (built.parent / "secret.txt").write_text("not yours")
    response = serving.get("/../secret.txt")
    assert b"not yours" not in response.data


def test_without_a_build_the_console_says_how_to_build_it(config, tmp_path):
    app = create_app(replace(config, console_dir=tmp_path / "missing"))
    response = app.test_client().get("/inbox")
    assert response.status_code == 503
    assert response.json["code"] == "console_not_built"
    assert "dev.py run" in response.json["message"]


@pytest.mark.parametrize("method", ["post", "patch", "delete"])
def test_other_methods_on_the_apis_paths_are_never_the_consoles(serving, method):
    response = getattr(serving, method)("/v1/accounts/not-a-uuid/roles/owner", json={})
    assert response.status_code == 404
    assert response.json["code"] == "not_found"


def test_the_consoles_routes_take_only_get(serving):
    response = serving.post("/inbox", json={})
    assert response.status_code == 405
    assert response.json["code"] == "method_not_allowed"
