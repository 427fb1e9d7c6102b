"""JsonLogic's standard operators on the edge cases where Python and JS disagree.

Each expectation is what json-logic-js answers (the designer previews rules with it in the
browser); where it is ours on purpose, the test name says so.
"""

from __future__ import annotations

import logging
import math

import pytest

from automation import jsonlogic
from tests.automation.test_jsonlogic_conformance import typed

NAN = float("nan")
INF = float("inf")


def cases(*entries: tuple) -> list:
    return [pytest.param(rule, data, expected, id=name) for name, rule, data, expected in entries]


def check(rule, data, expected) -> None:
    got = jsonlogic.evaluate(rule, data)
    if isinstance(expected, float) and math.isnan(expected):
        assert isinstance(got, float) and math.isnan(got)
    elif isinstance(expected, float) and math.isinf(expected):
        assert got == expected
    else:
        assert typed(got) == typed(expected)


TRUTHINESS = cases(
    ("empty array falsy", {"!!": [[]]}, None, False),
    ("array of zero truthy", {"!!": [[0]]}, None, True),
    ("string zero truthy", {"!!": "0"}, None, True),
    ("blank string truthy", {"!!": " "}, None, True),
    ("empty string falsy", {"!!": ""}, None, False),
    ("zero falsy", {"!!": 0}, None, False),
    ("float zero falsy", {"!!": 0.0}, None, False),
    ("null falsy", {"!!": None}, None, False),
    ("empty object truthy, unlike Python", {"!!": {"var": "o"}}, {"o": {}}, True),
    ("NaN falsy, unlike Python", {"!!": {"/": [0, 0]}}, None, False),
    ("if on an empty object takes the then branch", {"if": [{"var": "o"}, 1, 2]}, {"o": {}}, 1),
    ("if on NaN takes the else branch", {"if": [{"var": "n"}, 1, 2]}, {"n": NAN}, 2),
    ("and returns the empty object", {"and": [1, {"var": "o"}]}, {"o": {}}, {}),
    ("and stops at a falsy empty array", {"and": [{"var": "l"}, 1]}, {"l": []}, []),
    ("and with an object first returns the last", {"and": [{"var": "o"}, 0]}, {"o": {}}, 0),
    ("or skips NaN", {"or": [{"var": "n"}, "fallback"]}, {"n": NAN}, "fallback"),
    ("or returns the first truthy object", {"or": [0, {"var": "o"}, 1]}, {"o": {}}, {}),
    ("or of all falsy returns the last", {"or": [0, "", {"var": "l"}]}, {"l": []}, []),
    ("not of an empty object is false", {"!": {"var": "o"}}, {"o": {}}, False),
    ("not of a missing value is true", {"!": {"var": "nothing"}}, {}, True),
    ("and of comparisons short-circuits", {"and": [False, {"/": [1, 0]}]}, None, False),
)

EQUALITY = cases(
    ("zero is not loosely null", {"==": [0, None]}, None, False),
    ("null is loosely null", {"==": [None, None]}, None, True),
    ("false is not loosely null", {"==": [False, None]}, None, False),
    ("empty string is loosely zero", {"==": ["", 0]}, None, True),
    ("numeric string is loosely its number", {"==": ["1", 1]}, None, True),
    ("padded numeric string too", {"==": [" 1 ", 1]}, None, True),
    ("hex string is loosely its number", {"==": ["0x10", 16]}, None, True),
    ("exponent string is loosely its number", {"==": ["1e3", 1000]}, None, True),
    ("empty array is loosely false", {"==": [[], False]}, None, True),
    ("one-element array is loosely its element", {"==": [[1], 1]}, None, True),
    ("array is loosely its joined string", {"==": [[1, 2], "1,2"]}, None, True),
    ("true is loosely one", {"==": [True, 1]}, None, True),
    ("true is loosely the string one", {"==": [True, "1"]}, None, True),
    ("the string true is not loosely true", {"==": ["true", True]}, None, False),
    ("two equal array literals are different arrays", {"==": [[1], [1]]}, None, False),
    ("one array is itself", {"==": [{"var": "l"}, {"var": "l"}]}, {"l": [1]}, True),
    (
        "an array is never an object",
        {"==": [{"var": "o"}, {"merge": [{"var": "o"}]}]},
        {"o": {}},
        False,
    ),
    ("object is loosely its string", {"==": [{"var": "o"}, "[object Object]"]}, {"o": {}}, True),
    ("missing value is loosely null", {"==": [{"var": "nothing"}, None]}, {}, True),
    ("null is not loosely the empty string", {"==": [{"var": "n"}, ""]}, {"n": None}, False),
    ("NaN is not NaN", {"==": [{"var": "n"}, {"var": "n"}]}, {"n": NAN}, False),
    ("string variable against a number", {"==": [{"var": "s"}, 1]}, {"s": "1.0"}, True),
    ("number variable against a string", {"==": [{"var": "x"}, "1"]}, {"x": 1}, True),
    ("array variable against a string", {"==": [{"var": "x"}, "1"]}, {"x": [1]}, True),
    ("true variable against a string", {"==": [{"var": "x"}, "1"]}, {"x": True}, True),
    (
        "two variables of different types",
        {"==": [{"var": "a"}, {"var": "b"}]},
        {"a": 1, "b": "1"},
        True,
    ),
    ("loose inequality with null", {"!=": [0, None]}, None, True),
    ("loose inequality of coercible values", {"!=": ["1", 1]}, None, False),
    ("one and one point zero are strictly the same number", {"===": [1, 1.0]}, None, True),
    ("true is not strictly one", {"===": [True, 1]}, None, False),
    ("null is strictly null", {"===": [{"var": "x"}, None]}, {}, True),
    ("strict false against a variable", {"===": [{"var": "x"}, False]}, {"x": 0}, False),
    ("strict string against a number variable", {"===": [{"var": "x"}, "1"]}, {"x": 1}, False),
    ("strict number against an int variable", {"===": [{"var": "x"}, 2]}, {"x": 2.0}, True),
    ("strictly different array literals", {"===": [[], []]}, None, False),
    ("strict inequality of string and number", {"!==": [1, "1"]}, None, True),
    ("strict inequality with null", {"!==": [{"var": "x"}, None]}, {"x": 0}, True),
)

ORDER = cases(
    ("two numeric strings compare as strings", {"<": ["10", "9"]}, None, True),
    ("a numeric string and a number compare as numbers", {"<": ["10", 9]}, None, False),
    ("null is zero", {"<": [None, 1]}, None, True),
    ("null is at most zero", {"<=": [None, 0]}, None, True),
    ("a word is not less than a number", {"<": ["a", 1]}, None, False),
    ("nor greater or equal", {">=": ["a", 1]}, None, False),
    ("a one-element array is its element", {"<": [[2], 3]}, None, True),
    ("true is one", {">": [True, 0]}, None, True),
    ("between with a numeric string", {"<": [1, "2", 3]}, None, True),
    ("inclusive between at the upper bound", {"<=": [1, {"var": "x"}, 3]}, {"x": 3}, True),
    ("between with a missing value is zero", {"<=": [1, {"var": "x"}, 3]}, {}, False),
    ("exclusive between at the bound", {"<": [1, {"var": "x"}, 3]}, {"x": 3}, False),
    ("between that fails at the lower bound", {"<": [5, {"var": "x"}, 9]}, {"x": 2}, False),
    ("a string variable against a string", {"<": [{"var": "s"}, "b"]}, {"s": "a"}, True),
    ("a number variable against a string", {"<": [{"var": "s"}, "b"]}, {"s": 1}, False),
    ("a numeric string variable against a number", {">": [{"var": "s"}, 9]}, {"s": "10"}, True),
    ("two variables: numbers", {"<": [{"var": "a"}, {"var": "b"}]}, {"a": 2, "b": 10}, True),
    ("two variables: strings", {"<": [{"var": "a"}, {"var": "b"}]}, {"a": "2", "b": "10"}, False),
    (
        "two variables: int and float",
        {">=": [{"var": "a"}, {"var": "b"}]},
        {"a": 2, "b": 2.0},
        True,
    ),
    (
        "two variables: string and number",
        {">": [{"var": "a"}, {"var": "b"}]},
        {"a": "3", "b": 2},
        True,
    ),
    ("greater against a missing value", {">": [{"var": "x"}, -1]}, {}, True),
)

ARITHMETIC = cases(
    ("plus parses floats, not concatenates", {"+": ["1", "2"]}, None, 3),
    ("plus parses a numeric prefix", {"+": ["3.5abc"]}, None, 3.5),
    ("plus of a word is NaN", {"+": ["abc"]}, None, NAN),
    ("plus of nothing is zero", {"+": []}, None, 0),
    ("plus of null is NaN", {"+": [None]}, None, NAN),
    ("plus of true is NaN", {"+": [True]}, None, NAN),
    ("plus of an array parses its string", {"+": [[1, 2]]}, None, 1),
    ("plus of two variables", {"+": [{"var": "a"}, {"var": "b"}]}, {"a": 1.5, "b": 2.5}, 4),
    ("plus of mixed variables", {"+": [{"var": "a"}, {"var": "b"}]}, {"a": 1, "b": "2"}, 3),
    ("plus with a float literal and an int", {"+": [{"var": "a"}, 0.5]}, {"a": 1}, 1.5),
    ("ints are exact, on purpose", {"+": [9007199254740993, 0]}, None, 9007199254740993),
    ("huge ints meeting floats become infinity", {"+": [10**400, 0.5]}, None, INF),
    ("minus converts strictly", {"-": ["5", 2]}, None, 3),
    ("minus of null is zero", {"-": [None, 1]}, None, -1),
    ("minus of a padded string", {"-": [" 5 ", 1]}, None, 4),
    ("minus of a numeric prefix is NaN", {"-": ["5x", 1]}, None, NAN),
    ("minus of a variable and a literal", {"-": [{"var": "now"}, 60]}, {"now": 100}, 40),
    ("minus of a float variable", {"-": [{"var": "now"}, 0.5]}, {"now": 1.5}, 1),
    ("unary minus of a string", {"-": ["3"]}, None, -3),
    ("times parses floats", {"*": ["2", "3"]}, None, 6),
    ("times of one value returns it untouched, as json-logic-js", {"*": ["2"]}, None, "2"),
    ("divide by zero is infinity", {"/": [1, 0]}, None, INF),
    ("negative divide by zero", {"/": [-1, 0]}, None, -INF),
    ("zero by zero is NaN", {"/": [0, 0]}, None, NAN),
    ("divide by negative zero", {"/": [1, {"-": [0]}]}, None, -INF),
    ("divide by a product that is negative zero", {"/": [1, {"*": [0, -1]}]}, None, -INF),
    ("remainder takes the dividend's sign", {"%": [-7, 2]}, None, -1),
    ("remainder ignores the divisor's sign", {"%": [7, -2]}, None, 1),
    ("remainder of floats", {"%": [5.5, 2]}, None, 1.5),
    ("remainder by zero is NaN", {"%": [1, 0]}, None, NAN),
    ("remainder of infinity is NaN", {"%": [{"/": [1, 0]}, 2]}, None, NAN),
    ("remainder by infinity is the dividend", {"%": [3.5, {"/": [1, 0]}]}, None, 3.5),
    (
        "negative remainder of zero divides to negative infinity",
        {"/": [1, {"%": [-4, 2]}]},
        None,
        -INF,
    ),
    ("max of nothing", {"max": []}, None, -INF),
    ("min of nothing", {"min": []}, None, INF),
    ("max converts strings", {"max": [1, "3"]}, None, 3),
    ("max with a word is NaN", {"max": [1, "a"]}, None, NAN),
    ("min with a word is NaN", {"min": [1, "a"]}, None, NAN),
    ("max with null is zero", {"max": [None, -1]}, None, 0),
)

STRINGS = cases(
    ("cat prints numbers as JS", {"cat": [1.0, "|", 1.5, "|", -0.0]}, None, "1|1.5|0"),
    ("cat prints nulls as nothing", {"cat": ["a", None, "b"]}, None, "ab"),
    (
        "cat prints booleans and arrays",
        {"cat": [True, "|", [1, [2, None], 3]]},
        None,
        "true|1,2,,3",
    ),
    ("cat prints large numbers in exponent form", {"cat": [1e21]}, None, "1e+21"),
    ("cat prints large floats in full", {"cat": [1.2345e20]}, None, "123450000000000000000"),
    ("cat prints tiny numbers in exponent form", {"cat": [1e-7, " ", 1.5e-9]}, None, "1e-7 1.5e-9"),
    ("cat prints small numbers in full", {"cat": [0.000001]}, None, "0.000001"),
    ("cat prints huge ints as doubles", {"cat": [10**25, " ", 10**400]}, None, "1e+25 Infinity"),
    (
        "cat prints NaN and infinities",
        {"cat": [{"/": [0, 0]}, {"/": [-1, 0]}]},
        None,
        "NaN-Infinity",
    ),
    ("cat prints an object", {"cat": [{"var": "o"}]}, {"o": {"a": 1}}, "[object Object]"),
    ("substr past the end is empty", {"substr": ["jsonlogic", 20]}, None, ""),
    ("substr before the start is all", {"substr": ["jsonlogic", -20]}, None, "jsonlogic"),
    ("substr of length zero", {"substr": ["jsonlogic", 2, 0]}, None, ""),
    ("substr of a number", {"substr": [12345, 1, 2]}, None, "23"),
    ("substr with string positions", {"substr": ["jsonlogic", "1", "2"]}, None, "so"),
    ("substr with a null length is empty", {"substr": ["jsonlogic", 1, None]}, None, ""),
    ("substr with a NaN start starts at zero", {"substr": ["jsonlogic", "x", 4]}, None, "json"),
    (
        "substr with a negative string length concatenates, as JS",
        {"substr": ["jsonlogic", 1, "-5"]},
        None,
        "",
    ),
    (
        "substr with a negative array length concatenates too",
        {"substr": ["jsonlogic", 0, [-2]]},
        None,
        "",
    ),
    ("substr with a very long length", {"substr": ["jsonlogic", 4, {"/": [1, 0]}]}, None, "logic"),
    ("substr of null", {"substr": [None, 1]}, None, "ull"),
)

MEMBERSHIP = cases(
    ("the empty string is in any string", {"in": ["", "abc"]}, None, True),
    ("nothing is in the empty string", {"in": ["a", ""]}, None, False),
    ("not even the empty string, as json-logic-js", {"in": ["", ""]}, None, False),
    ("a number needle is stringified", {"in": [1, "a1"]}, None, True),
    ("array membership is strict", {"in": [1, ["1"]]}, None, False),
    ("one and one point zero are one member", {"in": [1, [1.0]]}, None, True),
    ("true is not the member one", {"in": [True, [1]]}, None, False),
    ("null is a member", {"in": [None, [None]]}, None, True),
    ("nothing is in null", {"in": ["a", None]}, None, False),
    ("nothing is in an object", {"in": ["a", {"var": "o"}]}, {"o": {"a": 1}}, False),
    ("nothing is in a number", {"in": ["1", 12]}, None, False),
    ("a number variable in a string list", {"in": [{"var": "x"}, ["1", "2"]]}, {"x": 1}, False),
    ("a string variable in a string list", {"in": [{"var": "x"}, ["1", "2"]]}, {"x": "1"}, True),
    ("a float variable in an int list", {"in": [{"var": "x"}, [1, 2]]}, {"x": 1.0}, True),
    ("a true variable in an int list", {"in": [{"var": "x"}, [1, 2]]}, {"x": True}, False),
    ("a string variable in an int list", {"in": [{"var": "x"}, [1, 2]]}, {"x": "1"}, False),
    ("a variable in a mixed list", {"in": [{"var": "x"}, [1, "a", None]]}, {}, True),
    ("a number variable in a string", {"in": [{"var": "x"}, "abc1"]}, {"x": 1}, True),
    ("a null variable in a string", {"in": [{"var": "x"}, "nullable"]}, {}, True),
    ("a literal in an empty string variable", {"in": ["a", {"var": "x"}]}, {"x": ""}, False),
    ("a literal in a list variable", {"in": ["a", {"var": "x"}]}, {"x": ["b", "a"]}, True),
    ("a literal in an object variable", {"in": ["a", {"var": "x"}]}, {"x": {"a": 1}}, False),
    ("a literal in a missing variable", {"in": ["a", {"var": "x"}]}, {}, False),
    ("a number literal in a list variable", {"in": [2, {"var": "x"}]}, {"x": [2.0]}, True),
    ("two variables", {"in": [{"var": "a"}, {"var": "b"}]}, {"a": "b", "b": "abc"}, True),
    ("merge spreads one level only", {"merge": [[1, [2]], 3, None]}, None, [1, [2], 3, None]),
)

VARIABLES = cases(
    ("a path into a list", {"var": "items.1.name"}, {"items": [{"name": "a"}, {"name": "b"}]}, "b"),
    ("an index into a string", {"var": "s.0"}, {"s": "xyz"}, "x"),
    ("a number path on an object", {"var": 1}, {"1": "one"}, "one"),
    ("a float path splits at its point", {"var": 1.5}, {"1": {"5": "deep"}}, "deep"),
    ("a leading zero is no index", {"var": "l.01"}, {"l": ["a", "b"]}, None),
    ("a negative index is no index", {"var": "l.-1"}, {"l": ["a", "b"]}, None),
    ("an index past the end", {"var": "l.5"}, {"l": ["a", "b"]}, None),
    ("an index of five thousand digits", {"var": "l." + "9" * 5000}, {"l": ["a"]}, None),
    ("a present null is not defaulted", {"var": ["a", 5]}, {"a": None}, None),
    ("a missing key is defaulted", {"var": ["a", 5]}, {}, 5),
    ("a null on the way is defaulted", {"var": ["a.b", 5]}, {"a": None}, 5),
    ("a number on the way is defaulted", {"var": ["a.b", 5]}, {"a": 3}, 5),
    ("a present null at the end is not defaulted", {"var": ["a.b", 5]}, {"a": {"b": None}}, None),
    ("a list default", {"var": ["a.b", [1]]}, {}, [1]),
    ("a computed default", {"var": ["a.b", {"+": [1, 1]}]}, {}, 2),
    ("a computed default, unused", {"var": ["a", {"+": [1, 1]}]}, {"a": 0}, 0),
    ("the empty path ignores the default", {"var": ["", 5]}, None, None),
    ("the null path with a computed default", {"var": [None, {"+": [1]}]}, 7, 7),
    ("a computed path", {"var": {"cat": ["a", ".", "b"]}}, {"a": {"b": 3}}, 3),
    ("a computed path with a default", {"var": [{"cat": ["x"]}, 9]}, {}, 9),
    ("a long path", {"var": "a.b.c.d.e.f"}, {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}, 1),
    ("a long path missing", {"var": ["a.b.c.d.e.f", 0]}, {"a": {"b": {}}}, 0),
    ("a shared prefix missing", {"and": [{"var": "a.x"}, {"var": "a.y"}]}, {}, None),
    (
        "a shared prefix that is a list",
        {"cat": [{"var": "a.0"}, {"var": "a.1"}]},
        {"a": ["p", "q"]},
        "pq",
    ),
    (
        "a shared prefix that is a string",
        {"cat": [{"var": "a.0"}, {"var": "a.2"}]},
        {"a": "pqr"},
        "pr",
    ),
    ("data that is a list", {"cat": [{"var": "0"}, {"var": "1.0"}]}, ["a", ["b"]], "ab"),
    ("data that is a number", {"var": ["a", "none"]}, 5, "none"),
    ("own keys only: no length", {"var": "s.length"}, {"s": "abc"}, None),
    ("missing counts empty strings, not zeros", {"missing": ["a", "b"]}, {"a": "", "b": 0}, ["a"]),
    ("missing with a number key", {"missing": [0, 1]}, ["x"], [1]),
    ("missing with the empty key checks the data", {"missing": [""]}, None, [""]),
    (
        "missing_some with computed keys",
        {"missing_some": [1, {"var": "keys"}]},
        {"keys": ["x", "y"]},
        ["x", "y"],
    ),
    (
        "missing_some with a computed single key",
        {"missing_some": [1, {"var": "key"}]},
        {"key": "key"},
        [],
    ),
    (
        "missing_some with a computed string need",
        {"missing_some": [{"var": "n"}, ["a", "b"]]},
        {"a": 1, "n": "2"},
        ["b"],
    ),
)

ARRAYS = cases(
    ("map over a non-array", {"map": [{"var": "x"}, 1]}, {"x": "abc"}, []),
    ("filter over a non-array", {"filter": [{"var": "x"}, 1]}, {"x": {"a": 1}}, []),
    ("reduce over a non-array is the initial", {"reduce": [{"var": "x"}, 1, "init"]}, {}, "init"),
    (
        "reduce starts from null without initial",
        {"reduce": [[1, 2], {"cat": [{"var": "accumulator"}, {"var": "current"}]}]},
        None,
        "12",
    ),
    ("all of nothing is false", {"all": [[], True]}, None, False),
    ("none of nothing is true", {"none": [[], True]}, None, True),
    ("some of nothing is false", {"some": [[], True]}, None, False),
    ("all over a non-array is false", {"all": [{"var": "x"}, True]}, {"x": "abc"}, False),
    ("none over a non-array is true", {"none": [{"var": "x"}, True]}, {"x": "abc"}, True),
    ("some over a non-array is false", {"some": [{"var": "x"}, True]}, {"x": "abc"}, False),
    ("all with an object result is truthy", {"all": [[1], {"var": "o"}]}, None, False),
    ("all of objects is true", {"all": [{"var": "l"}, {"var": ""}]}, {"l": [{}, {}]}, True),
    ("some with NaN results", {"some": [[0, "x"], {"*": [{"var": ""}, 1]}]}, None, False),
    ("the element replaces the data", {"map": [[1], {"var": "outer"}]}, {"outer": 5}, [None]),
    (
        "filter keeps the elements themselves",
        {"filter": [{"var": "l"}, {"var": "ok"}]},
        {"l": [{"ok": 1}, {"ok": 0}]},
        [{"ok": 1}],
    ),
    (
        "nested scopes",
        {
            "map": [
                [[1, 2], [3]],
                {"reduce": [{"var": ""}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]},
            ]
        },
        None,
        [3, 3],
    ),
    (
        "a scope with shared prefixes",
        {"map": [{"var": "l"}, {"cat": [{"var": "a.x"}, {"var": "a.y"}]}]},
        {"l": [{"a": {"x": 1, "y": 2}}, 3]},
        ["12", ""],
    ),
)

DESIGNER = cases(
    ("is empty: missing", {"!": {"var": "x"}}, {}, True),
    ("is empty: empty string", {"!": {"var": "x"}}, {"x": ""}, True),
    ("is empty: empty multiselect", {"!": {"var": "x"}}, {"x": []}, True),
    ("is not empty: zero is empty, as json-logic-js", {"!!": {"var": "x"}}, {"x": 0}, False),
    ("is null", {"==": [{"var": "x"}, None]}, {"x": None}, True),
    ("is null: a zero is not null", {"==": [{"var": "x"}, None]}, {"x": 0}, False),
    ("between", {"<=": [10, {"var": "x"}, 20]}, {"x": 15}, True),
    ("like", {"in": ["refund", {"var": "subject"}]}, {"subject": "About my refund"}, True),
    (
        "select any in",
        {"in": [{"var": "priority"}, ["high", "urgent"]]},
        {"priority": "low"},
        False,
    ),
    (
        "multiselect contains all",
        {"all": [{"var": "tags"}, {"in": [{"var": ""}, ["a", "b"]]}]},
        {"tags": ["a", "b"]},
        True,
    ),
    (
        "multiselect contains any",
        {"some": [{"var": "tags"}, {"in": [{"var": ""}, ["x", "b"]]}]},
        {"tags": ["a", "b"]},
        True,
    ),
    (
        "multiselect not any in",
        {"!": {"some": [{"var": "tags"}, {"in": [{"var": ""}, ["x"]]}]}},
        {"tags": ["a"]},
        True,
    ),
)


@pytest.mark.parametrize(("rule", "data", "expected"), TRUTHINESS)
def test_truthiness_is_jsonlogics(rule, data, expected):
    check(rule, data, expected)


@pytest.mark.parametrize(("rule", "data", "expected"), EQUALITY)
def test_equality_is_js_equality(rule, data, expected):
    check(rule, data, expected)


@pytest.mark.parametrize(("rule", "data", "expected"), ORDER)
def test_comparison_is_js_comparison(rule, data, expected):
    check(rule, data, expected)


@pytest.mark.parametrize(("rule", "data", "expected"), ARITHMETIC)
def test_arithmetic_is_js_arithmetic(rule, data, expected):
    check(rule, data, expected)


@pytest.mark.parametrize(("rule", "data", "expected"), STRINGS)
def test_strings_are_js_strings(rule, data, expected):
    check(rule, data, expected)


@pytest.mark.parametrize(("rule", "data", "expected"), MEMBERSHIP)
def test_in_and_merge_follow_json_logic_js(rule, data, expected):
    check(rule, data, expected)


@pytest.mark.parametrize(("rule", "data", "expected"), VARIABLES)
def test_var_and_missing_read_the_data_as_js_would(rule, data, expected):
    check(rule, data, expected)


@pytest.mark.parametrize(("rule", "data", "expected"), ARRAYS)
def test_array_operators_follow_json_logic_js(rule, data, expected):
    check(rule, data, expected)


@pytest.mark.parametrize(("rule", "data", "expected"), DESIGNER)
def test_the_designers_forms_mean_what_the_designer_shows(rule, data, expected):
    check(rule, data, expected)


def test_a_dict_subclass_is_read_like_a_dict():
    class Document(dict):
        pass

    data = Document(a=Document(b=1, c=2))
    assert jsonlogic.evaluate({"+": [{"var": "a.b"}, {"var": "a.c"}]}, data) == 3


def test_subclasses_of_json_types_are_those_types():
    class Status(str):
        pass

    class Tags(list):
        pass

    class Count(int):
        pass

    data = {"status": Status("open"), "tags": Tags(["a", "b"]), "count": Count(3)}
    assert jsonlogic.evaluate({"==": [{"var": "status"}, "open"]}, data) is True
    assert jsonlogic.evaluate({"==": [{"var": "status"}, 0]}, data) is False
    assert jsonlogic.evaluate({"some": [{"var": "tags"}, {"==": [{"var": ""}, "b"]}]}, data)
    assert jsonlogic.evaluate({"in": ["a", {"var": "tags"}]}, data) is True
    assert jsonlogic.evaluate({"==": [{"var": "count"}, "3"]}, data) is True
    assert jsonlogic.evaluate({"cat": [{"var": "tags"}, {"var": "count"}]}, data) == "a,b3"


def test_other_python_values_are_js_objects():
    data = {"pair": (1, 2), "empty": ()}
    assert jsonlogic.evaluate({"!!": {"var": "empty"}}, data) is True
    assert jsonlogic.evaluate({"cat": [{"var": "pair"}]}, data) == "[object Object]"
    assert jsonlogic.evaluate({"var": "pair.0"}, data) is None
    assert jsonlogic.evaluate({"map": [{"var": "pair"}, 1]}, data) == []


def test_log_logs_its_value_and_returns_it(caplog):
    with caplog.at_level(logging.INFO, logger="automation.jsonlogic"):
        assert jsonlogic.evaluate({"log": {"var": "x"}}, {"x": [1, "a"]}) == [1, "a"]
    assert "[1, 'a']" in caplog.text


def test_results_are_fresh_each_evaluation():
    evaluate = jsonlogic.compile({"merge": [[1], {"var": "x"}]})
    first = evaluate({"x": 2})
    first.append("mutated")
    assert evaluate({"x": 2}) == [1, 2]


def test_evaluate_without_data_sees_null():
    assert jsonlogic.evaluate({"var": ""}) is None
