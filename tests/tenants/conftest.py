"""Fixtures of the tenancy tests."""

from __future__ import annotations

import uuid

import pytest

from audit.service import SYSTEM
from crm.service import create_contact
from tenants.registry import registry
from tenants.session import tenant_session


def record(member):
    return registry().get(uuid.UUID(member.account_id))


@pytest.fixture
def two_tenants(app, account, other_account):
    """Two accounts with one distinctly named contact each."""
    with app.app_context():
        ours, theirs = record(account), record(other_account)
        with tenant_session(ours) as session:
            create_contact(session, account_id=ours.id, actor=SYSTEM, name="Ours")
        with tenant_session(theirs) as session:
            create_contact(session, account_id=theirs.id, actor=SYSTEM, name="Theirs")
        yield ours, theirs
