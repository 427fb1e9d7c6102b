"""Tenant tables of SLA: policies, holidays, and each conversation's measured targets."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import TenantBase, Timestamps, UuidPrimaryKey, utcnow

#: What a policy can promise, in the order a conversation meets them.
TARGETS = ("first_response", "next_response", "resolution")
HOURS = ("business", "calendar")
#: ``pending`` until decided; ``missed`` as soon as the deadline passes (the row then
#: still waits for ``completed_at``), ``hit`` when completed in time.
STATUSES = ("pending", "hit", "missed")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class SlaPolicy(UuidPrimaryKey, Timestamps, TenantBase):
    __tablename__ = "sla_policies"
    __table_args__ = (CheckConstraint(_one_of("hours", HOURS), name="hours"),)

    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(String(1000))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Lowest first: the first enabled policy whose conditions match applies.
    position: Mapped[int] = mapped_column(Integer, default=0)
    hours: Mapped[str] = mapped_column(String(16), default="business")
    #: ``{priority: {target: minutes}}``; a priority or target left out is not measured.
    targets: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    #: ``{"minutes_before": n}`` or ``{"percent": p}`` of each target; None: no warnings.
    warning: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    #: ``{"channel_ids": [...], "team_ids": [...], "priorities": [...]}``, each optional.
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class Holiday(UuidPrimaryKey, Timestamps, TenantBase):
    """A local date on which business hours are closed."""

    __tablename__ = "holidays"

    name: Mapped[str] = mapped_column(String(200))
    date: Mapped[date] = mapped_column(Date, unique=True)


class ConversationSla(Timestamps, TenantBase):
    """Which policy a conversation is measured against, and whether someone chose it."""

    __tablename__ = "conversation_slas"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    #: None: no policy applies (or, when ``explicit``, none may).
    policy_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("sla_policies.id", ondelete="CASCADE"), index=True
    )
    #: Applied by hand (or by an automation action): conditions no longer decide.
    explicit: Mapped[bool] = mapped_column(Boolean, default=False)


class SlaTarget(UuidPrimaryKey, TenantBase):
    """One measured target of a conversation: a first response, one next response (each
    customer message waiting for an answer starts one), or one resolution (each reopening
    starts one). The report counts these rows."""

    __tablename__ = "conversation_sla_targets"
    __table_args__ = (
        CheckConstraint(_one_of("target", TARGETS), name="target"),
        CheckConstraint(_one_of("status", STATUSES), name="status"),
        Index(
            "ix_conversation_sla_targets_active",
            "conversation_id",
            "target",
            unique=True,
            postgresql_where="completed_at IS NULL",
        ),
        Index("ix_conversation_sla_targets_report", "policy_id", "started_at"),
    )

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    policy_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("sla_policies.id", ondelete="CASCADE")
    )
    target: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: Counting time already spent before ``running_since`` (a paused resolution).
    elapsed_seconds: Mapped[int] = mapped_column(Integer, default=0)
    #: None while paused (resolution, while the conversation is pending).
    running_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    warn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    warned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    breached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
