"""Compile a rule to Python source, then to a function, once.

The generator walks the rule, validating it, and writes one Python expression per node
(``automation.jsonlogic.operators`` knows each operator's shapes). Every scope (the rule,
and the body of each ``map``/``filter``/``reduce``/``all``/``none``/``some``) becomes a
function. Its prelude hoists the ``var`` path prefixes the scope uses more than once
(``conversation`` in ``conversation.status`` and ``conversation.priority``): a lookup is
pure and never fails, so evaluating it eagerly is safe.

Safety: rule content never becomes source text except through ``repr`` of an exact
``str``, ``int``, ``float`` or ``bool`` or ``None``, which is always a literal; every
other constant is bound by name in the namespace. The namespace has no builtins beyond
the few the generated code uses.
"""

from __future__ import annotations

import builtins
import itertools
import math
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any, NoReturn

from automation.jsonlogic import js
from automation.jsonlogic.dates import Clock, micros_clock
from automation.jsonlogic.errors import JsonLogicError, pointer
from automation.jsonlogic.expr import LIST, NATIVE, NUMBER, SCALARS, Expr, NoneType

MAX_DEPTH = 40
"""Nesting beyond this is refused: Python's parser stops at 200 nested parentheses."""
MAX_NODES = 10_000
MAX_INLINE_STEPS = 4
SCOPED = {"map", "filter", "reduce", "all", "none", "some"}
"""Operators whose second argument is evaluated against each element, not the data."""

Path = tuple[str | int, ...]

_BASE: dict[str, Any] = {
    "__builtins__": {},
    **{fn.__name__: fn for fn in (type, dict, list, str, float, isinstance, map, filter, all, any)},
    "_Lookup": js.Lookup,
    "_step": js.step,
    "_truthy": js.truthy,
    "_NATIVE": NATIVE,
    "_NUMT": NUMBER,
    "_NUMN": NUMBER | {NoneType},
    "_SEQ": frozenset({list, str}),
    "_SCALART": SCALARS,
    "_ORDT": frozenset({str, int, float}),
}


def _prefix_counts(rule: Any, counts: Counter) -> Counter:
    """How often each proper prefix of a literal ``var`` path occurs in this scope."""
    if type(rule) is list:
        for item in rule:
            _prefix_counts(item, counts)
    elif type(rule) is dict and len(rule) == 1:
        ((op, args),) = rule.items()
        args = args if type(args) is list else [args]
        if op == "var" and args and type(args[0]) in (str, int, float):
            keys = js.split_path(args[0])
            counts.update(keys[:end] for end in range(1, len(keys)))
        for index, arg in enumerate(args):
            if not (op in SCOPED and index == 1):
                _prefix_counts(arg, counts)
    return counts


class Scope:
    """One generated function: its data parameter and the path prefixes its prelude defines."""

    def __init__(self, compiler: Compiler, rule: Any) -> None:
        self.compiler = compiler
        self.data = compiler.name("d")
        self.lines: list[str] = []
        self.containers: dict[tuple[str, ...], str] = {}
        counts = _prefix_counts(rule, Counter())
        self.hoist = {prefix for prefix, count in counts.items() if count > 1}

    def container(self, prefix: tuple[str, ...]) -> str:
        """The name of the value at ``prefix`` (defined once, in the prelude) as something
        with ``.get(key, default)``: the dict itself, or a :class:`js.Lookup` for any other
        value, so that every step is a direct ``dict.get`` in the usual case."""
        found = self.containers.get(prefix)
        if found is not None:
            return found
        name = self.compiler.name("c")
        if prefix:
            t = self.compiler.name("t")
            value = f"{self.container(prefix[:-1])}.get({prefix[-1]!r})"
            self.lines.append(f"{name} = {t} if type({t} := {value}) is dict else _Lookup({t})")
        else:
            data = self.data
            self.lines.append(f"{name} = {data} if type({data}) is dict else _Lookup({data})")
        self.containers[prefix] = name
        return name

    def lookup(self, keys: tuple[str, ...], default: str | None) -> str:
        """Code for the value at the path ``keys``: from the longest hoisted prefix, one
        ``get`` per step, each guarded by a type test after the first."""
        split = max((end for end in range(1, len(keys)) if keys[:end] in self.hoist), default=0)
        tail = "" if default is None else f", {default}"
        rest = keys[split:]
        if len(rest) > MAX_INLINE_STEPS:  # each inlined step nests two parentheses deeper
            path = self.compiler.constant(".".join(keys))
            return f"{self.compiler.helper(js.variable)}({self.data}, {path}{tail or ', None'})"
        code = f"{self.container(keys[:split])}.get({rest[0]!r}{tail if len(rest) == 1 else ''})"
        for position, key in enumerate(rest[1:], start=2):
            extra = tail if position == len(rest) else ""
            t = self.compiler.name("t")
            code = (
                f"({t}.get({key!r}{extra}) if type({t} := {code}) is dict "
                f"else _step({t}, {key!r}{extra}))"
            )
        return code


class Call:
    """One operation being compiled, as the operator's emitter sees it."""

    def __init__(
        self,
        compiler: Compiler,
        op: str,
        raw: list,
        paths: list[Path],
        where: Path,
        scope: Scope,
        depth: int,
    ) -> None:
        self.compiler = compiler
        self.op = op
        self.raw = raw
        self.paths = paths
        self.where = where
        self.scope = scope
        self.depth = depth
        self._args: dict[int, Expr] = {}

    def fail(self, problem: str, index: int | None = None) -> NoReturn:
        path = self.where if index is None else self.paths[index]
        raise JsonLogicError(problem, path=pointer(path), operator=self.op)

    def fail_at(self, problem: str, index: int, inner: tuple) -> NoReturn:
        raise JsonLogicError(problem, path=pointer(self.paths[index] + inner), operator=self.op)

    def arg(self, index: int) -> Expr:
        if index not in self._args:
            self._args[index] = self.compiler.node(
                self.raw[index], self.paths[index], self.scope, self.depth + 1, self.op
            )
        return self._args[index]

    def args(self) -> list[Expr]:
        return [self.arg(index) for index in range(len(self.raw))]

    def temp(self) -> str:
        return self.compiler.name("t")

    def bind(self, value: Any) -> str:
        return self.compiler.bind(value)

    def helper(self, fn: Callable) -> str:
        return self.compiler.helper(fn)

    def clocked(self, fn: Callable) -> Callable:
        """``fn`` with this compilation's clock as its first argument."""
        bound = self.compiler.clocked.get(fn)
        if bound is None:
            bound = self.compiler.clocked[fn] = partial(fn, self.compiler.clock)
            bound.__name__ = fn.__name__  # type: ignore[attr-defined]
        return bound

    def truth(self, expr: Expr) -> str:
        return self.compiler.truth(expr)

    def function(self, index: int, truth: bool) -> str:
        """Compile argument ``index`` as its own scope: a function of one element."""
        return self.compiler.function(self.raw[index], self.paths[index], self.depth + 1, truth)

    def invoke(self, fn: Callable, *codes: str) -> str:
        return f"{self.helper(fn)}({', '.join(codes)})"


class Compiler:
    """One rule's compilation: the namespace its code runs in and the functions written."""

    def __init__(self, operators: dict, clock: Clock | None) -> None:
        self.operators = operators
        self.clock = micros_clock(clock)
        self.namespace: dict[str, Any] = dict(_BASE)
        self.functions: list[str] = []
        self.nodes = 0
        self._ids = itertools.count()
        self._helpers: dict[int, str] = {}
        self.clocked: dict[Callable, Callable] = {}

    def name(self, prefix: str) -> str:
        return f"_{prefix}{next(self._ids)}"

    def bind(self, value: Any) -> str:
        name = self.name("k")
        self.namespace[name] = value
        return name

    def helper(self, fn: Callable) -> str:
        name = self._helpers.get(id(fn))
        if name is None:
            name = self._helpers[id(fn)] = self.name(fn.__name__)  # numbered: never a clash
            self.namespace[name] = fn
        return name

    def truth(self, expr: Expr) -> str:
        """Code whose Python truthiness is ``expr``'s JsonLogic truthiness."""
        if expr.kind is not None and expr.kind <= NATIVE:
            return expr.code
        if expr.truth is not None:
            return expr.truth
        t = self.name("t")
        return f"({t} if type({t} := {expr.code}) in _NATIVE else _truthy({t}))"

    def constant(self, value: Any) -> str:
        """Source for a JSON scalar: its ``repr`` where that is surely a literal."""
        kind = type(value)
        if value is None or kind is bool or kind is str:
            return repr(value)
        if (kind is int and abs(value) < 10**15) or (kind is float and math.isfinite(value)):
            text = repr(value)
            return f"({text})" if text.startswith("-") else text
        return self.bind(value)

    def node(self, rule: Any, path: Path, scope: Scope, depth: int, op: str | None) -> Expr:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise JsonLogicError(
                f"a rule has at most {MAX_NODES} nodes", path=pointer(path), operator=op
            )
        if depth > MAX_DEPTH:
            raise JsonLogicError(
                f"a rule nests at most {MAX_DEPTH} levels", path=pointer(path), operator=op
            )
        kind = type(rule)
        if kind is dict:
            return self.operation(rule, path, scope, depth, op)
        if kind is list:
            items = [
                self.node(item, (*path, index), scope, depth + 1, op)
                for index, item in enumerate(rule)
            ]
            literal = all(item.literal for item in items)
            code = "[" + ", ".join(item.code for item in items) + "]"
            return Expr(code, LIST, literal=literal, value=rule)
        if kind in SCALARS:
            return Expr(self.constant(rule), frozenset({kind}), literal=True, value=rule)
        raise JsonLogicError(
            f"{kind.__name__} is not a JSON value", path=pointer(path), operator=op
        )

    def operation(
        self, rule: dict, path: Path, scope: Scope, depth: int, parent: str | None
    ) -> Expr:
        if len(rule) != 1:
            raise JsonLogicError(
                "an operation is an object with exactly one key, the operator; "
                f"this one has {len(rule)}",
                path=pointer(path),
                operator=parent,
            )
        ((op, raw),) = rule.items()
        if type(op) is not str or op not in self.operators:
            raise JsonLogicError(
                f"unknown operator {op!r}", path=pointer((*path, str(op))), operator=str(op)
            )
        where = (*path, op)
        if type(raw) is list:
            args, paths = raw, [(*where, index) for index in range(len(raw))]
        else:
            args, paths = [raw], [where]
        spec = self.operators[op]
        call = Call(self, op, args, paths, where, scope, depth)
        low, high = spec.arity
        if not low <= len(args) <= (len(args) if high is None else high):
            call.fail(f"takes {_count(low, high)}, got {len(args)}")
        return spec.emit(call)

    def function(
        self, rule: Any, path: Path, depth: int, truth: bool, name: str | None = None
    ) -> str:
        """Write a function of one datum returning ``rule``'s value (or truthiness)."""
        name = name or self.name("s")
        scope = Scope(self, rule)
        expr = self.node(rule, path, scope, depth, None)
        body = self.truth(expr) if truth else expr.code
        lines = [f"def {name}({scope.data}=None):", *(f"    {line}" for line in scope.lines)]
        self.functions.append("\n".join([*lines, f"    return {body}", ""]))
        return name


def _count(low: int, high: int | None) -> str:
    noun = "argument" if (high or low) == 1 else "arguments"
    if high is None:
        return f"at least {low} {noun}"
    if low == high:
        return f"{low} {noun}"
    return f"{low} to {high} {noun}"


def compile_rule(rule: Any, operators: dict, clock: Clock | None = None) -> Callable[..., Any]:
    compiler = Compiler(operators, clock)
    entry = compiler.function(rule, (), 0, truth=False, name="jsonlogic_rule")
    source = "\n".join(compiler.functions)
    exec(builtins.compile(source, "<jsonlogic>", "exec"), compiler.namespace)
    evaluate = compiler.namespace[entry]
    evaluate.source = source
    return evaluate
