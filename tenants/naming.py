"""Schema names come from account ids, never from user input, and are checked anyway."""

from __future__ import annotations

import re
import unicodedata
import uuid

_SCHEMA = re.compile(r"^t_[0-9a-f]{32}$")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class InvalidSchemaName(ValueError):
    pass


def schema_for(account_id: uuid.UUID) -> str:
    return f"t_{account_id.hex}"


def validate_schema_name(name: str) -> str:
    """Return ``name`` if it is one of ours, else raise: it ends up inside DDL."""
    if not _SCHEMA.fullmatch(name):
        raise InvalidSchemaName(f"{name!r} is not a tenant schema name")
    return name


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:63].strip("-")
    return slug or "account"


def is_valid_slug(slug: str) -> bool:
    return bool(_SLUG.fullmatch(slug))
