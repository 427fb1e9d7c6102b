"""The modules whose consumers subscribe to the event stream, or whose handlers fire
timers (:mod:`events.timers`).

Consumers register themselves when their module is imported (``@consumer(...)``); the
dispatch job imports this list first, so a worker runs every consumer whatever else it
happened to import. Names, not imports: the domain packages depend on ``events``, never
the other way round.
"""

from __future__ import annotations

import importlib
from functools import cache

#: In this order, which is also the order an event's consumers run in: automation comes
#: last, so rules see what the built-in reactions made of the event (the assignment,
#: the SLA deadlines the time-based rules count to).
MODULES: tuple[str, ...] = (
    "api.pushes",
    "api.widget_pushes",
    "helpdesk.assignment",
    "helpdesk.presence",
    "helpdesk.sla.tracking",
    "helpdesk.snooze",
    "helpdesk.notifications",
    "crm.retention",
    "crm.files",
    "crm.exports",
    "crm.imports.runner",
    "automation.engine",
)


def rank(module: str) -> int:
    """Where ``module``'s consumers run among an event's: by their place in
    :data:`MODULES`, other modules after them all."""
    return MODULES.index(module) if module in MODULES else len(MODULES)


@cache
def load() -> None:
    for module in MODULES:
        importlib.import_module(module)
