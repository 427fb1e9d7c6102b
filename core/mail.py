"""Outgoing email: queued as an RQ job, delivered over SMTP with retries.

Configured by ``TURUMBA_SMTP_URL``: ``smtp://[user:password@]host[:port][?starttls=true]``,
``smtps://…`` for implicit TLS, or ``file:///folder`` to write each message to an
``.eml`` file there (the dev runner's default, so a developer can read what was sent).
"""

from __future__ import annotations

import smtplib
import ssl
import time
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app
from sqlalchemy.orm import Session

from core.jobs import enqueue
from tenants.hooks import after_commit


class MailNotConfigured(RuntimeError):
    pass


def compose(*, to: str, subject: str, text: str, html: str | None, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip(">") or None)
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def deliver(to: str, subject: str, text: str, html: str | None = None) -> str:
    """The job: build the message and hand it to the configured transport."""
    config = current_app.extensions["turumba.config"]
    if not config.smtp_url:
        raise MailNotConfigured("TURUMBA_SMTP_URL is not set")
    message = compose(to=to, subject=subject, text=text, html=html, sender=config.mail_from)
    url = urlsplit(config.smtp_url)
    if url.scheme == "file":
        folder = Path(unquote(url.path))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(message.as_bytes())
        return str(message["Message-ID"])
    options = parse_qs(url.query)
    implicit_tls = url.scheme == "smtps"
    client_class = smtplib.SMTP_SSL if implicit_tls else smtplib.SMTP
    port = url.port or (465 if implicit_tls else 25)
    with client_class(url.hostname or "localhost", port, timeout=30) as client:
        if options.get("starttls", ["false"])[0].lower() in {"1", "true", "yes"}:
            client.starttls(context=ssl.create_default_context())
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)
    return str(message["Message-ID"])


def send_email(
    session: Session, *, to: str, subject: str, text: str, html: str | None = None
) -> None:
    """Queue a message once ``session`` commits (a rollback sends nothing)."""
    after_commit(session, lambda: enqueue(deliver, to, subject, text, html))
