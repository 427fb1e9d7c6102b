"""JsonLogic rules compiled to Python: what the automation engine evaluates per event.

``compile(rule)`` validates a rule and returns a function of the data; ``evaluate(rule,
data)`` is compile-then-call; ``cached(key, rule)`` keeps compiled rules in a bounded LRU
keyed by the caller, e.g. ``(rule_id, version)``. A malformed rule (unknown operator,
wrong arity, a bad literal) raises :class:`JsonLogicError` at compile time with ``.path``
(a JSON Pointer into the rule, e.g. ``/and/2/==/0``) and ``.operator``. Evaluation never
raises on JSON data: like JS, every operator has an answer for every value.

Design. A rule is compiled once and evaluated many times, so the work goes into
compilation: each rule becomes Python source, one specialised expression per node (a
``var`` is a ``dict.get``, an ``==`` against a string literal is Python's ``==`` guarded by
a type test, ``and``/``or`` are Python's when the operands' truthiness is known to agree
with JsonLogic's), compiled by Python's ``compile`` into a function. Wherever a fast path's
assumption about a value's type does not hold at run time, the code calls the generic
implementation of the operator (:mod:`.js`, JS's semantics); so speed never changes a
result. An interpreter walking the rule per evaluation, or a tree of closures, pays a
Python call per node; the generated function pays none for the common cases, which makes
it several times faster than json-logic-js under node (``bench/jsonlogic.py``). Rule
content reaches the source only as ``repr`` of a str/int/float/bool/None (always a
literal); anything else is bound by name in a namespace without builtins. Compiling costs
about 0.1 ms per condition, hence the cache per rule version.

Semantics are json-logic-js's (the designer previews rules with it in the browser), for
every operator of jsonlogic.com; where JsonLogic and JS differ, JsonLogic's: ``[]`` is
falsy, ``"0"`` truthy. Deliberate differences (:mod:`.js`): a rule may not hold an object
with other than one key (json-logic-js passes it through as data); arities that the spec
fixes are enforced; ints are exact; strings count code points; ``var`` sees own keys only.

========================  ================================================================
operator                  meaning
========================  ================================================================
``var``                   ``[path, default]`` or ``path``: the value at the dotted path
                          (numbers index lists and strings); ``""``/null/none: the data;
                          ``default`` (else null) when a step is missing or null
``missing``               the keys (args, or one array arg) whose value is null or ``""``
``missing_some``          ``[n, keys]``: ``[]`` if at least ``n`` keys are present, else
                          the missing ones
``if``                    ``[c1, v1, c2, v2, ..., else]``: first ``v`` whose ``c`` is truthy
``?:``                    ``[c, then, else]``
``and`` / ``or``          first falsy / truthy operand, else the last (short-circuit)
``!`` / ``!!``            negated truthiness / truthiness, as a boolean
``==`` / ``!=``           JS loose equality: ``1 == "1"``, ``[] == false``, ``0 != null``
``===`` / ``!==``         JS strict equality (arrays only equal themselves)
``<`` ``<=``              JS comparison; three args: between, ``a < b < c``
``>`` ``>=``              JS comparison (two strings: by code point; else as numbers)
``+``                     sum of ``parseFloat`` of the args; one arg: a cast to number
``-``                     difference; one arg: negation
``*``                     product of ``parseFloat`` of the args (one arg: itself, as JS)
``/`` ``%``               JS division and remainder (``/ 0`` is +-Infinity, ``% 0`` NaN)
``max`` / ``min``         JS ``Math.max``/``min`` (no args: -Infinity / Infinity)
``map`` / ``filter``      ``[array, rule]``: the rule applied to / tested on each element
                          (the element is the data inside)
``reduce``                ``[array, rule, initial]``: the rule sees ``current`` and
                          ``accumulator``
``all``                   every element passes; false for an empty array
``none`` / ``some``       no / some element passes
``merge``                 one flat array of the args (arrays spread one level)
``in``                    substring of a string; strict membership of an array
``cat``                   JS string concatenation (``1.0`` -> ``"1"``, null -> ``""``)
``substr``                ``[string, start, length]``; negatives count from the end
``log``                   logs its arg (logger ``automation.jsonlogic.js``), returns it
``starts_with``           ``[value, prefix]``: both strings, value starts with it
``ends_with``             ``[value, suffix]``
``starts_with_ci``        as ``starts_with``, compared casefolded (case-insensitive)
``ends_with_ci``          as ``ends_with``, casefolded
``in_ci``                 as ``in``, with strings compared casefolded
``==_ci``                 two strings equal casefolded; anything else as ``==``
``regex``                 ``[value, pattern, flags]``: the pattern (Python ``re``, flags
                          of ``i``/``m``/``s``) found in the value; guarded (:mod:`.text`)
``date==`` ... ``date>=`` ISO-8601 dates (or date-times) compared by UTC calendar day;
                          ``date<``/``date<=`` take a third arg: between
``datetime==`` ...        ISO-8601 instants compared; naive means UTC; a non-date is
``datetime>=``            never equal/less/greater (but ``!=``), like JS's NaN
``now``                   ``[]``: the current UTC time, ``2024-03-31T01:30:00.000Z``
``within_last``           ``[value, amount, unit]``: value in ``[now - amount, now]``;
                          units: seconds, minutes, hours, days, weeks (literal)
``within_next``           ``[value, amount, unit]``: value in ``[now, now + amount]``
``older_than``            ``[value, amount, unit]``: value before ``now - amount``
``in_business_hours``     ``[value, hours]``: the instant falls in the opening hours of
                          the document (below); a null document: closed
========================  ================================================================

The designer (react-awesome-query-builder) emits ``!``/``!!`` for is (not) empty,
``== null``, three-argument ``<=`` for between, ``in`` for like and select-any-in,
``some``/``all`` with ``in`` over multiselect values, and the ``date``/``datetime``
operators with its date settings; all of them are above.

Business hours, as a literal document (validated at compile time) or from the data::

    {"timezone": "Europe/Berlin",                      # IANA name
     "weekly": {"mon": [["09:00", "12:30"], ["13:30", "17:00"]], "sat": []},
     "holidays": ["2024-12-25", "2024-12-26"]}         # local dates, closed all day

Weekdays are ``mon`` to ``sun`` (a day left out is closed); a period ``[start, end]`` is
local wall time, start included, end excluded, ``"24:00"`` allowed as an end; an overnight
shift is two periods on two days. The instant is converted to the zone (so DST is the
zone's business), then checked against the holidays and that weekday's periods.

Limits: a rule nests at most 40 levels and has at most 10,000 nodes.

Lists filter in the database instead: :mod:`automation.jsonlogic.sql` compiles a condition
to a SQL clause meaning exactly what this evaluator means (segments of contacts).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from automation.jsonlogic.cache import RuleCache
from automation.jsonlogic.codegen import compile_rule
from automation.jsonlogic.dates import Clock
from automation.jsonlogic.errors import JsonLogicError
from automation.jsonlogic.operators import OPERATORS

__all__ = ["OPERATORS", "JsonLogicError", "RuleCache", "cached", "compile", "evaluate"]


def compile(rule: Any, *, clock: Clock | None = None) -> Callable[[Any], Any]:
    """The rule as a function of the data; :class:`JsonLogicError` if it is malformed.

    ``clock`` (returning the current ``datetime``) serves ``now`` and the relative windows;
    tests inject one, production leaves the system's.
    """
    return compile_rule(rule, OPERATORS, clock)


def evaluate(rule: Any, data: Any = None, *, clock: Clock | None = None) -> Any:
    return compile(rule, clock=clock)(data)


_CACHE = RuleCache(compile)


def cached(key: Hashable, rule: Any) -> Callable[[Any], Any]:
    """The compiled rule for ``key`` (e.g. ``(rule_id, version)``), compiled on first use."""
    return _CACHE.get(key, rule)
