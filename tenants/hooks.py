"""Work that must wait until a transaction has committed (cache invalidation, enqueueing).

Doing it earlier races with readers that still see the old rows; doing it after a
rollback announces something that never happened.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

_KEY = "turumba_after_commit"


def after_commit(session: Session | scoped_session, callback: Callable[[], None]) -> None:
    if isinstance(session, scoped_session):
        session = session()
    if not session.in_transaction():
        session.begin()  # so that a rollback, even before any query, discards it
    session.info.setdefault(_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run(session: Session) -> None:
    for callback in session.info.pop(_KEY, []):
        callback()


@event.listens_for(Session, "after_soft_rollback")
def _discard(session: Session, previous_transaction) -> None:
    # Any rollback of the outermost transaction, even one that never reached the
    # database; a savepoint rolled back inside it keeps the outer transaction's work.
    if previous_transaction.parent is None:
        session.info.pop(_KEY, None)
