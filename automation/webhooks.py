"""Signed webhooks: what the ``send_webhook`` action sends, and how it gets there.

The action only records a :class:`WebhookDelivery` (its body fixed at that moment) and a
timer due at once, in the rule's transaction: the rule holds the conversation's lock and
must not wait on somebody else's server. The timer, fired by the relay within a second,
enqueues the RQ job (:func:`send`) that POSTs the body and records the outcome. A
transient failure (no answer, a 5xx, 408 or 429) is retried with backoff by moving the
timer (:data:`BACKOFF`); any other answer is final. The timer stays pending until the
job settles the delivery, so a worker that dies mid-request loses nothing: the timer
comes due again after :data:`LEASE` and enqueues it anew.

Receivers check ``Turumba-Signature: t=<unix seconds>,v1=<hex>``: HMAC-SHA256 of
``"<t>.<body>"`` under the account's signing secret (``GET …/automation/signing-secret``),
and reject an old ``t`` against replays. After a rotation the previous secret signs as
well (a second ``v1``) for :data:`ROTATION_GRACE`, so receivers switch without a gap.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from audit.service import Actor, record_change
from automation.models import SigningKey, WebhookDelivery
from core.jobs import enqueue
from events import timers
from helpdesk.errors import NotFound
from tenants.db import utcnow
from tenants.hooks import after_commit
from tenants.registry import live_account
from tenants.session import tenant_session

TIMER = "automation.webhook"
TIMEOUT_SECONDS = 10
#: How long a queued attempt may take before its timer enqueues it again.
LEASE = timedelta(minutes=5)
#: The wait after each failed attempt; after the last one the delivery is given up.
BACKOFF = tuple(timedelta(seconds=s) for s in (30, 120, 600, 1800, 7200))
MAX_ATTEMPTS = len(BACKOFF) + 1
ROTATION_GRACE = timedelta(hours=24)
USER_AGENT = "Turumba-Webhooks/1"


class Refused(Exception):
    """The destination is not one a webhook may reach."""


# -- signing secrets ------------------------------------------------------------------


def _new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def current_key(session: Session) -> SigningKey:
    """The secret that signs now, made on first use (two first uses agree on one)."""
    session.execute(
        insert(SigningKey)
        .values(slot=1, secret=_new_secret(), created_at=utcnow())
        .on_conflict_do_nothing()
    )
    return session.scalar(select(SigningKey).where(SigningKey.slot == 1))


def _previous(session: Session, now: datetime) -> SigningKey | None:
    """The secret a rotation replaced, while its grace lasts."""
    previous = session.get(SigningKey, 2)
    if previous is None or previous.expires_at is None or previous.expires_at <= now:
        return None
    return previous


def signing_secrets(session: Session, now: datetime) -> list[str]:
    """Every secret that signs at ``now``: the current one, then the previous one."""
    keys = [current_key(session), _previous(session, now)]
    return [key.secret for key in keys if key is not None]


def secret_info(session: Session) -> dict[str, Any]:
    """What an admin sees: the current secret, and until when the previous one signs."""
    key = current_key(session)
    previous = _previous(session, utcnow())
    return {
        "secret": key.secret,
        "created_at": key.created_at,
        "previous_signs_until": previous.expires_at if previous else None,
    }


def rotate(session: Session, *, actor: Actor) -> None:
    """A new current secret; the one it replaces keeps signing for the grace period."""
    current_key(session)
    keys = SigningKey.__table__
    session.execute(select(keys.c.slot).where(keys.c.slot == 1).with_for_update())
    expires = utcnow() + ROTATION_GRACE
    session.execute(delete(keys).where(keys.c.slot == 2))
    session.execute(update(keys).where(keys.c.slot == 1).values(slot=2, expires_at=expires))
    session.execute(insert(keys).values(slot=1, secret=_new_secret(), created_at=utcnow()))
    record_change(
        session,
        actor=actor,
        action="automation_signing_key.rotated",
        target_type="automation_signing_key",
        target_id=None,
        after={"previous_expires_at": expires.isoformat()},
    )
    return session.scalar(
        select(SigningKey).where(SigningKey.slot == 1).execution_options(populate_existing=True)
    )


def signature(secrets_: list[str], timestamp: int, body: bytes) -> str:
    """The ``Turumba-Signature`` header value of ``body`` sent at ``timestamp``."""
    signed = f"{timestamp}.".encode() + body
    digests = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets_]
    return ",".join([f"t={timestamp}", *(f"v1={digest}" for digest in digests)])


# -- queueing ---------------------------------------------------------------------------


def queue_delivery(
    session: Session,
    *,
    account_id: uuid.UUID,
    url: str,
    payload: dict[str, Any],
    rule_id: uuid.UUID | None,
    event_id: uuid.UUID | None,
    event_name: str,
    conversation_id: uuid.UUID | None,
) -> WebhookDelivery:
    """Record a delivery of ``payload`` to ``url``; it is sent once the caller commits."""
    delivery_id = uuid.uuid4()
    delivery = WebhookDelivery(
        id=delivery_id,
        rule_id=rule_id,
        event_id=event_id,
        event_name=event_name,
        conversation_id=conversation_id,
        url=url,
        payload={"id": str(delivery_id), **payload},
        status="pending",
        attempts=0,
        created_at=utcnow(),
    )
    session.add(delivery)
    session.flush()
    _due(session, account_id, delivery.id, utcnow())
    return delivery


def _due(
    session: Session, account_id: uuid.UUID, delivery_id: uuid.UUID, at: datetime | None
) -> None:
    """The delivery's next attempt at ``at``; None: it is settled, nothing to wait for."""
    timers.plan(session, account_id=account_id, kind=TIMER, subject_id=delivery_id, due_at=at)


def redeliver(
    session: Session, delivery_id: uuid.UUID, *, account_id: uuid.UUID
) -> WebhookDelivery:
    """Send a delivery again (a failed one, after fixing the receiver), from attempt one."""
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise NotFound("delivery_not_found", "No such webhook delivery.")
    delivery.status, delivery.attempts, delivery.error = "pending", 0, None
    delivery.finished_at = None
    session.flush()
    _due(session, account_id, delivery.id, utcnow())
    return delivery


@timers.handler(TIMER)
def _timer_fired(session: Session, timer: timers.Timer, now: datetime) -> None:
    """Hand the attempt to a worker, and come back after the lease in case it dies."""
    delivery = session.get(WebhookDelivery, timer.subject_id)
    if delivery is None or delivery.status != "pending":
        return
    _due(session, timer.account_id, delivery.id, now + LEASE)
    args = {"account_id": str(timer.account_id), "delivery_id": str(delivery.id)}
    after_commit(session, lambda: enqueue(send, retry=None, **args))


# -- sending ----------------------------------------------------------------------------


def check_destination(url: str, *, allow_private: bool) -> None:
    """Refuse what is not an http(s) URL, and (unless allowed) hosts that resolve to a
    private, loopback, link-local or otherwise internal address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("not an http(s) URL")
    if allow_private:
        return
    try:
        found = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise OSError(f"cannot resolve {parts.hostname}: {exc}") from exc
    for *_, address in found:
        ip = ipaddress.ip_address(address[0])
        if not ip.is_global or ip.is_multicast:
            raise Refused(f"{parts.hostname} resolves to an internal address ({ip})")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is an answer, not a detour
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST and return the HTTP status (any status: errors are answers too)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _transient(status: int) -> bool:
    return status >= 500 or status in (408, 429)


def send(account_id: str, delivery_id: str) -> str:
    """The job: one attempt at a pending delivery; returns its status afterwards."""
    account = live_account(uuid.UUID(account_id))
    if account is None:
        return "gone"
    with tenant_session(account) as session:
        delivery = session.scalar(
            select(WebhookDelivery)
            .where(WebhookDelivery.id == uuid.UUID(delivery_id))
            .with_for_update(skip_locked=True)
        )
        if delivery is None or delivery.status != "pending":
            return delivery.status if delivery else "gone"  # settled, or being tried
        now = utcnow()
        body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Turumba-Delivery": str(delivery.id),
            "Turumba-Event": delivery.event_name,
            "Turumba-Signature": signature(signing_secrets(session, now), int(time.time()), body),
        }
        delivery.attempts += 1
        status, error, again = None, None, False
        try:
            check_destination(delivery.url, allow_private=_allow_private())
            status = _post(delivery.url, body, headers)
            if not 200 <= status < 300:
                error, again = f"the receiver answered {status}", _transient(status)
        except Refused as exc:
            error = f"refused: {exc}"
        except OSError as exc:  # no connection, a timeout, no DNS answer
            error, again = f"{type(exc).__name__}: {exc}"[:500], True
        delivery.response_status, delivery.error = status, error
        retry_at = None
        if again and delivery.attempts < MAX_ATTEMPTS:
            retry_at = now + BACKOFF[delivery.attempts - 1]
        else:
            delivery.status = "failed" if error else "delivered"
            delivery.finished_at = now
            if error and again:
                delivery.error = f"given up after {delivery.attempts} attempts; {error}"[:500]
        _due(session, account.id, delivery.id, retry_at)
        return delivery.status


def _allow_private() -> bool:
    return current_app.extensions["turumba.config"].webhook_allow_private
