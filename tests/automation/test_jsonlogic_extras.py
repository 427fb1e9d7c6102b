"""Our operators: strings, the guarded regex, dates, relative windows, business hours."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from automation import jsonlogic
from automation.jsonlogic import JsonLogicError, text

NOW = datetime(2024, 3, 31, 12, 0, tzinfo=UTC)


def at(moment: datetime = NOW):
    """A clock stopped at ``moment``."""
    return lambda: moment


def test_string_tests_need_strings():
    rule = {"and": [{"starts_with": [{"var": "s"}, "Re:"]}, {"ends_with": [{"var": "s"}, "?"]}]}
    assert jsonlogic.evaluate(rule, {"s": "Re: refund?"}) is True
    assert jsonlogic.evaluate(rule, {"s": "re: refund?"}) is False
    assert jsonlogic.evaluate({"starts_with": [{"var": "s"}, "nu"]}, {"s": None}) is False
    assert jsonlogic.evaluate({"starts_with": [{"var": "s"}, "1"]}, {"s": 12}) is False
    assert jsonlogic.evaluate({"ends_with": [{"var": "s"}, {"var": "t"}]}, {"s": "ab", "t": "b"})


def test_case_insensitive_variants_casefold():
    assert jsonlogic.evaluate({"starts_with_ci": [{"var": "s"}, "RE:"]}, {"s": "re: x"}) is True
    assert jsonlogic.evaluate({"ends_with_ci": [{"var": "s"}, "STRASSE"]}, {"s": "Hauptstraße"})
    assert jsonlogic.evaluate({"ends_with_ci": ["Hauptstraße", {"var": "s"}]}, {"s": "SSE"})
    assert jsonlogic.evaluate({"==_ci": [{"var": "s"}, "OPEN"]}, {"s": "Open"}) is True
    assert jsonlogic.evaluate({"==_ci": [{"var": "s"}, "1"]}, {"s": 1}) is True  # as ==
    assert jsonlogic.evaluate({"==_ci": [{"var": "a"}, {"var": "b"}]}, {"a": "X", "b": "x"})
    assert jsonlogic.evaluate({"starts_with_ci": [{"var": "s"}, "a"]}, {"s": ["a"]}) is False


@pytest.mark.parametrize(
    ("rule", "data", "expected"),
    [
        ({"in_ci": [{"var": "s"}, ["High", "URGENT"]]}, {"s": "urgent"}, True),
        ({"in_ci": [{"var": "s"}, ["High", "URGENT"]]}, {"s": "low"}, False),
        ({"in_ci": [{"var": "s"}, ["High", "URGENT"]]}, {"s": 1}, False),
        ({"in_ci": [{"var": "s"}, [1, "a"]]}, {"s": 1}, True),
        ({"in_ci": [{"var": "s"}, "About a REFUND"]}, {"s": "refund"}, True),
        ({"in_ci": [{"var": "s"}, "About a REFUND"]}, {"s": None}, False),
        ({"in_ci": ["Refund", {"var": "s"}]}, {"s": "no REFUND here"}, True),
        ({"in_ci": ["vip", {"var": "tags"}]}, {"tags": ["VIP", "x"]}, True),
        ({"in_ci": ["a", {"var": "s"}]}, {"s": ""}, False),
        ({"in_ci": ["a", {"var": "s"}]}, {"s": {"a": 1}}, False),
    ],
)
def test_in_ci_is_in_with_strings_casefolded(rule, data, expected):
    assert jsonlogic.evaluate(rule, data) is expected


# --- regex ---------------------------------------------------------------------------------


def test_regex_searches_the_value():
    rule = {"regex": [{"var": "subject"}, r"\border\s*#?\d{4,}"]}
    assert jsonlogic.evaluate(rule, {"subject": "About order #12345, please"}) is True
    assert jsonlogic.evaluate(rule, {"subject": "About ORDER 12345"}) is False
    assert jsonlogic.evaluate({"regex": [{"var": "s"}, "^order", "i"]}, {"s": "ORDER 1"})
    assert jsonlogic.evaluate({"regex": [{"var": "s"}, "^b", "m"]}, {"s": "a\nb"})
    assert jsonlogic.evaluate({"regex": [{"var": "s"}, "a.b", "s"]}, {"s": "a\nb"})


def test_regex_reads_numbers_as_js_prints_them_and_nothing_else():
    assert jsonlogic.evaluate({"regex": [{"var": "n"}, r"^1\.5$"]}, {"n": 1.5}) is True
    assert jsonlogic.evaluate({"regex": [{"var": "n"}, "^3$"]}, {"n": 3.0}) is True
    assert jsonlogic.evaluate({"regex": [{"var": "n"}, "null"]}, {"n": None}) is False
    assert jsonlogic.evaluate({"regex": [{"var": "n"}, "a"]}, {"n": ["a"]}) is False


@pytest.mark.parametrize(
    "pattern",
    [
        pytest.param("(a+)+$", id="nested plus"),
        pytest.param("(a*)*b", id="nested star"),
        pytest.param("(?:a?a)+b", id="optional inside a repeat"),
        pytest.param("(x+x+)+y", id="two quantifiers in a repeat"),
        pytest.param("(a|a)+b", id="same alternatives in a repeat"),
        pytest.param("(a|ab)*c", id="overlapping alternatives in a repeat"),
        pytest.param("(?:a|)+", id="an empty alternative in a repeat"),
        pytest.param("(?:.|a)*", id="any character among alternatives"),
        pytest.param("(?i)(?:sa|\u017fa)+", id="case-folding non-ASCII alternatives"),  # long s
        pytest.param(r"(a)\1", id="backreference"),
        pytest.param(r"(a)?(?(1)b|c)", id="conditional"),
        pytest.param(".*.*.*.*x", id="too many unbounded quantifiers"),
        pytest.param("(?:ab|cd)" * 14, id="too many alternatives"),
        pytest.param("a" * 501, id="too long"),
        pytest.param("(", id="not a pattern"),
        pytest.param("(?:[a-c]x|[b-f]y)+", id="overlapping classes in a repeat"),
        pytest.param("(?:[^a]x|by)+", id="a negated class in a repeat"),
        pytest.param("(?:[\\x00-\\uffff]x|ay)+", id="a class too wide to check"),
        pytest.param("(?:(?:ab|cd)x|cy)+", id="nested alternatives that overlap"),
        pytest.param("(?:a{2}x|ay)+", id="a repeated start that overlaps"),
        pytest.param("(?:\\bx|y)+", id="an anchor first"),
    ],
)
def test_regex_refuses_patterns_that_can_backtrack_badly(pattern):
    with pytest.raises(JsonLogicError) as raised:
        jsonlogic.compile({"regex": [{"var": "s"}, pattern]})
    assert raised.value.path == "/regex/1"


@pytest.mark.parametrize(
    ("pattern", "value"),
    [
        ("^(re|fwd?):", "fwd: hello"),
        (r"(\d{1,3}\.){3}\d{1,3}", "from 10.0.0.1"),
        ("(?:ab|cd)+x", "abcdx"),
        ("(?i)(?:ab|cd)+x", "ABcdX"),
        ("(?:[ab]|c)+d", "abcd"),
        ("(?i)(?:s|\u017f)+x", "S\u017fX"),  # one character each: a class, no ambiguity
        ("(?:[a-c]x|[d-f]y)+z", "axeyz"),
        ("(?:(?:ab|cd)x|ey)+z", "cdxeyz"),
        ("(?:a{2}x|by)+z", "aaxbyz"),
        ("(?:[ab]x|cy)+z", "bxcyz"),
        ("(?:(ab)x|cy)+z", "abxcyz"),
        ("(?:(?i:ab)x|cy)+z", "ABxcyz"),
        (r"\w+@\w+\.com", "mail ada@example.com"),
        ("(?=.*refund)(?=.*invoice)", "invoice and refund"),
        ("(?>a+)b", "aab"),
    ],
)
def test_regex_accepts_common_patterns(pattern, value):
    assert jsonlogic.evaluate({"regex": [{"var": "s"}, pattern]}, {"s": value}) is True


def test_regex_searches_a_window_that_shrinks_with_the_quantifiers():
    single, double = text.guard(".*foo"), text.guard(".*a.*b")
    assert text.MAX_SUBJECT > single.window > double.window >= text.MIN_SUBJECT
    assert text.guard("refund|chargeback").window == text.MAX_SUBJECT
    near, far = "x" * (double.window - 2) + "ab", "x" * double.window + "ab"
    assert double(near) is True
    assert double(far) is False


def test_the_guard_refuses_unknown_flags():
    with pytest.raises(text.RegexRejected, match="flags"):
        text.guard("a", "g")


def test_a_pattern_from_the_data_is_guarded_too(caplog):
    rule = {"regex": [{"var": "s"}, {"var": "p"}, "i"]}
    assert jsonlogic.evaluate(rule, {"s": "ABC", "p": "b"}) is True
    with caplog.at_level(logging.WARNING, logger="automation.jsonlogic"):
        assert jsonlogic.evaluate(rule, {"s": "a" * 30 + "!", "p": "(a+)+$"}) is False
    assert "refused" in caplog.text
    assert jsonlogic.evaluate(rule, {"s": "a", "p": 5}) is False


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"date==": ["2024-03-01T23:59:59Z", "2024-03-01"]}, True),
        ({"date==": ["2024-03-01T23:30:00-05:00", "2024-03-02"]}, True),  # 04:30 UTC
        ({"date<": ["2024-03-01T23:30:00", "2024-03-02T00:00:00Z"]}, True),
        ({"date<=": ["2024-03-01", "2024-03-01T12:00:00Z", "2024-03-01T23:59:59Z"]}, True),
        ({"date<": ["2024-03-01", "2024-03-01T12:00:00Z", "2024-03-02"]}, False),
        ({"date>": ["2024-03-02", "2024-03-01T23:59:59Z"]}, True),
        ({"date>=": ["2024-03-01", "2024-03-01T23:59:59Z"]}, True),
        ({"date!=": ["2024-03-01", "2024-03-02"]}, True),
        ({"datetime==": ["2024-03-01T10:00:00+01:00", "2024-03-01T09:00:00Z"]}, True),
        ({"datetime==": ["2024-03-01T09:00:00", "2024-03-01T09:00:00Z"]}, True),  # naive is UTC
        ({"datetime==": ["2024-03-01T09:00:00.000001Z", "2024-03-01T09:00:00Z"]}, False),
        (
            {
                "datetime<": [
                    "2024-03-01T09:00:00Z",
                    "2024-03-01T10:00:00+01:00",
                    "2024-03-01T09:00:01Z",
                ]
            },
            False,
        ),
        (
            {
                "datetime<=": [
                    "2024-03-01T09:00:00Z",
                    "2024-03-01T10:00:00+01:00",
                    "2024-03-01T09:00:01Z",
                ]
            },
            True,
        ),
        ({"datetime>": ["2024-03-01T09:00:00-01:00", "2024-03-01T09:00:00Z"]}, True),
        ({"datetime>=": ["2024-03-01", "2024-03-01T00:00:00Z"]}, True),
        ({"datetime!=": ["2024-03-01T09:00:00Z", "2024-03-01T09:00:00Z"]}, False),
    ],
)
def test_dates_and_datetimes_compare_as_time(rule, expected):
    assert jsonlogic.evaluate(rule) is expected


@pytest.mark.parametrize("value", [None, "soon", 1711886400, "", ["2024-03-01"], "2024-03-01" * 9])
def test_a_value_that_is_no_date_is_neither_equal_nor_ordered(value):
    for op in ("date==", "date<", "date<=", "date>", "date>=", "datetime==", "datetime<"):
        assert jsonlogic.evaluate({op: [{"var": "v"}, "2024-03-01"]}, {"v": value}) is False
    assert jsonlogic.evaluate({"datetime!=": [{"var": "v"}, "2024-03-01"]}, {"v": value}) is True


def test_python_dates_in_the_data_are_dates():
    data = {
        "d": date(2024, 3, 1),
        "t": datetime(2024, 3, 1, 10, tzinfo=timezone(timedelta(hours=1))),
    }
    assert jsonlogic.evaluate({"date==": [{"var": "d"}, "2024-03-01"]}, data) is True
    assert jsonlogic.evaluate({"datetime==": [{"var": "t"}, "2024-03-01T09:00Z"]}, data) is True
    assert jsonlogic.evaluate({"datetime<": [{"var": "d"}, {"var": "t"}]}, data) is True


def test_parsed_dates_are_remembered_within_a_bound(monkeypatch):
    from automation.jsonlogic import dates

    monkeypatch.setattr(dates, "_PARSED", {})
    monkeypatch.setattr(dates, "_PARSED_MAX", 2)
    rule = {"date<": [{"var": "a"}, "2024-03-02"]}
    for day in range(1, 6):
        assert jsonlogic.evaluate(rule, {"a": f"2024-03-0{day}"}) is (day < 2)
    assert len(dates._PARSED) <= 2


def test_now_is_the_clocks_utc_time_in_js_form():
    assert jsonlogic.evaluate({"now": []}, clock=at()) == "2024-03-31T12:00:00.000Z"
    berlin = datetime(2024, 3, 31, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert jsonlogic.evaluate({"now": []}, clock=at(berlin)) == "2024-03-31T12:00:00.123Z"
    naive = datetime(2024, 3, 31, 12, 0)
    assert jsonlogic.evaluate({"now": []}, clock=at(naive)) == "2024-03-31T12:00:00.000Z"


def test_now_without_a_clock_is_the_present():
    before = datetime.now(UTC) - timedelta(seconds=1)
    reported = datetime.fromisoformat(jsonlogic.evaluate({"now": []}))
    assert before <= reported <= datetime.now(UTC)


def test_now_compares_as_a_datetime():
    rule = {"datetime<": [{"var": "due"}, {"now": []}]}
    assert jsonlogic.evaluate(rule, {"due": "2024-03-31T11:59:59Z"}, clock=at()) is True
    assert jsonlogic.evaluate(rule, {"due": "2024-03-31T12:00:01Z"}, clock=at()) is False


@pytest.mark.parametrize(
    ("op", "value", "amount", "unit", "expected"),
    [
        ("within_last", "2024-03-31T09:00:00Z", 3, "hours", True),  # the edge is inside
        ("within_last", "2024-03-31T08:59:59Z", 3, "hours", False),
        ("within_last", "2024-03-31T12:00:01Z", 3, "hours", False),  # the future is not past
        ("within_last", "2024-03-24T12:00:00Z", 1, "week", True),
        ("within_last", "2024-03-31T11:59:30Z", 0.5, "minutes", True),
        ("within_next", "2024-03-31T12:00:30Z", 30, "seconds", True),
        ("within_next", "2024-04-02T12:00:01Z", 2, "days", False),
        ("within_next", "2024-03-31T11:59:59Z", 2, "days", False),
        ("older_than", "2024-03-30T11:59:59Z", 1, "day", True),
        ("older_than", "2024-03-30T12:00:00Z", 1, "day", False),
        ("older_than", "2024-03-31T13:00:00+02:00", 30, "minutes", True),  # 11:00 UTC
        ("older_than", "2024-03-31T11:00:00", 30, "minutes", True),  # naive is UTC
        ("older_than", None, 30, "minutes", False),
    ],
)
def test_relative_windows_are_measured_from_the_clock(op, value, amount, unit, expected):
    assert (
        jsonlogic.evaluate({op: [{"var": "t"}, amount, unit]}, {"t": value}, clock=at()) is expected
    )


@pytest.mark.parametrize("amount", [3, -3, "3", None, float("inf")])
def test_a_window_amount_from_the_data_must_be_a_finite_number_at_least_zero(amount):
    rule = {"within_last": ["2024-03-31T10:00:00Z", {"var": "n"}, "hours"]}
    assert jsonlogic.evaluate(rule, {"n": amount}, clock=at()) is (amount == 3)


# --- business hours ------------------------------------------------------------------------

BERLIN = {
    "timezone": "Europe/Berlin",
    "weekly": {
        **{
            day: [["09:00", "12:30"], ["13:30", "17:00"]]
            for day in ("mon", "tue", "wed", "thu", "fri")
        },
        "sat": [["10:00", "14:00"]],
        "sun": [["02:00", "03:00"], ["03:00", "04:00"]],
    },
    "holidays": ["2024-04-01", "2024-12-25"],
}


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        ("2024-03-29T07:30:00Z", False),  # Friday 08:30 CET
        ("2024-03-29T08:30:00Z", True),  # Friday 09:30 CET
        ("2024-04-02T07:30:00Z", True),  # Tuesday 09:30 CEST: same UTC time, summer time
        ("2024-04-02T14:59:59Z", True),  # 16:59:59 CEST
        ("2024-04-02T15:00:00Z", False),  # 17:00 CEST: the end is excluded
        ("2024-04-02T10:45:00Z", False),  # 12:45 CEST: lunch, between two periods
        ("2024-04-02T11:45:00Z", True),  # 13:45 CEST: the second period
        ("2024-04-01T08:00:00Z", False),  # Easter Monday 10:00 CEST: a holiday
        ("2024-03-30T09:00:00Z", True),  # Saturday 10:00 CET
        ("2024-03-31T00:59:59Z", False),  # Sunday 01:59:59 CET, before the jump
        ("2024-03-31T01:00:00Z", True),  # Sunday 03:00 CEST: 02:00-03:00 never happened
        ("2024-03-31T01:59:59Z", True),  # Sunday 03:59:59 CEST
        ("2024-10-27T00:30:00Z", True),  # Sunday 02:30 CEST, the first time
        ("2024-10-27T01:30:00Z", True),  # Sunday 02:30 CET, the second time
        ("2024-10-27T03:00:00Z", False),  # Sunday 04:00 CET
        ("2024-03-29T08:30:00", True),  # naive is UTC
        ("2024-03-29T09:30:00+01:00", True),  # an offset is honoured
        ("not a time", False),
        (None, False),
    ],
)
def test_business_hours_follow_the_local_clock(instant, expected):
    rule = {"in_business_hours": [{"var": "at"}, BERLIN]}
    assert jsonlogic.evaluate(rule, {"at": instant}) is expected


def test_holidays_are_local_dates():
    hours = {
        "timezone": "Europe/Berlin",
        "weekly": {"wed": [["00:00", "24:00"]]},
        "holidays": ["2024-12-25"],
    }
    rule = {"in_business_hours": [{"var": "at"}, hours]}
    assert jsonlogic.evaluate(rule, {"at": "2024-12-24T22:59:59Z"}) is False  # Tuesday 23:59 local
    assert jsonlogic.evaluate(rule, {"at": "2024-12-24T23:30:00Z"}) is False  # Wednesday, holiday
    assert jsonlogic.evaluate(rule, {"at": "2025-01-01T22:59:59Z"}) is True  # Wednesday 23:59:59


def test_business_hours_from_the_data(caplog):
    rule = {"in_business_hours": [{"now": []}, {"var": "account.hours"}]}
    data = {"account": {"hours": BERLIN}}
    assert jsonlogic.evaluate(rule, data, clock=at(datetime(2024, 4, 2, 8, tzinfo=UTC))) is True
    broken = {"account": {"hours": {**BERLIN, "weekly": {"mon": [["17:00", "09:00"]]}}}}
    with caplog.at_level(logging.WARNING, logger="automation.jsonlogic"):
        assert jsonlogic.evaluate(rule, broken, clock=at()) is False
    assert "invalid hours document" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="automation.jsonlogic"):
        assert jsonlogic.evaluate(rule, {"account": {}}, clock=at()) is False
    assert caplog.text == ""  # no hours configured is not a mistake


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"timezone": "UTC", "weekly": {}, "colour": "red"}, ""),
        ({"weekly": {}}, "/timezone"),
        ({"timezone": "UTC"}, "/weekly"),
        ({"timezone": "UTC", "weekly": {"monday": []}}, "/weekly"),
        ({"timezone": "UTC", "weekly": {"mon": "9-5"}}, "/weekly/mon"),
        ({"timezone": "UTC", "weekly": {"mon": [["09:00"]]}}, "/weekly/mon/0"),
        ({"timezone": "UTC", "weekly": {"mon": [["9:00", "17:00"]]}}, "/weekly/mon/0/0"),
        ({"timezone": "UTC", "weekly": {"mon": [["09:60", "17:00"]]}}, "/weekly/mon/0/0"),
        ({"timezone": "UTC", "weekly": {"mon": [["0x:00", "17:00"]]}}, "/weekly/mon/0/0"),
        ({"timezone": "UTC", "weekly": {"mon": [["24:00", "24:00"]]}}, "/weekly/mon/0"),
        ({"timezone": "UTC", "weekly": {"mon": [["22:00", "02:00"]]}}, "/weekly/mon/0"),
        ({"timezone": "UTC", "weekly": {}, "holidays": "2024-12-25"}, "/holidays"),
        ({"timezone": "UTC", "weekly": {}, "holidays": ["25.12.2024"]}, "/holidays/0"),
        ({"timezone": "UTC", "weekly": {}, "holidays": ["2024-02-30"]}, "/holidays/0"),
        ({"timezone": "UTC", "weekly": {}, "holidays": ["2024-12-24", 20241225]}, "/holidays/1"),
        ({"timezone": 1, "weekly": {}}, "/timezone"),
        ({"timezone": "../etc/passwd", "weekly": {}}, "/timezone"),
    ],
)
def test_a_malformed_hours_document_is_refused_where_it_is_wrong(document, path):
    with pytest.raises(JsonLogicError) as raised:
        jsonlogic.compile({"in_business_hours": [{"var": "at"}, document]})
    assert raised.value.path == "/in_business_hours/1" + path
