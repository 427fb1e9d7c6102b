"""The browser console tested as a user meets it: the real service (gunicorn, the RQ
worker and the event relay, started as processes on the test database and Redis) serving
the built console, driven in real headless Chromium by Playwright (the machine's
Chromium, never a downloaded one). Key screens are saved as screenshots under
``.artifacts/console/``, and checked for accessibility with axe-core."""

from __future__ import annotations

import html
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from core import console
from core.embedded import start_valkey
from tests.conftest import fresh_database
from tests.live import ServiceProcess, WebProcess

ARTIFACTS = console.ROOT / ".artifacts" / "console"
AXE = console.WEB / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery"
# What a push brings passes through the outbox, the relay and a worker: seconds, not
# milliseconds, on a busy machine.
expect.set_options(timeout=20_000)


@pytest.fixture(scope="session")
def built() -> Path:
    """The console's build: ``TURUMBA_CONSOLE_DIR`` when set (a build made elsewhere, which
    the service started below serves too), else ``web/dist``, brought up to date now."""
    given = os.environ.get("TURUMBA_CONSOLE_DIR")
    if given:
        assert (Path(given) / "index.html").is_file(), f"no build in {given}"
        return Path(given)
    return console.build()


@pytest.fixture(scope="session")
def service(config, built, tmp_path_factory) -> Iterator[WebProcess]:
    """The service as ``dev.py run`` starts it (web, worker, event relay) on a database
    and a Redis of its own: its worker and relay must not take the jobs and events of
    the other tests, which run their own."""
    stop_redis, redis_url = start_valkey(tmp_path_factory.mktemp("e2e-redis"), persist=False)
    try:
        with fresh_database("turumba_e2e") as database_url:
            own = {"TURUMBA_REDIS_URL": redis_url, "TURUMBA_DATABASE_URL": database_url}
            migrate = ServiceProcess(config, "tenants", "migrate", **own)
            assert migrate.process.wait(120) == 0, migrate.output()
            migrate.stop()
            web = WebProcess(config, **own)
            helpers = [
                ServiceProcess(config, "worker", **own),
                ServiceProcess(config, "events", "relay", **own),
            ]
            web.helpers = helpers  # type: ignore[attr-defined] (their logs, when a test fails)
            yield web
            for process in (*helpers, web):
                process.stop()
    finally:
        stop_redis()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = os.environ.get("TURUMBA_CHROMIUM") or console.browser()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def open_page(browser, service):
    """``open_page(viewport=DESKTOP)``: a page of a fresh browser profile (its own
    storage: one signed-in user each) on the service, failing the test on any error the
    page's scripts throw."""
    contexts = []

    def make(viewport: dict = DESKTOP) -> Page:
        context = browser.new_context(viewport=viewport, base_url=service.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.script_errors = errors  # type: ignore[attr-defined]
        return page

    yield make
    for context in contexts:
        for page in context.pages:
            assert page.script_errors == [], page.script_errors  # type: ignore[attr-defined]
        context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save the page as a test artifact (``.artifacts/console/<name>.png``)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical WCAG 2 A/AA violations on the page as it is."""
    page.evaluate(AXE.read_text())  # evaluated, not a <script>: the console's CSP stays on
    found = page.evaluate(
        """async () => {
            const result = await axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
            });
            return result.violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => `${v.id}: ${v.nodes.map((n) => `${n.html}: ${n.failureSummary}`)}`);
        }"""
    )
    return list(found)


def assert_accessible(page: Page) -> None:
    """No serious or critical axe-core violation on the page as it is now."""
    found = serious_violations(page)
    assert not found, "\n".join(found)


def sign_up(page: Page, *, name: str, email: str, organisation: str) -> str:
    """Sign up through the console; the new account's id (from the URL it lands on)."""
    page.goto("/signup")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Work email").fill(email)
    page.get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
    page.get_by_label("Organisation").fill(organisation)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/a/[0-9a-f-]{36}/dashboard$"))
    return page.url.split("/a/")[1].split("/")[0]


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_role("textbox", name="Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


class Rest:
    """The service's REST API as a signed-in user, for arranging what a test needs (a
    channel, an inbound message, a teammate) without clicking through it."""

    def __init__(self, url: str, email: str, password: str = PASSWORD) -> None:
        self.url = url
        tokens = self.call("POST", "/v1/auth/login", {"email": email, "password": password})
        self.token = tokens["access_token"]
        self.account_id = self.call("GET", "/v1/me/context")["accounts"][0]["id"]

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        headers = {"Content-Type": "application/json"}
        if getattr(self, "token", None):
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers=headers,
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as answer:
                text = answer.read()
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{method} {path}: {error.code} {error.read()[:500]!r}") from None
        return json.loads(text) if text else {}

    def account(self, method: str, path: str, body: dict | None = None) -> dict:
        """A call under ``/v1/accounts/<the user's first account>``."""
        return self.call(method, f"/v1/accounts/{self.account_id}{path}", body)


def emailed_link(mailbox, address: str, page_path: str, timeout: float = 20) -> str:
    """The path and query of the ``page_path`` link (``/reset-password``) in the newest
    email to ``address`` that has one (sent by the service's worker: waited for)."""
    pattern = re.compile(rf"https?://[^/\s]+({re.escape(page_path)}\?token=[^\s\"<>]+)")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in reversed(mailbox.to(address)):
            found = pattern.search(message.get_body(("plain", "html")).get_content())
            if found:
                return html.unescape(found.group(1))
        time.sleep(0.2)
    raise AssertionError(f"no {page_path} link emailed to {address}")
