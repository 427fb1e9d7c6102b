"""Every operator: its arity, its result's kind, its generic implementation, its code.

An operator's ``runtime`` is its meaning over evaluated arguments (the slow path, and what
the tests' reference interpreter calls); its ``emit`` writes the Python expression for one
use, inlining a fast path when an argument's type is known or a literal, and calling
``runtime`` otherwise. Fast paths guard on the runtime type of the value they specialise
for and fall back to ``runtime`` with the same arguments, so they cannot change a result.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from automation.jsonlogic import dates, js, text
from automation.jsonlogic.codegen import Call
from automation.jsonlogic.expr import BOOL, LIST, NATIVE, NULL, NUMBER, STR, Expr, Kind, union


@dataclass(frozen=True)
class Operator:
    arity: tuple[int, int | None]
    emit: Callable[[Call], Expr]
    runtime: Callable[..., Any] | None = None
    kind: Kind = None
    clocked: bool = False  # runtime's first argument is the clock
    data: bool = False  # runtime's first argument is the scope's data


def generic(call: Call) -> Expr:
    """A call of the operator's ``runtime`` on the evaluated arguments."""
    spec = OPERATORS[call.op]
    runtime = call.clocked(spec.runtime) if spec.clocked else spec.runtime
    codes = [arg.code for arg in call.args()]
    if spec.data:
        codes.insert(0, call.scope.data)
    return Expr(call.invoke(runtime, *codes), spec.kind)


_GUARDS = {
    "str": "is str",
    "float": "is float",
    "number": "in _NUMT",
    "str|null": "is str or {t} is None",  # strings first: cheaper than a set lookup
    "number|null": "in _NUMN",
}


def _guarded(
    call: Call, subject: Expr, guard: str, fast: Callable[[str], str], slow: Callable[[str], str]
) -> str:
    """``fast(t)`` when the subject's value ``t`` has the guarded type, else ``slow(t)``."""
    t = call.temp()
    test = _GUARDS[guard].format(t=t)
    return f"({fast(t)} if type({t} := {subject.code}) {test} else {slow(t)})"


def _literal_string(expr: Expr) -> bool:
    return expr.scalar and type(expr.value) is str


def _in_order(subject: Expr, first: Expr, t: str, other: str) -> tuple[str, str]:
    """The two argument codes of a fallback call, in the rule's order."""
    return (t, other) if subject is first else (other, t)


# --- data ----------------------------------------------------------------------------------


def _var(call: Call) -> Expr:
    data = call.scope.data
    default = call.arg(1) if len(call.raw) == 2 else None
    path = call.raw[0] if call.raw else None
    if type(path) is dict:
        codes = [call.arg(0).code] + ([default.code] if default else [])
        return Expr(call.invoke(js.variable, data, *codes))
    if path is None or path == "":
        if default is None or default.literal:
            return Expr(data)
        return Expr(f"({default.code}, {data})[1]")  # evaluated, as JS evaluates it
    if type(path) not in (str, int, float):
        call.fail("a var path is a string, a number, null or an operation", 0)
    keys = js.split_path(path)
    if default is None or default.scalar:
        return Expr(call.scope.lookup(keys, None if default is None else default.code))
    return Expr(call.invoke(js.variable, data, call.compiler.constant(path), default.code))


def _check_keys(call: Call, keys: list, inner: bool) -> None:
    for index, key in enumerate(keys):
        if type(key) in (bool, type(None)):
            problem = f"a key is a string or a number, not {key!r}"
            if inner:
                call.fail_at(problem, 0 if len(call.raw) == 1 else 1, (index,))
            call.fail(problem, index)


def _missing(call: Call) -> Expr:
    if len(call.raw) == 1 and type(call.raw[0]) is list:
        _check_keys(call, call.raw[0], inner=True)
    else:
        _check_keys(call, call.raw, inner=False)
    return generic(call)


def _missing_some(call: Call) -> Expr:
    need, keys = call.raw
    if type(need) is not dict and type(need) not in (int, float):
        call.fail("the first argument is how many keys are needed, a number", 0)
    if type(keys) is not dict:
        if type(keys) is not list:
            call.fail("the second argument is a list of keys", 1)
        _check_keys(call, keys, inner=True)
    return generic(call)


# --- logic ---------------------------------------------------------------------------------


def _if(call: Call) -> Expr:
    """``if``/``?:``: Python's chained conditional expression, which stays flat."""
    args = call.args()
    otherwise = args[-1] if len(args) % 2 else Expr("None", NULL, literal=True)
    values, truths = [], []
    for index in range(0, len(args) - 1, 2):
        condition, consequent = call.truth(args[index]), args[index + 1]
        values.append(f"{consequent.code} if {condition} else ")
        truths.append(f"{call.truth(consequent)} if {condition} else ")
    outcomes = [args[index] for index in range(1, len(args), 2)] + [otherwise]
    return Expr(
        f"({''.join(values)}{otherwise.code})",
        union(outcomes),
        truth=f"({''.join(truths)}{call.truth(otherwise)})",
    )


def _logical(word: str) -> Callable[[Call], Expr]:
    """``and``/``or`` return the deciding operand, as JS does. Python's own ``and``/``or``
    does exactly that when the operands before the last have Python's truthiness; else each
    operand is kept in a temporary and tested with JsonLogic's truthiness."""

    def emit(call: Call) -> Expr:
        args = call.args()
        if len(args) == 1:
            return args[0]
        joiner = f" {word} "
        truth = f"({joiner.join(call.truth(arg) for arg in args)})"
        if all(arg.within(NATIVE) for arg in args[:-1]):
            return Expr(f"({joiner.join(arg.code for arg in args)})", union(args), truth=truth)
        r = call.temp()
        tests = [
            f"({r} := {arg.code})"
            if arg.within(NATIVE)
            else f"({r} if type({r} := {arg.code}) in _NATIVE else _truthy({r}))"
            for arg in args[:-1]
        ]
        tests.append(f"({r} := {args[-1].code})")
        return Expr(f"({r} if {joiner.join(tests)} else {r})", union(args), truth=truth)

    return emit


def _not(call: Call) -> Expr:
    return Expr(f"(not {call.truth(call.arg(0))})", BOOL)


def _truthy(call: Call) -> Expr:
    arg = call.arg(0)
    return arg if arg.kind == BOOL else Expr(f"(not not {call.truth(arg)})", BOOL)


# --- arithmetic ----------------------------------------------------------------------------


def _arithmetic(template: str) -> Callable[[Call], Expr]:
    """``+`` and ``-`` of two values: Python's operator where it computes exactly what the
    runtime does: two ints, two floats, or a float with a literal int small enough to be
    exact as a double (an int and a float literal need a float value: a huge int from the
    data would not convert)."""

    def emit(call: Call) -> Expr:
        if len(call.raw) != 2:
            return generic(call)
        spec = OPERATORS[call.op]
        a, b = call.args()
        literal = b if b.scalar else a if a.scalar else None
        if literal is None:
            x, y = call.temp(), call.temp()
            code = (
                f"({template.format(x, y)} if type({x} := {a.code}) is type({y} := {b.code}) "
                f"in _NUMT else {call.invoke(spec.runtime, x, y)})"
            )
            return Expr(code, spec.kind)
        guard = _number_guard(literal.value)
        if guard is None or (a.scalar and b.scalar):
            return generic(call)
        subject = a if literal is b else b
        code = _guarded(
            call,
            subject,
            guard,
            lambda t: template.format(*_in_order(subject, a, t, literal.code)),
            lambda t: call.invoke(spec.runtime, *_in_order(subject, a, t, literal.code)),
        )
        return Expr(code, spec.kind)

    return emit


def _number_guard(value: Any) -> str | None:
    if type(value) is int and -(2**53) < value < 2**53:
        return "number"
    return "float" if type(value) is float else None


# --- comparison ----------------------------------------------------------------------------

_SAME_TYPE = (STR, NUMBER, BOOL, NULL)


def _same_type(
    call: Call, a: Expr, b: Expr, types: str, fast: Callable[[str, str], str], slow: Callable
) -> str:
    """Both values into temporaries (the chained ``is`` evaluates each once, in order);
    ``fast`` when they have the same type and it is one of ``types``, else ``slow``."""
    x, y = call.temp(), call.temp()
    return (
        f"({fast(x, y)} if type({x} := {a.code}) is type({y} := {b.code}) in {types} "
        f"else {call.invoke(slow, x, y)})"
    )


def _equality(strict: bool, negate: bool) -> Callable[[Call], Expr]:
    """``==``, ``!=``, ``===``, ``!==``. Python's ``==`` agrees with JS's on two values of
    the same scalar type, and on a string (number) literal against a string (number) or
    null; ``== null`` is ``is None`` (JS's null equals only null)."""
    equal = js.strict_equal if strict else js.loose_equal

    def emit(call: Call) -> Expr:
        a, b = call.args()
        code = _equal_code(call, a, b, strict, equal)
        return Expr(f"(not {code})" if negate else code, BOOL)

    return emit


def _equal_code(call: Call, a: Expr, b: Expr, strict: bool, equal: Callable) -> str:
    if any(a.within(kind) and b.within(kind) for kind in _SAME_TYPE):
        return f"({a.code} == {b.code})"
    subject, literal = (a, b) if b.scalar else (b, a)
    if not literal.scalar:
        return _same_type(call, a, b, "_SCALART", lambda x, y: f"{x} == {y}", equal)
    value = literal.value
    if subject.scalar or (type(value) is bool and not strict):
        return call.invoke(equal, a.code, b.code)
    if value is None or type(value) is bool:
        # through a temporary: ``is`` with a constant as operand is a SyntaxWarning
        return f"(({call.temp()} := {subject.code}) is {value!r})"
    guard = "str|null" if type(value) is str else "number|null"
    return _guarded(
        call,
        subject,
        guard,
        lambda t: f"{t} == {literal.code}",
        lambda t: call.invoke(equal, *_in_order(subject, a, t, literal.code)),
    )


def _order(symbol: str) -> Callable[[Call], Expr]:
    """``<``, ``<=`` (with their between forms), ``>``, ``>=``: Python's comparison when
    all operands are numbers, or all strings, as JS compares those alike."""

    def emit(call: Call) -> Expr:
        runtime = OPERATORS[call.op].runtime
        args = call.args()
        code = _order_code(call, args, symbol, runtime)
        return Expr(code or call.invoke(runtime, *(arg.code for arg in args)), BOOL)

    return emit


def _order_code(call: Call, args: list[Expr], symbol: str, runtime: Callable) -> str | None:
    joiner = f" {symbol} "
    if all(arg.within(NUMBER) for arg in args) or all(arg.within(STR) for arg in args):
        return f"({joiner.join(arg.code for arg in args)})"
    unknown = [index for index, arg in enumerate(args) if not arg.scalar]
    if len(unknown) == 2 == len(args):
        return _same_type(call, *args, "_ORDT", lambda x, y: f"{x}{joiner}{y}", runtime)
    if len(unknown) != 1:
        return None
    literals = [arg for arg in args if arg.scalar]
    for kind, guard in ((NUMBER, "number"), (STR, "str")):
        if all(literal.within(kind) for literal in literals):

            def codes(t: str) -> list[str]:
                return [t if index == unknown[0] else arg.code for index, arg in enumerate(args)]

            return _guarded(
                call,
                args[unknown[0]],
                guard,
                lambda t: joiner.join(codes(t)),
                lambda t: call.invoke(runtime, *codes(t)),
            )
    return None


def _members(call: Call, items: Any, fold: bool) -> tuple[str, str] | None:
    """For a literal list of strings (or of numbers, when not ``fold``): a frozenset to test
    membership with, and the guard a needle must pass for that test to be exact."""
    if type(items) is not list or not items:
        return None
    if all(type(item) is str for item in items):
        return call.bind(frozenset(item.casefold() if fold else item for item in items)), "str"
    if not fold and all(
        type(item) is int or (type(item) is float and math.isfinite(item)) for item in items
    ):
        return call.bind(frozenset(items)), "number"
    return None


def _contains(fold: bool) -> Callable[[Call], Expr]:
    """``in`` and ``in_ci``: set membership for a literal list, substring test for a literal
    string, and for a literal needle Python's ``in`` on a string or list haystack."""
    runtime = text.contains_ci if fold else js.contains
    casefold = ".casefold()" if fold else ""

    def emit(call: Call) -> Expr:
        needle, haystack = call.args()
        members = (
            None
            if needle.literal
            else _members(call, haystack.value if haystack.literal else None, fold)
        )
        if members:
            bound, guard = members
            listed = call.bind(haystack.value)
            code = _guarded(
                call,
                needle,
                guard,
                lambda t: f"{t}{casefold if guard == 'str' else ''} in {bound}",
                lambda t: call.invoke(runtime, t, listed),
            )
        elif _literal_string(haystack) and haystack.value and not needle.literal:
            folded = call.compiler.constant(haystack.value.casefold() if fold else haystack.value)
            code = _guarded(
                call,
                needle,
                "str",
                lambda t: f"{t}{casefold} in {folded}",
                lambda t: call.invoke(runtime, t, haystack.code),
            )
        elif _literal_string(needle) and needle.value and not haystack.literal and not fold:
            t = call.temp()
            code = (
                f"({needle.code} in {t} if type({t} := {haystack.code}) in _SEQ "
                f"else {call.invoke(runtime, needle.code, t)})"
            )
        else:
            code = call.invoke(runtime, needle.code, haystack.code)
        return Expr(code, BOOL)

    return emit


# --- strings -------------------------------------------------------------------------------


def _string_test(method: str, fold: bool) -> Callable[[Call], Expr]:
    """``starts_with``, ``ends_with``, ``==_ci`` and the ``_ci`` variants: the string method
    directly when the second argument is a literal string."""

    def emit(call: Call) -> Expr:
        runtime = OPERATORS[call.op].runtime
        value, part = call.args()
        if not _literal_string(part) or value.literal:
            return Expr(call.invoke(runtime, value.code, part.code), BOOL)
        literal = call.compiler.constant(part.value.casefold() if fold else part.value)
        folded = ".casefold()" if fold else ""
        return Expr(
            _guarded(
                call,
                value,
                "str",
                lambda t: method.format(f"{t}{folded}", literal),
                lambda t: call.invoke(runtime, t, part.code),
            ),
            BOOL,
        )

    return emit


def _string_operator(runtime: Callable, method: str, fold: bool = False) -> Operator:
    return Operator((2, 2), _string_test(method, fold), runtime, BOOL)


def _regex(call: Call) -> Expr:
    flags = call.raw[2] if len(call.raw) == 3 else ""
    if type(flags) is not str or not set(flags) <= set(text.FLAGS):
        call.fail(f"flags are a literal string of {', '.join(text.FLAGS)}", 2)
    value = call.arg(0)
    if type(call.raw[1]) is dict:
        pattern = call.arg(1)
        return Expr(call.invoke(text.regex, value.code, pattern.code, repr(flags)), BOOL)
    try:
        guarded = text.guard(call.raw[1], flags)
    except text.RegexRejected as error:
        call.fail(str(error), 1)
    return Expr(f"{call.bind(guarded)}({value.code})", BOOL)


def _log(call: Call) -> Expr:
    arg = call.arg(0)
    return Expr(call.invoke(js.log_value, arg.code), arg.kind)


# --- arrays --------------------------------------------------------------------------------


def _scoped(shape: str, kind: Kind, truth: bool) -> Callable[[Call], Expr]:
    """``map``, ``filter``, ``all``, ``none``, ``some``: the second argument becomes a
    function of one element (``truth``: returning its truthiness), run by ``map``/``filter``
    and ``all``/``any``, which stop where JS's loops stop."""

    def emit(call: Call) -> Expr:
        items = call.arg(0)
        function = call.function(1, truth)
        return Expr(shape.format(t=call.temp(), items=items.code, fn=function), kind)

    return emit


def reduce(items: Any, step: Callable[[dict], Any], initial: Any = None) -> Any:
    if not isinstance(items, list):
        return initial
    accumulator = initial
    for current in items:
        accumulator = step({"current": current, "accumulator": accumulator})
    return accumulator


def _reduce(call: Call) -> Expr:
    items = call.arg(0)
    function = call.function(1, truth=False)
    codes = [items.code, function] + ([call.arg(2).code] if len(call.raw) == 3 else [])
    return Expr(call.invoke(reduce, *codes))


# --- dates ---------------------------------------------------------------------------------


def _temporal(call: Call) -> Expr:
    for index, arg in enumerate(call.args()):
        if arg.literal and dates.instant(arg.value) is None:
            call.fail(f"{arg.value!r} is not an ISO-8601 date or date-time", index)
    return generic(call)


def _relative(call: Call) -> Expr:
    _, amount, unit = call.raw
    if type(amount) is not dict and (
        type(amount) not in (int, float) or not 0 <= amount < math.inf
    ):
        call.fail(f"the amount is a number, at least 0, not {amount!r}", 1)
    if type(unit) is not str or unit not in dates.UNITS_US:
        call.fail(f"the unit is a literal: seconds, minutes, hours, days or weeks; not {unit!r}", 2)
    return generic(call)


def _business_hours(call: Call) -> Expr:
    document = call.raw[1]
    if type(document) is dict and len(document) == 1 and next(iter(document)) in OPERATORS:
        return generic(call)
    try:
        hours = dates.parse_hours(document)
    except dates.HoursError as error:
        call.fail_at(str(error), 1, error.path)
    return Expr(call.invoke(dates.in_hours, call.arg(0).code, call.bind(hours)), BOOL)


# --- the table -----------------------------------------------------------------------------

OPERATORS: dict[str, Operator] = {
    "var": Operator((0, 2), _var),
    "missing": Operator((0, None), _missing, js.missing, LIST, data=True),
    "missing_some": Operator((2, 2), _missing_some, js.missing_some, LIST, data=True),
    "if": Operator((0, None), _if),
    "?:": Operator((3, 3), _if),
    "and": Operator((1, None), _logical("and")),
    "or": Operator((1, None), _logical("or")),
    "!": Operator((1, 1), _not, js.not_, BOOL),
    "!!": Operator((1, 1), _truthy, js.truthy, BOOL),
    "==": Operator((2, 2), _equality(strict=False, negate=False), js.loose_equal, BOOL),
    "!=": Operator((2, 2), _equality(strict=False, negate=True), js.loose_not_equal, BOOL),
    "===": Operator((2, 2), _equality(strict=True, negate=False), js.strict_equal, BOOL),
    "!==": Operator((2, 2), _equality(strict=True, negate=True), js.strict_not_equal, BOOL),
    "<": Operator((2, 3), _order("<"), js.less, BOOL),
    "<=": Operator((2, 3), _order("<="), js.less_equal, BOOL),
    ">": Operator((2, 2), _order(">"), js.greater, BOOL),
    ">=": Operator((2, 2), _order(">="), js.greater_equal, BOOL),
    "+": Operator((0, None), _arithmetic("0 + {} + {}"), js.add, NUMBER),
    "-": Operator((1, 2), _arithmetic("{} - {}"), js.subtract, NUMBER),
    "*": Operator((1, None), generic, js.multiply),
    "/": Operator((2, 2), generic, js.divide, frozenset({float})),
    "%": Operator((2, 2), generic, js.modulo, NUMBER),
    "max": Operator((0, None), generic, js.maximum, NUMBER),
    "min": Operator((0, None), generic, js.minimum, NUMBER),
    "map": Operator(
        (2, 2),
        _scoped("(list(map({fn}, {t})) if isinstance({t} := {items}, list) else [])", LIST, False),
    ),
    "filter": Operator(
        (2, 2),
        _scoped(
            "(list(filter({fn}, {t})) if isinstance({t} := {items}, list) else [])", LIST, True
        ),
    ),
    "reduce": Operator((2, 3), _reduce),
    "all": Operator(
        (2, 2),
        _scoped(
            "(all(map({fn}, {t})) if isinstance({t} := {items}, list) and {t} else False)",
            BOOL,
            True,
        ),
    ),
    "none": Operator(
        (2, 2),
        _scoped(
            "(not any(map({fn}, {t})) if isinstance({t} := {items}, list) else True)", BOOL, True
        ),
    ),
    "some": Operator(
        (2, 2),
        _scoped("(any(map({fn}, {t})) if isinstance({t} := {items}, list) else False)", BOOL, True),
    ),
    "merge": Operator((0, None), generic, js.merge, LIST),
    "in": Operator((2, 2), _contains(fold=False), js.contains, BOOL),
    "cat": Operator((0, None), generic, js.cat, STR),
    "substr": Operator((2, 3), generic, js.substr, STR),
    "log": Operator((1, 1), _log, js.log_value),
    # ours
    "starts_with": _string_operator(text.starts_with, "{}.startswith({})"),
    "ends_with": _string_operator(text.ends_with, "{}.endswith({})"),
    "starts_with_ci": _string_operator(text.starts_with_ci, "{}.startswith({})", fold=True),
    "ends_with_ci": _string_operator(text.ends_with_ci, "{}.endswith({})", fold=True),
    "==_ci": _string_operator(text.equal_ci, "{} == {}", fold=True),
    "in_ci": Operator((2, 2), _contains(fold=True), text.contains_ci, BOOL),
    "regex": Operator((2, 3), _regex, text.regex, BOOL),
    "now": Operator((0, 0), generic, dates.now, STR, clocked=True),
    "within_last": Operator((3, 3), _relative, dates.within_last, BOOL, clocked=True),
    "within_next": Operator((3, 3), _relative, dates.within_next, BOOL, clocked=True),
    "older_than": Operator((3, 3), _relative, dates.older_than, BOOL, clocked=True),
    "in_business_hours": Operator((2, 2), _business_hours, dates.in_business_hours, BOOL),
}

for _prefix, _scale in (("date", dates.day), ("datetime", dates.instant)):
    for _symbol in ("==", "!=", "<", "<=", ">", ">="):
        OPERATORS[_prefix + _symbol] = Operator(
            (2, 3 if _symbol in ("<", "<=") else 2),
            _temporal,
            dates.comparison(_scale, _symbol),
            BOOL,
        )
