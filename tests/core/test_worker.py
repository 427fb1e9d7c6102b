"""``flask worker`` runs real jobs from the configured Redis."""

from __future__ import annotations

from rq import Queue

from core.redis import redis_client


def test_the_worker_command_processes_queued_jobs(app):
    with app.app_context():
        queue = Queue("default", connection=redis_client())
        job = queue.enqueue("math.factorial", 6)
    result = app.test_cli_runner().invoke(args=["worker", "--burst", "default"])
    assert result.exit_code == 0, result.output
    job.refresh()
    assert job.is_finished
    assert job.return_value() == 720
