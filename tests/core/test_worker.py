"""``flask worker`` runs real jobs from the configured Redis."""

from __future__ import annotations

import os

from flask import g

from core.jobs import queue


def where_am_i() -> list:
    """A job: its process, and whether an earlier job's leftovers were still in ``g``."""
    found = hasattr(g, "left_behind")
    g.left_behind = True
    return [os.getpid(), found]


def test_the_worker_command_processes_queued_jobs(app):
    with app.app_context():
        job = queue("default").enqueue("math.factorial", 6)
    result = app.test_cli_runner().invoke(args=["worker", "--burst", "default"])
    assert result.exit_code == 0, result.output
    job.refresh()
    assert job.is_finished
    assert job.return_value() == 720


def test_jobs_run_in_the_worker_process_each_in_a_fresh_app_context(app):
    with app.app_context():
        jobs = [queue("default").enqueue(where_am_i) for _ in range(2)]
    result = app.test_cli_runner().invoke(args=["worker", "--burst", "default"])
    assert result.exit_code == 0, result.output
    assert [job.return_value() for job in jobs] == [[os.getpid(), False]] * 2


def test_with_fork_each_job_runs_in_a_process_of_its_own(app):
    with app.app_context():
        jobs = [queue("default").enqueue(where_am_i) for _ in range(2)]
    result = app.test_cli_runner().invoke(args=["worker", "--burst", "--fork", "default"])
    assert result.exit_code == 0, result.output
    (first, _), (second, _) = (job.return_value() for job in jobs)
    assert len({first, second, os.getpid()}) == 3


def test_unknown_queues_are_refused(app):
    result = app.test_cli_runner().invoke(args=["worker", "--burst", "urgent"])
    assert result.exit_code != 0
    assert "unknown queue 'urgent'" in str(result.exception)
