"""The registry cache's safety net: entries are re-read after the TTL, all in one query.

Changes normally reach every process through the Redis generation (tested with
provisioning); the TTL covers a bump that was lost, without a query per account.
"""

from __future__ import annotations

import time
import uuid

from sqlalchemy import event, update

from core.redis import redis_client
from tenants.db import db
from tenants.models import Account, AccountStatus
from tenants.registry import Registry


def test_cached_accounts_are_reread_together_once_the_ttl_passes(app, account, other_account):
    ids = [uuid.UUID(account.account_id), uuid.UUID(other_account.account_id)]
    with app.app_context():
        registry = Registry(db.engine, redis_client(), ttl=0.5)
        assert [registry.get(i).status for i in ids] == [AccountStatus.ACTIVE] * 2
        # Suspended behind the registry's back, as if the generation bump had been lost.
        db.session.execute(
            update(Account).where(Account.id.in_(ids)).values(status=AccountStatus.SUSPENDED)
        )
        db.session.commit()
        assert registry.get(ids[0]).status is AccountStatus.ACTIVE  # still cached

        statements: list[str] = []

        def record(conn, cursor, statement, *args) -> None:
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            time.sleep(0.6)
            assert [registry.get(i).status for i in ids] == [AccountStatus.SUSPENDED] * 2
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert len([s for s in statements if "public.accounts" in s]) == 1
        assert registry.get(uuid.uuid4()) is None
