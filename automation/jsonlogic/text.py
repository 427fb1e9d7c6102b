"""Our string operators: prefix/suffix tests, case-insensitive variants, guarded regex.

Case-insensitive means compared after :meth:`str.casefold` (so ``"STRASSE"`` equals
``"straße"``). Prefix and suffix tests are defined on strings only: anything else is no
match, rather than JS's stringification (``null`` does not start with ``"nu"``).

The regex guard. Python's ``re`` backtracks, and a tenant's pattern runs in our workers,
so a pattern is analysed before it is compiled and refused when its worst case is not
bounded by a polynomial we can afford:

- at most :data:`MAX_PATTERN` characters; no backreferences or conditionals;
- no variable quantifier inside a repeated group (``(a+)+``, ``(a?a)*``: exponential);
- inside a repeated group, alternatives must start with different literal characters
  (``(a|ab)*`` is refused, ``(re|fw):`` outside a repeat is fine);
- what remains costs at most ``alternatives * n**(q+1)`` steps on ``n`` characters, where
  ``q`` counts unbounded quantifiers and ``alternatives`` multiplies the branch counts and
  small bounded ranges; the value is searched in its first
  ``(WORK / alternatives) ** (1 / (q+1))`` characters (never more than
  :data:`MAX_SUBJECT`), and a pattern whose window would be under :data:`MIN_SUBJECT`
  characters is refused. ``.*foo`` searches 7,000 characters, ``.*a.*b`` 368.

Patterns use Python's ``re`` syntax, which agrees with JS for what rules use (classes,
anchors, groups, ``\\d\\w\\s``); flags are ``i``, ``m``, ``s``. A value is searched (not
matched whole: anchor with ``^...$``); numbers are searched in their JS string form,
anything else never matches.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from re import _constants as sre  # the parser is private, but stable since 3.11
from re import _parser as sre_parse
from typing import Any

from automation.jsonlogic.js import (
    ARRAY,
    NUMBER,
    STRING,
    js_type,
    log,
    loose_equal,
    strict_equal,
    to_string,
)

MAX_PATTERN = 500
MAX_SUBJECT = 10_000
MIN_SUBJECT = 64
WORK = 50_000_000  # backtracking steps: about 50 ms of the regex engine here
MAX_ALTERNATIVES = 10_000
SMALL_RANGE = 16  # a{2,5}: a constant factor of 4; a{2,50}: as bad as a+
FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}

_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT}
_GROUPS = {sre.SUBPATTERN, sre.ATOMIC_GROUP, sre.ASSERT, sre.ASSERT_NOT}


# --- strings -------------------------------------------------------------------------------


def _affix(name: str, test: str, fold: bool):
    method = getattr(str, test)

    def affix(value: Any, part: Any) -> bool:
        if js_type(value) != STRING or js_type(part) != STRING:
            return False
        return method(value.casefold(), part.casefold()) if fold else method(value, part)

    affix.__name__ = name
    return affix


starts_with = _affix("starts_with", "startswith", fold=False)
ends_with = _affix("ends_with", "endswith", fold=False)
starts_with_ci = _affix("starts_with_ci", "startswith", fold=True)
ends_with_ci = _affix("ends_with_ci", "endswith", fold=True)


def contains_ci(needle: Any, haystack: Any) -> bool:
    """``in_ci``: ``in``, with strings compared casefolded."""
    kind = js_type(haystack)
    if kind == STRING:
        return bool(haystack) and to_string(needle).casefold() in haystack.casefold()
    if kind != ARRAY:
        return False
    if js_type(needle) != STRING:
        return any(strict_equal(needle, item) for item in haystack)
    folded = needle.casefold()
    return any(js_type(item) == STRING and item.casefold() == folded for item in haystack)


def equal_ci(a: Any, b: Any) -> bool:
    """``==_ci``: two strings equal casefolded; anything else as ``==``."""
    if js_type(a) == STRING and js_type(b) == STRING:
        return a.casefold() == b.casefold()
    return loose_equal(a, b)


# --- the guarded regex ---------------------------------------------------------------------


class RegexRejected(ValueError):
    """A pattern that is invalid or whose worst case the guard cannot bound."""


@dataclass(frozen=True)
class GuardedRegex:
    """A compiled pattern and how much of a value it may search."""

    compiled: re.Pattern
    window: int

    def __call__(self, value: Any) -> bool:
        kind = js_type(value)
        if kind == NUMBER:
            value = to_string(value)
        elif kind != STRING:
            return False
        return self.compiled.search(value[: self.window]) is not None


@dataclass
class _Cost:
    unbounded: int = 0
    alternatives: int = 1

    def scale(self, factor: int) -> None:
        self.alternatives = min(self.alternatives * factor, MAX_ALTERNATIVES + 1)


def _first_characters(items: list, fold: bool) -> frozenset[str] | None:
    """The characters a sequence can start with, or None when that is not a small known set.

    With ``fold``, only ASCII sets: ``re.I`` also pairs some non-ASCII letters with ASCII
    ones (the long s with ``s``, the Kelvin sign with ``k``)."""
    if not items:
        return None
    op, arg = items[0]
    chars: set[str] = set()
    if op is sre.LITERAL:
        chars.add(chr(arg))
    elif op is sre.IN:
        for item, value in arg:
            if item is sre.LITERAL:
                chars.add(chr(value))
            elif item is sre.RANGE and value[1] - value[0] < 256:
                chars.update(map(chr, range(value[0], value[1] + 1)))
            else:
                return None
    elif op is sre.SUBPATTERN:
        return _first_characters(arg[3].data, fold or bool(arg[1] & re.IGNORECASE))
    elif op in _REPEATS and arg[0] >= 1:
        return _first_characters(arg[2].data, fold)
    elif op is sre.BRANCH:
        found = [_first_characters(branch.data, fold) for branch in arg[1]]
        return None if None in found else frozenset().union(*found)
    else:
        return None
    if fold:
        if not all(char.isascii() for char in chars):
            return None
        chars = {char.lower() for char in chars}
    return frozenset(chars)


def _check_branch(branches: list, fold: bool) -> None:
    seen: set[str] = set()
    for branch in branches:
        first = _first_characters(branch.data, fold)
        if first is None or first & seen:
            raise RegexRejected(
                "alternatives inside a repeated group must start with different literal "
                "characters (else matching can take exponential time)"
            )
        seen |= first


def _scan(items: list, cost: _Cost, fold: bool, repeated: bool, times: int) -> None:
    """Walk the parsed pattern: refuse what can explode, count what costs.

    ``repeated``: inside a group repeated a variable number of times; ``times``: how often
    the enclosing fixed repeats (``(...){3}``) run this part.
    """
    for op, arg in items:
        if op in _REPEATS:
            low, high, body = arg
            variable = low != high
            if variable and repeated:
                raise RegexRejected(
                    "a quantifier inside a repeated group (like (a+)+) can take exponential time"
                )
            if variable and (high == sre.MAXREPEAT or high - low > SMALL_RANGE):
                cost.unbounded += times
            elif variable:
                cost.scale((high - low + 1) ** times)
            inner_times = times * high if not variable and high > 1 else times
            _scan(body.data, cost, fold, repeated or (variable and high > 1), inner_times)
        elif op is sre.BRANCH:
            if repeated:
                _check_branch(arg[1], fold)
            else:
                cost.scale(len(arg[1]) ** times)
            for branch in arg[1]:
                _scan(branch.data, cost, fold, repeated, times)
        elif op is sre.SUBPATTERN:
            inner_fold = fold or bool(arg[1] & re.IGNORECASE)
            _scan(arg[3].data, cost, inner_fold, repeated, times)
        elif op in _GROUPS:
            _scan((arg if op is sre.ATOMIC_GROUP else arg[1]).data, cost, fold, repeated, times)
        elif op in (sre.GROUPREF, sre.GROUPREF_EXISTS, sre.GROUPREF_IGNORE):
            raise RegexRejected("backreferences are not allowed (matching can be exponential)")


def guard(pattern: Any, flags: Any = "") -> GuardedRegex:
    """Analyse and compile ``pattern`` with ``flags``; :class:`RegexRejected` if refused."""
    if type(pattern) is not str:
        raise RegexRejected("the pattern is a string")
    if type(flags) is not str or not set(flags) <= set(FLAGS):
        raise RegexRejected(f"flags are a string of {', '.join(FLAGS)}; not {flags!r}")
    if len(pattern) > MAX_PATTERN:
        raise RegexRejected(f"the pattern is longer than {MAX_PATTERN} characters")
    bits = 0
    for letter in flags:
        bits |= FLAGS[letter]
    try:
        parsed = sre_parse.parse(pattern, bits)
        compiled = re.compile(pattern, bits)
    except re.error as error:
        raise RegexRejected(f"not a regular expression: {error}") from None
    cost = _Cost()
    _scan(parsed.data, cost, bool(parsed.state.flags & re.IGNORECASE), False, 1)
    if cost.alternatives > MAX_ALTERNATIVES:
        raise RegexRejected(f"more than {MAX_ALTERNATIVES} combinations of alternatives")
    window = math.floor((WORK / cost.alternatives) ** (1 / (cost.unbounded + 1)))
    if window < MIN_SUBJECT:
        raise RegexRejected(
            f"too costly: {cost.unbounded} unbounded quantifiers could only search "
            f"{window} characters (the least is {MIN_SUBJECT})"
        )
    return GuardedRegex(compiled, min(window, MAX_SUBJECT))


@lru_cache(maxsize=256)
def _guarded(pattern: str, flags: str) -> GuardedRegex | None:
    try:
        return guard(pattern, flags)
    except RegexRejected as error:
        log.warning("regex: pattern %r refused: %s", pattern, error)
        return None


def regex(value: Any, pattern: Any, flags: Any = "") -> bool:
    """``regex`` with a pattern only known at evaluation time: a refused one never matches."""
    if type(pattern) is not str or type(flags) is not str:
        return False
    compiled = _guarded(pattern, flags)
    return compiled is not None and compiled(value)
