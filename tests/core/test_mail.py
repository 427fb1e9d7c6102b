"""Email goes through a queued job to a real SMTP server (or the file outbox)."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as default_policy

import pytest

from core.mail import MailNotConfigured, deliver, send_email
from tenants.db import db


def test_a_committed_message_is_delivered_by_the_worker(app, mailbox, run_jobs):
    with app.app_context():
        send_email(
            db.session,
            to="ada@example.test",
            subject="Welcome",
            text="Hello Ada",
            html="<p>Hello <b>Ada</b></p>",
        )
        db.session.commit()
    run_jobs()
    message = mailbox.last_to("ada@example.test")
    assert message["Subject"] == "Welcome"
    assert message["From"] == app.extensions["turumba.config"].mail_from
    assert message.get_body(("plain",)).get_content().strip() == "Hello Ada"
    assert "<b>Ada</b>" in message.get_body(("html",)).get_content()


def test_a_rolled_back_message_is_never_sent(app, mailbox, run_jobs):
    with app.app_context():
        send_email(db.session, to="nobody@example.test", subject="Nope", text="x")
        db.session.rollback()
    run_jobs()
    assert mailbox.to("nobody@example.test") == []


def test_the_file_outbox_keeps_each_message(make_app, tmp_path):
    app = make_app(smtp_url=f"file://{tmp_path}/outbox")
    with app.app_context():
        deliver("grace@example.test", "Hi", "Plain body")
    (path,) = (tmp_path / "outbox").iterdir()
    message = message_from_bytes(path.read_bytes(), policy=default_policy)
    assert message["To"] == "grace@example.test"
    assert message.get_content().strip() == "Plain body"


def test_an_unreachable_server_fails_the_job_so_rq_retries_it(make_app):
    app = make_app(smtp_url="smtp://127.0.0.1:9")
    with app.app_context(), pytest.raises(OSError):
        deliver("x@example.test", "Hi", "body")


def test_delivery_without_configuration_is_an_error(make_app):
    with make_app(smtp_url="").app_context(), pytest.raises(MailNotConfigured):
        deliver("x@example.test", "Hi", "body")
