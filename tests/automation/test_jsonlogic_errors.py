"""Malformed rules fail at compile time, saying where; rule content is only ever data."""

from __future__ import annotations

import pytest

from automation import jsonlogic
from automation.jsonlogic import JsonLogicError, RuleCache

MALFORMED = [
    ("unknown operator", {"and": [True, {"==": [1, 1]}, {"frob": [1]}]}, "/and/2/frob", "frob"),
    ("dotted method call", {"Math.max": [1]}, "/Math.max", "Math.max"),
    ("too few for ==", {"==": [1]}, "/==", "=="),
    ("too many for == inside and", {"and": [{"==": [1, 2, 3]}]}, "/and/0/==", "=="),
    ("! of nothing", {"!": []}, "/!", "!"),
    ("?: is ternary", {"?:": [True, 1]}, "/?:", "?:"),
    ("and of nothing", {"and": []}, "/and", "and"),
    ("* of nothing", {"*": []}, "/*", "*"),
    ("> has no between form", {">": [1, 2, 3]}, "/>", ">"),
    ("map of one argument", {"map": {"var": "x"}}, "/map", "map"),
    ("now takes nothing", {"now": [1]}, "/now", "now"),
    ("var of three", {"var": ["a", 1, 2]}, "/var", "var"),
    ("var of a boolean", {"var": True}, "/var", "var"),
    ("var of a list path", {"==": [{"var": [["a"]]}, 1]}, "/==/0/var/0", "var"),
    ("object of two keys", {"and": [{"a": 1, "b": 2}]}, "/and/0", "and"),
    ("empty object", {}, "", None),
    ("not JSON", {"==": [(1, 2), 1]}, "/==/0", "=="),
    ("non-string operator", {1: [2]}, "/1", "1"),
    ("operator with a slash", {"a/b~": 1}, "/a~1b~0", "a/b~"),
    ("missing of a boolean key", {"missing": [True]}, "/missing/0", "missing"),
    ("missing of a null key in a list", {"missing": [["a", None]]}, "/missing/0/1", "missing"),
    ("missing_some of a word", {"missing_some": ["x", ["a"]]}, "/missing_some/0", "missing_some"),
    ("missing_some without a list", {"missing_some": [1, "a"]}, "/missing_some/1", "missing_some"),
    (
        "missing_some with a bad key",
        {"missing_some": [1, ["a", False]]},
        "/missing_some/1/1",
        "missing_some",
    ),
    ("regex that does not parse", {"regex": [{"var": "x"}, "("]}, "/regex/1", "regex"),
    ("regex flag g", {"regex": [{"var": "x"}, "a", "g"]}, "/regex/2", "regex"),
    ("regex flags computed", {"regex": [{"var": "x"}, "a", {"var": "f"}]}, "/regex/2", "regex"),
    ("regex of a number pattern", {"regex": [{"var": "x"}, 5]}, "/regex/1", "regex"),
    ("date literal that is no date", {"date<": [{"var": "x"}, "tomorrow"]}, "/date</1", "date<"),
    ("datetime literal null", {"datetime==": [None, {"var": "x"}]}, "/datetime==/0", "datetime=="),
    (
        "window unit",
        {"within_last": [{"var": "x"}, 3, "fortnights"]},
        "/within_last/2",
        "within_last",
    ),
    (
        "window unit computed",
        {"older_than": [{"var": "x"}, 3, {"var": "u"}]},
        "/older_than/2",
        "older_than",
    ),
    (
        "window amount negative",
        {"within_next": [{"var": "x"}, -1, "days"]},
        "/within_next/1",
        "within_next",
    ),
    (
        "window amount a string",
        {"within_next": [{"var": "x"}, "3", "days"]},
        "/within_next/1",
        "within_next",
    ),
    (
        "business hours time",
        {
            "in_business_hours": [
                {"var": "t"},
                {"timezone": "UTC", "weekly": {"mon": [["09:00", "25:00"]]}},
            ]
        },
        "/in_business_hours/1/weekly/mon/0/1",
        "in_business_hours",
    ),
    (
        "business hours zone",
        {"in_business_hours": [{"var": "t"}, {"timezone": "Mars/Olympus", "weekly": {}}]},
        "/in_business_hours/1/timezone",
        "in_business_hours",
    ),
    (
        "business hours as a string",
        {"in_business_hours": [{"var": "t"}, "9 to 5"]},
        "/in_business_hours/1",
        "in_business_hours",
    ),
]


@pytest.mark.parametrize(
    ("rule", "path", "operator"), [pytest.param(*case[1:], id=case[0]) for case in MALFORMED]
)
def test_a_malformed_rule_is_refused_with_its_path_and_operator(rule, path, operator):
    with pytest.raises(JsonLogicError) as raised:
        jsonlogic.compile(rule)
    assert (raised.value.path, raised.value.operator) == (path, operator)
    assert (path or "root") in str(raised.value)
    if operator is not None:
        assert repr(operator) in str(raised.value)


def test_the_error_is_a_value_error_that_explains_itself():
    with pytest.raises(ValueError, match=r"operator '==' at '/==': takes 2 arguments, got 3"):
        jsonlogic.compile({"==": [1, 2, 3]})


def test_an_unknown_operator_is_never_passed_through_as_data():
    with pytest.raises(JsonLogicError, match="unknown operator 'frob'"):
        jsonlogic.evaluate({"frob": {"var": "x"}}, {"x": 1})


def test_a_rule_nested_too_deeply_is_refused():
    rule = True
    for _ in range(41):
        rule = {"!": [rule]}
    with pytest.raises(JsonLogicError, match="nests at most 40 levels"):
        jsonlogic.compile(rule)


def test_a_rule_nested_to_the_limit_compiles():
    # and/or over operands of unknown type nest deepest in the generated code
    rule = {"var": "a.b"}
    for level in range(40):
        rule = {"or": [{"var": "zero"}, rule]} if level % 2 else {"and": [{"var": "o"}, rule]}
    assert jsonlogic.evaluate(rule, {"zero": 0, "o": {}, "a": {"b": "deep"}}) == "deep"


def test_a_rule_too_large_is_refused():
    with pytest.raises(JsonLogicError, match="at most 10000 nodes"):
        jsonlogic.compile({"and": [True] * 10_000})


# --- security: the generated code is built from the rule; the rule must stay data ------------

INJECTIONS = [
    "\"); __import__('os').system('false') #",
    "'); raise SystemExit(1) #",
    "x'\n__import__('sys').exit(1)\n'",
    "\\'; import os; '",
    "{__import__('os')}",
    '"""; raise SystemExit(1); """',
    "__class__",
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_a_variable_name_is_only_a_key(text):
    key = text.replace(".", "_")  # a dot would split the path
    rule = {"cat": [{"var": key}, {"var": f"nested.{key}"}, {"var": [f"{key}.x", key]}]}
    data = {key: "key-", "nested": {key: "nested-"}}
    assert jsonlogic.evaluate(rule, data) == f"key-nested-{key}"


@pytest.mark.parametrize("text", INJECTIONS)
def test_a_string_literal_is_only_a_string(text):
    rule = {
        "if": [
            {"==": [{"var": "x"}, text]},
            {"cat": [text, {"substr": [text, 0]}]},
            {"in": [text, [text, "other"]]},
        ]
    }
    assert jsonlogic.evaluate(rule, {"x": text}) == text + text
    assert jsonlogic.evaluate(rule, {"x": "other"}) is True
    assert jsonlogic.evaluate({"starts_with_ci": [{"var": "x"}, text]}, {"x": text.upper()})


@pytest.mark.parametrize("text", INJECTIONS)
def test_an_operator_name_is_never_code(text):
    with pytest.raises(JsonLogicError, match="unknown operator"):
        jsonlogic.compile({text: [1]})


def test_attribute_names_are_not_attributes():
    data = {"a": {"b": 1}}
    assert jsonlogic.evaluate({"var": "a.__class__"}, data) is None
    assert jsonlogic.evaluate({"var": "a.get"}, data) is None
    assert jsonlogic.evaluate({"var": "__dict__"}, data) is None


def test_numbers_without_a_safe_literal_are_bound_as_values():
    infinity, huge = float("inf"), 10**30
    rule = {"and": [{"==": [{"var": "x"}, infinity]}, {"<": [huge, {"var": "y"}]}]}
    assert jsonlogic.evaluate(rule, {"x": infinity, "y": huge + 1}) is True
    assert jsonlogic.evaluate(rule, {"x": infinity, "y": huge}) is False


def test_generated_code_runs_without_builtins():
    evaluate = jsonlogic.compile({"var": "x"})
    assert evaluate.__globals__["__builtins__"] == {}


def test_generated_source_holds_rule_text_only_as_literals():
    text = "'); raise SystemExit(1) #"
    source = jsonlogic.compile({"==": [{"var": text}, text]}).source
    assert repr(text) in source
    assert source.replace(repr(text), "").count("SystemExit") == 0


# --- the cache -----------------------------------------------------------------------------


def test_cached_compiles_once_per_key():
    rule = {"==": [{"var": "x"}, 1]}
    first = jsonlogic.cached(("rule-1", 1), rule)
    assert jsonlogic.cached(("rule-1", 1), rule) is first
    assert jsonlogic.cached(("rule-1", 2), rule) is not first
    assert first({"x": 1}) is True


def test_the_key_not_the_rule_decides_what_is_cached():
    cache = RuleCache(jsonlogic.compile)
    old = cache.get(("rule", 1), {"var": "x"})
    assert cache.get(("rule", 1), {"var": "y"}) is old
    assert cache.get(("rule", 2), {"var": "y"})({"x": 1, "y": 2}) == 2


def test_the_cache_forgets_the_least_recently_used():
    compiled = []
    cache = RuleCache(lambda rule: compiled.append(rule) or jsonlogic.compile(rule), maxsize=2)
    cache.get("a", 1)
    cache.get("b", 2)
    cache.get("a", 1)
    cache.get("c", 3)  # evicts b, used less recently than a
    cache.get("a", 1)
    cache.get("b", 2)
    assert compiled == [1, 2, 3, 2]
    assert len(cache) == 2
    cache.clear()
    assert len(cache) == 0
