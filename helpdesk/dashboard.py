"""The console dashboard's figures: what needs attention in the account, in one call.

Conversation figures are the inbox's own tab counts (:func:`helpdesk.inbox.inbox_counts`)
under the statuses still waiting on the team (``open``, ``assigned``, ``pending``; not
``snoozed``, which the team chose to put aside), so a tile never disagrees with the badge
of the inbox tab it links to, visibility rules included: the ``all`` tab is every
conversation only for callers with ``conversations:read_all``, otherwise their reach.

"At risk" is a conversation among those with an SLA target past its warning moment or
deadline and not yet done: one still ``pending`` (warned, or overdue before its timer
marks it), or already ``missed`` but not completed (breached, still unanswered) — what
a team lead wants to look at first, breached ones above all.

"Online" members are those whose availability in this account is ``online``
(:mod:`helpdesk.assignment`, fed by presence), as ``GET /agents`` reports it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from crm.models import Contact
from helpdesk import states
from helpdesk.assignment import ONLINE, AgentAvailability
from helpdesk.inbox import inbox_counts
from helpdesk.models import Conversation
from helpdesk.sla.models import SlaTarget
from tenants.db import utcnow
from tenants.models import Membership

#: The conversations the dashboard counts: still waiting on the team.
ACTIVE_STATUSES = (states.OPEN, states.ASSIGNED, states.PENDING)


def _active() -> ColumnElement[bool]:
    return Conversation.status.in_(ACTIVE_STATUSES)


def _sla_at_risk(now: datetime) -> ColumnElement[bool]:
    """The conversation has an SLA target warned, overdue or breached, and not done."""
    return exists().where(
        SlaTarget.conversation_id == Conversation.id,
        SlaTarget.completed_at.is_(None),
        or_(
            and_(
                SlaTarget.status == "pending",
                or_(SlaTarget.warn_at <= now, SlaTarget.due_at <= now),
            ),
            SlaTarget.status == "missed",
        ),
    )


def conversation_figures(
    session: Session,
    *,
    user_id: uuid.UUID | None,
    read_all: bool,
    now: datetime | None = None,
) -> dict[str, int]:
    """``open`` (the ``all`` tab), ``unassigned``, ``mine`` and ``sla_at_risk`` (of the
    ``all`` tab's) for ``user_id``, under the active statuses.

    Both come from :func:`~helpdesk.inbox.inbox_counts`, the second narrowed to the
    conversations at risk, so the visibility rules are the inbox's, not a copy of them.
    """
    counts = inbox_counts(session, user_id=user_id, conditions=[_active()], read_all=read_all)
    at_risk = inbox_counts(
        session,
        user_id=user_id,
        conditions=[_active(), _sla_at_risk(now or utcnow())],
        read_all=read_all,
    )
    return {
        "open": counts["all"],
        "unassigned": counts["unassigned"],
        "mine": counts["mine"],
        "sla_at_risk": at_risk["all"],
    }


def contact_count(session: Session) -> int:
    """The account's contacts not deleted."""
    return session.scalar(
        select(func.count()).select_from(Contact).where(Contact.deleted_at.is_(None))
    )


def member_figures(session: Session, *, account_id: uuid.UUID) -> dict[str, int]:
    """The account's members (``total``) and how many are ``online`` in it; no
    availability row means offline, as in :func:`helpdesk.assignment.list_agents`."""
    total, online = session.execute(
        select(func.count(), func.count().filter(AgentAvailability.status == ONLINE))
        .select_from(Membership)
        .outerjoin(AgentAvailability, AgentAvailability.user_id == Membership.user_id)
        .where(Membership.account_id == account_id)
    ).one()
    return {"total": total, "online": online}


def dashboard(
    session: Session,
    *,
    account_id: uuid.UUID,
    user_id: uuid.UUID | None,
    read_all: bool,
    read_contacts: bool,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Every figure of the dashboard for ``user_id``; ``contacts`` is None unless
    ``read_contacts`` (the caller may not learn how many there are)."""
    return {
        "conversations": conversation_figures(session, user_id=user_id, read_all=read_all, now=now),
        "contacts": contact_count(session) if read_contacts else None,
        "members": member_figures(session, account_id=account_id),
    }
