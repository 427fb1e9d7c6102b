"""Message throughput benchmark: ``python bench/messages.py [--rounds N] [--seconds S] [--quick]``.

Creates its own database (dropped at the end) with the most accounts of ``--levels``
(default 10 and 1,000), each with a member, a live auth session and its access token, a
channel, a contact and enough conversations that no two clients ever write to the same
one at once. It starts the real server (gunicorn, production settings, see
:mod:`core.gunicorn_conf`) and drives it over loopback with a raw asyncio HTTP/1.1
keep-alive client, one connection per client. For each level, the traffic spread over
that many accounts (the others sit idle), it measures:

- ``HTTP peak``: ``POST /v1/accounts/{id}/conversations/{cid}/messages`` from
  ``--clients`` closed-loop clients (each sends its next request when the last one is
  answered); messages per second answered ``201``;
- ``direct``: the baseline. The same rows (the message, the conversation's update, the
  outbox event; one transaction each) inserted with psycopg over as many connections,
  closed loop, in the same run;
- ``p50 / p95``: latency at a fixed offered load of ``--rate`` requests per second, open
  loop: each request is due on a fixed schedule and is timed from that moment, so a
  slow answer delays the next ones and they pay for it (no coordinated omission).

Targets: HTTP peak >= 1,000 messages/s and >= 30 % of direct; p95 <= 25 ms at
200 requests/s; flat from 10 to 1,000 accounts. Each figure is the median of
``--rounds`` rounds (the measures shuffled in each round, so drift hits them alike);
the first seconds of every measure are a warm-up and not counted. Afterwards the rows in
the database are counted against the ``201`` answers and the baseline's commits.

The client shares the machine's cores with the server and PostgreSQL: its CPU time per
request is reported. Environment: see :mod:`support`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import resource
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import func, select
from support import Server, add_agents, add_desk, bench_app, cpu_seconds, provision, serve

from events import names
from events.outbox import OutboxEvent
from helpdesk.models import Message
from tenants.db import db, utcnow

TARGET_PEAK = 1000
TARGET_RATIO = 0.30
TARGET_P95_MS = 25
BODY = "Thanks for reaching out! We are looking into it and will get back to you shortly."


@dataclass(frozen=True)
class Target:
    """One conversation to write to, and the credentials of a member of its account."""

    account_id: uuid.UUID
    schema: str
    conversation_id: uuid.UUID
    user_id: uuid.UUID
    token: str


# --- setup, outside the clock ----------------------------------------------------------------


def build_targets(app, accounts: int, per_account: int, batch: int = 50) -> list[Target]:
    """``accounts`` accounts, each with a member, its token and ``per_account`` conversations."""
    engine = db.engine
    issuer = app.extensions["turumba.tokens"]
    targets = []
    provisioned = provision(engine, accounts)
    for start in range(0, accounts, batch):
        chunk = provisioned[start : start + batch]
        users = [(uuid.uuid4(), uuid.uuid4()) for _ in chunk]  # (user, auth session)
        with engine.begin() as conn:
            add_agents(
                conn,
                [(account["id"], *user) for account, user in zip(chunk, users, strict=True)],
            )
            for account, (user_id, session_id) in zip(chunk, users, strict=True):
                token, _ = issuer.issue(user_id, session_id=session_id)
                conversation_ids = add_desk(conn, account["schema_name"], per_account)
                targets.extend(
                    Target(account["id"], account["schema_name"], cid, user_id, token)
                    for cid in conversation_ids
                )
    return targets


def spread(targets: list[Target], accounts: int, clients: int) -> list[list[Target]]:
    """The conversations of the first ``accounts`` accounts dealt out to ``clients``.

    Each conversation belongs to one client only, so clients never queue on each other's
    row locks, and consecutive requests of one client go to different accounts.
    """
    chosen_accounts = list(dict.fromkeys(t.account_id for t in targets))[:accounts]
    wanted = set(chosen_accounts)
    by_account: dict[uuid.UUID, list[Target]] = {a: [] for a in chosen_accounts}
    for target in targets:
        if target.account_id in wanted:
            by_account[target.account_id].append(target)
    # Round-robin over accounts: the k-th conversation of every account, then the next.
    ordered = [
        row[k]
        for k in range(max(len(row) for row in by_account.values()))
        for row in by_account.values()
        if k < len(row)
    ]
    assert len(ordered) >= clients, "fewer conversations than clients"
    return [ordered[c::clients] for c in range(clients)]


# --- the load generator --------------------------------------------------------------------------

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


def message_request(host: str, target: Target) -> bytes:
    """The whole HTTP/1.1 request, built once per conversation and sent as is."""
    body = json.dumps(
        {"direction": "outbound", "sender_type": "agent", "body": BODY},
        separators=(",", ":"),
    ).encode()
    path = f"/v1/accounts/{target.account_id}/conversations/{target.conversation_id}/messages"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {target.token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection with at most one request in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future | None = None

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        _, protocol = await asyncio.get_running_loop().create_connection(cls, host, port)
        return protocol

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        length = _CONTENT_LENGTH.search(self.buffer, 0, end + 2)
        assert length is not None, bytes(self.buffer[:end])
        total = end + 4 + int(length[1])
        if len(self.buffer) < total:
            return
        status = int(self.buffer[9:12])
        body = bytes(self.buffer[end + 4 : total]) if status >= 300 else b""
        del self.buffer[:total]
        waiter, self.waiter = self.waiter, None
        waiter.set_result((status, body))

    def connection_lost(self, exc) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection lost: {exc}"))

    def request(self, payload: bytes) -> asyncio.Future:
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(payload)
        return self.waiter

    def close(self) -> None:
        self.transport.close()


@dataclass
class Tally:
    """What one measure did: answers inside the window, and everything sent."""

    counted: int = 0
    latencies: list[float] = field(default_factory=list)
    created: int = 0
    cpu: float = 0.0
    requests: int = 0
    db_cpu: float = 0.0

    def check(self, status: int, body: bytes) -> None:
        if status != 201:
            raise RuntimeError(f"the server answered {status}: {body[:500]!r}")
        self.created += 1


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def closed_loop(
    base: str,
    work: list[list[Target]],
    *,
    seconds: float,
    warmup: float,
    passes: int | None = None,
) -> Tally:
    """Every client sends its next request as soon as the previous one is answered.

    With ``passes``, each client goes that many times through its conversations instead,
    however long it takes (everything counted).
    """
    url = urlsplit(base)
    connections = [await Connection.open(url.hostname, url.port) for _ in work]
    tally = Tally()
    cpu = _cpu()
    start = time.perf_counter() + warmup
    stop = start + seconds if passes is None else float("inf")

    async def client(connection: Connection, payloads: list[bytes]) -> None:
        index = 0
        last = float("inf") if passes is None else passes * len(payloads)
        while (sent := time.perf_counter()) < stop and index < last:
            status, body = await connection.request(payloads[index % len(payloads)])
            index += 1
            tally.check(status, body)
            done = time.perf_counter()
            if start <= done < stop:
                tally.counted += 1
                tally.latencies.append(done - sent)

    await asyncio.gather(
        *(
            client(connection, [message_request(url.netloc, t) for t in targets])
            for connection, targets in zip(connections, work, strict=True)
        )
    )
    tally.cpu, tally.requests = _cpu() - cpu, tally.created
    for connection in connections:
        connection.close()
    return tally


async def open_loop(
    base: str, work: list[list[Target]], *, rate: float, seconds: float, warmup: float
) -> Tally:
    """Requests due every ``1/rate`` s, each timed from when it was due.

    A request waits for an idle connection (one per client) when all are busy, and that
    wait counts in its latency.
    """
    url = urlsplit(base)
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in work:
        idle.put_nowait(await Connection.open(url.hostname, url.port))
    payloads = [
        message_request(url.netloc, target) for row in zip(*work, strict=False) for target in row
    ]
    tally = Tally()
    cpu = _cpu()
    begin = time.perf_counter() + 0.05
    counted_from = begin + warmup
    total = round(rate * (warmup + seconds))

    async def one(due: float, payload: bytes) -> None:
        connection = await idle.get()
        status, body = await connection.request(payload)
        idle.put_nowait(connection)
        tally.check(status, body)
        if due >= counted_from:
            tally.latencies.append(time.perf_counter() - due)

    pending = []
    for index in range(total):
        due = begin + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.ensure_future(one(due, payloads[index % len(payloads)])))
    await asyncio.gather(*pending)
    tally.counted = len(tally.latencies)
    tally.cpu, tally.requests = _cpu() - cpu, tally.created
    while not idle.empty():
        idle.get_nowait().close()
    return tally


class Meter:
    """CPU time of the server's workers and of the bench database's backends, per process."""

    def __init__(self, server: Server, dsn: str) -> None:
        self.server = server
        self.conn = psycopg.connect(dsn, autocommit=True)

    def snapshot(self) -> tuple[dict[int, float], dict[int, float]]:
        backends = [
            pid
            for (pid,) in self.conn.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
        return (
            {pid: cpu_seconds([pid]) for pid in self.server.workers()},
            {pid: cpu_seconds([pid]) for pid in backends},
        )

    @staticmethod
    def used(before: tuple[dict, dict], after: tuple[dict, dict]) -> tuple[float, float]:
        """Seconds of CPU the workers and the backends used between two snapshots."""
        return tuple(
            sum(cpu - start.get(pid, 0.0) for pid, cpu in end.items())
            for start, end in zip(before, after, strict=True)
        )


# --- the baseline ---------------------------------------------------------------------------------

INSERT_MESSAGE = """INSERT INTO "{schema}".messages (id, conversation_id, direction, sender_type,
    sender_id, body, private, metadata, delivery_status, failure_reason, created_at)
VALUES (%s, %s, 'outbound', 'agent', %s, %s, false, '{{}}', 'queued', NULL, %s)"""
UPDATE_CONVERSATION = """UPDATE "{schema}".conversations
SET last_activity_at = %s, first_reply_at = coalesce(first_reply_at, %s),
    waiting_since = NULL, updated_at = %s
WHERE id = %s"""
INSERT_EVENT = """INSERT INTO public.outbox_events (id, account_id, name, occurred_at,
    actor_type, actor_id, causation_depth, subject_type, subject_id, payload, attempts)
VALUES (%s, %s, %s, %s, 'user', %s, 0, 'message', %s, %s, 0)"""


def direct(
    connections: list[psycopg.Connection],
    work: list[list[Target]],
    *,
    seconds: float,
    warmup: float,
    meter: Meter,
    passes: int | None = None,
) -> Tally:
    """The same rows as the API writes, over one psycopg connection per client.

    The connections stay open from one measure to the next, as the server's pool does.
    With ``passes``, each client goes that many times through its conversations instead
    of for ``seconds``. ``tally.db_cpu``: what PostgreSQL's backends spent.
    """
    tally = Tally()
    lock = threading.Lock()
    ready = threading.Barrier(len(work) + 1)
    window: list[float] = []

    def client(conn: psycopg.Connection, targets: list[Target]) -> None:
        ready.wait()
        start, stop = window
        index, counted, created = 0, 0, 0
        last = float("inf") if passes is None else passes * len(targets)
        while time.perf_counter() < stop and index < last:
            target = targets[index % len(targets)]
            index += 1
            now, message_id = utcnow(), uuid.uuid4()
            with conn.transaction():
                conn.execute(
                    INSERT_MESSAGE.format(schema=target.schema),
                    (message_id, target.conversation_id, target.user_id, BODY, now),
                )
                conn.execute(
                    UPDATE_CONVERSATION.format(schema=target.schema),
                    (now, now, now, target.conversation_id),
                )
                conn.execute(
                    INSERT_EVENT,
                    (
                        uuid.uuid4(),
                        target.account_id,
                        names.MESSAGE_CREATED,
                        now,
                        target.user_id,
                        message_id,
                        Jsonb(
                            {
                                "conversation_id": str(target.conversation_id),
                                "direction": "outbound",
                                "sender_type": "agent",
                                "sender_id": str(target.user_id),
                                "private": False,
                            }
                        ),
                    ),
                )
            created += 1
            if start <= time.perf_counter() < stop:
                counted += 1
        with lock:
            tally.counted += counted
            tally.created += created

    threads = [
        threading.Thread(target=client, args=(conn, targets))
        for conn, targets in zip(connections, work, strict=True)
    ]
    for thread in threads:
        thread.start()
    cpu, before = _cpu(), meter.snapshot()
    start = time.perf_counter() + warmup
    window.extend((start, start + seconds if passes is None else float("inf")))
    ready.wait()
    for thread in threads:
        thread.join()
    tally.cpu, tally.requests = _cpu() - cpu, tally.created
    _, tally.db_cpu = meter.used(before, meter.snapshot())
    return tally


# --- the run --------------------------------------------------------------------------------------


def p(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


@dataclass
class Level:
    accounts: int
    work: list[list[Target]]
    peak: list[float] = field(default_factory=list)
    direct: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p95: list[float] = field(default_factory=list)
    #: CPU per request at peak: server workers, PostgreSQL (HTTP), PostgreSQL (direct), client.
    server_ms: list[float] = field(default_factory=list)
    db_ms: list[float] = field(default_factory=list)
    direct_db_ms: list[float] = field(default_factory=list)
    client_ms: list[float] = field(default_factory=list)


def count_rows(targets: list[Target]) -> tuple[int, int]:
    """Messages in every account's schema, and ``message.created`` events in the outbox."""
    with db.engine.connect() as conn:
        messages = sum(
            conn.execution_options(schema_translate_map={None: schema}).scalar(
                select(func.count()).select_from(Message.__table__)
            )
            for schema in sorted({t.schema for t in targets})
        )
        events = conn.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.name == names.MESSAGE_CREATED)
        )
    return messages, events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="10,1000", help="accounts the traffic spreads over")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--rate", type=float, default=200, help="offered load, requests/s")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; figures are medians")
    parser.add_argument("--seconds", type=float, default=8, help="measured seconds per measure")
    parser.add_argument("--warmup", type=float, default=2, help="uncounted seconds first")
    parser.add_argument(
        "--warm-passes",
        type=int,
        default=3,
        help="passes over every conversation before measuring (each loads its tenant's "
        "tables into the caches of the database connection that serves it)",
    )
    parser.add_argument("--processes", default=None, help="gunicorn workers (default: config)")
    parser.add_argument("--threads", default=None, help="threads per worker (default: config)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: levels 10,100, 1 round of 2 s"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.levels, args.rounds, args.seconds, args.warmup = "10,100", 1, 2, 0.5
        args.warm_passes = 1
    levels = [int(level) for level in args.levels.split(",")]
    server_env = {
        name: value
        for name, value in (
            ("TURUMBA_WEB_PROCESSES", args.processes),
            ("TURUMBA_THREADS", args.threads),
        )
        if value is not None
    }

    with bench_app(access_token_ttl=24 * 3600) as app:
        most = max(levels)
        per_account = max(1, -(-args.clients // min(levels)))
        print(
            f"provisioning {most} accounts, {per_account} conversation(s) each ...",
            file=sys.stderr,
            flush=True,
        )
        started = time.perf_counter()
        targets = build_targets(app, most, per_account)
        print(f"  {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        dsn = app.extensions["turumba.config"].database_url.replace("+psycopg", "")
        with serve(app, **server_env) as server:
            return run(server, dsn, targets, levels, args)


def run(server: Server, dsn: str, targets: list[Target], levels: list[int], args) -> int:
    runs = {n: Level(n, spread(targets, n, args.clients)) for n in levels}
    connections = [psycopg.connect(dsn) for _ in range(args.clients)]
    try:
        return _measure(server, dsn, connections, targets, runs, args)
    finally:
        for conn in connections:
            conn.close()


def _measure(server, dsn, connections, targets, runs: dict[int, Level], args) -> int:
    """Warm both sides up, then take every measure of every level, ``--rounds`` times.

    Warm-up: a PostgreSQL connection loads a tenant's tables into its caches the first
    time it touches them (about 3 ms of database CPU per tenant and connection). The
    server's pooled connections each serve every account, so they take several passes
    over all conversations (each pass's rate is printed: the first one shows the cold
    cost); each direct connection serves its own conversations and takes one per level.
    """
    timing = {"seconds": args.seconds, "warmup": args.warmup}
    meter = Meter(server, dsn)
    created, committed = 0, 0
    for number in range(1, args.warm_passes + 1):
        started = time.perf_counter()
        warm = asyncio.run(
            closed_loop(server.url, runs[max(runs)].work, seconds=0, warmup=0, passes=1)
        )
        created += warm.created
        rate = warm.created / (time.perf_counter() - started)
        print(f"  warm-up pass {number}: {rate:,.0f} messages/s", file=sys.stderr, flush=True)
    for level in runs.values():
        committed += direct(
            connections, level.work, seconds=0, warmup=0, meter=meter, passes=1
        ).created

    def measures(level: Level) -> list[Callable[[], None]]:
        def peak() -> None:
            nonlocal created
            before = meter.snapshot()
            tally = asyncio.run(closed_loop(server.url, level.work, **timing))
            workers, backends = meter.used(before, meter.snapshot())
            created += tally.created
            level.peak.append(tally.counted / args.seconds)
            level.server_ms.append(workers / tally.requests * 1000)
            level.db_ms.append(backends / tally.requests * 1000)
            level.client_ms.append(tally.cpu / tally.requests * 1000)

        def baseline() -> None:
            nonlocal committed
            tally = direct(connections, level.work, **timing, meter=meter)
            committed += tally.created
            level.direct.append(tally.counted / args.seconds)
            level.direct_db_ms.append(tally.db_cpu / tally.requests * 1000)

        def latency() -> None:
            nonlocal created
            tally = asyncio.run(open_loop(server.url, level.work, rate=args.rate, **timing))
            created += tally.created
            level.p50.append(p(tally.latencies, 0.5))
            level.p95.append(p(tally.latencies, 0.95))

        return [peak, baseline, latency]

    order = random.Random(0)
    for attempt in range(1, args.rounds + 1):
        plan = [measure for level in runs.values() for measure in measures(level)]
        for measure in order.sample(plan, len(plan)):
            measure()
        figures = "; ".join(
            f"{n}: peak {r.peak[-1]:.0f}/s, direct {r.direct[-1]:.0f}/s, "
            f"p50 {r.p50[-1]:.1f} ms, p95 {r.p95[-1]:.1f} ms"
            for n, r in runs.items()
        )
        print(f"  round {attempt}: {figures}", file=sys.stderr, flush=True)

    messages, events = count_rows(targets)
    assert messages == events == created + committed, (
        f"{messages} messages and {events} events for {created} answers 201 "
        f"and {committed} direct commits"
    )
    return report(runs, args, checked=(messages, created, committed))


def report(runs: dict[int, Level], args, *, checked: tuple[int, int, int]) -> int:
    median = statistics.median
    print(
        f"\nPOST …/conversations/{{id}}/messages, {args.clients} clients over loopback, "
        f"median of {args.rounds} round(s) of {args.seconds:g} s"
    )
    header = (
        f"{'accounts':>8}  {'HTTP peak/s':>11}  {'direct/s':>9}  {'ratio':>5}  "
        f"{'p50 ms':>7}  {'p95 ms':>7}  {'CPU ms/msg: server':>18}  {'db':>5}  "
        f"{'direct db':>9}  {'client':>6}"
    )
    print(header)
    print("-" * len(header))
    passed = True
    peaks = {}
    for n, r in runs.items():
        peaks[n] = peak = median(r.peak)
        ratio, p95 = peak / median(r.direct), median(r.p95)
        passed &= peak >= TARGET_PEAK and ratio >= TARGET_RATIO and p95 <= TARGET_P95_MS
        print(
            f"{n:>8}  {peak:11,.0f}  {median(r.direct):9,.0f}  {ratio:5.2f}  "
            f"{median(r.p50):7.2f}  {p95:7.2f}  {median(r.server_ms):18.2f}  "
            f"{median(r.db_ms):5.2f}  {median(r.direct_db_ms):9.2f}  {median(r.client_ms):6.2f}"
        )
    messages, created, committed = checked
    print(
        f"p50/p95: at {args.rate:g} requests/s offered (open loop, timed from the due time). "
        f"direct: the same rows with psycopg, one transaction each, {args.clients} connections."
    )
    print(
        "CPU ms/msg at peak: gunicorn's workers, PostgreSQL's backends (for the API, then for "
        "direct), the load generator. The machine is shared: CPU per message holds when "
        "throughput drifts."
    )
    print(
        f"rows checked: {messages:,} messages = as many message.created events = "
        f"{created:,} answers 201 + {committed:,} direct commits"
    )
    low, high = min(peaks), max(peaks)
    print(
        f"targets: peak >= {TARGET_PEAK:,}/s and >= {TARGET_RATIO:.0%} of direct, "
        f"p95 <= {TARGET_P95_MS} ms: {'met' if passed else 'MISSED'}; "
        f"peak at {high:,} accounts = {peaks[high] / peaks[low]:.0%} of the peak at {low:,}"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
