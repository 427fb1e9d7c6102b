"""Automation engine benchmark: ``python bench/automation.py [--quick] [--events N] ...``.

Creates its own database (dropped at the end) with ``--accounts`` accounts, each with a
channel, a contact and 20 enabled rules on ``message.created``, created through
:func:`automation.rules.create_rule`: conditions of the designer's usual shape (two or
three and/or tests over the message, the conversation, the contact and the channel),
each with one ``add_tag`` action. Two of the 20 match the generated events, so every
event makes two rule runs, each writing a tag (and the ``tag.added`` event the tag
announces, which the system relays and delivers too). Each event is an inbound message
posted with :func:`helpdesk.messages.post_message` on a conversation of its own (so
every matching action really writes), spread round-robin over the accounts; the
message and its ``message.created`` outbox row commit together, as in production.

The system under test is the production path, as separate processes on the bench
database and Redis (``TURUMBA_BENCH_REDIS_URL``; give the bench a Redis database of its
own, it refuses one with queued jobs): ``--workers`` ``flask worker`` processes
(``--fork``: ``flask worker --fork``) and one ``flask events relay`` (its default
interval, or ``--relay-interval``). The bench measures, ``--rounds`` times in a shuffled
order:

- ``events/s``: ``--events`` events are written to the outbox while the relay is
  stopped (``SIGSTOP``); the clock starts when the relay continues (``SIGCONT``) and
  stops at the last rule run written (``automation_runs.created_at``, in the transaction
  of its action) once all 2 x N runs exist;
- ``no-op jobs/s``: the baseline. As many no-op jobs (``os.getpid``, with the
  project's retry policy) enqueued at once and drained by the same workers, from the
  first job's start to the last one's end (RQ's own timestamps): the ceiling of RQ's
  per-job overhead with that worker class, in the same run;
- ``p50 / p95``: event-to-action latency when idle: ``--samples`` events posted one at
  a time, each after the previous one's runs exist and a random pause (50-250 ms, so
  the relay's polling phase is random), from the event's ``occurred_at`` to its last
  rule run's ``created_at``;
- the CPU each event of the burst costs the workers (their reaped job processes
  included, for the forking worker), the relay and the bench database's PostgreSQL
  backends (the bench's own connections excluded; so are backends that exit during the
  burst, such as the forking worker's, one per job: its PostgreSQL figure is too low).
  The relay's includes its polling while the burst lasts.

Targets: >= 1,000 events/s and p50 <= 50 ms. Figures are medians over the rounds; one
warm-up burst first loads every worker's caches (rules, compiled conditions, database
connections). At the end every run is checked: 2 per event, every action done, no
failed job. Environment: see :mod:`support`.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import psycopg
from rq import Queue, Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry
from sqlalchemy import insert
from support import bench_app, command, cpu_seconds, environment, process, provision, settle

from audit.service import SYSTEM
from automation.rules import create_rule
from core.jobs import DEFAULT_RETRY, QUEUES, queue
from core.redis import redis_client
from crm.models import Contact
from events import names
from helpdesk.messages import post_message
from helpdesk.models import Channel, Conversation
from tenants.db import db
from tenants.registry import AccountRecord, registry
from tenants.session import tenant_session

TARGET_RATE = 1000
TARGET_P50_MS = 50
BODY = "Hello, I would like a refund for order 4521: it arrived damaged. Dana"
COMPANY = "Acme Corp"


def _var(path: str) -> dict:
    return {"var": path}


INBOUND = {"==": [_var("message.kind"), "inbound"]}


def _says(word: str) -> dict:
    return {"and": [INBOUND, {"in_ci": [word, _var("message.body")]}]}


#: (name, conditions, tag): the two rules every generated event matches...
MATCHING = (
    ("Refunds to billing", _says("refund"), "billing"),
    (
        "Key accounts",
        {
            "or": [
                {"==": [_var("conversation.priority"), "urgent"]},
                {
                    "and": [
                        {"==_ci": [_var("contact.company"), COMPANY]},
                        {"!": _var("message.private")},
                    ]
                },
            ]
        },
        "key-account",
    ),
)
#: ... and the 18 it does not (most fail on their last test, so all of them are read).
MISSING = (
    *(
        (f"Mentions {word}", _says(word), word.replace(" ", "-"))
        for word in (
            "invoice",
            "cancel my",
            "password",
            "shipping address",
            "complaint",
            "unsubscribe",
            "discount",
            "broken link",
        )
    ),
    ("Texts and hooks", {"in": [_var("channel.type"), ["sms", "webhook"]]}, "mobile"),
    ("Low priority", {"and": [INBOUND, {"==": [_var("conversation.priority"), "low"]}]}, "later"),
    (
        "Government",
        {"and": [INBOUND, {"ends_with_ci": [_var("contact.email"), "@gov.example"]}]},
        "public-sector",
    ),
    (
        "Unassigned VIPs",
        {"and": [{"!": _var("conversation.assignee_id")}, {"in": ["vip", _var("contact.tags")]}]},
        "vip-waiting",
    ),
    (
        "Pending replies",
        {
            "and": [
                {"==": [_var("message.sender_type"), "contact"]},
                {"==": [_var("conversation.status"), "pending"]},
            ]
        },
        "answered",
    ),
    (
        "Escalation notes",
        {
            "and": [
                {"==": [_var("message.kind"), "note"]},
                {"in_ci": ["escalate", _var("message.body")]},
            ]
        },
        "escalated",
    ),
    (
        "Competitors",
        {
            "or": [
                {"==_ci": [_var("contact.company"), "Globex"]},
                {"==_ci": [_var("contact.company"), "Initech"]},
            ]
        },
        "competitor",
    ),
    (
        "Order threads",
        {"and": [INBOUND, {"starts_with_ci": [_var("conversation.subject"), "Re: order"]}]},
        "orders",
    ),
    ("Spam", {"and": [INBOUND, {"in": ["spam", _var("conversation.tags")]}]}, "junk"),
    ("Out of office", {"and": [INBOUND, {"==": [_var("message.auto_reply"), True]}]}, "auto-reply"),
)
RULES = len(MATCHING) + len(MISSING)
MATCHES = len(MATCHING)


@dataclass(frozen=True)
class Desk:
    """One account, its registry record and the channel and contact its events use."""

    account: AccountRecord
    channel_id: uuid.UUID
    contact_id: uuid.UUID


# --- setup, outside the clock ----------------------------------------------------------------


def build_desks(count: int) -> list[Desk]:
    """``count`` accounts, each with a channel, a contact and the :data:`RULES` rules
    (the matching ones at the 4th and 14th places)."""
    desks = []
    missing = list(MISSING)
    ordered = [*missing[:3], MATCHING[0], *missing[3:12], MATCHING[1], *missing[12:]]
    for row in provision(db.engine, count):
        account = registry().get(row["id"])
        channel_id, contact_id = uuid.uuid4(), uuid.uuid4()
        with tenant_session(account) as session:
            session.execute(insert(Channel).values(id=channel_id, type="email", name="Support"))
            session.execute(
                insert(Contact).values(
                    id=contact_id, name="Dana Scully", email="dana@acme.example", company=COMPANY
                )
            )
            for name, conditions, tag in ordered:
                create_rule(
                    session,
                    account_id=account.id,
                    actor=SYSTEM,
                    name=name,
                    events=[names.MESSAGE_CREATED],
                    conditions=conditions,
                    actions=[{"type": "add_tag", "params": {"tag": tag}}],
                )
        desks.append(Desk(account, channel_id, contact_id))
    return desks


def conversations(desks: list[Desk], count: int) -> list[tuple[Desk, uuid.UUID]]:
    """``count`` new conversations, dealt round-robin over the accounts."""
    made = [(desks[index % len(desks)], uuid.uuid4()) for index in range(count)]
    for desk in desks:
        rows = [
            {"id": cid, "channel_id": desk.channel_id, "contact_id": desk.contact_id}
            for owner, cid in made
            if owner is desk
        ]
        if rows:
            with tenant_session(desk.account) as session:
                session.execute(insert(Conversation), rows)
    return made


def post(targets: list[tuple[Desk, uuid.UUID]]) -> list[float]:
    """One inbound message on each conversation (each commits with its event); the
    events' ``occurred_at`` as Unix times."""
    occurred = []
    for desk, conversation_id in targets:
        with tenant_session(desk.account) as session:
            message = post_message(
                session,
                conversation_id,
                account_id=desk.account.id,
                actor=SYSTEM,
                direction="inbound",
                sender_type="contact",
                sender_id=desk.contact_id,
                body=BODY,
                commit=True,
            )
        occurred.append(message.created_at.timestamp())
    return occurred


# --- the system under test -----------------------------------------------------------------------


@dataclass
class System:
    """The worker and relay processes, and the bench's own view of their work."""

    workers: list[int]
    relay: int
    reaped: bool
    monitor: psycopg.Connection
    desks: list[Desk]

    def runs(self, conversation_id: uuid.UUID | None = None) -> tuple[int, float | None]:
        """How many rule runs exist (of one conversation), and when the last was written."""
        where = "" if conversation_id is None else " WHERE conversation_id = %(cid)s"
        union = " UNION ALL ".join(
            f'SELECT count(*) AS n, max(created_at) AS last FROM "{desk.account.schema_name}"'
            f".automation_runs{where}"
            for desk in self.desks
        )
        count, last = self.monitor.execute(
            f"SELECT sum(n), max(last) FROM ({union}) AS runs", {"cid": conversation_id}
        ).fetchone()
        return int(count or 0), last.timestamp() if last else None

    def busy(self) -> bool:
        pending = self.monitor.execute(
            "SELECT count(*) FROM public.outbox_events WHERE published_at IS NULL"
        ).fetchone()[0]
        default = queue("default")
        return bool(pending or default.count or StartedJobRegistry(queue=default).count)

    def settle(self, timeout: float = 600) -> None:
        """Until nothing is pending, queued or running, three checks in a row."""
        settle(self.busy, timeout)

    def cpu(self) -> tuple[float, float, float]:
        """CPU seconds so far: the workers, the relay, the bench database's backends."""
        backends = [
            pid
            for (pid,) in self.monitor.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
        return (
            cpu_seconds(self.workers, reaped=self.reaped),
            cpu_seconds([self.relay]),
            cpu_seconds(backends),
        )


@contextmanager
def running(app, desks: list[Desk], args) -> Iterator[System]:
    """``--workers`` workers and one relay on the bench app's database and Redis."""
    if any(queue(name).count for name in QUEUES):
        raise SystemExit("the bench's Redis database has queued jobs: give it one of its own")
    environ = environment(app)
    worker = [command("flask"), "worker", *(["--fork"] if args.fork else [])]
    relay = [command("flask"), "events", "relay"]
    if args.relay_interval is not None:
        relay += ["--interval", str(args.relay_interval)]
    dsn = app.extensions["turumba.config"].database_url.replace("+psycopg", "")
    with ExitStack() as stack:
        workers = [
            stack.enter_context(process(worker, environ, f"worker-{n}"))[0].pid
            for n in range(args.workers)
        ]
        (relayed, _) = stack.enter_context(process(relay, environ, "relay"))
        monitor = stack.enter_context(psycopg.connect(dsn, autocommit=True))
        deadline = time.monotonic() + 60
        while len(Worker.all(connection=redis_client())) < args.workers:
            if time.monotonic() > deadline:
                raise TimeoutError("the workers did not start")
            time.sleep(0.1)
        yield System(workers, relayed.pid, args.fork, monitor, desks)


# --- the measures ----------------------------------------------------------------------------


@dataclass
class Figures:
    """Each measure's figure, one per round."""

    ceiling: list[float] = field(default_factory=list)
    rate: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p95: list[float] = field(default_factory=list)
    #: CPU milliseconds per event of the burst: workers, relay, PostgreSQL.
    workers_ms: list[float] = field(default_factory=list)
    relay_ms: list[float] = field(default_factory=list)
    db_ms: list[float] = field(default_factory=list)
    #: Events posted, the warm-up's included (each must have made its runs).
    events: int = 0


def ceiling(system: System, count: int) -> float:
    """No-op jobs per second the workers drain, by RQ's timestamps."""
    default = queue("default")
    jobs = default.enqueue_many(
        [Queue.prepare_data("os.getpid", retry=DEFAULT_RETRY) for _ in range(count)]
    )
    system.settle()
    done = Job.fetch_many(
        [job.id for job in jobs], connection=default.connection, serializer=default.serializer
    )
    done = [job for job in done if job is not None]
    assert len(done) == count and all(job.is_finished for job in done), "a no-op job failed"
    start = min(job.started_at for job in done)
    end = max(job.ended_at for job in done)
    return count / (end - start).total_seconds()


def burst(system: System, count: int) -> tuple[float, list[float]]:
    """Events per second from the outbox to their rules' last runs, and the CPU
    milliseconds each event cost the workers, the relay and PostgreSQL."""
    targets = conversations(system.desks, count)
    before, _ = system.runs()
    os.kill(system.relay, signal.SIGSTOP)
    try:
        post(targets)
        cpu = system.cpu()
        started = time.time()
    finally:
        os.kill(system.relay, signal.SIGCONT)
    deadline = time.monotonic() + 600
    while True:
        runs, last = system.runs()
        if runs >= before + MATCHES * count:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{runs - before} of {MATCHES * count} runs after 600 s")
        time.sleep(0.05)
    used = [(after - start) / count * 1000 for start, after in zip(cpu, system.cpu(), strict=True)]
    system.settle()
    return count / (last - started), used


def latencies(system: System, count: int, rng: random.Random) -> list[float]:
    """Seconds from each event to its last rule run, one event at a time."""
    found = []
    for target in conversations(system.desks, count):
        time.sleep(rng.uniform(0.05, 0.25))
        (occurred,) = post([target])
        deadline = time.monotonic() + 60
        while (runs := system.runs(target[1]))[0] < MATCHES:
            if time.monotonic() > deadline:
                raise TimeoutError("an event's rules did not run within 60 s")
            time.sleep(0.005)
        found.append(runs[1] - occurred)
    return found


def p(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def measure(system: System, args) -> Figures:
    """A warm-up, then every measure ``--rounds`` times, shuffled in each round so that
    the machine's drift hits them alike."""
    figures = Figures()
    rng = random.Random(0)
    started, warm = time.perf_counter(), min(args.events, 20 * len(system.desks))
    burst(system, warm)
    ceiling(system, min(args.events, 200))
    figures.events += warm
    print(f"  warm-up: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)

    def throughput() -> None:
        rate, (workers, relay, database) = burst(system, args.events)
        figures.events += args.events
        figures.rate.append(rate)
        figures.workers_ms.append(workers)
        figures.relay_ms.append(relay)
        figures.db_ms.append(database)

    def baseline() -> None:
        figures.ceiling.append(ceiling(system, args.events))

    def latency() -> None:
        found = latencies(system, args.samples, rng)
        figures.events += len(found)
        figures.p50.append(p(found, 0.5))
        figures.p95.append(p(found, 0.95))

    plan: list[Callable[[], None]] = [throughput, baseline, latency]
    for number in range(1, args.rounds + 1):
        for step in rng.sample(plan, len(plan)):
            step()
        print(
            f"  round {number}: {figures.rate[-1]:,.0f} events/s, "
            f"{figures.ceiling[-1]:,.0f} no-op jobs/s, p50 {figures.p50[-1]:.1f} ms, "
            f"p95 {figures.p95[-1]:.1f} ms",
            file=sys.stderr,
            flush=True,
        )
    return figures


def check(system: System, figures: Figures) -> str:
    """Every event made its two runs and every action was done; no job failed."""
    events = figures.events
    runs, _ = system.runs()
    assert runs == MATCHES * events, f"{runs} runs for {events} events"
    union = " UNION ALL ".join(
        f'SELECT actions FROM "{desk.account.schema_name}".automation_runs' for desk in system.desks
    )
    outcomes = system.monitor.execute(
        f"SELECT action ->> 'outcome', count(*) FROM ({union}) AS runs, "
        "jsonb_array_elements(actions) AS action GROUP BY 1"
    ).fetchall()
    assert dict(outcomes) == {"done": runs}, f"action outcomes: {dict(outcomes)}"
    failed = FailedJobRegistry(queue=queue("default")).count
    assert failed == 0, f"{failed} failed jobs"
    return f"{events:,} events = {runs:,} rule runs / {MATCHES}, every action done, no job failed"


def report(figures: Figures, args, checked: str) -> int:
    median = statistics.median
    rate, ceiling_rate, p50 = median(figures.rate), median(figures.ceiling), median(figures.p50)
    worker = "flask worker --fork" if args.fork else "flask worker"
    print(
        f"\nAutomation: {RULES} rules per account ({MATCHES} match, one add_tag each), "
        f"{args.accounts} accounts, {args.workers} x `{worker}` + `flask events relay`; "
        f"median of {args.rounds} round(s), {args.events:,} events per burst, "
        f"{args.samples} idle samples\n"
    )
    print(
        "| events/s | no-op jobs/s | ratio | p50 ms | p95 ms "
        "| CPU ms/event: workers | relay | PostgreSQL |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {rate:,.0f} | {ceiling_rate:,.0f} | {rate / ceiling_rate:.2f} | {p50:.1f} "
        f"| {median(figures.p95):.1f} | {median(figures.workers_ms):.2f} "
        f"| {median(figures.relay_ms):.2f} | {median(figures.db_ms):.2f} |"
    )
    print(
        "\nevents/s: a burst from the outbox to the last rule run; no-op jobs/s: the same "
        "workers draining as many no-op jobs; ratio: the first over the second. "
        "p50/p95: one event at a time, from its occurred_at to its last rule run."
    )
    print(f"checked: {checked}")
    met = rate >= TARGET_RATE and p50 <= TARGET_P50_MS
    print(
        f"targets: >= {TARGET_RATE:,} events/s and p50 <= {TARGET_P50_MS} ms: "
        f"{'met' if met else 'MISSED'}"
    )
    return 0 if met else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="events per burst")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; figures are medians")
    parser.add_argument("--accounts", type=int, default=10, help="accounts the events spread over")
    parser.add_argument("--workers", type=int, default=2, help="`flask worker` processes")
    parser.add_argument("--samples", type=int, default=50, help="idle latency samples per round")
    parser.add_argument("--fork", action="store_true", help="run `flask worker --fork`")
    parser.add_argument(
        "--relay-interval", type=float, default=None, help="`flask events relay --interval`"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 200 events, 10 samples, 1 round"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.samples, args.rounds = 200, 10, 1
    with bench_app() as app:
        print(f"provisioning {args.accounts} accounts ...", file=sys.stderr, flush=True)
        desks = build_desks(args.accounts)
        with running(app, desks, args) as system:
            figures = measure(system, args)
            return report(figures, args, check(system, figures))


if __name__ == "__main__":
    sys.exit(main())
