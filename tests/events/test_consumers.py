"""Which consumers an event reaches, and in what order."""

from __future__ import annotations

import uuid

from events import names, subscribers
from events.consumers import consumers_of, register, unregister


def test_consumers_run_in_the_order_of_their_modules_whatever_the_import_order():
    """automation.engine comes last in MODULES: rules see what the built-in reactions
    (assignment, SLA) made of an event, even where the API imported the engine first."""
    subscribers.load()
    for name in (names.MESSAGE_CREATED, names.CONVERSATION_CREATED):
        modules = [r.func.__module__ for r in consumers_of(name)]
        ranks = [subscribers.rank(module) for module in modules]
        assert ranks == sorted(ranks) and modules[-1] == "automation.engine", modules
    key = f"late-{uuid.uuid4().hex}"

    def first(event):
        return None

    first.__module__ = subscribers.MODULES[0]  # registers last, belongs first
    register(names.MESSAGE_CREATED, first, key=key)
    try:
        order = consumers_of(names.MESSAGE_CREATED)
        mine = [r.key for r in order].index(key)
        later = [i for i, r in enumerate(order) if subscribers.rank(r.func.__module__) > 0]
        assert later and mine < min(later)
    finally:
        unregister(names.MESSAGE_CREATED, first)
