"""Signed webhooks and muting, end to end: a rule's ``send_webhook`` reaches a real HTTP
receiver on loopback through the timer and a real RQ worker; failures are retried with
backoff or given up; the signature verifies under the account's secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from automation.models import WebhookDelivery
from automation.webhooks import BACKOFF, LEASE, MAX_ATTEMPTS, TIMER, Refused, check_destination
from core.jobs import queue
from tenants.db import utcnow
from tenants.registry import registry
from tenants.session import tenant_session

from .test_automation_engine import conversation, rule, runs
from .test_conversations import setup_desk
from .test_inbox import make
from .test_reading import inbound
from .test_sla import fire_at, pending_timer


class Receiver:
    """An HTTP server that answers the statuses it is told to, in turn, and keeps what
    it received."""

    def __init__(self) -> None:
        self.answers: list[int] = []
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.answers.pop(0) if receiver.answers else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.server.shutdown()


def hooked(client, member, url, **fields):
    return rule(
        client,
        member,
        name="Tell the CRM",
        actions=[{"type": "send_webhook", "params": {"url": url}}],
        **fields,
    )


def deliveries(app, member) -> list[WebhookDelivery]:
    account = uuid.UUID(member.account_id)
    with app.app_context(), tenant_session(registry().get(account)) as session:
        found = list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at)))
        session.expunge_all()
        return found


def verified(secret: str, received: dict) -> bool:
    fields = [part.split("=", 1) for part in received["headers"]["Turumba-Signature"].split(",")]
    timestamp = next(value for key, value in fields if key == "t")
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + received["body"], hashlib.sha256
    ).hexdigest()
    return any(key == "v1" and hmac.compare_digest(value, expected) for key, value in fields)


def secret(client, member) -> dict:
    response = client.get(member.url("/automation/signing-secret"), headers=member.headers)
    assert response.status_code == 200, response.json
    return response.json


def send_due(app, run_jobs, at=None):
    """Pass the scheduler at ``at`` (default: now), then let the worker send."""
    fire_at(app, at or utcnow())
    run_jobs()


def test_a_rule_posts_the_event_signed_and_logs_the_delivery(
    app, client, settle, run_jobs, account, receiver
):
    made = hooked(client, account, receiver.url)
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    inbound(client, account, conversation_id, body="Where is my order?")
    settle()
    (pending,) = deliveries(app, account)
    assert pending.status == "pending" and receiver.received == []  # not sent in the rule
    (run,) = runs(app, account)
    assert run.actions[0]["outcome"] == "done"
    assert run.actions[0]["delivery_id"] == str(pending.id)

    send_due(app, run_jobs)
    (sent,) = receiver.received
    body = json.loads(sent["body"])
    assert body["id"] == str(pending.id) and body["type"] == "message.created"
    assert body["rule"] == {"id": made["id"], "name": "Tell the CRM", "version": 1}
    assert body["data"]["message"]["body"] == "Where is my order?"
    assert body["data"]["conversation"]["id"] == conversation_id
    assert sent["headers"]["Turumba-Delivery"] == str(pending.id)
    assert sent["headers"]["Turumba-Event"] == "message.created"
    assert verified(secret(client, account)["secret"], sent)
    (delivered,) = deliveries(app, account)
    assert delivered.status == "delivered" and delivered.attempts == 1
    assert delivered.response_status == 200
    assert pending_timer(app, account, str(pending.id), kind=TIMER) is None
    listed = client.get(
        account.url("/automation/webhook-deliveries?filter=status:eq:delivered"),
        headers=account.headers,
    ).json["items"]
    assert [d["id"] for d in listed] == [str(pending.id)]


def test_transient_failures_are_retried_with_backoff(
    app, client, settle, run_jobs, account, receiver
):
    receiver.answers = [503, 429]
    hooked(client, account, receiver.url)
    channel_id, contact_id = setup_desk(client, account)
    inbound(client, account, make(client, account, channel_id, contact_id), body="Hi")
    settle()
    send_due(app, run_jobs)
    (delivery,) = deliveries(app, account)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 1, 503)
    retry_at = pending_timer(app, account, str(delivery.id), kind=TIMER)
    assert retry_at - utcnow() > BACKOFF[0] - timedelta(seconds=5)
    send_due(app, run_jobs, utcnow() + timedelta(seconds=5))  # not yet
    assert len(receiver.received) == 1
    send_due(app, run_jobs, retry_at)
    send_due(app, run_jobs, pending_timer(app, account, str(delivery.id), kind=TIMER))
    assert len(receiver.received) == 3
    (delivery,) = deliveries(app, account)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 3, 200)
    assert len({r["headers"]["Turumba-Delivery"] for r in receiver.received}) == 1


def test_a_refusal_is_final_and_endless_failures_are_given_up(
    app, client, settle, run_jobs, account, receiver
):
    receiver.answers = [400] + [500] * MAX_ATTEMPTS
    hooked(client, account, receiver.url)
    channel_id, contact_id = setup_desk(client, account)
    first = make(client, account, channel_id, contact_id)
    inbound(client, account, first, body="One")
    settle()
    send_due(app, run_jobs)
    (refused,) = deliveries(app, account)
    assert (refused.status, refused.attempts) == ("failed", 1)
    assert refused.error == "the receiver answered 400"

    inbound(client, account, make(client, account, channel_id, contact_id), body="Two")
    settle()
    moment = utcnow()
    for _ in range(MAX_ATTEMPTS):
        send_due(app, run_jobs, moment)
        moment += timedelta(days=1)
    failing = deliveries(app, account)[1]
    assert (failing.status, failing.attempts) == ("failed", MAX_ATTEMPTS)
    assert failing.error.startswith(f"given up after {MAX_ATTEMPTS} attempts")
    send_due(app, run_jobs, moment + timedelta(days=30))
    assert len(receiver.received) == 1 + MAX_ATTEMPTS

    receiver.answers = []
    again = client.post(
        account.url(f"/automation/webhook-deliveries/{failing.id}/redeliver"),
        headers=account.headers,
    )
    assert again.status_code == 202 and again.json["attempts"] == 0
    send_due(app, run_jobs)
    assert deliveries(app, account)[1].status == "delivered"


def test_a_lost_job_is_sent_again_after_the_lease(app, client, settle, run_jobs, account, receiver):
    hooked(client, account, receiver.url)
    channel_id, contact_id = setup_desk(client, account)
    inbound(client, account, make(client, account, channel_id, contact_id), body="Hi")
    settle()
    fire_at(app, utcnow())
    with app.app_context():
        assert queue("default").count == 1
        queue("default").empty()  # the worker died with it
    send_due(app, run_jobs, utcnow() + LEASE - timedelta(seconds=5))
    assert receiver.received == []
    send_due(app, run_jobs, utcnow() + LEASE + timedelta(seconds=5))
    assert len(receiver.received) == 1
    assert deliveries(app, account)[0].status == "delivered"


def test_rotation_signs_with_both_secrets_for_a_day(
    app, client, settle, run_jobs, account, other_account, receiver
):
    before = secret(client, account)
    assert before["secret"].startswith("whsec_") and before["previous_signs_until"] is None
    assert secret(client, account)["secret"] == before["secret"]  # stable
    assert secret(client, other_account)["secret"] != before["secret"]
    rotated = client.post(account.url("/automation/signing-secret/rotate"), headers=account.headers)
    assert rotated.status_code == 200 and rotated.json["secret"] != before["secret"]
    assert rotated.json["previous_signs_until"] is not None
    hooked(client, account, receiver.url)
    channel_id, contact_id = setup_desk(client, account)
    inbound(client, account, make(client, account, channel_id, contact_id), body="Hi")
    settle()
    send_due(app, run_jobs)
    (sent,) = receiver.received
    assert sent["headers"]["Turumba-Signature"].count("v1=") == 2
    assert verified(rotated.json["secret"], sent) and verified(before["secret"], sent)
    assert not verified(secret(client, other_account)["secret"], sent)


def test_internal_destinations_are_refused_unless_allowed(make_app, account):
    for url in ("http://127.0.0.1:9/x", "http://localhost/x", "http://[::1]/x", "ftp://a.example"):
        with pytest.raises(Refused):
            check_destination(url, allow_private=False)
    check_destination("http://127.0.0.1:9/x", allow_private=True)
    strict = make_app(webhook_allow_private=False).test_client()
    answer = strict.post(
        account.url("/automation/rules"),
        json={
            "name": "Inside",
            "events": ["message.created"],
            "actions": [{"type": "send_webhook", "params": {"url": "http://10.0.0.5/hook"}}],
        },
        headers=account.headers,
    )
    assert answer.status_code == 422
    assert "actions/0/params/url" in answer.json["errors"]


def test_another_account_cannot_see_or_redeliver_them(
    app, client, settle, run_jobs, account, other_account, agent, receiver
):
    hooked(client, account, receiver.url)
    channel_id, contact_id = setup_desk(client, account)
    inbound(client, account, make(client, account, channel_id, contact_id), body="Hi")
    settle()
    (delivery,) = deliveries(app, account)
    theirs = client.get(
        other_account.url("/automation/webhook-deliveries"), headers=other_account.headers
    )
    assert theirs.status_code == 200 and theirs.json["items"] == []
    redone = client.post(
        other_account.url(f"/automation/webhook-deliveries/{delivery.id}/redeliver"),
        headers=other_account.headers,
    )
    assert redone.status_code == 404
    # An agent reads the log but never the secret.
    assert client.get(account.url("/automation/webhook-deliveries"), headers=agent.headers).json[
        "items"
    ]
    assert (
        client.get(account.url("/automation/signing-secret"), headers=agent.headers).status_code
        == 403
    )


def test_a_rule_mutes_the_conversation(app, client, settle, account):
    rule(
        client,
        account,
        conditions={"in_ci": ["unsubscribe", {"var": "message.body"}]},
        actions=[{"type": "mute", "params": {}}, {"type": "resolve", "params": {}}],
    )
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    inbound(client, account, conversation_id, body="UNSUBSCRIBE me")
    settle()
    after = conversation(client, account, conversation_id)
    assert after["muted"] is True and after["status"] == "resolved"
    inbound(client, account, conversation_id, body="still there?")
    settle()
    assert conversation(client, account, conversation_id)["status"] == "resolved"
    assert [r.actions[0]["outcome"] for r in runs(app, account)] == ["done"]
