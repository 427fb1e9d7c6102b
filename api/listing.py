"""The list behaviour every collection shares: pagination, sorting and filtering.

Every list endpoint (``GET /v1/accounts/{account_id}/contacts``, ...) takes the same
query-string grammar and answers ``{"items": [...], "meta": {...}}``.

Pagination
    ``page`` (from 1, default 1) and ``per_page`` (1-100, default 25). Out-of-range
    values are a 422 with ``errors.page`` / ``errors.per_page``. ``meta`` carries
    ``page``, ``per_page``, ``total`` (rows matching the filters) and ``pages``
    (``ceil(total / per_page)``, 0 when nothing matches). A page past the last one is
    an empty ``items`` list, not an error. Query arguments other than ``page``,
    ``per_page``, ``sort`` and ``filter`` are a 422 too, so a typo (``?filters=``)
    cannot silently return the unfiltered list.

Sorting
    ``sort=-created_at,name``: comma-separated field names, each ascending unless
    prefixed with ``-``; earlier keys take precedence. Without ``sort`` a resource uses
    its default (newest first for contacts). A unique tie-break (the id) is always
    appended, so equal keys come back in a stable order and pages never overlap.
    Sorting by a field the resource does not list as sortable is a 400
    ``invalid_sort`` whose message names the sortable fields.

Filtering
    ``filter=<field>:<op>:<value>``, repeatable; every filter must hold (AND). Only the
    first two colons separate, so values may contain colons
    (``filter=created_at:gte:2024-05-01T12:00:00Z``). Operators:

    ============= =========================================================
    ``eq``/``ne`` equal / not equal (``ne`` also matches rows without a value)
    ``lt``        less than (also ``lte``, ``gt``, ``gte``); ordered fields only
    ``in``        equal to one of comma-separated values: ``status:in:a,b``
    ``contains``  substring, case-sensitive; ``%`` and ``_`` match themselves
    ``icontains`` the same, ignoring case
    ``startswith`` begins with the value, case-sensitive; ``%`` and ``_`` literal
    ``isnull``    ``true`` (no value) or ``false`` (has a value)
    ============= =========================================================

    Each resource allow-lists its fields and, per field, its operators (text fields:
    ``eq ne in contains icontains isnull``; dates: ``eq ne lt lte gt gte in isnull``).
    Values are typed by the field: datetimes are ISO 8601 (``2024-05-01``,
    ``2024-05-01T12:00:00+02:00``; a time without offset is UTC; a literal ``+``
    must be sent as ``%2B`` or the offset written ``Z``), ids are UUIDs.

    Errors are 400 ``invalid_filter``, with ``errors.filter`` explaining: an
    expression that is not ``field:op:value``; an unknown field (the allowed fields
    are named); an operator the field does not allow (its operators are named); a
    value of the wrong type; an ``isnull`` value other than ``true``/``false``.

Example: ``GET .../contacts?filter=company:isnull:false&filter=name:icontains:ada
&sort=-created_at&page=2&per_page=50``.

Contacts and conversations also list their account's custom fields as
``custom_fields.<key>`` (``filter=custom_fields.plan:eq:pro``, ``sort=-custom_fields.seats``),
typed by each field's definition (see :mod:`api.custom_fields`).

A resource declares what it allows with a :class:`Listing` and hands its query to
:func:`paginate`; the view takes :class:`ListArgs` from the query string.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import marshmallow as ma
from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.base import Schema
from api.errors import fail

MAX_PER_PAGE = 100
_KIND_NAMES = {
    datetime: "ISO 8601 datetime",
    uuid.UUID: "UUID",
    int: "integer",
    float: "number",
    date: "date (YYYY-MM-DD)",
    bool: "boolean (true/false)",
}
TEXT_OPS = ("eq", "ne", "in", "contains", "icontains", "startswith", "isnull")
ORDERED_OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "isnull")


@dataclass(frozen=True)
class Field:
    #: What is compared and sorted: a column or any SQL expression.
    column: Any
    kind: type = str
    ops: tuple[str, ...] = TEXT_OPS
    sortable: bool = True
    #: Builds the clause itself from the operator and the typed value (a list for ``in``,
    #: a bool for ``isnull``); returning None leaves the operator to ``column``.
    condition: Callable[[str, Any], Any] | None = None


@dataclass(frozen=True)
class Listing:
    fields: dict[str, Field]
    default_sort: str = "-created_at"
    tiebreak: InstrumentedAttribute | None = None
    sortable: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = tuple(name for name, spec in self.fields.items() if spec.sortable)
        object.__setattr__(self, "sortable", names)

    def with_fields(self, extra: dict[str, Field]) -> Listing:
        """This listing with more fields (e.g. the account's custom fields, per request)."""
        return replace(self, fields={**self.fields, **extra}) if extra else self


def _sort_arg() -> ma.fields.String:
    return ma.fields.String(
        load_default=None,
        metadata={
            "description": "Comma-separated fields, `-` for descending: `-created_at,name`",
        },
    )


def _filter_arg() -> ma.fields.List:
    return ma.fields.List(
        ma.fields.String(),
        load_default=list,
        metadata={
            "description": "`field:op:value`, repeatable (all must hold). Operators: "
            "eq, ne, lt, lte, gt, gte, in (comma-separated values), contains, icontains, "
            "isnull (true/false); each field allows a subset. "
            "Example: `created_at:gte:2024-05-01T00:00:00Z`",
        },
    )


class ListArgs(Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1))
    per_page = ma.fields.Integer(
        load_default=25, validate=ma.validate.Range(min=1, max=MAX_PER_PAGE)
    )
    sort = _sort_arg()
    filter = _filter_arg()


class SelectArgs(Schema):
    """``sort`` and ``filter`` without paging: for endpoints that select rows the way a
    list does and hand them all over (such as an export)."""

    sort = _sort_arg()
    filter = _filter_arg()


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
            value = datetime.fromisoformat(raw)
            return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        if spec.kind is uuid.UUID:
            return uuid.UUID(raw)
        if spec.kind is int:
            return int(raw)
        if spec.kind is float:
            number = float(raw)
            if not math.isfinite(number):
                raise ValueError(raw)
            return int(number) if number.is_integer() and "." not in raw else number
        if spec.kind is date:
            return date.fromisoformat(raw)
        if spec.kind is bool:
            if raw not in ("true", "false"):
                raise ValueError(raw)
            return raw == "true"
    except ValueError:
        fail(
            400,
            "invalid_filter",
            f"{raw!r} is not a valid {_KIND_NAMES.get(spec.kind, 'value')} for {name!r}.",
            errors={"filter": [f"{raw!r} is not a valid value for {name}"]},
        )
    return raw


def _condition(listing: Listing, expression: str):
    parts = expression.split(":", 2)
    if len(parts) != 3 or not parts[0] or not parts[1]:
        fail(
            400,
            "invalid_filter",
            f"Filter {expression!r} is not of the form field:op:value.",
            errors={"filter": [f"{expression!r} is not field:op:value"]},
        )
    name, op, raw = parts
    spec = listing.fields.get(name)
    if spec is None:
        allowed = ", ".join(sorted(listing.fields))
        fail(
            400,
            "invalid_filter",
            f"Cannot filter on {name!r}; filterable fields: {allowed}.",
            errors={"filter": [f"allowed fields: {allowed}"]},
        )
    if op not in spec.ops:
        allowed = ", ".join(spec.ops)
        fail(
            400,
            "invalid_filter",
            f"Operator {op!r} is not allowed on {name!r}; allowed: {allowed}.",
            errors={"filter": [f"allowed operators for {name}: {allowed}"]},
        )
    if op == "isnull":
        if raw not in ("true", "false"):
            fail(
                400,
                "invalid_filter",
                f"isnull takes true or false, not {raw!r}.",
                errors={"filter": ["isnull takes true or false"]},
            )
        value: Any = raw == "true"
    elif op == "in":
        value = [_parse_value(spec, name, item) for item in raw.split(",")]
    elif op in ("contains", "icontains", "startswith"):
        value = raw
    else:
        value = _parse_value(spec, name, raw)
    if spec.condition is not None:
        clause = spec.condition(op, value)
        if clause is not None:
            return clause
    return _column_condition(spec.column, op, value)


def _column_condition(column: Any, op: str, value: Any):
    if op == "isnull":
        return column.is_(None) if value else column.is_not(None)
    if op == "in":
        return column.in_(value)
    if op in ("contains", "icontains", "startswith"):
        raw = value
        escaped = raw.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"{escaped}%" if op == "startswith" else f"%{escaped}%"
        like = column.ilike if op == "icontains" else column.like
        return like(pattern, escape="\\")
    return {
        "eq": column.__eq__,
        "ne": column.is_distinct_from,  # rows without a value are "not equal" too
        "lt": column.__lt__,
        "lte": column.__le__,
        "gt": column.__gt__,
        "gte": column.__ge__,
    }[op](value)


def ordering(listing: Listing, sort: str | None) -> list:
    clauses = []
    for term in (sort or listing.default_sort).split(","):
        term = term.strip()
        descending = term.startswith("-")
        name = term.removeprefix("-")
        if name not in listing.sortable:
            allowed = ", ".join(listing.sortable)
            fail(
                400,
                "invalid_sort",
                f"Cannot sort by {name!r}; sortable fields: {allowed}.",
                errors={"sort": [f"sortable fields: {allowed}"]},
            )
        column = listing.fields[name].column
        clauses.append(column.desc() if descending else column.asc())
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
        query.order_by(*ordering(listing, args["sort"]))
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


def filtered(query: Select, listing: Listing, filters: list[str]) -> Select:
    """``query`` narrowed by ``filter`` expressions of the list grammar (for endpoints
    that select rows the way a list does without paging them, such as bulk tagging)."""
    for expression in filters:
        query = query.where(_condition(listing, expression))
    return query


def ordered(query: Select, listing: Listing, sort: str | None) -> Select:
    """``query`` in the list's order for ``sort`` (its default without one), tie-break
    last; an unknown field is the list's 400 ``invalid_sort``."""
    return query.order_by(*ordering(listing, sort))
