"""Our text operators (:mod:`.text`) in PostgreSQL terms, meaning exactly what they mean
in Python, for :mod:`.sql`.

Case-insensitive tests compare :meth:`str.casefold` forms, which the server has no
function for (``lower()`` maps one character to one, by the locale: ``"ß"`` stays, where
casefolding gives ``"ss"``; a final sigma stays, where it gives the other sigma). ASCII text is
lower-cased under the ``C`` collation, which is casefolding it. Other text:
:func:`server_fold` lowers it with the server's ``lower()`` and mends the characters
where that differs from Python, from a table found once per database by lowering every
character there is (about a hundred on glibc); :func:`casefolded` needs no server, the
whole table going through ``translate()``, which is slow (it compares each character
with every key). Either way, one regex test per value sends only the texts holding a
character that needs more than the fast way down the slow one.

Regular expressions are Python ``re`` patterns; the server's engine (Spencer's ARE)
reads the same text differently (``\\b`` is a backspace there, ``.`` matches a newline,
``$`` does not stop before a final newline, ``\\d`` follows the locale). So a pattern is
parsed with Python's parser and written again construct by construct as an ARE that
matches exactly the same strings: characters as ``\\U`` escapes, classes (``\\d``,
``\\w``, ``\\s`` included) as explicit code point ranges, anchors with look-arounds where
Python's differ. Greediness is dropped (only whether a match exists matters). Refused
(:class:`Untranslatable`): the ``i`` flag (Python's case-insensitive matching pairs
characters no server function knows), ``\\B``, possessive quantifiers, atomic groups and
repeat counts above 255 (the server's limit).
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
from collections.abc import Callable, Iterable
from re import _constants as sre  # the parser is private, but stable since 3.11
from re import _parser as sre_parse
from typing import Any

from sqlalchemy import ColumnElement, Connection, String, case, func, literal, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from automation.jsonlogic.text import FLAGS

#: No code point at or above this folds differently (checked by the tests).
FOLD_LIMIT = 0x20000
MAX_REPEAT = 255
_SURROGATES = (0xD800, 0xDFFF)
_LAST = 0x10FFFF
_NEWLINE = ord("\n")


class Untranslatable(ValueError):
    """A valid pattern whose meaning the server's regex engine cannot reproduce."""


# --- casefolding -----------------------------------------------------------------------


@functools.cache
def _folds() -> tuple[dict[str, str], dict[str, str]]:
    """The non-ASCII characters that casefold to one other character, and those that
    casefold to several."""
    single: dict[str, str] = {}
    several: dict[str, str] = {}
    for point in range(128, FOLD_LIMIT):
        char = chr(point)
        folded = char.casefold()
        if folded != char:
            (single if len(folded) == 1 else several)[char] = folded
    return single, several


class _Expanded(FunctionElement[str]):
    """The text with each character that casefolds to several replaced by them: a
    ``replace()`` per character, nested, written in a loop (a tree of a hundred function
    objects would overflow the statement compiler's recursion)."""

    type = String()
    name = "replace"
    inherit_cache = True


@functools.cache
def _replacements() -> tuple[str, str]:
    """What goes before and after the text in :class:`_Expanded`'s SQL (the characters
    are letters and marks: no quote to escape)."""
    several = _folds()[1]
    after = "".join(f", '{char}', '{replacement}')" for char, replacement in several.items())
    return "replace(" * len(several), after


@compiles(_Expanded)
def _write_expanded(element: _Expanded, compiler: Any, **kw: Any) -> str:
    before, after = _replacements()
    return f"{before}{compiler.process(element.clauses, **kw)}{after}"


def _translated(text: ColumnElement[str], table: dict[str, str]) -> ColumnElement[str]:
    """``text`` with each character that is a key of ``table`` replaced by its value."""
    if not table:
        return text
    keys, values = "".join(table), "".join(table.values())
    return func.translate(text, literal(keys, String), literal(values, String))


def _folding(
    value: ColumnElement[str],
    special: Iterable[str],
    slow: ColumnElement[str],
    plain: ColumnElement[str],
) -> ColumnElement[str]:
    """ASCII text lower-cased under ``C`` (which is casefolding it); text holding one of
    the ``special`` characters through ``slow``; any other through ``plain``. The regex
    test is one pass over the text: the costly work only runs where it is needed."""
    ascii_only = func.octet_length(value) == func.char_length(value)
    holds = value.op("~", is_comparison=True)(
        literal(_bracket([(ord(c), ord(c)) for c in special], False), String)
    )
    return case((ascii_only, func.lower(value.collate("C"))), (holds, slow), else_=plain)


def casefolded(value: ColumnElement[str]) -> ColumnElement[str]:
    """``value.casefold()`` in SQL on any server, from Python's table alone."""
    single, several = _folds()
    slow = _translated(func.lower(_Expanded(value).collate("C")), single)
    return _folding(value, [*single, *several], slow, func.lower(value.collate("C")))


_CALIBRATED: dict[str, tuple[dict[str, str], str] | None] = {}
_CALIBRATING = threading.Lock()


def server_fold(connection: Connection) -> Callable[[ColumnElement[str]], ColumnElement[str]]:
    """``value.casefold()`` in SQL through the server's own ``lower()``, which is fast,
    mended where it differs from Python's casefolding; :func:`casefolded` where it cannot
    be (see :func:`_calibrate`). Calibrated once per database and process."""
    key = str(connection.engine.url)
    with _CALIBRATING:
        if key not in _CALIBRATED:
            _CALIBRATED[key] = _calibrate(connection)
    calibrated = _CALIBRATED[key]
    if calibrated is None:
        return casefolded
    mend, special = calibrated

    def fold(value: ColumnElement[str]) -> ColumnElement[str]:
        slow = _translated(func.lower(_Expanded(value)), mend)
        return _folding(value, special, slow, func.lower(value))

    return fold


def _calibrate(connection: Connection) -> tuple[dict[str, str], str] | None:
    """What turns the server's ``lower()`` (of the database's collation) into Python's
    casefolding, found by lowering every character there is, once: the mending table
    (lowered character: casefolded one), and the characters whose text needs more than
    ``lower()`` (those mended, and those that casefold to several).

    None when no such table exists: ``lower()`` is then no function of single characters
    (an ICU collation lowers a final sigma by its context, may lengthen a character), or
    two characters it lowers alike casefold apart.
    """
    single, several = _folds()
    text = _characters().translate(dict.fromkeys(map(ord, several)))
    probes = ("ΑΣ", "ΑΣΑ")
    try:
        with connection.begin_nested():
            row = connection.execute(
                select(func.lower(literal(text, String)), *map(func.lower, probes))
            ).one()
    except DBAPIError:
        return None
    lowered, final, inner = row
    if len(lowered) != len(text) or final[1] != inner[1]:
        return None
    changed = {char: low for char, low in zip(text, lowered, strict=True) if char != low}
    # Every other character is left alone by both: it needs no mending, and no mending
    # may touch it (so the characters lowered into count too).
    relevant = {*changed, *single, *(chr(p) for p in range(128) if chr(p).casefold() != chr(p))}
    relevant |= {changed.get(char, char) for char in relevant}
    wanted: dict[str, str] = {}
    for char in relevant:
        folded = char.casefold()
        if wanted.setdefault(changed.get(char, char), folded) != folded:
            return None
    mend = {low: folded for low, folded in wanted.items() if low != folded}
    special = [char for char in relevant if changed.get(char, char) in mend]
    return mend, "".join(sorted([*special, *several]))


def like_escaped(text: str) -> str:
    """``text`` for a LIKE pattern (escape character ``\\``), matching itself only."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- regular expressions ---------------------------------------------------------------

Intervals = list[tuple[int, int]]


def _merged(intervals: Iterable[tuple[int, int]]) -> Intervals:
    """Sorted, joined, without the surrogates (no text holds them) and without NUL."""
    merged: Intervals = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    clipped: Intervals = []
    for low, high in merged:
        low = max(low, 1)
        for start, end in (
            (low, min(high, _SURROGATES[0] - 1)),
            (max(low, _SURROGATES[1] + 1), high),
        ):
            if start <= end:
                clipped.append((start, end))
    return clipped


def _complement(intervals: Intervals) -> Intervals:
    gaps, start = [], 0
    for low, high in _merged(intervals):
        if start < low:
            gaps.append((start, low - 1))
        start = high + 1
    if start <= _LAST:
        gaps.append((start, _LAST))
    return _merged(gaps)


#: Every character a text can hold, in order: what Python's own ``re`` sorts into classes.
@functools.cache
def _characters() -> str:
    points = itertools.chain(range(1, _SURROGATES[0]), range(_SURROGATES[1] + 1, _LAST + 1))
    return "".join(map(chr, points))


@functools.cache
def _class_members(escape: str, ascii_only: bool) -> tuple[tuple[int, int], ...]:
    """The code points Python's ``re`` matches with ``escape`` (``\\d``, ``\\w``…), as
    ranges: found by running it over every character, so they are ``re``'s own."""
    runs = re.finditer(f"{escape}+", _characters(), re.ASCII if ascii_only else 0)
    return tuple(_merged((ord(run.group()[0]), ord(run.group()[-1])) for run in runs))


_CATEGORIES = {
    sre.CATEGORY_DIGIT: ("\\d", False),
    sre.CATEGORY_NOT_DIGIT: ("\\d", True),
    sre.CATEGORY_SPACE: ("\\s", False),
    sre.CATEGORY_NOT_SPACE: ("\\s", True),
    sre.CATEGORY_WORD: ("\\w", False),
    sre.CATEGORY_NOT_WORD: ("\\w", True),
}


def _category(code: Any, ascii_only: bool) -> Intervals:
    escape, negated = _CATEGORIES[code]
    members = list(_class_members(escape, ascii_only))
    return _complement(members) if negated else members


def _char(point: int) -> str:
    char = chr(point)
    return char if char.isascii() and char.isalnum() else f"\\U{point:08x}"


def _bracket(intervals: Intervals, negate: bool) -> str:
    merged = _merged(intervals)
    if not merged:  # nothing (or, negated, anything): the complement of every character
        merged, negate = _merged([(1, _LAST)]), not negate
    ranges = "".join(
        _char(low) if low == high else f"{_char(low)}-{_char(high)}" for low, high in merged
    )
    return f"[{'^' if negate else ''}{ranges}]"


class _Writer:
    """Writes parsed items as ARE text; ``flags`` are the ones in force at each item."""

    def sequence(self, items: Any, flags: int) -> str:
        return "".join(self.item(op, av, flags) for op, av in items)

    def item(self, op: Any, av: Any, flags: int) -> str:
        if op is sre.LITERAL:
            return _char(av)
        if op is sre.NOT_LITERAL:
            return _bracket([(av, av)], negate=True)
        if op is sre.ANY:
            return "." if flags & re.DOTALL else _bracket([(_NEWLINE, _NEWLINE)], negate=True)
        if op is sre.IN:
            return self.bracket(av, flags)
        if op is sre.CATEGORY:
            return _bracket(_category(av, bool(flags & re.ASCII)), negate=False)
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):  # whether a match exists: greed is moot
            return self.repeat(*av, flags)
        if op is sre.SUBPATTERN:
            _, added, removed, body = av
            if added & re.IGNORECASE:
                raise Untranslatable(_NO_I)
            return f"(?:{self.sequence(body, (flags | added) & ~removed)})"
        if op is sre.BRANCH:
            return "(?:" + "|".join(self.sequence(branch, flags) for branch in av[1]) + ")"
        if op is sre.AT:
            return self.anchor(av, flags)
        if op in (sre.ASSERT, sre.ASSERT_NOT):
            direction, body = av
            kind = (
                ("=" if op is sre.ASSERT else "!")
                if direction > 0
                else ("<=" if op is sre.ASSERT else "<!")
            )
            return f"(?{kind}{self.sequence(body, flags)})"
        raise Untranslatable(f"{str(op).lower()} is not available in SQL")

    def bracket(self, items: Any, flags: int) -> str:
        intervals: Intervals = []
        negate = False
        for op, av in items:
            if op is sre.NEGATE:
                negate = True
            elif op is sre.LITERAL:
                intervals.append((av, av))
            elif op is sre.RANGE:
                intervals.append(av)
            elif op is sre.CATEGORY:
                intervals += _category(av, bool(flags & re.ASCII))
            else:
                raise Untranslatable(
                    f"{str(op).lower()} in a character class is not available in SQL"
                )
        return _bracket(intervals, negate)

    def repeat(self, low: int, high: int, body: Any, flags: int) -> str:
        unbounded = high == sre.MAXREPEAT
        if low > MAX_REPEAT or (not unbounded and high > MAX_REPEAT):
            raise Untranslatable(f"repeat counts above {MAX_REPEAT} are not available in SQL")
        inner = f"(?:{self.sequence(body, flags)})"
        if unbounded:
            return inner + {0: "*", 1: "+"}.get(low, f"{{{low},}}")
        if (low, high) == (0, 1):
            return inner + "?"
        return inner + (f"{{{low}}}" if low == high else f"{{{low},{high}}}")

    def anchor(self, at: Any, flags: int) -> str:
        newline = _char(_NEWLINE)
        multiline = bool(flags & re.MULTILINE)
        if at is sre.AT_BEGINNING:
            return f"(?:^|(?<={newline}))" if multiline else "^"
        if at is sre.AT_BEGINNING_STRING:
            return "^"
        if at is sre.AT_END:  # Python's $ also stops before a newline ending the text
            return f"(?={newline}|$)" if multiline else f"(?={newline}?$)"
        if at is sre.AT_END_STRING:
            return "$"
        if at is sre.AT_BOUNDARY:
            word = _bracket(_category(sre.CATEGORY_WORD, bool(flags & re.ASCII)), negate=False)
            return f"(?:(?<={word})(?!{word})|(?<!{word})(?={word}))"
        raise Untranslatable("\\B is not available in SQL")


_NO_I = (
    "the i flag (case-insensitive matching) is not available in SQL; "
    "write both cases ([Aa]) or use in_ci, starts_with_ci, ends_with_ci"
)


def regex(pattern: str, flags: str = "") -> str:
    """``pattern`` (Python syntax, with ``flags`` among i, m, s) as a PostgreSQL ARE
    matching the same strings; :class:`Untranslatable` when there is none."""
    bits = 0
    for letter in flags:
        bits |= FLAGS[letter]
    parsed = sre_parse.parse(pattern, bits)
    state = parsed.state.flags
    if state & re.IGNORECASE:
        raise Untranslatable(_NO_I)
    return _Writer().sequence(parsed.data, state)
