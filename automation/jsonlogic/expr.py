"""A compiled sub-rule: its Python source and what is known about its value at compile time.

Knowing the value's possible types lets the generator drop JS coercions: an ``==`` is
always a ``bool`` so an ``and`` over comparisons is Python's ``and``; only a value of unknown
type needs the truthiness helper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Kind = frozenset[type] | None
"""The Python types a value can have; None: any JSON value."""

NoneType = type(None)
BOOL: Kind = frozenset({bool})
STR: Kind = frozenset({str})
LIST: Kind = frozenset({list})
NUMBER: Kind = frozenset({int, float})
NULL: Kind = frozenset({NoneType})
NATIVE = frozenset({bool, str, list, NoneType, int})
"""Types whose Python truthiness is JsonLogic's (not float: NaN; not dict: ``{}``)."""
SCALARS = frozenset({str, int, float, bool, NoneType})


@dataclass(frozen=True)
class Expr:
    """``code`` is a Python expression; ``truth``, when set, a cheaper expression whose
    Python truthiness is the value's JsonLogic truthiness; ``literal``: the value is the
    constant ``value`` (a JSON scalar or a list of literals)."""

    code: str
    kind: Kind = None
    truth: str | None = None
    literal: bool = False
    value: Any = None

    @property
    def scalar(self) -> bool:
        return self.literal and type(self.value) in SCALARS

    def within(self, kind: Kind) -> bool:
        return self.kind is not None and kind is not None and self.kind <= kind


def union(exprs: list[Expr]) -> Kind:
    kinds = [expr.kind for expr in exprs]
    if any(kind is None for kind in kinds):
        return None
    return frozenset().union(*kinds)
