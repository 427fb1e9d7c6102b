"""Time that counts towards a target: business hours in the account's zone, or the calendar.

Opening hours are wall-clock times in the account's time zone (``{"mon": [{"start":
"09:00", "end": "17:00"}], …}``, the settings format), so a day's periods are turned into
absolute instants through :mod:`zoneinfo` one day at a time: 09:00-17:00 stays 09:00-17:00
on the clock across a DST change, and a period spanning the change counts the minutes
that really elapse (an hour shorter in spring, an hour longer in autumn). A wall time
that does not exist (inside the spring gap) maps to the instant the clock jumps through.
Holidays close whole local dates.

An account that has never set business hours is open around the clock: with nothing
configured, the only sensible deadline is the calendar one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from accounts.settings import WEEKDAYS

#: How far ahead a deadline is looked for before the schedule counts as never open.
MAX_DAYS = 3 * 366


class NeverOpen(ValueError):
    """The schedule has no open minute within :data:`MAX_DAYS` (every open day a holiday)."""


def _minute_of_day(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


@dataclass(frozen=True)
class Schedule:
    """When the clock runs. ``week`` is None for the calendar (always open, no holidays);
    otherwise seven tuples (Monday first) of ``(start, end)`` minutes of the day."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    week: tuple[tuple[tuple[int, int], ...], ...] | None = None
    holidays: frozenset[date] = frozenset()

    @classmethod
    def business(
        cls,
        *,
        timezone: str,
        hours: Mapping[str, Iterable[Mapping[str, str]]] | None,
        holidays: Iterable[date] = (),
    ) -> Schedule:
        """The schedule from account settings; no hours configured means always open."""
        if not hours:
            return cls(zone=ZoneInfo(timezone))
        week = tuple(
            tuple(
                (_minute_of_day(p["start"]), _minute_of_day(p["end"])) for p in hours.get(day, ())
            )
            for day in WEEKDAYS
        )
        return cls(zone=ZoneInfo(timezone), week=week, holidays=frozenset(holidays))

    def _periods(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open periods as UTC instants, in order, from the local day containing ``start``."""
        day = start.astimezone(self.zone).date()
        for _ in range(MAX_DAYS):
            if day not in self.holidays:
                for begin, end in self.week[day.weekday()]:
                    yield self._instant(day, begin), self._instant(day, end)
            day += timedelta(days=1)

    def _instant(self, day: date, minute: int) -> datetime:
        """``day`` at ``minute`` on the local clock (minute 1440 is the next midnight)."""
        day, minute = (day + timedelta(days=1), 0) if minute == 24 * 60 else (day, minute)
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.zone)
        return local.astimezone(UTC)

    def add_business_minutes(self, start: datetime, minutes: float) -> datetime:
        """The instant at which ``minutes`` of open time have passed since ``start``."""
        if self.week is None:
            return start + timedelta(minutes=minutes)
        remaining = timedelta(minutes=minutes)
        for begin, end in self._periods(start):
            if end <= start:
                continue
            begin = max(begin, start)
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        raise NeverOpen(f"no open time within {MAX_DAYS} days of {start.isoformat()}")

    def business_minutes_between(self, a: datetime, b: datetime) -> float:
        """Open minutes from ``a`` to ``b`` (0 when ``b`` is not after ``a``)."""
        if b <= a:
            return 0.0
        if self.week is None:
            return (b - a).total_seconds() / 60
        total = timedelta()
        for begin, end in self._periods(a):
            if begin >= b:
                break
            total += max(min(end, b) - max(begin, a), timedelta())
        return total.total_seconds() / 60


#: Calendar hours: every minute counts, holidays included.
CALENDAR = Schedule()
