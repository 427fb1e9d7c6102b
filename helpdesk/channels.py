"""Channels (email, SMS, in-app, webhook) and the agents attached to their inboxes."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func, select, union, union_all
from sqlalchemy.orm import Session

from audit.service import Actor
from events import names
from events.outbox import emit
from helpdesk.errors import Conflict, InvalidField
from helpdesk.members import Roster
from helpdesk.models import Channel, ChannelMember, ChannelTeam, Conversation, Team, TeamMember

#: Config keys that are write-only: stored, never returned (shown as ``{"set": true}``).
SECRET_KEYS: dict[str, frozenset[str]] = {
    "email": frozenset({"smtp_password", "imap_password"}),
    "sms": frozenset({"api_key", "auth_token"}),
    "in_app": frozenset({"secret"}),
    "webhook": frozenset({"secret", "signing_secret"}),
}


def public_config(channel: Channel) -> dict[str, Any]:
    """The channel's config with every secret value replaced by ``{"set": true}``."""
    secrets = SECRET_KEYS[channel.type]
    return {
        key: ({"set": True} if key in secrets else value)
        for key, value in (channel.config or {}).items()
    }


def create_channel(
    session: Session,
    *,
    type: str,
    name: str,
    config: dict[str, Any] | None = None,
    enabled: bool = True,
) -> Channel:
    channel = Channel(
        type=type,
        name=name,
        config={k: v for k, v in (config or {}).items() if v is not None},
        enabled=enabled,
    )
    session.add(channel)
    session.flush()
    return channel


def get_channel(session: Session, channel_id: uuid.UUID) -> Channel | None:
    return session.get(Channel, channel_id)


def update_channel(
    session: Session, channel: Channel, *, config: dict[str, Any] | None = None, **changes: Any
) -> Channel:
    """Change fields; ``config`` is merged key by key (``null`` removes a key), so a
    client that never saw a secret can change other keys without resending it."""
    for key, value in changes.items():
        setattr(channel, key, value)
    if config is not None:
        merged = dict(channel.config or {})
        for key, value in config.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        channel.config = merged
    session.flush()
    return channel


def delete_channel(session: Session, channel: Channel) -> None:
    in_use = session.scalar(
        select(Conversation.id).where(Conversation.channel_id == channel.id).limit(1)
    )
    if in_use is not None:
        raise Conflict("channel_in_use", "The channel has conversations; disable it instead.")
    session.delete(channel)
    session.flush()


INBOX = Roster(
    ChannelMember, "channel_id", joined=names.CHANNEL_MEMBER_ADDED, parent_type="channel"
)


def inbox_members(session: Session, channel: Channel) -> list[uuid.UUID]:
    return INBOX.members(session, channel.id)


def add_inbox_member(
    session: Session, channel: Channel, *, account_id: uuid.UUID, actor: Actor, user_id: uuid.UUID
) -> bool:
    """Attach a member of the account to the channel's inbox (idempotent)."""
    return INBOX.add(session, channel.id, account_id=account_id, actor=actor, user_id=user_id)


def remove_inbox_member(session: Session, channel: Channel, *, user_id: uuid.UUID) -> bool:
    return INBOX.remove(session, channel.id, user_id=user_id)


def inbox_teams(session: Session, channel: Channel) -> list[uuid.UUID]:
    return list(
        session.scalars(
            select(ChannelTeam.team_id)
            .where(ChannelTeam.channel_id == channel.id)
            .order_by(ChannelTeam.created_at, ChannelTeam.team_id)
        )
    )


def attach_team(
    session: Session, channel: Channel, *, account_id: uuid.UUID, actor: Actor, team_id: uuid.UUID
) -> bool:
    """Attach a team to the channel's inbox (idempotent): False when already attached."""
    if session.get(Team, team_id) is None:
        raise InvalidField("team_id", "no such team")
    key = {"channel_id": channel.id, "team_id": team_id}
    if session.get(ChannelTeam, key) is not None:
        return False
    session.add(ChannelTeam(**key))
    session.flush()
    emit(
        session,
        account_id=account_id,
        name=names.CHANNEL_TEAM_ATTACHED,
        actor=actor,
        subject_type="channel",
        subject_id=channel.id,
        payload={"team_id": str(team_id)},
    )
    return True


def detach_team(session: Session, channel: Channel, *, team_id: uuid.UUID) -> bool:
    row = session.get(ChannelTeam, {"channel_id": channel.id, "team_id": team_id})
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def channels_worked_by(user_id: uuid.UUID) -> Select:
    """The ids of the channels whose inbox ``user_id`` works: attached directly or
    through a team attached to the channel. A subquery for ``IN (...)`` filters."""
    return union(
        select(ChannelMember.channel_id).where(ChannelMember.user_id == user_id),
        select(ChannelTeam.channel_id)
        .join(TeamMember, TeamMember.team_id == ChannelTeam.team_id)
        .where(TeamMember.user_id == user_id),
    )


def inbox_agents(session: Session, channel_id: uuid.UUID) -> list[uuid.UUID]:
    """Everyone working the channel's inbox (directly or through a team), in the order
    they joined it (round-robin assignment goes round in this order)."""
    joined = union_all(
        select(ChannelMember.user_id, ChannelMember.created_at.label("since")).where(
            ChannelMember.channel_id == channel_id
        ),
        select(
            TeamMember.user_id,
            func.greatest(ChannelTeam.created_at, TeamMember.created_at).label("since"),
        )
        .join(ChannelTeam, ChannelTeam.team_id == TeamMember.team_id)
        .where(ChannelTeam.channel_id == channel_id),
    ).subquery()
    return list(
        session.scalars(
            select(joined.c.user_id)
            .group_by(joined.c.user_id)
            .order_by(func.min(joined.c.since), joined.c.user_id)
        )
    )
