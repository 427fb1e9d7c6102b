"""Random rules over every operator: the generated code agrees with a plain interpreter.

The interpreter below walks the rule and calls each operator's generic implementation (its
``runtime``); the generated code inlines fast paths that must fall back to exactly that.
Where node and json-logic-js are installed (``bench/node``, see ``bench/jsonlogic.py``),
the standard operators are also checked against the reference implementation itself.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import subprocess
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from automation import jsonlogic
from automation.jsonlogic import OPERATORS, js
from automation.jsonlogic.codegen import SCOPED
from automation.jsonlogic.dates import UNITS_US, micros_clock
from automation.jsonlogic.operators import reduce

NOW = datetime(2024, 3, 31, 12, 0, tzinfo=UTC)
KEYS = ["a", "b", "c", "d", "0", "1"]
DATES = ["2024-03-31T09:30:00Z", "2024-03-31", "2024-03-30T23:00:00+01:00", "2024-04-02T12:00"]
SCALARS = [0, 1, -1, 2, 1.5, -0.5, 10, 0.1, "", "0", "1", "a", "B", "abc", "1e3", " 12 ", "0x10"]
SCALARS += ["true", "null", "a,b", "Infinity", True, False, None, *DATES]
PATTERNS = ["^a", "b$", "a.c", "[0-9]+", "(?:ab|c)+", r"\d{1,3}"]
HOURS = {
    "timezone": "Europe/Berlin",
    "weekly": {"sun": [["09:00", "12:00"], ["13:00", "17:00"]], "sat": [["00:00", "24:00"]]},
    "holidays": ["2024-04-01"],
}
STANDARD = {
    "==": (2, 2), "===": (2, 2), "!=": (2, 2), "!==": (2, 2), "!": (1, 1), "!!": (1, 1),
    "or": (1, 4), "and": (1, 4), "<": (2, 3), "<=": (2, 3), ">": (2, 2), ">=": (2, 2),
    "max": (0, 3), "min": (0, 3), "+": (0, 3), "-": (1, 2), "*": (1, 3), "/": (2, 2),
    "%": (2, 2), "merge": (0, 3), "in": (2, 2), "cat": (0, 3), "substr": (2, 3),
    "if": (0, 5), "?:": (3, 3),
}  # fmt: skip
EXTRA = {
    "starts_with": (2, 2), "ends_with": (2, 2), "starts_with_ci": (2, 2),
    "ends_with_ci": (2, 2), "==_ci": (2, 2), "in_ci": (2, 2),
}  # fmt: skip
TEMPORAL = [op for op in OPERATORS if op.startswith("date")]


class Rules:
    """Random data documents and valid rules over them; ``extras``: our operators too."""

    def __init__(self, seed: int, extras: bool) -> None:
        self.rng = random.Random(seed)
        self.extras = extras
        self.operators = {**STANDARD, **EXTRA} if extras else STANDARD

    def data(self, depth: int = 0) -> Any:
        roll = self.rng.random()
        if depth > 2 or roll < 0.45:
            return self.rng.choice(SCALARS)
        if roll < 0.7:
            return [self.data(depth + 1) for _ in range(self.rng.randint(0, 3))]
        return {key: self.data(depth + 1) for key in self.rng.sample(KEYS, self.rng.randint(0, 4))}

    def path(self) -> Any:
        dotted = ".".join(self.rng.choice(KEYS) for _ in range(self.rng.randint(1, 3)))
        return self.rng.choice([dotted, dotted, "", 0, 1, None])

    def var(self, depth: int) -> dict:
        path = self.path()
        forms = [path, [path], [path, self.rng.choice(SCALARS)], [path, self.rule(depth + 1)]]
        return {"var": self.rng.choice(forms)}

    def rule(self, depth: int = 0) -> Any:
        roll = self.rng.random()
        if depth > 3 or roll < 0.2:
            return self.rng.choice(SCALARS)
        if roll < 0.4:
            return self.var(depth)
        if roll < 0.45:
            return [self.rule(depth + 1) for _ in range(self.rng.randint(0, 2))]
        if roll < 0.52:
            return self.scoped(depth)
        if roll < 0.56:
            return self.missing()
        if self.extras and roll < 0.66:
            return self.special(depth)
        op = self.rng.choice(sorted(self.operators))
        low, high = self.operators[op]
        args = [self.rule(depth + 1) for _ in range(self.rng.randint(low, high))]
        if len(args) == 1 and not isinstance(args[0], list) and self.rng.random() < 0.3:
            return {op: args[0]}
        return {op: args}

    def scoped(self, depth: int) -> dict:
        op = self.rng.choice(sorted(SCOPED))
        args = [self.rng.choice([self.var(depth), self.rule(depth + 1)]), self.rule(depth + 1)]
        if op == "reduce" and self.rng.random() < 0.7:
            args.append(self.rule(depth + 1))
        return {op: args}

    def missing(self) -> dict:
        keys = [self.rng.choice([*KEYS, "a.b", 1]) for _ in range(self.rng.randint(0, 3))]
        if self.rng.random() < 0.5:
            return {"missing": keys}
        return {"missing_some": [self.rng.randint(0, 2), keys]}

    def special(self, depth: int) -> dict:
        """Our operators whose arguments must be of a kind: dates, windows, regex, hours."""
        subject = self.rng.choice([self.var(depth), self.rng.choice(DATES), {"now": []}])
        kind = self.rng.choice(["temporal", "window", "regex", "hours"])
        if kind == "temporal":
            op = self.rng.choice(TEMPORAL)
            count = self.rng.choice([2, 3]) if op.endswith(("<", "<=")) else 2
            others = [
                self.rng.choice([self.var(depth), self.rng.choice(DATES)]) for _ in range(count - 1)
            ]
            return {op: [subject, *others]}
        if kind == "window":
            op = self.rng.choice(["within_last", "within_next", "older_than"])
            amount = self.rng.choice([0, 1, 2.5, 48, self.var(depth)])
            return {op: [subject, amount, self.rng.choice(sorted(UNITS_US))]}
        if kind == "regex":
            pattern = self.rng.choice([*PATTERNS, self.var(depth)])
            return {"regex": [self.rule(depth + 1), pattern, *self.rng.choice([[], ["i"], ["ms"]])]}
        return {"in_business_hours": [subject, self.rng.choice([HOURS, {"var": "hours"}])]}


def interpret(rule: Any, data: Any, clock: Any) -> Any:
    """The reference: walk the rule, evaluate arguments, call each operator's runtime."""
    if isinstance(rule, list):
        return [interpret(item, data, clock) for item in rule]
    if not isinstance(rule, dict):
        return rule
    ((op, args),) = rule.items()
    args = args if isinstance(args, list) else [args]
    if op in ("if", "?:"):
        for index in range(0, len(args) - 1, 2):
            if js.truthy(interpret(args[index], data, clock)):
                return interpret(args[index + 1], data, clock)
        return interpret(args[-1], data, clock) if len(args) % 2 else None
    if op in ("and", "or"):
        for arg in args:
            value = interpret(arg, data, clock)
            if js.truthy(value) is (op == "or"):
                return value
        return value
    if op in SCOPED:
        return scoped(op, args, data, clock)
    if op == "var":
        return js.variable(data, *(interpret(arg, data, clock) for arg in args))
    if op == "in_business_hours" and "timezone" in args[1]:  # a document, not an operation
        values = [interpret(args[0], data, clock), args[1]]
    else:
        values = [interpret(arg, data, clock) for arg in args]
    spec = OPERATORS[op]
    runtime = partial(spec.runtime, clock) if spec.clocked else spec.runtime
    return runtime(data, *values) if spec.data else runtime(*values)


def scoped(op: str, args: list, data: Any, clock: Any) -> Any:
    items = interpret(args[0], data, clock)
    if op == "reduce":
        initial = interpret(args[2], data, clock) if len(args) == 3 else None
        return reduce(items, lambda element: interpret(args[1], element, clock), initial)
    if not isinstance(items, list):
        return {"map": [], "filter": [], "all": False, "none": True, "some": False}[op]
    if op == "map":
        return [interpret(args[1], item, clock) for item in items]
    passed = [js.truthy(interpret(args[1], item, clock)) for item in items]
    if op == "filter":
        return [item for item, ok in zip(items, passed, strict=True) if ok]
    return {"all": bool(items) and all(passed), "none": not any(passed), "some": any(passed)}[op]


def comparable(value: Any) -> Any:
    """JSON-ish equality: booleans apart from numbers, NaN equal to NaN, 2 equal to 2.0."""
    if isinstance(value, bool) or value is None:
        return (type(value).__name__, value)
    if isinstance(value, int | float):
        return ("number", "NaN" if value != value else js.as_float(value))
    if isinstance(value, list):
        return [comparable(item) for item in value]
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items()}
    return value


@pytest.mark.parametrize("seed", range(8))
def test_generated_code_agrees_with_the_interpreter(seed):
    rules = Rules(seed, extras=True)
    clock = micros_clock(lambda: NOW)
    for _ in range(300):
        rule = rules.rule()
        evaluate = jsonlogic.compile(rule, clock=lambda: NOW)
        for _ in range(3):
            data = rules.data()
            if isinstance(data, dict) and rules.rng.random() < 0.3:
                data["hours"] = HOURS
            expected = comparable(interpret(rule, data, clock))
            assert comparable(evaluate(data)) == expected, (json.dumps(rule), data)


NODE_DIR = Path(__file__).resolve().parents[2] / "bench" / "node"
NODE_PROGRAM = r"""
const jsonLogic = require('json-logic-js');
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const number = (key, x) =>
    (typeof x === 'number' && !isFinite(x)) ? {"$number": String(x)} : x;
  const answers = JSON.parse(input).map(([r, d]) => JSON.stringify(jsonLogic.apply(r, d), number));
  process.stdout.write(JSON.stringify(answers));
});
"""


def js_comparable(value: Any) -> Any:
    """Node's answer, its NaN and infinities spelled out by the program above."""
    if isinstance(value, dict) and set(value) == {"$number"}:
        return (
            "number",
            {"NaN": "NaN", "Infinity": math.inf, "-Infinity": -math.inf}[value["$number"]],
        )
    if isinstance(value, list):
        return [js_comparable(item) for item in value]
    if isinstance(value, dict):
        return {key: js_comparable(item) for key, item in value.items()}
    return comparable(value)


@pytest.mark.skipif(
    shutil.which("node") is None or not (NODE_DIR / "node_modules" / "json-logic-js").is_dir(),
    reason="json-logic-js is not installed under bench/node (python bench/jsonlogic.py does it)",
)
def test_standard_operators_agree_with_json_logic_js():
    rules = Rules(2024, extras=False)
    cases = [(rules.rule(), rules.data()) for _ in range(3000)]
    answers = subprocess.run(
        ["node", "-e", NODE_PROGRAM],
        cwd=NODE_DIR,
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for (rule, data), answer in zip(cases, json.loads(answers), strict=True):
        ours = comparable(jsonlogic.evaluate(rule, data))
        assert ours == js_comparable(json.loads(answer)), (json.dumps(rule), data)
