"""The list behaviour every collection shares: pagination, sorting and filtering.

Grammar (query string):

- ``page`` (from 1) and ``per_page`` (1-100, default 25); the body carries ``total``.
- ``sort=-created_at,name``: comma-separated fields, ``-`` for descending.
- ``filter=<field>:<op>:<value>``, repeatable, all must hold. Operators: ``eq``, ``ne``,
  ``lt``, ``lte``, ``gt``, ``gte``, ``in`` (comma-separated values), ``contains``,
  ``icontains``, ``isnull`` (``true``/``false``). Only the fields and operators a
  resource allow-lists are accepted; anything else is a 400 naming what is allowed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import marshmallow as ma
from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.base import Schema
from api.errors import fail

MAX_PER_PAGE = 100
TEXT_OPS = ("eq", "ne", "in", "contains", "icontains", "isnull")
ORDERED_OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "isnull")


@dataclass(frozen=True)
class Field:
    column: InstrumentedAttribute
    kind: type = str
    ops: tuple[str, ...] = TEXT_OPS
    sortable: bool = True


@dataclass(frozen=True)
class Listing:
    fields: dict[str, Field]
    default_sort: str = "-created_at"
    tiebreak: InstrumentedAttribute | None = None
    sortable: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = tuple(name for name, spec in self.fields.items() if spec.sortable)
        object.__setattr__(self, "sortable", names)


class ListArgs(Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1))
    per_page = ma.fields.Integer(
        load_default=25, validate=ma.validate.Range(min=1, max=MAX_PER_PAGE)
    )
    sort = ma.fields.String(load_default=None, metadata={"description": "e.g. `-created_at,name`"})
    filter = ma.fields.List(
        ma.fields.String(),
        load_default=list,
        metadata={"description": "`field:op:value`, repeatable; see the README's grammar"},
    )


class PageMeta(ma.Schema):
    page = ma.fields.Integer(required=True)
    per_page = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)
    pages = ma.fields.Integer(required=True)


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A ``{"items": [...], "meta": {...}}`` schema for one resource."""
    return type(
        name,
        (ma.Schema,),
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "meta": ma.fields.Nested(PageMeta, required=True),
        },
    )


def _parse_value(spec: Field, name: str, raw: str) -> Any:
    try:
        if spec.kind is datetime:
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if spec.kind is uuid.UUID:
            return uuid.UUID(raw)
        if spec.kind is int:
            return int(raw)
    except ValueError:
        fail(400, "invalid_filter", errors={"filter": [f"{raw!r} is not a valid value for {name}"]})
    return raw


def _condition(listing: Listing, expression: str):
    parts = expression.split(":", 2)
    if len(parts) != 3:
        fail(
            400,
            "invalid_filter",
            errors={"filter": [f"{expression!r} is not field:op:value"]},
        )
    name, op, raw = parts
    spec = listing.fields.get(name)
    if spec is None:
        fail(
            400,
            "invalid_filter",
            f"Unknown filter field {name!r}.",
            errors={"filter": [f"allowed fields: {', '.join(sorted(listing.fields))}"]},
        )
    if op not in spec.ops:
        fail(
            400,
            "invalid_filter",
            f"Operator {op!r} is not allowed on {name!r}.",
            errors={"filter": [f"allowed operators for {name}: {', '.join(spec.ops)}"]},
        )
    column = spec.column
    if op == "isnull":
        if raw not in ("true", "false"):
            fail(400, "invalid_filter", errors={"filter": ["isnull takes true or false"]})
        return column.is_(None) if raw == "true" else column.is_not(None)
    if op == "in":
        return column.in_([_parse_value(spec, name, item) for item in raw.split(",")])
    if op in ("contains", "icontains"):
        escaped = raw.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        return (
            column.like(pattern, escape="\\")
            if op == "contains"
            else column.ilike(pattern, escape="\\")
        )
    value = _parse_value(spec, name, raw)
    return {
        "eq": column.__eq__,
        "ne": column.__ne__,
        "lt": column.__lt__,
        "lte": column.__le__,
        "gt": column.__gt__,
        "gte": column.__ge__,
    }[op](value)


def _ordering(listing: Listing, sort: str | None) -> list:
    clauses = []
    for term in (sort or listing.default_sort).split(","):
        term = term.strip()
        name = term.lstrip("-")
        if name not in listing.sortable:
            fail(
                400,
                "invalid_sort",
                f"Cannot sort by {name!r}.",
                errors={"sort": [f"sortable fields: {', '.join(listing.sortable)}"]},
            )
        column = listing.fields[name].column
        clauses.append(column.desc() if term.startswith("-") else column.asc())
    if listing.tiebreak is not None:
        clauses.append(listing.tiebreak.asc())
    return clauses


def paginate(session: Session, query: Select, listing: Listing, args: dict) -> dict[str, Any]:
    """Apply filters, sort and page to ``query``; return ``{"items", "meta"}``."""
    for expression in args["filter"]:
        query = query.where(_condition(listing, expression))
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page, per_page = args["page"], args["per_page"]
    rows = session.scalars(
        query.order_by(*_ordering(listing, args["sort"]))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return {
        "items": rows,
        "meta": {
            "page": page,
            "per_page": per_page,
            "total": total,
            "pages": (total + per_page - 1) // per_page,
        },
    }
