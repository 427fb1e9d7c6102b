"""The conversation lifecycle as an explicit state machine.

::

    open ──► assigned ──► pending ──► resolved ──► closed
      ▲  ╲       ▲  ╲        ▲           │
      │   ╲──────┼───╲───────┼──► snoozed (until a time or the next reply)
      └──────────┴───────────┴── reopen ◄┘

Every non-final status may move to any other working status (``open``, ``assigned``,
``pending``, ``snoozed``) or to ``resolved``; ``resolved`` may be reopened or closed;
``closed`` is final. ``assigned`` needs an assignee; ``snoozed`` takes a future time, or
none to mean "until the contact's next message". Staying in the same status is not a
transition.
"""

from __future__ import annotations

OPEN, ASSIGNED, PENDING, SNOOZED, RESOLVED, CLOSED = (
    "open",
    "assigned",
    "pending",
    "snoozed",
    "resolved",
    "closed",
)
STATUSES = (OPEN, ASSIGNED, PENDING, SNOOZED, RESOLVED, CLOSED)

TRANSITIONS: dict[str, tuple[str, ...]] = {
    OPEN: (ASSIGNED, PENDING, SNOOZED, RESOLVED),
    ASSIGNED: (OPEN, PENDING, SNOOZED, RESOLVED),
    PENDING: (OPEN, ASSIGNED, SNOOZED, RESOLVED),
    SNOOZED: (OPEN, ASSIGNED, PENDING, RESOLVED),
    RESOLVED: (OPEN, CLOSED),
    CLOSED: (),
}


class IllegalTransition(Exception):
    """``current`` cannot move to ``target``; ``allowed`` are the statuses it can move to."""

    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"a {current} conversation cannot become {target}")
        self.current = current
        self.target = target
        self.allowed = allowed_from(current)


def allowed_from(status: str) -> tuple[str, ...]:
    return TRANSITIONS[status]


def check(current: str, target: str) -> None:
    """Raise :class:`IllegalTransition` unless ``current`` may become ``target``."""
    if target not in TRANSITIONS.get(current, ()):
        raise IllegalTransition(current, target)
