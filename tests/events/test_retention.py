"""What is done is pruned after a while; what is pending never is."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from audit.service import SYSTEM
from events import names
from events.outbox import OutboxEvent, emit
from events.retention import prune
from events.timers import Timer
from tenants.db import db, utcnow

WEEK = timedelta(days=7)


def seed(app, account_id: uuid.UUID) -> dict[str, uuid.UUID]:
    """Old and recent, done and pending: one event and one timer of each."""
    now = utcnow()
    ages = {"old": now - WEEK - timedelta(hours=1), "recent": now - timedelta(hours=1)}
    ids = {}
    with app.app_context():
        for age, at in ages.items():
            for state in ("done", "pending"):
                event = emit(
                    db.session,
                    account_id=account_id,
                    name=names.CONTACT_UPDATED,
                    actor=SYSTEM,
                    subject_type="contact",
                )
                event.occurred_at = at
                event.published_at = at if state == "done" else None
                timer = Timer(
                    id=uuid.uuid4(),
                    account_id=account_id,
                    kind="retention-test",
                    subject_id=uuid.uuid4(),
                    due_at=at,
                    fired_at=at if state == "done" else None,
                    attempts=0,
                    created_at=at,
                )
                db.session.add(timer)
                ids[f"event {age} {state}"] = event.id
                ids[f"timer {age} {state}"] = timer.id
        db.session.commit()
    return ids


def surviving(app, ids: dict[str, uuid.UUID]) -> set[str]:
    with app.app_context():
        found = set(
            db.session.scalars(select(OutboxEvent.id).where(OutboxEvent.id.in_(ids.values())))
        )
        found |= set(db.session.scalars(select(Timer.id).where(Timer.id.in_(ids.values()))))
    return {label for label, row_id in ids.items() if row_id in found}


def test_prune_deletes_only_what_was_done_long_ago(app):
    ids = seed(app, uuid.uuid4())
    with app.app_context():
        counts = prune(db.session, keep=WEEK, batch=1)  # batch 1: the loop goes round
    assert counts["events"] >= 1 and counts["timers"] >= 1
    assert surviving(app, ids) == {
        "event old pending",
        "event recent done",
        "event recent pending",
        "timer old pending",
        "timer recent done",
        "timer recent pending",
    }


def test_the_cli_prunes_with_a_chosen_retention(app):
    ids = seed(app, uuid.uuid4())
    result = app.test_cli_runner().invoke(args=["events", "prune", "--days", "0"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("pruned ")
    assert surviving(app, ids) == {
        "event old pending",
        "event recent pending",
        "timer old pending",
        "timer recent pending",
    }
