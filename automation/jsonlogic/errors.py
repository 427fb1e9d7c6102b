"""The one error a rule can raise, and the JSON Pointers that say where it is."""

from __future__ import annotations

from collections.abc import Iterable


def pointer(parts: Iterable[str | int]) -> str:
    """RFC 6901: ``("and", 2, "==")`` -> ``/and/2/==``; ``~`` and ``/`` in keys are escaped."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


class JsonLogicError(ValueError):
    """A rule that cannot be compiled: unknown operator, wrong arguments, bad literal.

    ``path`` is the JSON Pointer of the offending value inside the rule (``""`` is the
    whole rule) so the designer can highlight the node; ``operator`` is the operator whose
    rules were broken (``None`` outside any operator).
    """

    def __init__(self, problem: str, *, path: str = "", operator: str | None = None) -> None:
        self.problem = problem
        self.path = path
        self.operator = operator
        where = f"at {path!r}" if path else "at the rule's root"
        subject = f"operator {operator!r} {where}" if operator is not None else where
        super().__init__(f"{subject}: {problem}")
