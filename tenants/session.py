"""``tenant_session``: the unit of work for jobs, the CLI and provisioning."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from tenants.db import db
from tenants.registry import AccountRecord
from tenants.scope import activated, scoped_engine


@contextmanager
def tenant_session(account: AccountRecord) -> Iterator[Session]:
    """A session on ``account``'s schema: commits on success, rolls back on error,
    always closes, and restores whichever tenant was active before."""
    with activated(account.schema_name):
        session = Session(bind=scoped_engine(db.engine, account.schema_name))
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
