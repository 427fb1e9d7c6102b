"""Tenant tables of the helpdesk. No schema here: the session's tenant decides it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from helpdesk.tags import ConversationTag, Tag
from tenants.db import TenantBase, Timestamps, UuidPrimaryKey, utcnow

CHANNEL_TYPES = ("email", "sms", "in_app", "webhook")
#: Ordered lowest first: stored as their rank so sorting by priority means urgency.
PRIORITIES = ("none", "low", "medium", "high", "urgent")
DIRECTIONS = ("inbound", "outbound")
SENDER_TYPES = ("contact", "agent", "automation", "system")
DELIVERY_STATUSES = ("queued", "sent", "delivered", "failed")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Priority(TypeDecorator):
    """A priority name in Python, its rank (0-4) in the database.

    Filters bind names (``priority:eq:high``); an unknown name binds to -1 and matches
    nothing.
    """

    impl = SmallInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return PRIORITIES.index(value) if value in PRIORITIES else -1

    def process_result_value(self, value, dialect):
        return None if value is None else PRIORITIES[value]


class Channel(UuidPrimaryKey, Timestamps, TenantBase):
    __tablename__ = "channels"
    __table_args__ = (CheckConstraint(_one_of("type", CHANNEL_TYPES), name="type"),)

    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    #: Per-type settings; the type's secret keys are never returned by the API.
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class ChannelMember(TenantBase):
    """An agent attached to a channel's inbox."""

    __tablename__ = "channel_members"

    channel_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChannelTeam(TenantBase):
    """A team attached to a channel's inbox: its members work that inbox too."""

    __tablename__ = "channel_teams"

    channel_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Team(UuidPrimaryKey, Timestamps, TenantBase):
    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(String(1000))


class TeamMember(TenantBase):
    __tablename__ = "team_members"

    team_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Conversation(UuidPrimaryKey, Timestamps, TenantBase):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_custom_fields", "custom_fields", postgresql_using="gin"),
        CheckConstraint(
            _one_of("status", ("open", "assigned", "pending", "snoozed", "resolved", "closed")),
            name="status",
        ),
    )

    channel_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("channels.id", ondelete="RESTRICT"), index=True
    )
    contact_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("contacts.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    priority: Mapped[str] = mapped_column(Priority, default="none")
    #: A user who is a member of the account (public schema: no foreign key across).
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    subject: Mapped[str | None] = mapped_column(String(500))
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_activity_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    first_reply_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    waiting_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Added by revision t0006: sort_order puts them after the timestamps, where ALTER
    # TABLE ADD COLUMN put them, so provisioned and migrated schemas stay identical.
    #: Free-form ``{key: scalar or list of scalars}`` (see ``update_conversation``).
    custom_attributes: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb"), sort_order=20
    )
    #: Set on a conversation merged into another (it is closed; see helpdesk.merging).
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("conversations.id", ondelete="SET NULL"), index=True, sort_order=20
    )
    #: Sorted by name. Read-only here (helpdesk.tags changes them); lists load them with
    #: ``selectinload`` so a page costs one extra query, not one per conversation.
    #: The contact's new messages neither wake nor reopen it (added by t0012).
    muted: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false"), sort_order=20
    )
    #: ``{key: value}`` for the account's conversation custom fields, typed and checked
    #: by crm.custom_fields (added by t0014, last). ``custom_attributes`` stays free-form
    #: for integrations and automation.
    custom_fields: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb"), sort_order=30
    )
    tags: Mapped[list[Tag]] = relationship(
        Tag, secondary=ConversationTag.__table__, order_by=Tag.key, viewonly=True
    )


class Message(UuidPrimaryKey, TenantBase):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(_one_of("direction", DIRECTIONS), name="direction"),
        CheckConstraint(_one_of("sender_type", SENDER_TYPES), name="sender_type"),
        CheckConstraint(_one_of("delivery_status", DELIVERY_STATUSES), name="delivery_status"),
        Index("ix_messages_timeline", "conversation_id", "created_at", "id"),
    )

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    direction: Mapped[str] = mapped_column(String(16))
    sender_type: Mapped[str] = mapped_column(String(16))
    sender_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    body: Mapped[str] = mapped_column(Text)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, default=dict)
    delivery_status: Mapped[str] = mapped_column(String(16))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: The sanitised HTML version of ``body``, when the sender had one
    #: (added by t0009, so last in the table).
    body_html: Mapped[str | None] = mapped_column(Text)
