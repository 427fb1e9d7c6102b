"""JsonLogic conditions compiled to a SQL WHERE clause that holds for exactly the rows whose
document the evaluator finds truthy.

Lists (segments of contacts) must filter in the database, not row by row in Python. So a
condition is compiled once more, to a SQLAlchemy boolean clause; the caller's *resolver*
says what each ``var`` path reads (:class:`Scalar`, :class:`Items`), typed, and the
compiler writes the operators around it. The clause answers what
:func:`automation.jsonlogic.evaluate` answers on the row's document, JSONLogic truthiness,
JS coercions and nulls included, or the condition is refused with :class:`SqlRefused` (a
:class:`~automation.jsonlogic.JsonLogicError` with the JSON pointer of the node), never
approximated.

How it stays exact. A comparison reads one field and literals. Whatever the evaluator
does with the literals (JS coercions: ``"12"`` against a number is 12, a list against a
string is its ``join(",")``) is done here in Python, once; what it does with a null field,
or with each of a boolean's two values, is decided here too, by the operator's own
runtime. What remains for SQL is a comparison of a typed value with a constant of its own
type, which SQL and JS answer alike (text compared by code point, under ``COLLATE "C"``;
numbers exactly, as both sides are decimal renderings of the same doubles). Where a
coercion would need JS semantics on the row's value (a text field against a number, a
number field searched as text), the condition is refused. Every clause is written never
to be SQL NULL, so ``NOT`` means what ``!`` means.

What compiles: literals; ``var`` of a field by name (no default); ``and``, ``or``, ``!``,
``!!``, ``if``, ``?:``; ``==`` ``!=`` ``===`` ``!==`` ``<`` ``<=`` ``>`` ``>=`` (between
too), ``in``, ``in_ci``, ``==_ci``, ``starts_with``/``ends_with`` (and ``_ci``), ``regex``
(through :mod:`.postgres`), the ``date``/``datetime`` comparisons, ``within_last``,
``within_next``, ``older_than``, ``in_business_hours`` (a literal hours document), ``now``
as an operand, and ``some``/``all``/``none`` over a list field, whose body reads the item
as ``{"var": ""}``. Each operator takes the field types it can mean something for (the
message says which). ``now`` and the relative windows read the clock once, when compiling.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, NoReturn

from sqlalchemy import (
    ColumnElement,
    Date,
    Numeric,
    String,
    and_,
    case,
    cast,
    false,
    func,
    not_,
    or_,
    true,
)
from sqlalchemy import literal as bound

from automation.jsonlogic import dates, js, postgres
from automation.jsonlogic.codegen import compile_rule
from automation.jsonlogic.dates import Clock, micros_clock
from automation.jsonlogic.errors import JsonLogicError, pointer
from automation.jsonlogic.expr import BOOL
from automation.jsonlogic.operators import OPERATORS
from automation.jsonlogic.text import guard

TEXT, NUMBER, BOOLEAN, INSTANT, ABSENT = "text", "number", "boolean", "instant", "absent"
Path = tuple[str | int, ...]
Predicate = Callable[[ColumnElement[str]], ColumnElement[bool]]


class SqlRefused(JsonLogicError):
    """A valid condition that SQL cannot answer exactly as the evaluator would."""


@dataclass(frozen=True)
class Scalar:
    """What a path reads: a ``kind`` value as a SQL expression.

    ``TEXT``: the document's string; ``NUMBER``: its number (``NUMERIC``); ``BOOLEAN``;
    ``INSTANT``: a ``timestamptz`` whose ISO-8601 text the document holds; ``ABSENT``:
    always null (``value`` unused). Where the document holds null: without ``present``,
    ``value`` is NULL (a column: tests stay in a form its index serves); with it,
    ``present`` says whether there is a value, and ``value`` is only evaluated where it
    holds (a JSONB field, typed by ``present``: read once, no cast of a stray type).
    """

    kind: str
    value: Any = None
    nullable: bool = True
    #: A never-NULL test that the document holds a value (see above).
    present: ColumnElement[bool] | None = None
    #: A faster test equal to ``value = <literal>`` for a literal of the kind, false
    #: where there is no value (an index's, such as JSONB containment); None: ``=``.
    equals: Callable[[Any], ColumnElement[bool]] | None = None
    #: A faster test equal to ``value <symbol> <number>`` (``<``, ``<=``, ``>``, ``>=``;
    #: the number an int or a Decimal), false where there is no number.
    order: Callable[[str, int | Decimal], ColumnElement[bool]] | None = None
    #: Text that may name a date: the instant it names (NULL when it names none), for the
    #: date and datetime operators.
    instant: ColumnElement | None = None


@dataclass(frozen=True)
class Items:
    """What a path reads when the document holds a list of strings (or null)."""

    #: True unless the document holds null; never NULL.
    present: ColumnElement[bool]
    #: The list has an item; never NULL.
    nonempty: ColumnElement[bool]
    #: ``value`` (any JSON scalar) is an item, by JS's ``===``; never NULL.
    has: Callable[[Any], ColumnElement[bool]]
    #: Some item satisfies the predicate built on its (text) SQL expression; never NULL.
    some: Callable[[Predicate], ColumnElement[bool]]


Field = Scalar | Items
Resolver = Callable[[str], Field]
"""Returns what a dotted path reads, or raises ``LookupError`` saying why it is none."""
Fold = Callable[[ColumnElement[str]], ColumnElement[str]]
"""Writes ``str.casefold`` of a text expression (:func:`.postgres.casefolded`, or one
calibrated on the server, :func:`.postgres.server_fold`)."""


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Compiled:
    clause: ColumnElement[bool]
    #: The regular expressions ``clause`` hands the server, each with the pointer of its
    #: pattern: a caller saving the condition may have them compiled once (one too complex
    #: for the server would fail every query).
    patterns: tuple[tuple[str, str], ...]


def to_sql(
    rule: Any,
    resolve: Resolver,
    *,
    clock: Clock | None = None,
    fold: Fold = postgres.casefolded,
) -> Compiled:
    """``rule`` as a clause over the fields ``resolve`` gives; :class:`JsonLogicError` if it
    is malformed (the evaluator's own checks, messages and pointers), :class:`SqlRefused`
    if SQL cannot answer it exactly."""
    compile_rule(rule, OPERATORS, clock)
    writer = _Writer(resolve, micros_clock(clock)(), fold)
    clause = writer.truth(rule, ())
    return Compiled(clause, tuple(writer.patterns))


# --- helpers -------------------------------------------------------------------------

EQUALITIES = frozenset({"==", "===", "==_ci"})
NEGATIONS = {"!=": "==", "!==": "==="}
ORDERS = {"<": js.less, "<=": js.less_equal, ">": js.greater, ">=": js.greater_equal}
FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
AFFIXES = {
    "starts_with": (True, False),
    "ends_with": (False, False),
    "starts_with_ci": (True, True),
    "ends_with_ci": (False, True),
}
TEMPORAL = frozenset(
    {f"{scale}{symbol}" for scale in ("date", "datetime") for symbol in ("==", "!=", *ORDERS)}
)
RELATIVE = frozenset({"within_last", "within_next", "older_than"})
COMPARISONS = (
    EQUALITIES
    | set(NEGATIONS)
    | set(ORDERS)
    | set(AFFIXES)
    | TEMPORAL
    | RELATIVE
    | {"in", "in_ci", "regex", "in_business_hours"}
)
QUANTIFIERS = frozenset({"some", "all", "none"})
_FIRST_DAY, _LAST_DAY = dates.micros_of(datetime.min), dates.micros_of(datetime.max)


def _const(value: bool) -> ColumnElement[bool]:
    return true() if value else false()


def _operation(node: dict, path: Path) -> tuple[str, list, list[Path], Path]:
    ((op, raw),) = node.items()
    where = (*path, op)
    if type(raw) is list:
        return op, raw, [(*where, index) for index in range(len(raw))], where
    return op, [raw], [where], where


def _exact(value: int | float) -> int | Decimal:
    """A finite number as the decimal SQL compares for the double JS compares: exact for
    an integral one; else its shortest decimal form, which orders against every stored
    value (the decimal form of a double too) as the doubles do."""
    if type(value) is float:
        return int(value) if value.is_integer() else Decimal(repr(value))
    return value


def _number_literal(value: int | float) -> ColumnElement:
    return bound(_exact(value), Numeric)


def _finite(value: Any) -> bool:
    return type(value) is int or (type(value) is float and math.isfinite(value))


def _moment(micros: int) -> datetime | None:
    """The instant as an aware datetime; None beyond what one can hold."""
    if not _FIRST_DAY <= micros <= _LAST_DAY:
        return None
    return dates.EPOCH + micros * dates.MICROSECOND


@dataclass(frozen=True)
class _Whole:
    """A clause already exact on every row, the ones without a value included."""

    clause: ColumnElement[bool]


def _absent(field: Scalar) -> ColumnElement[bool]:
    if not field.nullable:
        return false()
    return not_(field.present) if field.present is not None else field.value.is_(None)


def _null_case(
    field: Scalar, body: ColumnElement[bool] | _Whole, when_null: bool
) -> ColumnElement[bool]:
    """``body`` where there is a value, ``when_null`` where there is none."""
    if isinstance(body, _Whole):
        return body.clause
    if not field.nullable:
        return body
    if field.present is not None:
        return case((field.present, body), else_=_const(when_null))
    if when_null:
        return or_(field.value.is_(None), body)
    return and_(field.value.is_not(None), body)  # NULL body: false all the same


def _items_case(items: Items, body: ColumnElement[bool], when_null: bool) -> ColumnElement[bool]:
    return or_(not_(items.present), body) if when_null else and_(items.present, body)


def _either(value: ColumnElement[bool], when_true: bool, when_false: bool) -> ColumnElement[bool]:
    """A boolean field's outcome: two values, two constants."""
    if when_true == when_false:
        return _const(when_true)
    return value if when_true else not_(value)


# --- the writer ----------------------------------------------------------------------


class _Writer:
    def __init__(self, resolve: Resolver, now: int, fold: Fold, item: Scalar | None = None) -> None:
        self.resolve = resolve
        self.now = now
        self.fold = fold
        #: Inside a some/all/none body: the item being tested.
        self.item = item
        self.patterns: list[tuple[str, str]] = []

    def clock(self) -> int:
        return self.now

    def refuse(self, problem: str, path: Path, op: str | None = None) -> NoReturn:
        raise SqlRefused(problem, path=pointer(path), operator=op)

    # -- truthiness -------------------------------------------------------------------

    def truth(self, node: Any, path: Path) -> ColumnElement[bool]:
        """A clause true exactly where ``node``'s value is truthy; never NULL."""
        if type(node) is list:
            return _const(bool(node))  # a list's truthiness is its length
        if type(node) is not dict:
            return _const(js.truthy(node))
        op, args, paths, where = _operation(node, path)
        if op == "var":
            return self.truthy(self.read(args, paths, where))
        if op in ("and", "or"):
            parts = [self.truth(arg, at) for arg, at in zip(args, paths, strict=True)]
            return (and_ if op == "and" else or_)(*parts)
        if op == "!":
            return not_(self.truth(args[0], paths[0]))
        if op == "!!":
            return self.truth(args[0], paths[0])
        if op in ("if", "?:"):
            return self.branches(args, paths)
        if op in QUANTIFIERS:
            return self.quantified(op, args, paths, where)
        if op in COMPARISONS:
            return self.compare(op, args, paths, where)
        self.refuse(f"{op!r} is not available in SQL conditions", where, op)

    def truthy(self, field: Field) -> ColumnElement[bool]:
        if isinstance(field, Items):
            return field.nonempty
        if field.kind == ABSENT:
            return false()
        if field.kind == BOOLEAN:
            return _null_case(field, field.value, False)
        if field.kind == INSTANT:  # an ISO-8601 string is never empty
            return not_(_absent(field))
        empty = "" if field.kind == TEXT else 0
        return _null_case(field, field.value != empty, False)

    def branches(self, args: list, paths: list[Path]) -> ColumnElement[bool]:
        whens = [
            (self.truth(args[i], paths[i]), self.truth(args[i + 1], paths[i + 1]))
            for i in range(0, len(args) - 1, 2)
        ]
        otherwise = self.truth(args[-1], paths[-1]) if len(args) % 2 else false()
        return case(*whens, else_=otherwise) if whens else otherwise

    # -- operands ---------------------------------------------------------------------

    def read(self, args: list, paths: list[Path], where: Path) -> Field:
        if len(args) == 2:
            self.refuse("a field read takes no default value here", paths[1], "var")
        name = args[0] if args else None
        if self.item is not None:
            if name not in (None, ""):
                self.refuse('inside some, all or none, read the item as {"var": ""}', where, "var")
            return self.item
        if type(name) is not str or not name:
            self.refuse("read a field by its name", where, "var")
        try:
            return self.resolve(name)
        except LookupError as exc:
            self.refuse(str(exc.args[0]) if exc.args else str(exc), where, "var")

    def operand(self, node: Any, path: Path) -> Field | Literal:
        if type(node) is list:
            if any(type(item) is dict for item in node):
                self.refuse("a list of literal values is expected", path)
            return Literal(node)
        if type(node) is not dict:
            return Literal(node)
        op, args, paths, where = _operation(node, path)
        if op == "var":
            return self.read(args, paths, where)
        if op == "now":
            return Literal(dates.now(self.clock))
        if OPERATORS[op].kind == BOOL or op in QUANTIFIERS:
            return Scalar(BOOLEAN, self.truth(node, path), nullable=False)
        self.refuse(f"{op!r} cannot be compared in SQL conditions", where, op)

    def runtime(self, op: str) -> Callable[..., Any]:
        spec = OPERATORS[op]
        return partial(spec.runtime, self.clock) if spec.clocked else spec.runtime

    # -- comparisons ------------------------------------------------------------------

    def compare(self, op: str, args: list, paths: list[Path], where: Path) -> ColumnElement[bool]:
        if op == "in_business_hours":
            return self.business_hours(args, paths, where)
        operands = [self.operand(arg, at) for arg, at in zip(args, paths, strict=True)]
        fields = [index for index, item in enumerate(operands) if not isinstance(item, Literal)]
        if not fields:
            return _const(js.truthy(self.runtime(op)(*(item.value for item in operands))))
        if len(fields) > 1:
            self.refuse("compare one field with literal values", where, op)
        (index,) = fields
        if op in NEGATIONS:  # the negation of the positive test: never NULL, so exact
            return not_(self.compare_field(NEGATIONS[op], operands, paths, where, index))
        return self.compare_field(op, operands, paths, where, index)

    def compare_field(
        self, op: str, operands: list, paths: list[Path], where: Path, index: int
    ) -> ColumnElement[bool]:
        field = operands[index]
        runtime = self.runtime(op)

        def outcome(value: Any) -> bool:
            values = [value if i == index else item.value for i, item in enumerate(operands)]
            return js.truthy(runtime(*values))

        call = _Call(self, op, operands, paths, where, index, outcome(None))
        if isinstance(field, Items):
            return _items_case(field, self.listed(call, field), call.when_null)
        if op in TEMPORAL | RELATIVE and field.kind not in (INSTANT, ABSENT, BOOLEAN):
            if field.instant is None:
                call.refuse(f"{op} takes a date or date-time field")
            field = Scalar(INSTANT, field.instant)  # not a date: as null, for these
        if field.kind == ABSENT:
            return _const(call.when_null)
        if field.kind == BOOLEAN:
            body = _either(field.value, outcome(True), outcome(False))
        else:
            body = _KINDS[field.kind](call, field)
        return _null_case(field, body, call.when_null)

    def listed(self, call: _Call, items: Items) -> ColumnElement[bool]:
        if call.op not in ("in", "in_ci"):
            call.refuse("a list field takes in, in_ci, some, all, none, ! and !!")
        if call.index == 0:  # the list as the needle: JS's === never holds for a list
            hay = call.other()
            if type(hay) is str and hay:
                call.refuse("a list field is the haystack of in: [value, list]")
            return false()
        needle = call.other()
        if call.op == "in_ci" and type(needle) is str:
            folded = needle.casefold()
            return items.some(lambda item: self.fold(item) == folded)
        return items.has(needle)

    def quantified(
        self, op: str, args: list, paths: list[Path], where: Path
    ) -> ColumnElement[bool]:
        subject = self.operand(args[0], paths[0])
        if isinstance(subject, Literal):  # nothing from the row: the evaluator answers
            node = {op: [subject.value, args[1]]}
            return _const(js.truthy(compile_rule(node, OPERATORS, self.clock_at())(None)))
        if isinstance(subject, Scalar):  # not a list: some and all fail, none holds
            return _const(op == "none")
        body = args[1]

        def holds(item: ColumnElement[str]) -> ColumnElement[bool]:
            inner = _Writer(self.resolve, self.now, self.fold, Scalar(TEXT, item, nullable=False))
            clause = inner.truth(body, paths[1])
            self.patterns += inner.patterns
            return clause

        if op == "some":
            members = _listed_members(body)
            clause = or_(*map(subject.has, members)) if members else subject.some(holds)
        elif op == "none":
            clause = not_(subject.some(holds))
        else:
            clause = and_(subject.nonempty, not_(subject.some(lambda item: not_(holds(item)))))
        return _items_case(subject, clause, op == "none")

    def clock_at(self) -> Clock:
        """The compile-time now, as the evaluator's clock."""
        return lambda: _moment(self.now)

    def business_hours(self, args: list, paths: list[Path], where: Path) -> ColumnElement[bool]:
        document = args[1]
        if type(document) is dict and len(document) == 1 and next(iter(document)) in OPERATORS:
            self.refuse("business hours are a literal document here", paths[1], "in_business_hours")
        hours = dates.parse_hours(document)  # checked by the evaluator's compilation
        subject = self.operand(args[0], paths[0])
        if isinstance(subject, Literal):
            return _const(dates.in_business_hours(subject.value, document))
        if isinstance(subject, Scalar) and subject.kind == ABSENT:
            return false()
        if isinstance(subject, Items) or (subject.kind != INSTANT and subject.instant is None):
            self.refuse(
                "in_business_hours takes a date or date-time field", where, "in_business_hours"
            )
        instant = subject.value if subject.kind == INSTANT else subject.instant
        local = func.timezone(hours.zone.key, instant)
        second = func.floor(func.extract("epoch", local - func.date_trunc("day", local)))
        weekday = func.extract("isodow", local)
        days = [
            and_(weekday == number, or_(*(and_(second >= a, second < b) for a, b in periods)))
            for number, periods in enumerate(hours.weekly, start=1)
            if periods
        ]
        open_now = or_(*days) if days else false()
        if hours.holidays:
            open_now = and_(cast(local, Date).not_in(sorted(hours.holidays)), open_now)
        return and_(instant.is_not(None), open_now)


class _Call:
    """One comparison of one field (at ``index``) with literals, as a kind's writer sees it."""

    def __init__(
        self,
        writer: _Writer,
        op: str,
        operands: list,
        paths: list[Path],
        where: Path,
        index: int,
        when_null: bool,
    ) -> None:
        self.writer = writer
        self.op = op
        self.operands = operands
        self.paths = paths
        self.where = where
        self.index = index
        #: The outcome where the field holds no value.
        self.when_null = when_null

    def refuse(self, problem: str, at: int | None = None) -> NoReturn:
        self.writer.refuse(problem, self.where if at is None else self.paths[at], self.op)

    def other(self, position: int | None = None) -> Any:
        """The literal at ``position`` (default: the other one of two)."""
        return self.operands[1 - self.index if position is None else position].value

    def pairs(
        self, compare: Callable[[str, Any, int], ColumnElement[bool]], runtime
    ) -> ColumnElement[bool]:
        """A chained comparison (``a < b < c``) as the AND of its pairs; each pair with
        the field is ``compare(symbol, literal, position)``, the field on the left."""
        symbol = self.op.removeprefix("datetime").removeprefix("date")
        clauses = []
        for left, right in itertools.pairwise(range(len(self.operands))):
            if self.index == left:
                clauses.append(compare(symbol, self.other(right), right))
            elif self.index == right:
                clauses.append(compare(FLIPPED.get(symbol, symbol), self.other(left), left))
            else:
                outcome = runtime(self.other(left), self.other(right))
                clauses.append(_const(js.truthy(outcome)))
        return and_(*clauses)


# --- each kind of field --------------------------------------------------------------


def _equal_any(call: _Call, field: Scalar, listed: list) -> _Whole:
    """Membership in a literal list through the field's own equality test."""
    clause = or_(*map(field.equals, listed))
    return _Whole(or_(clause, _absent(field)) if call.when_null else clause)


def _text(call: _Call, field: Scalar) -> ColumnElement[bool] | _Whole:
    value, op = field.value, call.op
    if op in EQUALITIES:
        return _text_equal(call, field, call.other())
    if op in ORDERS:

        def ordered(symbol: str, literal: Any, at: int) -> ColumnElement[bool]:
            primitive = js.to_primitive(literal)
            if type(primitive) is not str:
                call.refuse("compare a text field with a string", at)
            return _ORDERED[symbol](value.collate("C"), primitive)

        return call.pairs(ordered, ORDERS[op])
    if op in ("in", "in_ci"):
        return _text_in(call, field, fold=op == "in_ci")
    if op in AFFIXES:
        if call.index != 0:
            call.refuse("the field comes first: [field, text]")
        part = call.other()
        if type(part) is not str:
            return false()
        starts, fold = AFFIXES[op]
        subject, part = (call.writer.fold(value), part.casefold()) if fold else (value, part)
        escaped = postgres.like_escaped(part)
        return subject.like(f"{escaped}%" if starts else f"%{escaped}", escape="\\")
    if op == "regex":
        return _regex(call, value)
    call.refuse("a text field takes ==, !=, <, >, in, in_ci, ==_ci, starts_with, ends_with, regex")


_ORDERED = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _text_equal(call: _Call, field: Scalar, other: Any) -> ColumnElement[bool] | _Whole:
    strict = call.op == "==="
    if type(other) is str:
        if call.op == "==_ci":
            return call.writer.fold(field.value) == other.casefold()
        return _Whole(field.equals(other)) if field.equals else field.value == other
    if strict or other is None:
        return false()
    if type(other) is list:  # JS compares the list's join(",") with the text
        return field.value == js.to_string(other)
    call.refuse("compare a text field with a string", 1 - call.index)


def _text_in(call: _Call, field: Scalar, *, fold: bool) -> ColumnElement[bool] | _Whole:
    value = field.value
    subject = call.writer.fold(value) if fold else value
    if call.index == 1:  # the field is the haystack: a substring test
        needle = js.to_string(call.other())
        needle = needle.casefold() if fold else needle
        nonempty = value != ""
        if not needle:
            return nonempty
        return and_(nonempty, subject.like(f"%{postgres.like_escaped(needle)}%", escape="\\"))
    hay = call.other()
    if type(hay) is list:  # membership among the strings listed
        listed = [item for item in hay if type(item) is str]
        if fold:
            folded = sorted({item.casefold() for item in listed})
            return subject.in_(folded) if folded else false()
        if field.equals and listed:
            return _equal_any(call, field, listed)
        return value.in_(listed) if listed else false()
    if type(hay) is str and hay:
        return func.strpos(bound(hay.casefold() if fold else hay, String), subject) > 0
    return false()


def _regex(call: _Call, value: ColumnElement[str]) -> ColumnElement[bool]:
    if call.index != 0:
        call.refuse("the field comes first: [field, pattern]")
    pattern = call.other(1)
    flags = call.other(2) if len(call.operands) == 3 else ""
    try:
        translated = postgres.regex(pattern, flags)
    except postgres.Untranslatable as exc:
        call.refuse(str(exc), 1)
    call.writer.patterns.append((pointer(call.paths[1]), translated))
    window = guard(pattern, flags).window
    return func.left(value, window).op("~", is_comparison=True)(bound(translated, String))


def _numeric(call: _Call, field: Scalar) -> ColumnElement[bool] | _Whole:
    value, op = field.value, call.op
    if op in EQUALITIES:
        other = call.other()
        if op == "===":
            target = other if _finite(other) and type(other) is not bool else None
        else:  # JS's == (and ==_ci, as one side is no string): the literal as a number
            target = None if other is None else js.to_number(js.to_primitive(other))
        if target is None or not _finite(target):
            return false()
        if field.equals:
            return _Whole(field.equals(target))
        return value == _number_literal(target)
    if op in ORDERS:

        def ordered(symbol: str, literal: Any, at: int) -> ColumnElement[bool]:
            target = js.to_number(js.to_primitive(literal))
            if not _finite(target):  # NaN, or beyond every number: the same for all
                return _const(js.truthy(ORDERS[symbol](0, target)))
            if field.order:
                return field.order(symbol, _exact(target))
            return _ORDERED[symbol](value, _number_literal(target))

        clause = call.pairs(ordered, ORDERS[op])
        if field.order is None:
            return clause
        # each pair with the field is false without a number, so the chain is too
        return _Whole(or_(clause, _absent(field)) if call.when_null else clause)
    if op in ("in", "in_ci"):
        if call.index == 1:
            return false()  # a number holds nothing
        hay = call.other()
        if type(hay) is list:
            listed = [item for item in hay if _finite(item) and type(item) is not bool]
            if not listed:
                return false()
            if field.equals:
                return _equal_any(call, field, listed)
            return value.in_([_number_literal(item) for item in listed])
        if type(hay) is str and hay:
            call.refuse("a number field is not searched as text in SQL")
        return false()
    if op in AFFIXES:
        return false()  # defined on strings only
    call.refuse("a number field takes ==, !=, <, <=, >, >= and in")


def _instant(call: _Call, field: Scalar) -> ColumnElement[bool]:
    value, op = field.value, call.op
    if op in TEMPORAL:
        by_day = op.startswith("date") and not op.startswith("datetime")

        def compared(symbol: str, literal: Any, at: int) -> ColumnElement[bool]:
            if by_day:
                day = dates.day(literal)
                if day is None:
                    call.refuse(f"{literal!r} is not an ISO-8601 date or date-time", at)
                return _day_comparison(value, symbol, day)
            moment = dates.instant(literal)
            if moment is None:
                call.refuse(f"{literal!r} is not an ISO-8601 date or date-time", at)
            return _instant_comparison(value, symbol, moment)

        return call.pairs(compared, OPERATORS[op].runtime)
    if op in RELATIVE:
        if call.index != 0:
            call.refuse("the field comes first: [field, amount, unit]")
        amount, unit = call.other(1), call.other(2)
        span = int(amount * dates.UNITS_US[unit])  # both checked by the evaluator's compile
        now = call.writer.now
        if op == "within_last":
            return and_(_since(value, now - span), _until(value, now))
        if op == "within_next":
            return and_(_since(value, now), _until(value, now + span))
        return _before(value, now - span)
    call.refuse("a date-time field takes the date and datetime operators and !, !!")


def _since(value: ColumnElement, micros: int) -> ColumnElement[bool]:
    if micros > _LAST_DAY:
        return false()
    moment = _moment(micros)
    return true() if moment is None else value >= moment


def _until(value: ColumnElement, micros: int) -> ColumnElement[bool]:
    if micros < _FIRST_DAY:
        return false()
    moment = _moment(micros)
    return true() if moment is None else value <= moment


def _before(value: ColumnElement, micros: int) -> ColumnElement[bool]:
    if micros > _LAST_DAY:
        return true()
    moment = _moment(micros)
    return false() if moment is None else value < moment


def _instant_comparison(value: ColumnElement, symbol: str, micros: int) -> ColumnElement[bool]:
    moment = _moment(micros)
    if moment is None:  # beyond what a stored instant can be: every value on one side
        return _const(_SIDES[symbol](micros > 0))
    return {
        "==": value == moment,
        "!=": value != moment,
        "<": value < moment,
        "<=": value <= moment,
        ">": value > moment,
        ">=": value >= moment,
    }[symbol]


#: Whether ``value <symbol> literal`` holds for a literal beyond every value (True: after).
_SIDES: dict[str, Callable[[bool], bool]] = {
    "==": lambda after: False,
    "!=": lambda after: True,
    "<": lambda after: after,
    "<=": lambda after: after,
    ">": lambda after: not after,
    ">=": lambda after: not after,
}


def _day_comparison(value: ColumnElement, symbol: str, day: int) -> ColumnElement[bool]:
    """The value's UTC day against ``day`` as ranges of instants (which an index serves)."""
    first, after = day * dates.DAY_US, (day + 1) * dates.DAY_US
    same = and_(_since(value, first), _before(value, after))
    return {
        "==": same,
        "!=": not_(same),
        "<": _before(value, first),
        "<=": _before(value, after),
        ">": _since(value, after),
        ">=": _since(value, first),
    }[symbol]


_KINDS: dict[str, Callable[[_Call, Scalar], ColumnElement[bool]]] = {
    TEXT: _text,
    NUMBER: _numeric,
    INSTANT: _instant,
}


def _listed_members(body: Any) -> list[str] | None:
    """The strings of a ``{"in": [{"var": ""}, [...]]}`` body (membership in a literal
    list, the designer's form), which a list field tests as fast as one item."""
    if type(body) is not dict or set(body) != {"in"}:
        return None
    args = body["in"]
    if not (type(args) is list and len(args) == 2 and type(args[1]) is list):
        return None
    if args[0] not in ({"var": ""}, {"var": [""]}, {"var": None}, {"var": []}):
        return None
    if not args[1] or not all(type(item) is str for item in args[1]):
        return None
    return args[1]
