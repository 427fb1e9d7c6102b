"""Users live once, in the public schema, and join accounts through memberships."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import PublicBase, Timestamps, UuidPrimaryKey


class User(UuidPrimaryKey, Timestamps, PublicBase):
    __tablename__ = "users"

    #: Stored lower-cased, so uniqueness and log-in ignore case.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
