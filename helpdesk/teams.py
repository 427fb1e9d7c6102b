"""Teams of agents (members of the account)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from audit.service import Actor
from events import names
from helpdesk.errors import save_unique
from helpdesk.members import Roster
from helpdesk.models import Team, TeamMember


def _flush(session: Session, team: Team) -> Team:
    return save_unique(
        session,
        team,
        constraint="uq_teams_name",
        code="team_name_taken",
        field="name",
        message="Another team has this name.",
    )


def create_team(session: Session, *, name: str, description: str | None = None) -> Team:
    return _flush(session, Team(name=name, description=description))


def get_team(session: Session, team_id: uuid.UUID) -> Team | None:
    return session.get(Team, team_id)


def update_team(session: Session, team: Team, **changes: Any) -> Team:
    for key, value in changes.items():
        setattr(team, key, value)
    return _flush(session, team)


def delete_team(session: Session, team: Team) -> None:
    session.delete(team)
    session.flush()


ROSTER = Roster(TeamMember, "team_id", joined=names.TEAM_MEMBER_ADDED, parent_type="team")


def team_members(session: Session, team: Team) -> list[uuid.UUID]:
    return ROSTER.members(session, team.id)


def add_team_member(
    session: Session, team: Team, *, account_id: uuid.UUID, actor: Actor, user_id: uuid.UUID
) -> bool:
    """Add a member of the account to the team (idempotent): False when already in it."""
    return ROSTER.add(session, team.id, account_id=account_id, actor=actor, user_id=user_id)


def remove_team_member(session: Session, team: Team, *, user_id: uuid.UUID) -> bool:
    return ROSTER.remove(session, team.id, user_id=user_id)
