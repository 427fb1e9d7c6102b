"""Business-time arithmetic: opening hours on the account's wall clock, holidays, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from helpdesk.business_time import CALENDAR, NeverOpen, Schedule

NINE_TO_FIVE = {
    day: [{"start": "09:00", "end": "17:00"}] for day in ("mon", "tue", "wed", "thu", "fri")
}
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def at(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def office(timezone: str = "Europe/Berlin", hours=None, holidays=()) -> Schedule:
    return Schedule.business(timezone=timezone, hours=hours or NINE_TO_FIVE, holidays=holidays)


def test_minutes_inside_one_opening_period():
    start = at(BERLIN, 2026, 3, 23, 10, 0)  # a Monday
    assert office().add_business_minutes(start, 120) == at(BERLIN, 2026, 3, 23, 12, 0)


def test_what_does_not_fit_today_continues_at_the_next_opening():
    start = at(BERLIN, 2026, 3, 23, 16, 0)
    assert office().add_business_minutes(start, 120) == at(BERLIN, 2026, 3, 24, 10, 0)
    assert office().business_minutes_between(start, at(BERLIN, 2026, 3, 24, 10, 0)) == 120


def test_several_periods_a_day_skip_the_lunch_break():
    hours = {"mon": [{"start": "09:00", "end": "12:30"}, {"start": "13:30", "end": "17:00"}]}
    start = at(BERLIN, 2026, 3, 23, 12, 0)
    schedule = office(hours=hours)
    assert schedule.add_business_minutes(start, 60) == at(BERLIN, 2026, 3, 23, 14, 0)
    assert schedule.business_minutes_between(start, at(BERLIN, 2026, 3, 23, 14, 0)) == 60


def test_a_start_outside_hours_waits_for_the_opening():
    saturday_noon = at(BERLIN, 2026, 3, 21, 12, 0)
    assert office().add_business_minutes(saturday_noon, 30) == at(BERLIN, 2026, 3, 23, 9, 30)
    assert office().business_minutes_between(saturday_noon, at(BERLIN, 2026, 3, 23, 9, 0)) == 0


def test_weekend_across_the_spring_dst_change_in_berlin():
    # Friday 16:00 CET (15:00Z) + 2 business hours: Monday 10:00 CEST, which is 08:00Z.
    # Counting in UTC would give 09:00Z, an hour late on the wall clock.
    start = at(BERLIN, 2026, 3, 27, 16, 0)
    due = office().add_business_minutes(start, 120)
    assert due == utc(2026, 3, 30, 8, 0)
    assert due.astimezone(BERLIN).hour == 10


def test_weekend_across_the_autumn_dst_change_in_berlin():
    # Friday 16:00 CEST (14:00Z) + 2 business hours: Monday 10:00 CET, which is 09:00Z.
    start = at(BERLIN, 2026, 10, 23, 16, 0)
    assert office().add_business_minutes(start, 120) == utc(2026, 10, 26, 9, 0)
    assert office().business_minutes_between(start, utc(2026, 10, 26, 9, 0)) == 120


def test_new_york_changes_its_clocks_on_other_days():
    schedule = office("America/New_York")
    # Spring forward on Sunday 2026-03-08: Friday 16:00 EST (21:00Z) -> Monday 10:00 EDT.
    spring = schedule.add_business_minutes(at(NEW_YORK, 2026, 3, 6, 16, 0), 120)
    assert spring == utc(2026, 3, 9, 14, 0)
    # Fall back on Sunday 2026-11-01: Friday 16:00 EDT (20:00Z) -> Monday 10:00 EST.
    autumn = schedule.add_business_minutes(at(NEW_YORK, 2026, 10, 30, 16, 0), 120)
    assert autumn == utc(2026, 11, 2, 15, 0)


def test_a_period_spanning_the_change_counts_the_minutes_that_really_pass():
    around_the_clock = {"sun": [{"start": "00:00", "end": "24:00"}]}
    schedule = office(hours=around_the_clock)
    spring_day = (at(BERLIN, 2026, 3, 29, 0, 0), at(BERLIN, 2026, 3, 30, 0, 0))
    autumn_day = (at(BERLIN, 2026, 10, 25, 0, 0), at(BERLIN, 2026, 10, 26, 0, 0))
    assert schedule.business_minutes_between(*spring_day) == 23 * 60
    assert schedule.business_minutes_between(*autumn_day) == 25 * 60
    # 01:00-04:00 on the spring day: 02:00-03:00 never happens on the clock.
    night = office(hours={"sun": [{"start": "01:00", "end": "04:00"}]})
    spring_night = (at(BERLIN, 2026, 3, 29, 0, 0), at(BERLIN, 2026, 3, 30, 0, 0))
    assert night.business_minutes_between(*spring_night) == 120
    assert night.add_business_minutes(spring_night[0], 120) == utc(2026, 3, 29, 2, 0)


def test_holidays_close_the_whole_local_day():
    easter_monday = date(2026, 4, 6)
    schedule = office(holidays=[easter_monday])
    friday = at(BERLIN, 2026, 4, 3, 16, 0)
    assert schedule.add_business_minutes(friday, 120) == at(BERLIN, 2026, 4, 7, 10, 0)
    assert schedule.business_minutes_between(friday, at(BERLIN, 2026, 4, 7, 10, 0)) == 120
    assert office().add_business_minutes(friday, 120) == at(BERLIN, 2026, 4, 6, 10, 0)


def test_a_period_may_end_at_midnight():
    late = {
        "mon": [{"start": "22:00", "end": "24:00"}],
        "tue": [{"start": "22:00", "end": "24:00"}],
    }
    schedule = office(hours=late)
    assert schedule.add_business_minutes(at(BERLIN, 2026, 3, 23, 23, 30), 60) == at(
        BERLIN, 2026, 3, 24, 22, 30
    )


@pytest.mark.parametrize("minutes", [1, 59, 480, 481, 2400, 7 * 480 + 13])
@pytest.mark.parametrize(
    "start",
    [
        at(BERLIN, 2026, 3, 26, 11, 17),
        at(BERLIN, 2026, 10, 22, 8, 0),
        at(NEW_YORK, 2026, 3, 5, 17, 1),
    ],
)
def test_adding_then_measuring_gives_the_minutes_back(start, minutes):
    schedule = office(start.tzinfo.key, holidays=[date(2026, 3, 30), date(2026, 10, 26)])
    due = schedule.add_business_minutes(start, minutes)
    assert schedule.business_minutes_between(start, due) == pytest.approx(minutes)
    assert schedule.business_minutes_between(start, due - timedelta(minutes=1)) < minutes


def test_calendar_hours_count_every_minute():
    start = at(BERLIN, 2026, 3, 28, 23, 0)  # across the DST night and the weekend
    assert CALENDAR.add_business_minutes(start, 180) == start + timedelta(minutes=180)
    assert CALENDAR.business_minutes_between(start, start + timedelta(hours=5)) == 300
    assert CALENDAR.business_minutes_between(start, start - timedelta(hours=1)) == 0


def test_no_hours_configured_means_always_open():
    schedule = Schedule.business(timezone="Europe/Berlin", hours={}, holidays=[date(2026, 3, 30)])
    start = at(BERLIN, 2026, 3, 28, 12, 0)
    assert schedule.add_business_minutes(start, 3 * 24 * 60) == start + timedelta(days=3)


def test_a_schedule_that_never_opens_is_refused_not_looped_forever():
    only_mondays = office(hours={"mon": [{"start": "09:00", "end": "10:00"}]})
    closed = Schedule(
        zone=BERLIN,
        week=only_mondays.week,
        holidays=frozenset(date(2026, 3, 23) + timedelta(weeks=n) for n in range(200)),
    )
    with pytest.raises(NeverOpen):
        closed.add_business_minutes(at(BERLIN, 2026, 3, 23, 8, 0), 1)
