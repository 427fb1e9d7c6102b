"""Automation rules, every version of each, and the run log (tenant tables)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import false

from tenants.db import TenantBase, Timestamps, UuidPrimaryKey, utcnow


class Rule(UuidPrimaryKey, Timestamps, TenantBase):
    """The current version of a rule. Every edit bumps ``version`` and keeps a copy of
    the edited rule in :class:`RuleVersion`, so history can be read and restored."""

    __tablename__ = "automation_rules"
    __table_args__ = (Index("ix_automation_rules_position", "position"),)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Event names the rule runs on (empty when it runs on a schedule).
    events: Mapped[list[str]] = mapped_column(JSONB, default=list)
    #: A time-based trigger instead of events: ``{"type": "idle", "minutes": 30}``...
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    #: The JSONLogic document, over the evaluation context (:mod:`automation.context`).
    conditions: Mapped[Any] = mapped_column(JSONB, default=dict)
    #: ``[{"type": "add_tag", "params": {"tag": "vip"}}, ...]``, run in this order.
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    #: Rules of an account run in ascending position.
    position: Mapped[int] = mapped_column(Integer)
    #: When the rule matched, the rules after it do not run for that event.
    stop_processing: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    #: Runs in a row whose actions failed; the rule switches itself off at the limit.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    #: Why the rule was switched off by the engine (cleared when re-enabled).
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    #: Also log the evaluations that did not match (added by t0012, so last).
    log_misses: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), sort_order=20
    )


#: The order an account's rules run in (position; ties, which a reorder never leaves,
#: by age).
RUN_ORDER = (Rule.position, Rule.created_at, Rule.id)


class RuleVersion(UuidPrimaryKey, TenantBase):
    """A rule as it was at one version: what restoring brings back."""

    __tablename__ = "automation_rule_versions"
    __table_args__ = (UniqueConstraint("rule_id", "version"),)

    rule_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("automation_rules.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    #: The rule's definition (name through stop_processing) at that version.
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RuleRun(UuidPrimaryKey, TenantBase):
    """One evaluation of a rule on an event: what its conditions said and what its
    actions did. Kept for the retention period, for debugging rules."""

    __tablename__ = "automation_runs"
    __table_args__ = (
        Index("ix_automation_runs_rule", "rule_id", "created_at"),
        Index("ix_automation_runs_created_at", "created_at"),
    )

    rule_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("automation_rules.id", ondelete="CASCADE")
    )
    rule_version: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    event_name: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    matched: Mapped[bool] = mapped_column(Boolean)
    #: Each and/or/not branch of the conditions with what it evaluated to.
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    #: Each action: type, outcome (done / failed / skipped), error, milliseconds.
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    duration_ms: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ScheduleFired(TenantBase):
    """A time-based rule considered for a conversation at one moment: ``anchor`` is the
    timestamp its minutes count from (the last activity, the start of the wait, the SLA
    deadline). The rule is considered once per anchor, matched or not, however often the
    conversation's timer is re-planned; a new anchor (new activity) makes a new moment."""

    __tablename__ = "automation_schedule_fired"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    rule_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("automation_rules.id", ondelete="CASCADE"), primary_key=True
    )
    anchor: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SigningKey(TenantBase):
    """The account's webhook signing secrets: slot 1 signs; after a rotation, slot 2
    holds the previous secret, which also signs until ``expires_at`` so receivers can
    switch over without dropping a delivery."""

    __tablename__ = "automation_signing_keys"
    __table_args__ = (CheckConstraint("slot IN (1, 2)", name="slot"),)

    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


WEBHOOK_STATUSES = ("pending", "delivered", "failed")


class WebhookDelivery(UuidPrimaryKey, TenantBase):
    """One ``send_webhook`` action's request, retried until delivered or given up."""

    __tablename__ = "automation_webhook_deliveries"
    __table_args__ = (
        CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in WEBHOOK_STATUSES)})", name="status"
        ),
        Index("ix_automation_webhook_deliveries_created_at", "created_at"),
        Index("ix_automation_webhook_deliveries_rule", "rule_id"),
    )

    rule_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("automation_rules.id", ondelete="SET NULL")
    )
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    event_name: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    url: Mapped[str] = mapped_column(String(2048))
    #: The JSON body, exactly as signed and sent on every attempt.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: The receiver's HTTP status on the last attempt, if it answered.
    response_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
