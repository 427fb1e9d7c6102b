"""JavaScript's value semantics, as the reference implementation json-logic-js inherits them.

The visual designer previews rules with json-logic-js in the browser, so the server must
give the same answer on the same document: JsonLogic's truthiness (``[]`` is falsy, ``"0"``
truthy), JS loose equality with its coercions, JS relational comparison, ``parseFloat`` for
``+``/``*``, ``ToNumber`` for ``-``/``/``/``%``, JS number formatting in ``cat``. These are
the generic helpers: the code generator calls them whenever its inlined fast paths do not
apply, and the tests' reference interpreter is built on them.

Data model: JSON values as :func:`json.loads` makes them (``dict``, ``list``, ``str``,
``int``, ``float``, ``bool``, ``None``). Anything else counts as a JS object. Deliberate
differences from JS, none of which a JSON document from the designer can reach in
practice: integers stay exact Python ints (JS rounds beyond 2**53); strings are measured,
indexed and ordered by code point (JS uses UTF-16 units); ``var`` sees a document's own
keys only (no ``length``, no prototype).
"""

from __future__ import annotations

import logging
import math
import operator
import re
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

log = logging.getLogger(__name__)

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()
"""An argument that was not given (JS ``undefined``), distinct from ``null``."""

NAN = math.nan
INF = math.inf
_BIG = 2**1023  # ints beyond become +-Infinity where they meet a float, as JS doubles would

NULL, BOOLEAN, NUMBER, STRING, ARRAY, OBJECT = range(6)
_JS_TYPES = {
    type(None): NULL,
    bool: BOOLEAN,
    int: NUMBER,
    float: NUMBER,
    str: STRING,
    list: ARRAY,
    dict: OBJECT,
}

# ECMAScript WhiteSpace and LineTerminator: what Number("...") and parseFloat skip
_JS_SPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_NON_DECIMAL = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")


def js_type(value: Any) -> int:
    kind = _JS_TYPES.get(type(value))
    if kind is not None:
        return kind
    for cls, kind in ((bool, BOOLEAN), ((int, float), NUMBER), (str, STRING), (list, ARRAY)):
        if isinstance(value, cls):
            return kind
    return OBJECT


# --- conversions ---------------------------------------------------------------------------


def truthy(value: Any) -> bool:
    """JsonLogic's truthiness: JS's, except that an empty array is falsy."""
    kind = js_type(value)
    if kind == OBJECT:
        return True  # {} included, unlike Python
    if kind == NUMBER:
        return value == value and value != 0  # NaN is falsy
    return bool(value)


def as_float(number: int | float) -> float:
    """A number as a double, where an int meets a float: never OverflowError."""
    if isinstance(number, float):
        return number
    if -_BIG < number < _BIG:
        return float(number)
    return INF if number > 0 else -INF


def _decimal(text: str) -> float:
    if text.endswith("Infinity"):
        return -INF if text.startswith("-") else INF
    return float(text)


def string_to_number(text: str) -> int | float:
    """JS ``Number(text)``: whitespace-trimmed decimal, hex/octal/binary, or NaN."""
    text = text.strip(_JS_SPACE)
    if not text:
        return 0
    if _DECIMAL.fullmatch(text):
        return _decimal(text)
    if _NON_DECIMAL.fullmatch(text):
        return int(text, 0)
    return NAN


def to_number(value: Any) -> int | float:
    """JS ``ToNumber``."""
    kind = js_type(value)
    if kind == NUMBER:
        return value
    if kind == NULL:
        return 0
    if kind == BOOLEAN:
        return 1 if value else 0
    if kind == OBJECT:
        return NAN
    return string_to_number(to_string(value))


def parse_float(value: Any) -> int | float:
    """JS ``parseFloat``: the longest decimal prefix of the value's string form, else NaN."""
    if js_type(value) == NUMBER:  # through its string, so -0 comes back as 0
        return value if isinstance(value, int) else value + 0.0
    match = _DECIMAL.match(to_string(value).lstrip(_JS_SPACE))
    return _decimal(match.group()) if match else NAN


def to_integer(value: Any) -> int | float:
    """JS ``ToIntegerOrInfinity``: truncated number, NaN -> 0, infinities kept."""
    number = to_number(value)
    if number != number:
        return 0
    return number if number in (INF, -INF) else int(number)


def number_to_string(number: int | float) -> str:
    """JS ``Number.prototype.toString()``: ``1.0`` -> ``"1"``, ``1e21`` -> ``"1e+21"``."""
    if isinstance(number, int):
        if -(10**21) < number < 10**21:
            return str(number)
        number = as_float(number)
    if number != number:
        return "NaN"
    if number in (INF, -INF):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    if number.is_integer() and abs(number) < 1e21:  # ECMAScript's case k <= n <= 21
        return str(int(number))
    sign = "-" if number < 0 else ""
    mantissa, _, exponent = repr(abs(number)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + int(exponent or 0)  # value = 0.digits * 10**point
    significant = digits.lstrip("0")
    point -= len(digits) - len(significant)
    significant = significant.rstrip("0")
    count = len(significant)
    if 0 < point <= 21:
        return sign + significant[:point] + "." + significant[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + significant
    power = point - 1
    fraction = "." + significant[1:] if count > 1 else ""
    return f"{sign}{significant[0]}{fraction}e{'+' if power >= 0 else '-'}{abs(power)}"


def to_string(value: Any) -> str:
    """JS ``String(value)``; arrays join their elements with ``,`` (null as empty)."""
    kind = js_type(value)
    if kind == STRING:
        return value
    if kind == NUMBER:
        return number_to_string(value)
    if kind == NULL:
        return "null"
    if kind == BOOLEAN:
        return "true" if value else "false"
    if kind == ARRAY:
        return ",".join("" if item is None else to_string(item) for item in value)
    return "[object Object]"


def to_primitive(value: Any) -> Any:
    """JS ``ToPrimitive`` for the values a document holds: arrays and objects become strings."""
    kind = js_type(value)
    if kind in (ARRAY, OBJECT):
        return to_string(value)
    return value


# --- equality and order --------------------------------------------------------------------


def strict_equal(a: Any, b: Any) -> bool:
    """JS ``===``: same type and value; arrays and objects only when they are the same one."""
    kind = js_type(a)
    if kind != js_type(b):
        return False
    if kind in (ARRAY, OBJECT):
        return a is b
    return a == b  # NaN != NaN, as in JS


def strict_not_equal(a: Any, b: Any) -> bool:
    return not strict_equal(a, b)


def loose_equal(a: Any, b: Any) -> bool:
    """JS ``==`` (IsLooselyEqual): ``"1" == 1``, ``[] == false``, but ``0 == null`` is false."""
    kind_a, kind_b = js_type(a), js_type(b)
    if kind_a == kind_b:
        return strict_equal(a, b)
    objects = (kind_a in (ARRAY, OBJECT), kind_b in (ARRAY, OBJECT))
    if all(objects):
        return a is b  # arrays are objects too: two of them are equal only if one
    if kind_a == NULL or kind_b == NULL:
        return False
    if kind_a == BOOLEAN or kind_b == BOOLEAN:
        return loose_equal(
            to_number(a) if kind_a == BOOLEAN else a, to_number(b) if kind_b == BOOLEAN else b
        )
    if any(objects):
        return loose_equal(to_primitive(a), to_primitive(b))
    return to_number(a) == to_number(b)  # a number and a string


def loose_not_equal(a: Any, b: Any) -> bool:
    return not loose_equal(a, b)


def _relational(a: Any, b: Any) -> tuple[Any, Any]:
    a, b = to_primitive(a), to_primitive(b)
    if js_type(a) == STRING and js_type(b) == STRING:
        return a, b
    return to_number(a), to_number(b)


def less(a: Any, b: Any, c: Any = MISSING) -> bool:
    """JS ``a < b``, or ``a < b && b < c`` (the between form)."""
    x, y = _relational(a, b)
    if c is MISSING or not x < y:
        return x < y
    y, z = _relational(b, c)
    return y < z


def less_equal(a: Any, b: Any, c: Any = MISSING) -> bool:
    """JS ``a <= b`` (false when either is NaN), or the between form."""
    x, y = _relational(a, b)
    if c is MISSING or not x <= y:
        return x <= y
    y, z = _relational(b, c)
    return y <= z


def greater(a: Any, b: Any) -> bool:
    return less(b, a)


def greater_equal(a: Any, b: Any) -> bool:
    return less_equal(b, a)


def not_(value: Any) -> bool:
    return not truthy(value)


# --- arithmetic ----------------------------------------------------------------------------
# Two ints give an exact int (JS would round beyond 2**53); anything else is IEEE double
# arithmetic, as in JS. Python ints have no negative zero: where JS's zero result would be
# -0 (observable as 1 / x == -Infinity) it is -0.0 here.


def _negative(number: int | float) -> bool:
    return number < 0 or (
        number == 0 and isinstance(number, float) and math.copysign(1, number) < 0
    )


def _combine(x: int | float, y: int | float, op: Callable[[Any, Any], Any]) -> int | float:
    if isinstance(x, int) and isinstance(y, int):
        return op(x, y)
    return op(as_float(x), as_float(y))


def add(*values: Any) -> int | float:
    """``+``: the sum of ``parseFloat`` of each value; one value casts it to a number."""
    total: int | float = 0
    for value in values:
        total = _combine(total, parse_float(value), operator.add)
    return total


def multiply(*values: Any) -> Any:
    """``*``: the product of ``parseFloat`` of each; like json-logic-js, a single value is
    returned untouched (JS ``reduce`` without an initial value never calls back)."""
    if len(values) == 1:
        return values[0]
    product = parse_float(values[0])
    for value in values[1:]:
        factor = parse_float(value)
        negative = _negative(product) != _negative(factor)
        product = _combine(product, factor, operator.mul)
        if product == 0 and negative:
            product = -0.0
    return product


def subtract(a: Any, b: Any = MISSING) -> int | float:
    """``-``: JS ``a - b``, or ``-a`` with one value."""
    if b is MISSING:
        number = to_number(a)
        return -0.0 if number == 0 and not _negative(number) else -number
    return _combine(to_number(a), to_number(b), operator.sub)


def divide(a: Any, b: Any) -> float:
    """``/``: JS division, so ``x / 0`` is +-Infinity (NaN for ``0 / 0``), never an error."""
    x, y = as_float(to_number(a)), as_float(to_number(b))
    if y == 0:
        if x == 0 or x != x:
            return NAN
        return INF if (x > 0) != _negative(y) else -INF
    return x / y


def modulo(a: Any, b: Any) -> int | float:
    """``%``: JS remainder, signed like the dividend; ``x % 0`` is NaN."""
    x, y = to_number(a), to_number(b)
    if isinstance(x, int) and isinstance(y, int):
        if y == 0:
            return NAN
        remainder = abs(x) % abs(y)
        return (-0.0 if remainder == 0 else -remainder) if x < 0 else remainder
    x, y = as_float(x), as_float(y)
    if y == 0 or x != x or y != y or x in (INF, -INF):
        return NAN
    return math.fmod(x, y)


def maximum(*values: Any) -> int | float:
    """``max``: JS ``Math.max``: numbers of the values, NaN if any is NaN, -Infinity if none."""
    numbers = [to_number(value) for value in values]
    if any(number != number for number in numbers):
        return NAN
    return max(numbers, default=-INF)


def minimum(*values: Any) -> int | float:
    numbers = [to_number(value) for value in values]
    if any(number != number for number in numbers):
        return NAN
    return min(numbers, default=INF)


# --- strings and arrays --------------------------------------------------------------------


def cat(*values: Any) -> str:
    """``cat``: JS ``join("")``, so null contributes nothing and numbers print as in JS."""
    return "".join("" if value is None else to_string(value) for value in values)


def substr(source: Any, start: Any, length: Any = MISSING) -> str:
    """``substr``: JS ``String.prototype.substr``; a negative length cuts from the end."""
    text = to_string(source)
    begin = to_integer(start)
    begin = max(len(text) + begin, 0) if begin < 0 else min(begin, len(text))
    rest = text[int(begin) :]
    if length is MISSING:
        return rest
    if less(length, 0):
        # json-logic-js computes ``rest.length + length`` with JS +, which concatenates
        # when ``length`` is (or stringifies to) a string
        bound = to_primitive(length)
        if js_type(bound) == STRING:
            keep = to_integer(str(len(rest)) + bound)
        else:
            keep = to_integer(len(rest) + to_number(bound))
    else:
        keep = to_integer(length)
    return rest[: int(min(max(keep, 0), len(rest)))]


def merge(*values: Any) -> list:
    """``merge``: one flat list; arrays are spread one level, anything else appended."""
    merged: list = []
    for value in values:
        if js_type(value) == ARRAY:
            merged.extend(value)
        else:
            merged.append(value)
    return merged


def contains(needle: Any, haystack: Any) -> bool:
    """``in``: substring of a string (the needle stringified), strict membership of an array.

    Like json-logic-js (``!b || !b.indexOf``) a falsy haystack such as ``""`` holds nothing.
    """
    kind = js_type(haystack)
    if kind == STRING:
        return bool(haystack) and to_string(needle) in haystack
    if kind == ARRAY:
        return any(strict_equal(needle, item) for item in haystack)
    return False


def log_value(value: Any) -> Any:
    """``log``: JS ``console.log``; here the automation logger, at INFO."""
    log.info("jsonlogic log: %r", value)
    return value


# --- data access ---------------------------------------------------------------------------


def _absent(key: str, default: Any = None) -> Any:
    return default


def _index(sequence: Sequence, key: str, default: Any = None) -> Any:
    if len(key) <= 10 and _ARRAY_INDEX.fullmatch(key):  # JS array indexes are below 2**32
        position = int(key)
        if position < len(sequence):
            return sequence[position]
    return default


def getter(value: Any) -> Callable[..., Any]:
    """``get(key, default=None)`` for one step of a ``var`` path into ``value``, as JS's
    ``value[key]`` would go: object keys, array and string indexes, nothing else."""
    if isinstance(value, dict):
        return value.get
    if isinstance(value, list | str):
        return partial(_index, value)
    return _absent


class Lookup:
    """A value that is not a dict, seen through ``.get`` like one (see :func:`getter`)."""

    __slots__ = ("get",)

    def __init__(self, value: Any) -> None:
        self.get = getter(value)


def step(value: Any, key: str, default: Any = None) -> Any:
    """One step of a ``var`` path, for the generated code's slow path."""
    return getter(value)(key, default)


def split_path(path: Any) -> tuple[str, ...]:
    return tuple(to_string(path).split("."))


def walk(data: Any, keys: Sequence[str], default: Any = None) -> Any:
    """Follow ``keys`` into ``data``; ``default`` as soon as a step is missing or null."""
    last = len(keys) - 1
    for position, key in enumerate(keys):
        data = getter(data)(key, MISSING)
        if data is MISSING or (data is None and position < last):
            return default
    return data


def variable(data: Any, path: Any = None, default: Any = None) -> Any:
    """``var``: the whole document for a null or empty path, else the dotted path's value."""
    if path is None or path == "":
        return data
    return walk(data, split_path(path), default)


def missing(data: Any, *keys: Any) -> list:
    """``missing``: the keys whose value is null or ``""``; one array argument is the keys."""
    if keys and js_type(keys[0]) == ARRAY:
        keys = tuple(keys[0])
    return [key for key in keys if (found := variable(data, key)) is None or found == ""]


def missing_some(data: Any, need: Any, keys: Any) -> list:
    """``missing_some``: ``[]`` when at least ``need`` of ``keys`` are present, else the
    missing ones."""
    listed = keys if js_type(keys) == ARRAY else [keys]
    absent = missing(data, *listed)
    if greater_equal(len(listed) - len(absent), need):
        return []
    return absent
