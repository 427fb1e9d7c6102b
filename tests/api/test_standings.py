"""Each process remembers members' standings; every change reaches every process at once.

A standing (the user's state and their role and permissions in an account) is read once
per process and then served from memory while the Redis generation stands. Whatever
changes one bumps the generation when it commits; other changes (a login) do not.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from core.redis import redis_client
from identity.standings import GENERATION_KEY, Standings
from tenants.db import db
from tenants.models import Membership, Role

from .test_health import dead_redis


@contextmanager
def membership_reads(app) -> Iterator[list[str]]:
    """The statements reading ``public.memberships`` while the block runs."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        if "FROM public.users LEFT OUTER JOIN public.memberships" in statement:
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def generation(app) -> bytes | None:
    with app.app_context():
        return redis_client().get(GENERATION_KEY)


def test_a_remembered_standing_spares_the_query(app, client, account, agent):
    assert client.get(agent.url(), headers=agent.headers).status_code == 200
    with membership_reads(app) as reads:
        for _ in range(3):
            assert client.get(agent.url(), headers=agent.headers).status_code == 200
    assert reads == []


def test_a_change_made_in_another_process_applies_on_the_next_request(
    app, make_app, account, agent
):
    here, there = app.test_client(), make_app().test_client()
    assert here.get(agent.url("/audit-log"), headers=agent.headers).status_code == 403
    # Another process (its own app, its own caches) makes the agent an admin...
    promoted = there.patch(
        account.url(f"/members/{agent.user_id}"), json={"role": "admin"}, headers=account.headers
    )
    assert promoted.status_code == 200
    assert here.get(agent.url("/audit-log"), headers=agent.headers).status_code == 200
    # ...then removes them: this process refuses them on the very next request.
    removed = there.delete(account.url(f"/members/{agent.user_id}"), headers=account.headers)
    assert removed.status_code == 204
    gone = here.get(agent.url(), headers=agent.headers)
    assert gone.status_code == 404
    assert gone.json["code"] == "account_not_found"


def test_custom_role_edits_apply_at_once(client, account, add_member):
    role = client.post(
        account.url("/roles"),
        json={"name": "Readers", "permissions": ["conversations:read", "contacts:read"]},
        headers=account.headers,
    ).json
    reader = add_member(account.account_id, custom_role_id=role["id"])
    assert client.get(reader.url("/contacts"), headers=reader.headers).status_code == 200
    narrowed = client.patch(
        account.url(f"/roles/{role['id']}"),
        json={"permissions": ["conversations:read"]},
        headers=account.headers,
    )
    assert narrowed.status_code == 200
    refused = client.get(reader.url("/contacts"), headers=reader.headers)
    assert refused.status_code == 403
    assert refused.json["errors"] == {"permission": ["contacts:read"]}


def test_a_password_change_refuses_older_tokens_at_once(client, account, agent):
    assert client.get(agent.url(), headers=agent.headers).status_code == 200
    time.sleep(1.1)  # tokens carry whole seconds; the change must come after their issue
    changed = client.post(
        "/v1/me/password",
        json={"current_password": agent.password, "new_password": "a brand new passphrase"},
        headers=agent.headers,
    )
    assert changed.status_code == 200, changed.json
    # The session goes on with the new token; the old one of the same session is refused.
    refused = client.get(agent.url(), headers=agent.headers)
    assert refused.status_code == 401
    assert refused.json["code"] == "password_changed"
    renewed = {"Authorization": f"Bearer {changed.json['access_token']}"}
    assert client.get(agent.url(), headers=renewed).status_code == 200


def test_a_login_leaves_the_generation_alone_and_a_membership_bumps_it(
    app, client, account, agent, add_member
):
    before = generation(app)
    login = client.post("/v1/auth/login", json={"email": agent.email, "password": agent.password})
    assert login.status_code == 200
    assert generation(app) == before
    add_member(account.account_id, "agent")
    assert generation(app) != before


def test_without_redis_every_request_reads_the_database(make_app, account, agent):
    blind = make_app(redis_url=dead_redis())
    with membership_reads(blind) as reads:
        for _ in range(2):
            response = blind.test_client().get(agent.url(), headers=agent.headers)
            assert response.status_code == 200
    assert len(reads) == 2


def test_entries_expire_so_a_lost_notice_heals(app, account, agent):
    """A change whose generation bump was lost (Redis down then) shows after the TTL."""
    account_id, user_id = uuid.UUID(account.account_id), uuid.UUID(agent.user_id)
    with app.app_context():
        standings = Standings(db.engine, redis_client(), ttl=0.3)
        first = standings.get(account_id=account_id, user_id=user_id, generation=b"7")
        assert first.access.role is Role.AGENT
        db.session.execute(  # behind the ORM's back: no bump
            update(Membership)
            .where(Membership.user_id == user_id, Membership.account_id == account_id)
            .values(role=Role.ADMIN)
        )
        db.session.commit()
        cached = standings.get(account_id=account_id, user_id=user_id, generation=b"7")
        assert cached.access.role is Role.AGENT
        time.sleep(0.35)
        fresh = standings.get(account_id=account_id, user_id=user_id, generation=b"7")
        assert fresh.access.role is Role.ADMIN
        db.session.commit()


def test_a_new_generation_forgets_what_was_remembered(app, account, agent):
    account_id, user_id = uuid.UUID(account.account_id), uuid.UUID(agent.user_id)
    with app.app_context():
        standings = Standings(db.engine, redis_client(), ttl=60)
        standings.get(account_id=account_id, user_id=user_id, generation=b"1")
        with membership_reads(app) as reads:
            standings.get(account_id=account_id, user_id=user_id, generation=b"1")
            assert reads == []
            standings.get(account_id=account_id, user_id=user_id, generation=b"2")
            assert len(reads) == 1
        db.session.commit()


def test_a_change_committed_outside_requests_bumps_the_generation_too(app, account, agent):
    """Jobs and the CLI use sessions of their own; their changes count the same."""
    before = generation(app)
    with app.app_context(), Session(bind=db.engine) as session:
        membership = session.get(
            Membership, (uuid.UUID(account.account_id), uuid.UUID(agent.user_id))
        )
        membership.role = Role.ADMIN
        session.commit()
    assert generation(app) != before
