"""The agent's inbox: conversations by tab (mine / unassigned / all / mentions) with
per-tab counts and the caller's unread counts.

The counts honour the same filters as the list but not the tab, and come from one
query (``COUNT(*) FILTER (WHERE …)``), so the badges never disagree with each other.
Unread counts (:mod:`helpdesk.reading`) come from one grouped subquery joined to both
the page and the counts: exact, whatever the number of conversations.

``all`` is every conversation only for callers allowed to read them all
(``conversations:read_all``); for the others it is the conversations within their reach:
those of the channel inboxes and teams they belong to, and those assigned to them.
``unassigned`` is the shared queue and ``mentions`` is personal: neither is narrowed.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from crm.models import Contact
from helpdesk import states
from helpdesk.channels import channels_worked_by
from helpdesk.models import Conversation, Message, TeamMember
from helpdesk.reading import mentioned, unread_counts
from helpdesk.tags import conversations_tagged

TABS = ("mine", "unassigned", "all", "mentions")
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
    tags: list[str] | None = None,
) -> list[ColumnElement[bool]]:
    conditions = [Conversation.status.in_(statuses or WORKING_STATUSES)]
    if tags:
        conditions.append(Conversation.id.in_(conversations_tagged(tags)))
    if channel_id is not None:
        conditions.append(Conversation.channel_id == channel_id)
    if team_id is not None:
        conditions.append(Conversation.team_id == team_id)
    if priorities:
        conditions.append(Conversation.priority.in_(priorities))
    return conditions


def _within_reach(user_id: uuid.UUID) -> ColumnElement[bool]:
    """Conversations of the channel inboxes the user works (directly or through a team),
    of the user's teams, and those assigned to them."""
    return or_(
        Conversation.assignee_id == user_id,
        Conversation.channel_id.in_(channels_worked_by(user_id)),
        Conversation.team_id.in_(select(TeamMember.team_id).where(TeamMember.user_id == user_id)),
    )


def _tab_condition(tab: str, user_id: uuid.UUID | None, *, read_all: bool) -> ColumnElement[bool]:
    if tab == "unassigned":
        return Conversation.assignee_id.is_(None)
    if tab == "all" and read_all:
        return true()
    if user_id is None:
        # No user (should not happen behind auth): a personal tab is empty, never "everything".
        return Conversation.id.is_(None)
    if tab == "mine":
        return Conversation.assignee_id == user_id
    if tab == "mentions":
        return mentioned(user_id)
    return _within_reach(user_id)


def _unread(user_id: uuid.UUID | None, conditions: list[ColumnElement[bool]]) -> Subquery:
    return unread_counts(user_id, select(Conversation.id).where(*conditions))


def inbox_counts(
    session: Session,
    *,
    user_id: uuid.UUID | None,
    conditions: list[ColumnElement[bool]],
    read_all: bool = False,
) -> dict[str, Any]:
    """Every tab's count under ``conditions``, and under ``"unread"`` how many of each
    tab's conversations have messages unread to ``user_id``; in one query."""
    tabs = [_tab_condition(tab, user_id, read_all=read_all) for tab in TABS]
    unread = _unread(user_id, conditions)
    has_unread = unread.c.unread > 0
    query = (
        select(
            *(func.count().filter(tab) for tab in tabs),
            *(func.count().filter(and_(tab, has_unread)) for tab in tabs),
        )
        .select_from(Conversation)
        .outerjoin(unread, unread.c.conversation_id == Conversation.id)
        .where(*conditions)
    )
    row = session.execute(query).one()
    return {
        **dict(zip(TABS, row[: len(TABS)], strict=True)),
        "unread": dict(zip(TABS, row[len(TABS) :], strict=True)),
    }


def tab_counts(session: Session, *, user_id: uuid.UUID, read_all: bool) -> dict[str, Any]:
    """The counts an unfiltered inbox shows ``user_id`` (conversations still being
    worked): what the console's tab badges read."""
    return inbox_counts(
        session,
        user_id=user_id,
        conditions=_filters(statuses=None, channel_id=None, team_id=None, priorities=None),
        read_all=read_all,
    )


def _items_query(conditions: list[ColumnElement[bool]], unread: Subquery) -> Select:
    latest = (
        select(func.left(Message.body, PREVIEW_LENGTH))
        .where(Message.conversation_id == Conversation.id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
    )
    return (
        select(Conversation, Contact.name, latest, func.coalesce(unread.c.unread, 0))
        .join(Contact, Contact.id == Conversation.contact_id)
        .outerjoin(unread, unread.c.conversation_id == Conversation.id)
        .where(*conditions)
        .options(selectinload(Conversation.tags))  # one query for the page's tags
    )


def list_inbox(
    session: Session,
    *,
    user_id: uuid.UUID | None,
    tab: str = "all",
    read_all: bool = False,
    statuses: list[str] | None = None,
    channel_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    priorities: list[str] | None = None,
    tags: list[str] | None = None,
    sort: str = DEFAULT_SORT,
    page: int = 1,
    per_page: int = 25,
) -> dict[str, Any]:
    """One page of the inbox tab ``tab`` for ``user_id``, with meta and the tab counts.

    Items are dicts: the conversation's fields plus ``contact_name``,
    ``last_message_preview`` (the first characters of the newest message, private notes
    included: agents see them; ``None`` without messages) and ``unread_count`` (for
    ``user_id``). ``read_all``: whether the caller may see every conversation in ``all``.
    """
    if tab not in TABS:
        raise ValueError(f"unknown tab {tab!r}")
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    conditions = _filters(
        statuses=statuses,
        channel_id=channel_id,
        team_id=team_id,
        priorities=priorities,
        tags=tags,
    )
    counts = inbox_counts(session, user_id=user_id, conditions=conditions, read_all=read_all)
    unread = _unread(user_id, conditions)
    conditions = [*conditions, _tab_condition(tab, user_id, read_all=read_all)]
    rows = session.execute(
        _items_query(conditions, unread)
        .order_by(*SORTS[sort], Conversation.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [
        {
            **{c.key: getattr(conversation, c.key) for c in Conversation.__table__.columns},
            "tags": conversation.tags,
            "contact_name": contact_name,
            "last_message_preview": preview,
            "unread_count": unread_count,
        }
        for conversation, contact_name, preview, unread_count in rows
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
