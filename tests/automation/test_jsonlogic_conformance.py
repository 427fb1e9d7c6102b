"""The official JsonLogic suite (tests/data/jsonlogic-tests.json): every case must pass."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from automation import jsonlogic

SUITE = Path(__file__).resolve().parent.parent / "data" / "jsonlogic-tests.json"


def _cases() -> list:
    """The triples with ids from the section comments before them: ``missing-some-3``."""
    section, index, cases = "start", 0, []
    for entry in json.loads(SUITE.read_text()):
        if isinstance(entry, str):
            section = re.sub(r"[^a-z0-9]+", "-", entry.lower()).strip("-")
            index = 0
            continue
        index += 1
        cases.append(pytest.param(*entry, id=f"{section}-{index}"))
    return cases


def typed(value: Any) -> Any:
    """The value with booleans told apart from numbers (``True == 1`` in Python, not JSON)
    and ints from floats not (``2 == 2.0`` in JSON)."""
    if isinstance(value, bool) or value is None:
        return (type(value).__name__, value)
    if isinstance(value, int | float):
        return ("number", float(value))
    if isinstance(value, list):
        return [typed(item) for item in value]
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    return value


def test_the_suite_has_all_277_cases():
    assert len(_cases()) == 277


@pytest.mark.parametrize(("rule", "data", "expected"), _cases())
def test_official_case(rule, data, expected):
    assert typed(jsonlogic.evaluate(rule, data)) == typed(expected)
