"""``account_settings``: one row per account schema with its presentation settings.

The account's name stays in the registry (``public.accounts``); everything else a
settings page shows lives here, next to the account's data.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import TenantBase, Timestamps

DEFAULT_TIMEZONE = "UTC"
DEFAULT_LOCALE = "en"


class AccountSettings(Timestamps, TenantBase):
    __tablename__ = "account_settings"
    __table_args__ = (CheckConstraint("id = 1", name="singleton"),)

    #: Always 1: the table holds a single row.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, default=1)
    logo_url: Mapped[str | None] = mapped_column(String(2048))
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    locale: Mapped[str] = mapped_column(String(35), default=DEFAULT_LOCALE)
    #: ``{"mon": [["09:00", "17:00"]], ...}``; weekdays absent are closed.
    business_hours: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
