"""Compiled rules kept per rule version: compiling costs a millisecond, evaluating one."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class RuleCache:
    """A bounded LRU of compiled rules keyed by the caller's key, e.g. ``(rule_id, version)``.

    The key must change whenever the rule does: the rule is only compiled on a miss, never
    compared. Thread-safe; two threads missing the same key may both compile it (the result
    is the same), which is cheaper than holding the lock while compiling.
    """

    def __init__(self, compile: Callable[[Any], Callable[[Any], Any]], maxsize: int = 1024) -> None:
        self._compile = compile
        self._maxsize = maxsize
        self._rules: OrderedDict[Hashable, Callable[[Any], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, rule: Any) -> Callable[[Any], Any]:
        with self._lock:
            compiled = self._rules.get(key)
            if compiled is not None:
                self._rules.move_to_end(key)
                return compiled
        compiled = self._compile(rule)
        with self._lock:
            self._rules[key] = compiled
            self._rules.move_to_end(key)
            while len(self._rules) > self._maxsize:
                self._rules.popitem(last=False)
        return compiled

    def __len__(self) -> int:
        return len(self._rules)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
