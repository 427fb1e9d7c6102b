"""The texts of identity emails, each as plain text and HTML (names are escaped)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


def link(public_url: str, path: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/{path}?{urlencode({'token': token})}"


def _hours(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "1 hour" if hours == 1 else f"{hours} hours"
    minutes = max(1, seconds // 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _html(*paragraphs: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f'<!doctype html><html><body style="font-family:sans-serif">{body}</body></html>'


def verify_email(*, name: str, url: str, code: str, ttl: int) -> Email:
    valid = _hours(ttl)
    text = (
        f"Hello {name},\n\n"
        "Please confirm that this is your email address by opening this link:\n\n"
        f"{url}\n\n"
        f"or by entering this code in Turumba: {code}\n\n"
        f"The link and the code work once, for {valid}. If you did not sign up for "
        "Turumba, ignore this message.\n"
    )
    html = _html(
        f"Hello {escape(name)},",
        "Please confirm that this is your email address:",
        f'<a href="{escape(url)}">Verify my email address</a>',
        f"or enter this code in Turumba: <b>{escape(code)}</b>",
        f"The link and the code work once, for {valid}. If you did not sign up for "
        "Turumba, ignore this message.",
    )
    return Email("Verify your email address", text, html)


def reset_password(*, name: str, url: str, ttl: int) -> Email:
    valid = _hours(ttl)
    text = (
        f"Hello {name},\n\n"
        "Somebody (hopefully you) asked to reset your Turumba password. Choose a new "
        "one here:\n\n"
        f"{url}\n\n"
        f"The link works once, for {valid}. If you did not ask, ignore this message: "
        "your password stays as it is.\n"
    )
    html = _html(
        f"Hello {escape(name)},",
        "Somebody (hopefully you) asked to reset your Turumba password.",
        f'<a href="{escape(url)}">Choose a new password</a>',
        f"The link works once, for {valid}. If you did not ask, ignore this message: "
        "your password stays as it is.",
    )
    return Email("Reset your password", text, html)


def password_changed(*, name: str, public_url: str) -> Email:
    text = (
        f"Hello {name},\n\n"
        "Your Turumba password was just changed, and every device signed in with the "
        "old one has been signed out.\n\n"
        "If this was not you, reset your password right away at "
        f"{public_url.rstrip('/')}/forgot-password and contact support.\n"
    )
    html = _html(
        f"Hello {escape(name)},",
        "Your Turumba password was just changed, and every device signed in with the "
        "old one has been signed out.",
        "If this was not you, "
        f'<a href="{escape(public_url.rstrip("/"))}/forgot-password">reset your password</a> '
        "right away and contact support.",
    )
    return Email("Your password was changed", text, html)
