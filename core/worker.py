"""``flask worker``: an RQ worker running inside the application context."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from rq import Worker
from rq.serializers import JSONSerializer

from core.jobs import QUEUES, queue
from core.redis import redis_client


@click.command("worker")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
@with_appcontext
def worker_command(queues: tuple[str, ...], burst: bool) -> None:
    """Process jobs from QUEUES (default: high, default, low)."""
    worker = Worker(
        [queue(name) for name in queues or QUEUES],
        connection=redis_client(),
        serializer=JSONSerializer,
    )
    worker.work(burst=burst, with_scheduler=not burst)
