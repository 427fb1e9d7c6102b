"""What a segment's condition may read: the contact's fields, typed for the SQL compiler
(:mod:`automation.jsonlogic.sql`).

The paths are those of the contact in the automation context (:mod:`automation.context`,
``contact.*`` in :data:`automation.catalogue.FIELDS`), and each reads what the context
document holds, so one condition means the same in a rule and in a segment:

- ``contact.id`` (text, compared as a uuid where it can be), ``contact.name``,
  ``contact.email``, ``contact.phone``, ``contact.company`` (text; null when empty);
- ``contact.created_at``, ``contact.updated_at`` (date-times, for the date and datetime
  operators);
- ``contact.tags`` (the tag names: a list, tested with ``in``, ``some``, ``all``,
  ``none``, ``!``, ``!!``; through the tag link table, with ``EXISTS``);
- ``contact.custom_fields.<key>`` for the account's contact custom fields, typed by the
  definition (numbers, booleans, text; dates are text that the date operators read as a
  day; multi-select values a list); a stored value of another type (left by a type
  change) reads as null, as in the list grammar (:func:`crm.custom_fields.fits`).
  Equality and membership are JSONB containment, which the GIN index serves.

``contact.segments`` (a rule's "contact is in segment") is not for segments: one segment
is never defined by others.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Integer,
    Numeric,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONPATH

from automation.jsonlogic.sql import (
    ABSENT,
    BOOLEAN,
    INSTANT,
    NUMBER,
    TEXT,
    Field,
    Items,
    Predicate,
    Resolver,
    Scalar,
)
from crm import custom_fields as cf
from crm.models import Contact
from helpdesk.tags import ContactTag, Tag

CUSTOM = "contact.custom_fields."
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _id_equals(value: Any) -> ColumnElement[bool]:
    """``contact.id == value``: the primary key's index, for a uuid in its text form."""
    try:
        wanted = uuid.UUID(value)
    except ValueError:
        return false()
    return Contact.id == wanted if str(wanted) == value else false()


def _tags() -> Items:
    def linked(*where: ColumnElement[bool]) -> ColumnElement[bool]:
        return exists(
            select(ContactTag.tag_id)
            .join(Tag, Tag.id == ContactTag.tag_id)
            .where(ContactTag.contact_id == Contact.id, *where)
        )

    def has(value: Any) -> ColumnElement[bool]:
        return linked(Tag.name == value) if type(value) is str else false()

    def some(predicate: Predicate) -> ColumnElement[bool]:
        return linked(predicate(Tag.name))

    nonempty = exists(select(ContactTag.tag_id).where(ContactTag.contact_id == Contact.id))
    return Items(present=true(), nonempty=nonempty, has=has, some=some)


#: The contact's own columns, by path.
_COLUMNS: dict[str, Callable[[], Field]] = {
    "contact.id": lambda: Scalar(TEXT, cast(Contact.id, String), nullable=False, equals=_id_equals),
    "contact.name": lambda: Scalar(TEXT, Contact.name, nullable=False),
    "contact.email": lambda: Scalar(TEXT, Contact.email),
    "contact.phone": lambda: Scalar(TEXT, Contact.phone),
    "contact.company": lambda: Scalar(TEXT, Contact.company),
    "contact.created_at": lambda: Scalar(INSTANT, Contact.created_at, nullable=False),
    "contact.updated_at": lambda: Scalar(INSTANT, Contact.updated_at, nullable=False),
    "contact.tags": _tags,
}


def _day(text: ColumnElement[str], fitting: ColumnElement[bool]) -> ColumnElement:
    """The instant (midnight UTC) a ``YYYY-MM-DD`` value names; NULL for no such day
    (``2024-02-30``), as Python's ``fromisoformat`` refuses it. Nested CASEs: the casts
    only run on text of that shape, the date cast only on a real day."""
    year, month, day = (
        cast(func.substr(text, start, size), Integer) for start, size in ((1, 4), (6, 2), (9, 2))
    )
    leap = or_(and_(year % 4 == 0, year % 100 != 0), year % 400 == 0)
    length = case(
        (month == 2, case((leap, 29), else_=28)),
        (month.in_([4, 6, 9, 11]), 30),
        else_=31,
    )
    real = and_(year >= 1, month >= 1, month <= 12, day >= 1, day <= length)
    midnight = func.timezone("UTC", cast(cast(text, Date), DateTime))
    return case((fitting, case((real, midnight), else_=None)), else_=None)


def _custom(definition: cf.CustomFieldDefinition) -> Field:
    key, kind = definition.key, definition.type
    element = Contact.custom_fields[key]
    text = element.astext
    fitting = cf.fits(element, kind)

    def equals(value: Any) -> ColumnElement[bool]:
        return Contact.custom_fields.contains({key: value})

    if kind == cf.NUMBER:

        def order(symbol: str, number: int | Decimal) -> ColumnElement[bool]:
            """A JSON path test, ``strict``: no key, or a value of another type, fails."""
            plain = format(number, "f") if isinstance(number, Decimal) else str(number)
            path = f'strict $."{key}" ? (@ {symbol} {plain})'
            matched = Contact.custom_fields.op("@?", is_comparison=True)(
                cast(literal(path), JSONPATH)
            )
            return func.coalesce(matched, False)

        return Scalar(NUMBER, cast(text, Numeric), present=fitting, equals=equals, order=order)
    if kind == cf.BOOLEAN:
        return Scalar(BOOLEAN, cast(text, Boolean), present=fitting)
    if kind == cf.MULTI_SELECT:

        def has(value: Any) -> ColumnElement[bool]:
            if type(value) in (list, dict):
                return false()
            return and_(Contact.custom_fields.contains({key: [value]}), fitting)

        def some(predicate: Predicate) -> ColumnElement[bool]:
            items = func.jsonb_array_elements_text(element).table_valued("value")
            found = exists(select(items.c.value).where(predicate(items.c.value)))
            return case((fitting, found), else_=False)

        nonempty = case((fitting, func.jsonb_array_length(element) > 0), else_=False)
        return Items(present=fitting, nonempty=nonempty, has=has, some=some)
    if kind == cf.DATE:

        def day_equals(value: Any) -> ColumnElement[bool]:
            return equals(value) if _ISO_DATE.fullmatch(value) else false()

        instant = _day(text, fitting)
        return Scalar(TEXT, text, present=fitting, equals=day_equals, instant=instant)
    return Scalar(TEXT, text, present=fitting, equals=equals)


def resolver(definitions: list[cf.CustomFieldDefinition], *, strict: bool) -> Resolver:
    """What each path reads, given the account's contact custom field definitions.

    ``strict`` (saving a condition): a custom field key no definition has is refused, a
    typo must not save as a condition that never holds. Otherwise (reading a saved one,
    whose field may have been deleted since) it reads as null, as the context shows it.
    """
    by_key = {definition.key: definition for definition in definitions}

    def resolve(path: str) -> Field:
        if path in _COLUMNS:
            return _COLUMNS[path]()
        if path.startswith(CUSTOM):
            key = path.removeprefix(CUSTOM)
            if key in by_key:
                return _custom(by_key[key])
            if strict:
                raise LookupError(f"no contact custom field {key!r}")
            return Scalar(ABSENT)
        if path == "contact.segments":
            raise LookupError("a segment cannot be defined by other segments")
        if path == "contact.custom_fields":
            raise LookupError("read one custom field: contact.custom_fields.<key>")
        raise LookupError(
            f"no field {path!r} for segments: they read the contact's fields "
            f"({', '.join(_COLUMNS)}, {CUSTOM}<key>)"
        )

    return resolve
