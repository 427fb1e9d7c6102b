"""Automatic assignment under concurrency: several assigners at once, each with its own
database connection, never fill an agent beyond capacity nor leave assignable work."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select

from helpdesk.assignment import assign_waiting
from helpdesk.models import Conversation
from tenants.db import db
from tenants.registry import registry
from tenants.scope import activated

WORKERS = 6


def call(client, method, member, path, body=None):
    response = client.open(member.url(path), method=method, json=body, headers=member.headers)
    assert response.status_code in (200, 201), response.json
    return response.json


def run_concurrently(app, account_id: uuid.UUID, channel_ids: list[str]) -> list[int]:
    """``WORKERS`` threads start together; each drains one of the channels in turn."""
    start = threading.Barrier(WORKERS)
    counts: list[int] = []
    errors: list[BaseException] = []

    def work(channel_id: str) -> None:
        try:
            with app.app_context():
                account = registry().get(account_id)
                start.wait()
                counts.append(assign_waiting(account, channel_ids=[uuid.UUID(channel_id)]))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(channel_ids[i % len(channel_ids)],))
        for i in range(WORKERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    return counts


def assignments(app, account_id: uuid.UUID) -> tuple[Counter, int]:
    """Open conversations per assignee, and how many are still waiting."""
    with app.app_context():
        account = registry().get(account_id)
        with activated(account.schema_name):
            rows = db.session.execute(
                select(Conversation.assignee_id, func.count()).group_by(Conversation.assignee_id)
            ).all()
            db.session.rollback()
    per_agent = Counter({assignee: count for assignee, count in rows if assignee is not None})
    waiting = sum(count for assignee, count in rows if assignee is None)
    return per_agent, waiting


@pytest.mark.parametrize(
    "mode,conversations,capacity",
    [
        ("round_robin", 40, 3),  # more work than room: every agent ends exactly full
        ("least_loaded", 10, 5),  # more room than work: nothing is left waiting
    ],
)
def test_concurrent_assigners_never_overfill_and_leave_nothing_assignable(
    app, client, account, add_member, mode, conversations, capacity
):
    agents = [add_member(account.account_id, "agent") for _ in range(4)]
    for agent in agents:
        call(client, "PUT", agent, "/agents/me/availability", {"status": "online"})
    # Two channels share the agents, so a lock per channel alone would not be enough.
    channels = []
    for name in ("Email", "Chat"):
        channel = call(client, "POST", account, "/channels", {"type": "email", "name": name})
        for agent in agents:
            call(
                client,
                "POST",
                account,
                f"/channels/{channel['id']}/members",
                {"user_id": agent.user_id},
            )
        channels.append(channel["id"])
    contact = call(client, "POST", account, "/contacts", {"name": "Ada"})
    for i in range(conversations):
        call(
            client,
            "POST",
            account,
            "/conversations",
            {
                "channel_id": channels[i % 2],
                "contact_id": contact["id"],
            },
        )
    # Policies switched on last: nothing was assigned on creation (no relay runs here).
    for channel_id in channels:
        call(
            client,
            "PUT",
            account,
            f"/channels/{channel_id}/assignment-policy",
            {
                "mode": mode,
                "capacity": capacity,
            },
        )

    account_id = uuid.UUID(account.account_id)
    counts = run_concurrently(app, account_id, channels)

    per_agent, waiting = assignments(app, account_id)
    assert set(per_agent) <= {uuid.UUID(agent.user_id) for agent in agents}
    assert max(per_agent.values()) <= capacity
    assigned = min(conversations, capacity * len(agents))
    assert sum(per_agent.values()) == sum(counts) == assigned
    assert waiting == conversations - assigned
    if waiting:
        assert list(per_agent.values()) == [capacity] * len(agents)
    if mode == "least_loaded":
        assert max(per_agent.values()) - min(per_agent.values()) <= 1
