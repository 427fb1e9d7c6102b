"""Dates, times, relative windows and business hours.

Values are ISO-8601 strings (what the designer's date widgets and our JSON events carry) or
``datetime``/``date`` objects. A naive datetime is UTC. Instants are compared as integer
microseconds since the epoch, days as UTC calendar days (so ``date<`` never disagrees with
``datetime<``). A value that is not a date makes every comparison false except ``!=``,
like JS's NaN. Parsed strings are memoised: rules compare the same timestamps again and
again, and parsing costs more than the comparison.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from automation.jsonlogic.js import MISSING, log

Clock = Callable[[], datetime]
"""Returns the current time; aware (naive is taken as UTC). Tests inject a fixed one."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
DAY_US = 86_400_000_000
UNITS_US = {
    unit: seconds * 1_000_000
    for names, seconds in (
        (("second", "seconds"), 1),
        (("minute", "minutes"), 60),
        (("hour", "hours"), 3600),
        (("day", "days"), 86_400),
        (("week", "weeks"), 604_800),
    )
    for unit in names
}
_PARSED: dict[str, int | None] = {}
_PARSED_MAX = 4096


def micros_of(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // MICROSECOND


def _parse(text: str) -> int | None:
    try:
        return micros_of(datetime.fromisoformat(text))
    except ValueError:
        return None


def instant(value: Any) -> int | None:
    """Microseconds since the epoch of an ISO-8601 string, datetime or date; else None."""
    if type(value) is str:
        if len(value) > 64:  # no ISO-8601 time is this long; and the memo stays small
            return None
        found = _PARSED.get(value, MISSING)
        if found is MISSING:
            found = _parse(value)
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[value] = found
        return found
    if isinstance(value, datetime):
        return micros_of(value)
    if isinstance(value, date):
        return micros_of(datetime(value.year, value.month, value.day))
    return None


def day(value: Any) -> int | None:
    """The value's UTC calendar day, as days since the epoch."""
    moment = instant(value)
    return None if moment is None else moment // DAY_US


def system_micros() -> int:
    return time.time_ns() // 1000


def micros_clock(clock: Clock | None) -> Callable[[], int]:
    """The clock as microseconds: ``time.time_ns`` unless one is injected (5x cheaper than
    ``datetime.now``, which matters in a rule evaluated a million times a second)."""
    if clock is None:
        return system_micros
    return lambda: micros_of(clock())


def iso(micros: int) -> str:
    """The JS ``Date.prototype.toISOString`` form: ``2024-03-31T01:30:00.000Z``."""
    moment = EPOCH + micros * MICROSECOND
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now(clock: Callable[[], int]) -> str:
    return iso(clock())


# --- comparisons ---------------------------------------------------------------------------

_NAMES = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_ORDER: dict[str, Callable[[int, int], bool]] = {
    "==": int.__eq__,
    "!=": int.__ne__,
    "<": int.__lt__,
    "<=": int.__le__,
    ">": int.__gt__,
    ">=": int.__ge__,
}


def comparison(scale: Callable[[Any], int | None], symbol: str) -> Callable[..., bool]:
    """``date<`` and friends: both (or, for ``<``/``<=``, all three) values read with
    ``scale`` (:func:`day` or :func:`instant`) and compared in order."""
    order = _ORDER[symbol]
    unknown = symbol == "!="  # a non-date differs from everything, equals nothing

    def compare(a: Any, b: Any, c: Any = MISSING) -> bool:
        values = (a, b) if c is MISSING else (a, b, c)
        points = [scale(value) for value in values]
        if None in points:
            return unknown
        return all(order(x, y) for x, y in itertools.pairwise(points))

    compare.__name__ = f"{scale.__name__}_{_NAMES[symbol]}"
    return compare


# --- relative windows ----------------------------------------------------------------------


def _relative(name: str, inside: Callable[[int, int, int], bool]) -> Callable[..., bool]:
    """A window operator ``[value, amount, unit]``: ``inside(moment, now, span)`` decides,
    all in microseconds; a value that is no date, or a negative amount, is outside."""

    def relative(clock: Callable[[], int], value: Any, amount: Any, unit: Any) -> bool:
        moment = instant(value)
        span = UNITS_US.get(unit) if type(unit) is str else None
        if moment is None or span is None or type(amount) not in (int, float):
            return False
        if not 0 <= amount < math.inf:
            return False
        return inside(moment, clock(), int(amount * span))

    relative.__name__ = name
    return relative


within_last = _relative("within_last", lambda moment, now, span: now - span <= moment <= now)
within_next = _relative("within_next", lambda moment, now, span: now <= moment <= now + span)
older_than = _relative("older_than", lambda moment, now, span: moment < now - span)


# --- business hours ------------------------------------------------------------------------

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class HoursError(ValueError):
    """A business-hours document that does not follow the format; ``path`` is inside it."""

    def __init__(self, problem: str, *path: str | int) -> None:
        super().__init__(problem)
        self.path = path


@dataclass(frozen=True)
class BusinessHours:
    """A parsed hours document: open periods per weekday, as seconds of the local day."""

    zone: ZoneInfo
    weekly: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date]

    def open_at(self, micros: int) -> bool:
        local = (EPOCH + micros * MICROSECOND).astimezone(self.zone)
        if local.date() in self.holidays:
            return False
        second = local.hour * 3600 + local.minute * 60 + local.second
        return any(start <= second < end for start, end in self.weekly[local.weekday()])


def _clock_time(text: Any, *path: str | int) -> int:
    if type(text) is not str or len(text) != 5 or text[2] != ":":
        raise HoursError(f"a time is 'HH:MM', not {text!r}", *path)
    hours, minutes = text[:2], text[3:]
    if not (hours.isascii() and hours.isdigit() and minutes.isascii() and minutes.isdigit()):
        raise HoursError(f"a time is 'HH:MM', not {text!r}", *path)
    seconds = int(hours) * 3600 + int(minutes) * 60
    if int(minutes) > 59 or seconds > 86_400:
        raise HoursError(f"{text!r} is not a time of day (00:00 to 24:00)", *path)
    return seconds


def _periods(periods: Any, weekday: str) -> tuple[tuple[int, int], ...]:
    if type(periods) is not list:
        raise HoursError("a day's hours are a list of [start, end] periods", "weekly", weekday)
    parsed = []
    for index, period in enumerate(periods):
        if type(period) is not list or len(period) != 2:
            raise HoursError("a period is [start, end]", "weekly", weekday, index)
        start = _clock_time(period[0], "weekly", weekday, index, 0)
        end = _clock_time(period[1], "weekly", weekday, index, 1)
        if start >= end:
            raise HoursError(
                "a period ends after it starts (split one across midnight into two days)",
                "weekly",
                weekday,
                index,
            )
        parsed.append((start, end))
    return tuple(sorted(parsed))


def _holidays(holidays: Any) -> frozenset[date]:
    if type(holidays) is not list:
        raise HoursError("holidays are a list of 'YYYY-MM-DD' dates", "holidays")
    days = set()
    for index, text in enumerate(holidays):
        try:
            if type(text) is not str or len(text) != 10:
                raise ValueError
            days.add(date.fromisoformat(text))
        except ValueError:
            raise HoursError(
                f"a holiday is a 'YYYY-MM-DD' date, not {text!r}", "holidays", index
            ) from None
    return frozenset(days)


def parse_hours(document: Any) -> BusinessHours:
    """Validate a business-hours document (see the package docstring for its format)."""
    if type(document) is not dict:
        raise HoursError("business hours are an object with timezone, weekly, holidays")
    unknown = set(document) - {"timezone", "weekly", "holidays"}
    if unknown:
        raise HoursError(f"unknown business-hours keys: {sorted(map(str, unknown))}")
    zone_name = document.get("timezone")
    try:
        if type(zone_name) is not str:
            raise ValueError
        zone = ZoneInfo(zone_name)
    except (ValueError, ZoneInfoNotFoundError):
        raise HoursError(f"{zone_name!r} is not an IANA time zone", "timezone") from None
    weekly = document.get("weekly")
    if type(weekly) is not dict:
        raise HoursError("weekly is an object from weekday ('mon'..'sun') to periods", "weekly")
    strays = set(weekly) - set(WEEKDAYS)
    if strays:
        raise HoursError(
            f"weekdays are {', '.join(WEEKDAYS)}; not {sorted(map(str, strays))}", "weekly"
        )
    return BusinessHours(
        zone=zone,
        weekly=tuple(_periods(weekly.get(name, []), name) for name in WEEKDAYS),
        holidays=_holidays(document.get("holidays", [])),
    )


def in_hours(value: Any, hours: BusinessHours) -> bool:
    moment = instant(value)
    return moment is not None and hours.open_at(moment)


def in_business_hours(value: Any, document: Any) -> bool:
    """``in_business_hours`` with a document only known at evaluation time (from the data):
    none (null) means closed; one that does not follow the format is logged, and closed."""
    if document is None:
        return False
    try:
        hours = parse_hours(document)
    except HoursError as error:
        log.warning("in_business_hours: invalid hours document: %s", error)
        return False
    return in_hours(value, hours)
