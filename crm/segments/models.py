"""The segments table (tenant schema)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Index, String, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import TenantBase, Timestamps, UuidPrimaryKey

#: The unique index on the lower-cased name: its violation is a name already taken.
NAME_INDEX = "uq_segments_name"


class Segment(UuidPrimaryKey, Timestamps, TenantBase):
    """A saved contact filter: the contacts for which ``condition`` holds."""

    __tablename__ = "segments"
    __table_args__ = (Index(NAME_INDEX, text("lower(name)"), unique=True),)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    #: The JSONLogic document over ``contact.*`` (see :mod:`crm.segments.fields`).
    condition: Mapped[Any] = mapped_column(JSONB)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
