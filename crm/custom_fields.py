"""Custom fields: per-account definitions for contacts and conversations, and their values.

A definition names a ``key`` (stable: never renamed) of one ``entity``, with a ``type`` and
its rules (``required``, a ``regex`` for text, ``options`` for the select types). Values
live on each record in its ``custom_fields`` JSONB column as ``{key: value}``.

Writes (:func:`checked_values`) accept only defined keys, check and normalise each value
(dates ``YYYY-MM-DD``, numbers as JSON numbers, emails lower-cased, phones without
separators, multi-select values de-duplicated in option order), enforce ``required`` on
creation and merge a change key by key (``None`` removes a key). The whole merged set is
checked, so a value written before its definition changed is re-validated on the next
write of the record's custom fields; changing a definition never rewrites values.
Deleting a definition removes its values from every record, in the same transaction.

Reading them in lists is SQL over the JSONB (:func:`condition`, :func:`sort_expression`):
equality, ``in``, presence and multi-select membership are containment (``@>``) and key
tests (``?``), which the GIN index on each ``custom_fields`` column answers; ordered
comparisons and sorting read the typed value, guarded so a value of another type (left by
a type change) is NULL rather than a cast error.

Callers own the transaction; definition changes are written to the audit log.
"""

from __future__ import annotations

import functools
import math
import re
import uuid
from datetime import date, datetime
from re import _constants as c  # the pattern parser's vocabulary
from re import _parser
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ColumnElement,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    and_,
    case,
    cast,
    func,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, JSONPATH
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from audit.service import Actor, record_change, snapshot
from tenants.db import TenantBase, Timestamps, UuidPrimaryKey

ENTITIES = ("contact", "conversation")
#: The table that carries each entity's values (in its ``custom_fields`` column).
CARRIERS = {"contact": "contacts", "conversation": "conversations"}
TEXT, NUMBER, DATE, BOOLEAN = "text", "number", "date", "boolean"
SINGLE_SELECT, MULTI_SELECT = "single_select", "multi_select"
URL, EMAIL, PHONE = "url", "email", "phone"
TYPES = (TEXT, NUMBER, DATE, BOOLEAN, SINGLE_SELECT, MULTI_SELECT, URL, EMAIL, PHONE)
SELECTS = (SINGLE_SELECT, MULTI_SELECT)
#: Stored as JSON strings (compared and sorted as text).
TEXTUAL = (TEXT, SINGLE_SELECT, URL, EMAIL, PHONE)

KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_DEFINITIONS = 100  # per entity
MAX_OPTIONS = 100
MAX_OPTION_LENGTH = 100
MAX_REGEX_LENGTH = 200
MAX_TEXT_LENGTH = 1000
MAX_URL_LENGTH = 2048
_PHONE = re.compile(r"\+?[0-9][0-9 ().\-]{2,39}")
_PHONE_SEPARATORS = re.compile(r"[\s().\-]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CustomFieldDefinition(UuidPrimaryKey, Timestamps, TenantBase):
    __tablename__ = "custom_field_definitions"
    __table_args__ = (
        CheckConstraint(_one_of("entity", ENTITIES), name="entity"),
        CheckConstraint(_one_of("type", TYPES), name="type"),
        Index("ix_custom_field_definitions_entity_position", "entity", "position"),
        UniqueConstraint("entity", "key"),
    )

    entity: Mapped[str] = mapped_column(String(16))
    #: Unique per entity; never renamed (values are stored under it).
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Text only: a value must match it whole (see :func:`compile_regex`).
    regex: Mapped[str | None] = mapped_column(String(MAX_REGEX_LENGTH))
    #: Select types only: the allowed values, in display order.
    options: Mapped[list[str]] = mapped_column(JSONB, default=list)
    #: Display order within the entity, from 0.
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(String(1000))


# --- refusals --------------------------------------------------------------------------


class CustomFieldError(Exception):
    """A refused definition or value; ``errors`` maps fields to messages (a 422)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class KeyTaken(Exception):
    """Another definition of the same entity has this key (a 409)."""


# --- definitions -----------------------------------------------------------------------


def _nested_repeats(items: Any, repeated: bool = False) -> bool:
    """Whether a parsed pattern repeats a repetition or refers back to a group: the
    constructs that make a backtracking matcher take exponential time."""
    repeats = (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT)
    for op, av in items:
        if op in (c.GROUPREF, c.GROUPREF_EXISTS):
            return True
        if op in repeats:
            _, high, sub = av
            if repeated or _nested_repeats(sub, repeated or high > 1):
                return True
        elif op == c.SUBPATTERN:
            if _nested_repeats(av[-1], repeated):
                return True
        elif op in (c.ATOMIC_GROUP, c.ASSERT, c.ASSERT_NOT):
            if _nested_repeats(av[-1] if op != c.ATOMIC_GROUP else av, repeated):
                return True
        elif op == c.BRANCH and any(_nested_repeats(branch, repeated) for branch in av[1]):
            return True
    return False


@functools.lru_cache(maxsize=256)
def compile_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled, or ``ValueError`` saying why it is refused.

    Patterns are at most 200 characters, and may neither repeat a repetition (``(a+)+``)
    nor use backreferences; with values limited to 1,000 characters this keeps a match
    from backtracking for long. Cached: checking a value parses its pattern otherwise, and
    an import checks thousands against the same one.
    """
    if len(pattern) > MAX_REGEX_LENGTH:
        raise ValueError(f"at most {MAX_REGEX_LENGTH} characters")
    try:
        compiled = re.compile(pattern)
        parsed = _parser.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise ValueError(f"not a valid regular expression ({exc})") from None
    if _nested_repeats(parsed):
        raise ValueError("nested repetitions and backreferences are not allowed")
    return compiled


def _clean_options(options: Any) -> list[str]:
    if not isinstance(options, list) or not options:
        raise ValueError("a non-empty list of values")
    if len(options) > MAX_OPTIONS:
        raise ValueError(f"at most {MAX_OPTIONS} values")
    cleaned = []
    for option in options:
        if not isinstance(option, str) or not option.strip():
            raise ValueError("each value is a non-empty string")
        option = option.strip()
        if len(option) > MAX_OPTION_LENGTH:
            raise ValueError(f"each value is at most {MAX_OPTION_LENGTH} characters")
        if option in cleaned:
            raise ValueError(f"{option!r} is listed twice")
        cleaned.append(option)
    return cleaned


def _checked_definition(fields: dict[str, Any], given: set[str]) -> dict[str, Any]:
    """``fields`` (the definition as it will be) made consistent for its type, or refused.

    Options belong to the select types and a regex to text: given for another type they
    are refused; left over from a former type they are dropped.
    """
    errors: dict[str, list[str]] = {}
    kind = fields["type"]
    if kind in SELECTS:
        try:
            fields["options"] = _clean_options(fields.get("options"))
        except ValueError as exc:
            errors["options"] = [f"{kind} needs {exc}" if "list" in str(exc) else str(exc)]
    elif fields.get("options"):
        if "options" in given:
            errors["options"] = ["only the select types have options"]
        fields["options"] = []
    else:
        fields["options"] = []
    if fields.get("regex") is not None:
        if kind != TEXT:
            if "regex" in given:
                errors["regex"] = ["only text fields take a regex"]
            fields["regex"] = None
        else:
            try:
                compile_regex(fields["regex"])
            except ValueError as exc:
                errors["regex"] = [str(exc)]
    if errors:
        raise CustomFieldError(errors)
    return fields


def _audit(session: Session, actor: Actor, action: str, definition, **states) -> None:
    record_change(
        session,
        actor=actor,
        action=f"custom_field.{action}",
        target_type="custom_field",
        target_id=definition.id,
        **states,
    )


def list_definitions(session: Session, entity: str | None = None) -> list[CustomFieldDefinition]:
    query = select(CustomFieldDefinition).order_by(
        CustomFieldDefinition.entity, CustomFieldDefinition.position, CustomFieldDefinition.key
    )
    if entity is not None:
        query = query.where(CustomFieldDefinition.entity == entity)
    return list(session.scalars(query))


def get_definition(session: Session, definition_id: uuid.UUID) -> CustomFieldDefinition | None:
    return session.get(CustomFieldDefinition, definition_id)


def create_definition(
    session: Session,
    *,
    actor: Actor,
    entity: str,
    key: str,
    label: str,
    type: str,
    required: bool = False,
    regex: str | None = None,
    options: list[str] | None = None,
    position: int | None = None,
    description: str | None = None,
) -> CustomFieldDefinition:
    """A new definition; without a position it goes last among its entity's."""
    if entity not in ENTITIES:
        raise CustomFieldError({"entity": [f"one of {', '.join(ENTITIES)}"]})
    if not KEY.fullmatch(key):
        raise CustomFieldError({"key": ["a lower-case letter, then [a-z0-9_], 64 at most"]})
    if type not in TYPES:
        raise CustomFieldError({"type": [f"one of {', '.join(TYPES)}"]})
    given = {"regex", "options"}
    fields = _checked_definition({"type": type, "regex": regex, "options": options}, given)
    existing = session.scalar(select(func.count()).where(CustomFieldDefinition.entity == entity))
    if existing >= MAX_DEFINITIONS:
        raise CustomFieldError({"entity": [f"at most {MAX_DEFINITIONS} fields per entity"]})
    if position is None:
        last = session.scalar(
            select(func.max(CustomFieldDefinition.position)).where(
                CustomFieldDefinition.entity == entity
            )
        )
        position = 0 if last is None else last + 1
    definition = CustomFieldDefinition(
        id=uuid.uuid4(),
        entity=entity,
        key=key,
        label=label,
        required=required,
        position=position,
        description=description,
        **fields,
    )
    try:
        with session.begin_nested():
            session.add(definition)
            session.flush()
    except IntegrityError as exc:
        if (
            getattr(exc.orig.diag, "constraint_name", None)
            == "uq_custom_field_definitions_entity_key"
        ):
            raise KeyTaken(key) from exc
        raise
    _audit(session, actor, "created", definition, after=snapshot(definition))
    return definition


CHANGEABLE = ("label", "type", "required", "regex", "options", "position", "description")


def update_definition(
    session: Session, definition: CustomFieldDefinition, *, actor: Actor, **changes: Any
) -> CustomFieldDefinition:
    """Change a definition. ``key`` and ``entity`` are stable: a different value is refused.

    Stored values are not rewritten; each record's values are checked against the new
    rules the next time its custom fields are written.
    """
    for stable in ("key", "entity"):
        if stable in changes and changes.pop(stable) != getattr(definition, stable):
            raise CustomFieldError(
                {stable: ["cannot be changed (values are stored under it); create a new field"]}
            )
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise TypeError(f"not changeable: {sorted(unknown)}")
    if "type" in changes and changes["type"] not in TYPES:
        raise CustomFieldError({"type": [f"one of {', '.join(TYPES)}"]})
    current = {name: getattr(definition, name) for name in ("type", "regex", "options")}
    rules = _checked_definition(
        {**current, **{k: v for k, v in changes.items() if k in current}}, set(changes)
    )
    before = snapshot(definition)
    for name, value in {**changes, **rules}.items():
        if getattr(definition, name) != value:
            setattr(definition, name, value)
    session.flush()
    _audit(session, actor, "updated", definition, before=before, after=snapshot(definition))
    return definition


def delete_definition(session: Session, definition: CustomFieldDefinition, *, actor: Actor) -> int:
    """Delete a definition and remove its values from every record; return how many
    records held one. Re-creating the key later starts with no values."""
    table = TenantBase.metadata.tables[CARRIERS[definition.entity]]
    column = table.c.custom_fields
    removed = session.execute(
        update(table)
        .where(column.has_key(definition.key))
        .values(custom_fields=column.op("-", return_type=JSONB)(definition.key))
    ).rowcount
    _audit(session, actor, "deleted", definition, before=snapshot(definition))
    session.delete(definition)
    session.flush()
    return removed


def reorder_definitions(
    session: Session, *, actor: Actor, entity: str, ids: list[uuid.UUID]
) -> list[CustomFieldDefinition]:
    """Put ``entity``'s definitions in the order of ``ids``, which must name each of them
    exactly once."""
    definitions = {d.id: d for d in list_definitions(session, entity)}
    if len(ids) != len(set(ids)) or set(ids) != set(definitions):
        raise CustomFieldError({"ids": [f"list each of the {entity} fields exactly once"]})
    for position, definition_id in enumerate(ids):
        definition = definitions[definition_id]
        if definition.position != position:
            before = {"position": definition.position}
            definition.position = position
            _audit(
                session, actor, "updated", definition, before=before, after={"position": position}
            )
    session.flush()
    return [definitions[i] for i in ids]


# --- values ----------------------------------------------------------------------------


def _number(value: Any) -> int | float:
    if isinstance(value, str):
        try:
            value = float(value.strip()) if value.strip() else None
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("not a number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
    return value


def _date(value: Any) -> str:
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            try:
                return datetime.fromisoformat(text).date().isoformat()
            except ValueError:
                pass
    raise ValueError("not a date (YYYY-MM-DD)")


def _string(value: Any, limit: int = MAX_TEXT_LENGTH) -> str:
    if not isinstance(value, str):
        raise ValueError("not a string")
    if len(value) > limit:
        raise ValueError(f"at most {limit} characters")
    return value


def normalised(definition: CustomFieldDefinition, value: Any) -> Any:
    """``value`` in its stored form, or ``ValueError`` saying what is wrong with it."""
    kind = definition.type
    if kind == NUMBER:
        return _number(value)
    if kind == DATE:
        return _date(value)
    if kind == BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError("not true or false")
        return value
    if kind == MULTI_SELECT:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("not a list of values")
        unknown = [v for v in value if v not in definition.options]
        if unknown:
            raise ValueError(f"not an option: {', '.join(map(repr, unknown))}")
        return [option for option in definition.options if option in value]
    value = _string(value, MAX_URL_LENGTH if kind == URL else MAX_TEXT_LENGTH)
    if kind == TEXT:
        if definition.regex and not compile_regex(definition.regex).fullmatch(value):
            raise ValueError("does not match the field's pattern")
        return value
    value = value.strip()
    if kind == SINGLE_SELECT:
        if value not in definition.options:
            raise ValueError(f"not one of {', '.join(map(repr, definition.options))}")
        return value
    if kind == EMAIL:
        if not _EMAIL.fullmatch(value) or len(value) > 320:
            raise ValueError("not an email address")
        return value.lower()
    if kind == PHONE:
        if not _PHONE.fullmatch(value):
            raise ValueError("not a phone number")
        return _PHONE_SEPARATORS.sub("", value)
    parts = urlsplit(value)  # URL
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    return value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def checked_values(
    session: Session,
    *,
    entity: str,
    current: dict[str, Any],
    changes: dict[str, Any],
    require: bool,
    definitions: dict[str, CustomFieldDefinition] | None = None,
) -> dict[str, Any]:
    """The values a record will hold: ``current`` with ``changes`` merged in (``None``, an
    empty string or list removes a key), each checked against its definition.
    ``definitions`` (``entity``'s, by key) spares the query when the caller checks many
    records at once (an import).

    Refused (``CustomFieldError``, keyed ``custom_fields.<key>``): unknown keys, values
    of the wrong type or not matching their rules (including values kept from before a
    definition changed), a required field removed, and with ``require`` any required field
    without a value. Creations by people pass ``require``, as does every change that
    writes custom fields; a record created without them (by a widget visitor, an inbound
    channel, a split) is asked for them at the next such change.
    """
    if definitions is None:
        definitions = {d.key: d for d in list_definitions(session, entity)}
    errors: dict[str, list[str]] = {}
    merged = dict(current)
    for key, value in changes.items():
        if key not in definitions:
            errors[f"custom_fields.{key}"] = ["no such custom field"]
        elif _empty(value):
            merged.pop(key, None)
        else:
            merged[key] = value
    result = {}
    for key, value in merged.items():
        definition = definitions.get(key)
        if definition is None:
            continue  # its definition was deleted meanwhile: the value goes with it
        try:
            result[key] = normalised(definition, value)
        except ValueError as exc:
            errors[f"custom_fields.{key}"] = [str(exc)]
    for key, definition in definitions.items():
        if definition.required and key not in merged and (require or key in changes):
            errors.setdefault(f"custom_fields.{key}", ["required"])
    if errors:
        raise CustomFieldError(errors)
    return result


# --- reading values in SQL -------------------------------------------------------------


def fits(element: Any, kind: str) -> ColumnElement[bool]:
    """Whether the JSONB ``element`` (a record's value, or SQL NULL) is a value of a
    ``kind`` field: a JSON number, boolean, ``YYYY-MM-DD`` string, list of strings or
    string. Never NULL. A value of another type (left by a type change) is no value of the
    field: lists, segments and the automation context all read it so (see
    :func:`typed_values`)."""
    typeof = func.coalesce(func.jsonb_typeof(element), "null")
    if kind == NUMBER:
        return typeof == "number"
    if kind == BOOLEAN:
        return typeof == "boolean"
    if kind == DATE:
        return and_(
            typeof == "string", func.coalesce(element.astext.regexp_match(_ISO_DATE), False)
        )
    if kind == MULTI_SELECT:
        others = func.jsonb_path_exists(
            element, cast('strict $[*] ? (@.type() != "string")', JSONPATH)
        )
        return and_(typeof == "array", not_(func.coalesce(others, False)))
    return typeof == "string"


def typed_values(column: Any, entity: str) -> ColumnElement[dict[str, Any]]:
    """A record's values (its JSONB ``column``) as a JSONB object holding the keys of
    ``entity``'s definitions whose value :func:`fits` them: what a document about the
    record shows (the automation context), so that a condition means the same there and
    in SQL."""
    element = column[CustomFieldDefinition.key]
    fitting = case(
        *((CustomFieldDefinition.type == kind, fits(element, kind)) for kind in TYPES),
        else_=False,
    )
    aggregate = func.jsonb_object_agg(CustomFieldDefinition.key, element)
    return (
        select(func.coalesce(aggregate, cast("{}", JSONB)))
        .where(CustomFieldDefinition.entity == entity, fitting)
        .scalar_subquery()
    )


def sort_expression(column: Any, definition: CustomFieldDefinition) -> ColumnElement:
    """The value as a typed SQL expression: NULL where absent or not of the field's type."""
    element, text = column[definition.key], column[definition.key].astext
    fitting = fits(element, definition.type)
    if definition.type == NUMBER:
        return case((fitting, cast(text, Numeric)), else_=None)
    if definition.type == BOOLEAN:
        return case((fitting, cast(text, Boolean)), else_=None)
    if definition.type == MULTI_SELECT:
        return element
    return case((fitting, text), else_=None)


def _filter_form(definition: CustomFieldDefinition, value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if definition.type == EMAIL:
        return value.strip().lower()
    if definition.type == PHONE:
        return _PHONE_SEPARATORS.sub("", value)
    return value


def condition(
    column: Any, definition: CustomFieldDefinition, op: str, value: Any
) -> ColumnElement | None:
    """The SQL for ``<key> <op> <value>`` (values already typed by the list grammar), or
    None for the substring operators, which the caller applies to :func:`sort_expression`.

    ``eq``, ``ne``, ``in``, ``isnull`` and multi-select ``contains`` are containment and
    key tests, answered by the column's GIN index; ``ne`` also matches records without a
    value, as everywhere in the list grammar.
    """
    key = definition.key
    if op == "isnull":
        present = column.has_key(key)
        return not_(present) if value else present
    if definition.type == MULTI_SELECT:
        if op == "contains":
            return column.contains({key: [value]})
        if op == "in":
            return or_(*(column.contains({key: [v]}) for v in value))
    if op in ("eq", "ne"):
        match = column.contains({key: _filter_form(definition, value)})
        return match if op == "eq" else not_(match)
    if op == "in":
        return or_(*(column.contains({key: _filter_form(definition, v)}) for v in value))
    if op in ("lt", "lte", "gt", "gte"):
        expression = sort_expression(column, definition)
        bound = _filter_form(definition, value)
        return {
            "lt": expression.__lt__,
            "lte": expression.__le__,
            "gt": expression.__gt__,
            "gte": expression.__ge__,
        }[op](bound)
    return None
