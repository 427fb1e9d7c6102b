"""Fixtures shared by every test: a real PostgreSQL database and Redis, an app, clients.

The database is created fresh for the run (and dropped after); public migrations run
once; every test provisions the accounts it needs through the real sign-up path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

import psycopg
import pytest
import redis
from aiosmtpd.controller import Controller
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from sqlalchemy.engine import make_url

from api.app import create_app
from core.config import Config
from core.jobs import QUEUES, queue
from core.keys import generate_signing_key
from core.redis import redis_client
from events.relay import relay_once
from identity.service import create_user
from identity.verification import mark_verified
from provisioning.fleet import upgrade_public
from tenants.db import db
from tenants.models import Membership, Role


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set; run the suite with `python3 dev.py test`", returncode=2)
    return value


def _psycopg_url(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def fresh_database(prefix: str = "turumba_test") -> Iterator[str]:
    """A new, empty database beside the maintenance one, dropped afterwards."""
    maintenance = make_url(_required("TURUMBA_TEST_DATABASE_URL"))
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_psycopg_url(maintenance), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield maintenance.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_psycopg_url(maintenance), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url():
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url():
    url = _required("TURUMBA_TEST_REDIS_URL")
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture(scope="session")
def signing_key() -> str:
    return generate_signing_key()


class Mailbox:
    """A real SMTP server on loopback (aiosmtpd) and the messages it has received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        with socket.socket() as probe:  # aiosmtpd needs a concrete port to check readiness
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self._controller = Controller(self, hostname="127.0.0.1", port=port)

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 Message accepted for delivery"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self._controller.port}"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def last_to(self, address: str) -> EmailMessage:
        received = self.to(address)
        assert received, f"no message to {address}; got {[m['To'] for m in self.messages]}"
        return received[-1]


@pytest.fixture(scope="session")
def mailbox():
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture(scope="session")
def config(database_url, redis_url, signing_key, mailbox) -> Config:
    return Config.from_env(
        {},
        database_url=database_url,
        redis_url=redis_url,
        jwt_private_key=signing_key,
        auth_rate_limit=1000,
        login_ip_max_failures=100_000,
        log_level="WARNING",
        smtp_url=mailbox.url,
        public_url="http://console.test",
        webhook_allow_private=True,  # the test receivers listen on loopback
    )


@pytest.fixture(scope="session")
def app(config):
    app = create_app(config)
    with app.app_context():
        upgrade_public(db.engine)
    return app


@pytest.fixture
def make_app(config, app):
    """A separately configured app on the same database (``app`` ran the migrations)."""

    def make(**overrides):
        return create_app(dataclasses.replace(config, **overrides))

    return make


@pytest.fixture
def run_jobs(app):
    """Run every queued job with a real (in-process) RQ worker until the queues are empty."""

    def run() -> None:
        with app.app_context():
            SimpleWorker(
                [queue(name) for name in QUEUES],
                connection=redis_client(),
                serializer=JSONSerializer,
            ).work(burst=True, logging_level="WARNING")

    return run


@pytest.fixture
def settle(app, run_jobs):
    """Publish pending events and run their consumers until no new events come."""

    def run() -> None:
        for _ in range(10):
            with app.app_context():
                published = 0
                while count := relay_once(db.session):
                    published += count
            if not published:
                return
            run_jobs()
        raise AssertionError("events kept coming")

    return run


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.test"


@dataclass
class Member:
    """A user acting in one account: what a test needs to make authenticated calls."""

    user_id: str
    email: str
    password: str
    account_id: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def url(self, path: str = "") -> str:
        return f"/v1/accounts/{self.account_id}{path}"


@pytest.fixture
def signup(client):
    """Sign up a new user with a new account, through the API."""

    def make(account_name: str = "Acme", **overrides) -> Member:
        body = {
            "email": unique_email("owner"),
            "password": "correct horse battery",
            "name": "Owner",
            "account_name": account_name,
            **overrides,
        }
        response = client.post("/v1/auth/signup", json=body)
        assert response.status_code == 201, response.json
        data = response.json
        return Member(
            user_id=data["user"]["id"],
            email=body["email"],
            password=body["password"],
            account_id=data["account"]["id"],
            role="owner",
            token=data["access_token"],
        )

    return make


@pytest.fixture
def add_member(app, client):
    """Add a new user to an existing account with ``role`` (or a custom role), and log them in."""

    def make(account_id: str, role: str = "agent", custom_role_id: str | None = None) -> Member:
        email, password = unique_email(role), "another long password"
        with app.app_context():
            user = create_user(db.session, email=email, password=password, name=role.title())
            db.session.add(
                Membership(
                    account_id=uuid.UUID(account_id),
                    user_id=user.id,
                    role=Role.AGENT if custom_role_id else Role(role),
                    custom_role_id=uuid.UUID(custom_role_id) if custom_role_id else None,
                )
            )
            db.session.commit()
            user_id = str(user.id)
        response = client.post("/v1/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.json
        return Member(user_id, email, password, account_id, role, response.json["access_token"])

    return make


@pytest.fixture
def account(signup) -> Member:
    """The owner of a freshly provisioned account."""
    return signup("Acme")


@pytest.fixture
def agent(account, add_member) -> Member:
    """An agent in the same account as ``account``."""
    return add_member(account.account_id, "agent")


@pytest.fixture
def other_account(signup) -> Member:
    """The owner of a second, unrelated account."""
    return signup("Globex")


@pytest.fixture
def verify_email(app):
    """Mark a member's email verified (as following the emailed link would)."""

    def verify(member: Member) -> Member:
        with app.app_context():
            mark_verified(db.session, user_id=uuid.UUID(member.user_id))
            db.session.commit()
        return member

    return verify
