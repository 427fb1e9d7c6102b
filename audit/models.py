"""``audit_log``: one row per change, in the account's own schema, never updated or deleted.

Append-only is enforced by the database, not by convention: a trigger refuses every
``UPDATE``, ``DELETE`` and ``TRUNCATE`` on the table, whoever sends them (the rendered
tenant script and the tenant migration ``t0002`` create the same trigger). Dropping the
schema (purging the account) still removes it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DDL, CheckConstraint, DateTime, Index, String, Uuid, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import TenantBase, UuidPrimaryKey, utcnow

#: ``automation``: a rule acting (its id is the rule's).
ACTOR_TYPES = ("user", "api_token", "automation", "system")

#: The trigger function and triggers, with ``{schema}`` standing for the tenant schema.
APPEND_ONLY_FUNCTION = (
    "CREATE FUNCTION {schema}audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$BEGIN RAISE EXCEPTION USING MESSAGE = 'audit_log is append-only: ' || TG_OP || "
    "' refused', ERRCODE = 'insufficient_privilege'; END$$"
)
APPEND_ONLY_ROW_TRIGGER = (
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON {schema}audit_log "
    "FOR EACH ROW EXECUTE FUNCTION {schema}audit_log_append_only()"
)
APPEND_ONLY_TRUNCATE_TRIGGER = (
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON {schema}audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION {schema}audit_log_append_only()"
)
APPEND_ONLY_DDL = (APPEND_ONLY_FUNCTION, APPEND_ONLY_ROW_TRIGGER, APPEND_ONLY_TRUNCATE_TRIGGER)


class AuditEntry(UuidPrimaryKey, TenantBase):
    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(
            "actor_type IN ('user', 'api_token', 'automation', 'system')", name="actor_type"
        ),
        Index("ix_audit_log_target", "target_type", "target_id"),
    )

    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    action: Mapped[str] = mapped_column(String(100), index=True)
    target_type: Mapped[str] = mapped_column(String(60))
    target_id: Mapped[str | None] = mapped_column(String(100))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    request_id: Mapped[str | None] = mapped_column(String(128))


for _statement in APPEND_ONLY_DDL:
    # %(schema)s is the table's schema as rendered (translated in the tenant script).
    event.listen(
        AuditEntry.__table__,
        "after_create",
        DDL(_statement.format(schema="%(schema)s.")),
    )
