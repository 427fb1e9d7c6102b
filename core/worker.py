"""``flask worker``: an RQ worker running inside the application context.

Jobs run one after the other in the worker's own process (RQ's ``SimpleWorker``), each in
an application context of its own, so what one job leaves in ``flask.g`` or
``db.session`` is gone before the next. What the process keeps from job to job is what
makes a job cheap: pooled database connections (with PostgreSQL's caches of each
tenant's tables), the account registry, each account's rules and their compiled
conditions. RQ's default worker forks a process per job and throws all of that away
every time: with one job per event, ``bench/automation.py`` delivered 16 events a second
that way and 88 in process, with the same two workers.

``--fork`` runs each job in a forked process instead, for work that must not take the
worker down with it (a crash in a C extension, a leak): isolation at that price.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from rq import SimpleWorker, Worker
from rq.job import Job
from rq.queue import Queue
from rq.serializers import JSONSerializer

from core.jobs import QUEUES, queue
from core.redis import redis_client


class AppWorker(SimpleWorker):
    """Runs each job in its process, inside a fresh application context."""

    def execute_job(self, job: Job, queue: Queue) -> None:
        with current_app.app_context():
            super().execute_job(job, queue)


@click.command("worker")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
@click.option("--fork", is_flag=True, help="Run each job in a forked process (slower).")
@with_appcontext
def worker_command(queues: tuple[str, ...], burst: bool, fork: bool) -> None:
    """Process jobs from QUEUES (default: high, default, low)."""
    worker = (Worker if fork else AppWorker)(
        [queue(name) for name in queues or QUEUES],
        connection=redis_client(),
        serializer=JSONSerializer,
    )
    worker.work(burst=burst, with_scheduler=not burst)
