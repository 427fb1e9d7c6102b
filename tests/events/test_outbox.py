"""Events are outbox rows written in the same transaction as their change."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from audit.service import Actor
from events import names
from events.outbox import MAX_CAUSATION_DEPTH, OutboxEvent, UnknownEvent, emit
from tenants.db import db

SYSTEM = Actor(type="system")


def stored(account_id) -> list[OutboxEvent]:
    return list(db.session.scalars(select(OutboxEvent).where(OutboxEvent.account_id == account_id)))


def test_an_event_commits_with_its_transaction(app):
    account_id, subject = uuid.uuid4(), uuid.uuid4()
    with app.app_context():
        emit(
            db.session,
            account_id=account_id,
            name=names.CONTACT_CREATED,
            actor=SYSTEM,
            subject_type="contact",
            subject_id=subject,
            payload={"name": [None, "Ada"]},
        )
        db.session.commit()
        (event,) = stored(account_id)
        assert (event.name, event.subject_id, event.payload) == (
            "contact.created",
            subject,
            {"name": [None, "Ada"]},
        )
        assert event.published_at is None and event.causation_depth == 0


def test_a_rolled_back_change_announces_nothing(app):
    account_id = uuid.uuid4()
    with app.app_context():
        emit(
            db.session,
            account_id=account_id,
            name=names.TAG_ADDED,
            actor=SYSTEM,
            subject_type="contact",
        )
        db.session.rollback()
        assert stored(account_id) == []


def test_unknown_names_and_runaway_causation_are_refused(app):
    account_id = uuid.uuid4()
    with app.app_context():
        with pytest.raises(UnknownEvent):
            emit(
                db.session,
                account_id=account_id,
                name="contact.exploded",
                actor=SYSTEM,
                subject_type="contact",
            )
        assert (
            emit(
                db.session,
                account_id=account_id,
                name=names.CONTACT_UPDATED,
                actor=SYSTEM,
                subject_type="contact",
                causation_depth=MAX_CAUSATION_DEPTH + 1,
            )
            is None
        )
        db.session.commit()
        assert stored(account_id) == []
