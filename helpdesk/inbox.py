"""The agent's inbox: conversations by tab (mine / unassigned / all) with per-tab counts.

The counts honour the same filters as the list but not the tab, and come from one
query (``COUNT(*) FILTER (WHERE …)``), so the three badges never disagree with each
other.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from crm.models import Contact
from helpdesk import states
from helpdesk.models import Conversation, Message

TABS = ("mine", "unassigned", "all")
#: What the inbox shows unless statuses are asked for: conversations still being worked.
WORKING_STATUSES = (states.OPEN, states.ASSIGNED, states.PENDING, states.SNOOZED)
PREVIEW_LENGTH = 140

SORTS: dict[str, tuple[ColumnElement, ...]] = {
    "-last_activity_at": (Conversation.last_activity_at.desc(),),
    "waiting_since": (Conversation.waiting_since.asc().nulls_last(),),
    "-priority": (Conversation.priority.desc(), Conversation.last_activity_at.desc()),
    "created_at": (Conversation.created_at.asc(),),
}
DEFAULT_SORT = "-last_activity_at"


def _filters(
    *,
    statuses: list[str] | None,
    channel_id: uuid.UUID | None,
    team_id: uuid.UUID | None,
    priorities: list[str] | None,
) -> list[ColumnElement[bool]]:
    conditions = [Conversation.status.in_(statuses or WORKING_STATUSES)]
    if channel_id is not None:
        conditions.append(Conversation.channel_id == channel_id)
    if team_id is not None:
        conditions.append(Conversation.team_id == team_id)
    if priorities:
        conditions.append(Conversation.priority.in_(priorities))
    return conditions


def _tab_condition(tab: str, user_id: uuid.UUID | None) -> ColumnElement[bool] | None:
    if tab == "mine":
        # No user (should not happen behind auth): "mine" is empty, never "everything".
        return Conversation.assignee_id == user_id if user_id else Conversation.id.is_(None)
    if tab == "unassigned":
        return Conversation.assignee_id.is_(None)
    return None


def inbox_counts(
    session: Session, *, user_id: uuid.UUID | None, conditions: list[ColumnElement[bool]]
) -> dict[str, int]:
    """``{"mine", "unassigned", "all"}`` under ``conditions``, in one query."""
    query = select(
        func.count().filter(_tab_condition("mine", user_id)),
        func.count().filter(_tab_condition("unassigned", user_id)),
        func.count(),
    ).where(*conditions)
    mine, unassigned, total = session.execute(query).one()
    return {"mine": mine, "unassigned": unassigned, "all": total}


def _items_query(conditions: list[ColumnElement[bool]]) -> Select:
    latest = (
        select(func.left(Message.body, PREVIEW_LENGTH))
        .where(Message.conversation_id == Conversation.id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
    )
    return (
        select(Conversation, Contact.name, latest)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(*conditions)
    )


def list_inbox(
    session: Session,
    *,
    user_id: uuid.UUID | None,
    tab: str = "all",
    statuses: list[str] | None = None,
    channel_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    priorities: list[str] | None = None,
    sort: str = DEFAULT_SORT,
    page: int = 1,
    per_page: int = 25,
) -> dict[str, Any]:
    """One page of the inbox tab ``tab`` for ``user_id``, with meta and the tab counts.

    Items are dicts: the conversation's fields plus ``contact_name`` and
    ``last_message_preview`` (the first characters of the newest message, private notes
    included: agents see them; ``None`` without messages).
    """
    if tab not in TABS:
        raise ValueError(f"unknown tab {tab!r}")
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    conditions = _filters(
        statuses=statuses, channel_id=channel_id, team_id=team_id, priorities=priorities
    )
    counts = inbox_counts(session, user_id=user_id, conditions=conditions)
    tab_condition = _tab_condition(tab, user_id)
    if tab_condition is not None:
        conditions = [*conditions, tab_condition]
    rows = session.execute(
        _items_query(conditions)
        .order_by(*SORTS[sort], Conversation.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [
        {
            **{c.key: getattr(conversation, c.key) for c in Conversation.__table__.columns},
            "contact_name": contact_name,
            "last_message_preview": preview,
        }
        for conversation, contact_name, preview in rows
    ]
    total = counts[tab]
    return {
        "items": items,
        "meta": {
            "page": page,
            "per_page": per_page,
            "total": total,
            "pages": (total + per_page - 1) // per_page,
        },
        "counts": counts,
    }
