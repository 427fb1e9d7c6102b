"""``flask worker`` runs real jobs from the configured Redis."""

from __future__ import annotations

from core.jobs import queue


def test_the_worker_command_processes_queued_jobs(app):
    with app.app_context():
        job = queue("default").enqueue("math.factorial", 6)
    result = app.test_cli_runner().invoke(args=["worker", "--burst", "default"])
    assert result.exit_code == 0, result.output
    job.refresh()
    assert job.is_finished
    assert job.return_value() == 720


def test_unknown_queues_are_refused(app):
    result = app.test_cli_runner().invoke(args=["worker", "--burst", "urgent"])
    assert result.exit_code != 0
    assert "unknown queue 'urgent'" in str(result.exception)
