"""JSONLogic evaluator benchmark: ``python bench/jsonlogic.py [--seconds S] [--quick]``.

Two realistic helpdesk rules over a conversation/contact/message document, the kind the
automation designer produces: a small one (5 conditions: status ``==``, priority ``in`` a
list, tag membership, subject contains, created within the last 3 hours) and a large one
(30 conditions: the same kinds plus ``!``/``!!`` empty checks, a between, ``some`` over the
tags, SLA and time windows against the document's ``now``, contact attributes, ``and`` /
``or`` / ``!`` nesting); on the sample document 29 of the 30 are evaluated. Only standard
JsonLogic operators, so that every evaluator runs the very same rules.

Evaluators: ours (:mod:`automation.jsonlogic`, the rule compiled once, as the automation
engine keeps it per rule version); panzi-json-logic (``json_logic.jsonLogic``, an
interpreter, in this process); json-logic-js, the reference implementation, under node
(``bench/node``, installed with ``npm ci`` when missing), which times its own loop with
``process.hrtime`` and prints JSON back, one fresh process per rule. A competitor that is
not available is skipped with a note.

First, all three evaluate both rules on three documents (the sample, one where the rules
fail, one with absent fields) and must agree. Then, for each rule and evaluator, a warm-up
and ``--repeats`` timings of ``--seconds`` each (ours and panzi-json-logic interleaved),
calling in batches of 1,000; the figure is the median evaluations per second. The machine's
other load moves the absolute figures (on this 2-core machine by up to a third between
runs); the ratios, measured in the same run, move less.

Targets: ours >= 1,000,000/s on the small rule and >= 150,000/s on the large one, >= 3x
json-logic-js and >= 15x panzi-json-logic on both. Needs no database.
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from automation import jsonlogic  # noqa: E402

NODE_DIR = Path(__file__).resolve().parent / "node"
TARGET_RATE = {"small": 1_000_000, "large": 150_000}
TARGET_RATIO = {"json-logic-js": 3.0, "panzi-json-logic": 15.0}
BATCH = 1000

NOW = 1_767_225_600  # the document carries its own clock, as standard JsonLogic needs


def var(path: str) -> dict:
    return {"var": path}


SMALL = {
    "and": [
        {"==": [var("conversation.status"), "open"]},
        {"in": [var("conversation.priority"), ["high", "urgent"]]},
        {"in": ["billing", var("conversation.tags")]},
        {"in": ["Refund", var("message.subject")]},
        {">=": [var("conversation.created_at"), {"-": [var("now"), 3 * 3600]}]},
    ]
}

LARGE = {
    "and": [
        {"==": [var("conversation.status"), "open"]},
        {"!=": [var("conversation.channel"), "api"]},
        {"in": [var("conversation.priority"), ["high", "urgent"]]},
        {"!": var("conversation.assignee_id")},
        {"!!": var("conversation.inbox_id")},
        {"in": [var("conversation.language"), ["en", "de", "fr"]]},
        {"<": [var("conversation.unread_count"), 50]},
        {"<=": [1, var("conversation.message_count"), 200]},
        {
            "or": [
                {"in": ["refund", var("conversation.tags")]},
                {"in": ["billing", var("conversation.tags")]},
            ]
        },
        {"!": {"in": ["spam", var("conversation.tags")]}},
        {"some": [var("conversation.tags"), {"in": [var(""), ["vip", "enterprise"]]}]},
        {">=": [var("conversation.created_at"), {"-": [var("now"), 86400]}]},
        {"<": [var("conversation.waiting_since"), {"-": [var("now"), 900]}]},
        {">": [var("conversation.sla.first_response_due"), var("now")]},
        {"==": [var("conversation.sla.breaches"), 0]},
        {"==": [var("message.direction"), "incoming"]},
        {"!": var("message.private")},
        {
            "or": [
                {"in": ["invoice", var("message.subject")]},
                {"in": ["charge", var("message.content")]},
            ]
        },
        {">=": [var("message.content_length"), 20]},
        {"!": var("message.attachments")},
        {">": [var("contact.lifetime_value"), 1000]},
        {
            "or": [
                {"==": [var("contact.tier"), "platinum"]},
                {"==": [var("contact.tier"), "gold"]},
            ]
        },
        {"!=": [var("contact.email"), None]},
        {"in": [var("contact.country"), ["DE", "AT", "CH", "FR", "NL", "BE"]]},
        {"===": [var("contact.blocked"), False]},
        {">=": [var("conversation.custom_attributes.order_value"), 100]},
        {"!=": [var("conversation.custom_attributes.plan"), "trial"]},
    ]
}

DOCUMENT = {
    "now": NOW,
    "conversation": {
        "id": 4711,
        "status": "open",
        "priority": "high",
        "channel": "email",
        "inbox_id": 3,
        "assignee_id": None,
        "tags": ["billing", "vip"],
        "language": "de",
        "unread_count": 2,
        "message_count": 7,
        "created_at": NOW - 3600,
        "waiting_since": NOW - 1800,
        "sla": {"breaches": 0, "first_response_due": NOW + 1800},
        "custom_attributes": {"order_value": 149.9, "plan": "pro"},
    },
    "contact": {
        "id": 99,
        "name": "Ada Example",
        "email": "ada@example.com",
        "tier": "gold",
        "country": "DE",
        "lifetime_value": 2500,
        "blocked": False,
    },
    "message": {
        "direction": "incoming",
        "private": False,
        "subject": "Refund for invoice 2231",
        "content": "Hello, I was charged twice for my last order, please refund one charge.",
        "content_length": 71,
        "attachments": [],
    },
}

RULES = {"small": SMALL, "large": LARGE}
CONDITIONS = {"small": 5, "large": 30}

NODE_PROGRAM = r"""
const jsonLogic = require('json-logic-js');
const version = require('json-logic-js/package.json').version;
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const job = JSON.parse(input);
  const results = job.checks.map(([rule, data]) => jsonLogic.apply(rule, data));
  const time = (rule, seconds) => {
    const limit = BigInt(Math.round(seconds * 1e9));
    const start = process.hrtime.bigint();
    let calls = 0, hits = 0, elapsed = 0n;  // hits: a use of each result, so none is elided
    do {
      for (let i = 0; i < job.batch; i++) if (jsonLogic.apply(rule, job.data) === true) hits++;
      calls += job.batch;
      elapsed = process.hrtime.bigint() - start;
    } while (elapsed < limit);
    return hits >= 0 ? calls / (Number(elapsed) / 1e9) : 0;
  };
  const rates = {};
  for (const [name, rule] of Object.entries(job.rules)) {
    time(rule, job.warmup);
    rates[name] = [];
    for (let r = 0; r < job.repeats; r++) rates[name].push(time(rule, job.seconds));
  }
  process.stdout.write(JSON.stringify({ version, results, rates }));
});
"""


def leaves(rule: Any) -> int:
    """The conditions in a rule: comparisons, membership tests, empty checks, ``some``."""
    if isinstance(rule, list):
        return sum(leaves(item) for item in rule)
    if not isinstance(rule, dict):
        return 0
    ((op, args),) = rule.items()
    if op in ("and", "or"):
        return leaves(args)
    if op == "!" and isinstance(args, dict) and "var" not in args:
        return leaves(args)
    return 1


def documents() -> list[dict]:
    """The sample, one where both rules are false, one with fields absent."""
    failing = copy.deepcopy(DOCUMENT)
    failing["conversation"]["status"] = "pending"
    failing["contact"]["tier"] = "silver"
    sparse = copy.deepcopy(DOCUMENT)
    del sparse["contact"]
    del sparse["conversation"]["tags"]
    sparse["message"]["subject"] = None
    return [DOCUMENT, failing, sparse]


# --- the evaluators --------------------------------------------------------------------------


def rate(evaluate: Callable[[Any], Any], data: Any, seconds: float) -> float:
    """Evaluations per second of ``evaluate(data)``, calling in batches for ``seconds``."""
    calls = 0
    batch = range(BATCH)
    start = time.perf_counter()
    while True:
        for _ in batch:
            evaluate(data)
        calls += BATCH
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls / elapsed


def python_rates(
    makers: dict[str, Callable[[Any], Callable[[Any], Any]]],
    seconds: float,
    warmup: float,
    repeats: int,
) -> dict[str, dict[str, list[float]]]:
    """Each evaluator on each rule, the repeats interleaved so that drift hits all alike."""
    evaluators = {
        (who, name): make(rule) for who, make in makers.items() for name, rule in RULES.items()
    }
    for evaluate in evaluators.values():
        rate(evaluate, DOCUMENT, warmup)
    rates: dict[str, dict[str, list[float]]] = {who: {name: [] for name in RULES} for who in makers}
    for _ in range(repeats):
        for (who, name), evaluate in evaluators.items():
            rates[who][name].append(rate(evaluate, DOCUMENT, seconds))
    return rates


def panzi() -> Callable[[Any], Callable[[Any], Any]] | str:
    """panzi-json-logic's evaluator per rule, or why it is not available."""
    try:
        from json_logic import jsonLogic
    except ImportError:
        return "panzi-json-logic is not installed (pip install panzi-json-logic)"
    return lambda rule: partial(jsonLogic, rule)


def node_ready() -> str | None:
    """None when json-logic-js can run under node; else why not."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if (NODE_DIR / "node_modules" / "json-logic-js").is_dir():
        return None
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not on PATH (to install json-logic-js)"
    install = "ci" if (NODE_DIR / "package-lock.json").exists() else "install"
    done = subprocess.run(
        [npm, install, "--no-audit", "--no-fund", "--silent"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        return f"npm {install} failed: {done.stderr.strip()[-300:]}"
    return None


def run_node(job: dict) -> dict:
    done = subprocess.run(
        ["node", "-e", NODE_PROGRAM],
        cwd=NODE_DIR,
        input=json.dumps({"checks": [], "rules": {}, "data": DOCUMENT, "batch": BATCH, **job}),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def node_rates(seconds: float, warmup: float, repeats: int) -> dict[str, list[float]]:
    """Each rule timed in a fresh node process: V8 specialises ``apply`` to what it has
    seen, and an evaluator warmed on other rules would be measured slower than it can be."""
    timing = {"seconds": seconds, "warmup": warmup, "repeats": repeats}
    return {
        name: run_node({"rules": {name: rule}, **timing})["rates"][name]
        for name, rule in RULES.items()
    }


# --- report ----------------------------------------------------------------------------------


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return "n/a (competitor skipped)"
    return "MET" if value >= target else "MISSED"


def report(rates: dict[str, dict[str, list[float]]], notes: list[str]) -> int:
    """Print the table and the targets; 1 if a target was missed."""
    median = {
        who: {name: statistics.median(v) for name, v in by.items()} for who, by in rates.items()
    }
    ours = median["ours"]
    rivals = [who for who in TARGET_RATIO if who in median]
    rows = [("rule", "conds", *(f"{who}/s" for who in ("ours", *TARGET_RATIO)))]
    rows[0] += tuple(f"ours/{who}" for who in TARGET_RATIO)
    verdicts = []
    for name in RULES:
        ratio = {who: ours[name] / median[who][name] for who in rivals}
        rows.append(
            (
                name,
                str(CONDITIONS[name]),
                *(
                    f"{median[who][name]:,.0f}" if who in median else "skipped"
                    for who in ("ours", *TARGET_RATIO)
                ),
                *(f"{ratio[who]:.1f}x" if who in ratio else "-" for who in TARGET_RATIO),
            )
        )
        verdicts.append(
            (f"{name}: ours >= {TARGET_RATE[name]:,}/s", verdict(ours[name], TARGET_RATE[name]))
        )
        for who, target in TARGET_RATIO.items():
            verdicts.append((f"{name}: ours >= {target:g}x {who}", verdict(ratio.get(who), target)))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    print()
    for row in rows:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
    print()
    for label, outcome in verdicts:
        print(f"  {label:<42} {outcome}")
    for note in notes:
        print(f"  note: {note}")
    return 1 if any(outcome == "MISSED" for _, outcome in verdicts) else 0


def agree(results: dict[str, list], checks: list) -> bool:
    """Whether every evaluator gave the same result for each check; prints any difference."""
    reference = results["ours"]
    ok = True
    for who, values in results.items():
        for (rule_name, index), ours, theirs in zip(checks, reference, values, strict=True):
            if json.dumps(ours) != json.dumps(theirs):
                print(f"DISAGREE ({rule_name}, document {index}): {who} {theirs!r}, ours {ours!r}")
                ok = False
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="measured seconds per timing")
    parser.add_argument("--repeats", type=int, default=5, help="timings per figure (median)")
    parser.add_argument("--warmup", type=float, default=0.5, help="uncounted seconds first")
    parser.add_argument("--quick", action="store_true", help="a smoke run: short and few")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.repeats, args.warmup = 0.3, 3, 0.1
    for name, rule in RULES.items():
        assert leaves(rule) == CONDITIONS[name], (name, leaves(rule))

    samples = documents()
    labels = [(name, index) for name in RULES for index in range(len(samples))]
    pairs = [(RULES[name], samples[index]) for name, index in labels]
    results = {"ours": [jsonlogic.evaluate(rule, data) for rule, data in pairs]}
    makers: dict[str, Callable[[Any], Callable[[Any], Any]]] = {"ours": jsonlogic.compile}
    notes = []
    panzi_maker = panzi()
    if isinstance(panzi_maker, str):
        notes.append(f"panzi-json-logic skipped: {panzi_maker}")
    else:
        makers["panzi-json-logic"] = panzi_maker
        results["panzi-json-logic"] = [panzi_maker(rule)(data) for rule, data in pairs]
    node_problem = node_ready()
    node = None
    if node_problem:
        notes.append(f"json-logic-js skipped: {node_problem}")
    else:
        node = run_node({"checks": pairs})
        results["json-logic-js"] = node["results"]
        notes.append(f"json-logic-js {node['version']} under node, timed by itself")
    if not agree(results, labels):
        print("the evaluators disagree on the bench rules: figures would compare different work")
        return 2
    print(f"agreement: {len(results)} evaluators x {len(pairs)} checks give the same results")

    print(f"{', '.join(makers)}: timing ...", flush=True)
    rates = python_rates(makers, args.seconds, args.warmup, args.repeats)
    if node is not None:
        print("json-logic-js: timing under node ...", flush=True)
        rates["json-logic-js"] = node_rates(args.seconds, args.warmup, args.repeats)
    return report(rates, notes)


if __name__ == "__main__":
    sys.exit(main())
