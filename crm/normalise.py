"""How a contact's email and phone are written down, so equal ones compare equal.

Phones become E.164 (``+14155550123``), parsed with the account's country as the
default region when its locale names one (``en-GB`` → ``GB``), else only numbers in
international format (``+`` and the country code) are understood. Emails are checked
for syntax only (no DNS look-up) and lower-cased whole.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from accounts.settings import current_settings

#: What a number must look like when no default region helps to read it.
INTERNATIONAL_HINT = "in international format, + and the country code (e.g. +14155550123)"


class InvalidValue(ValueError):
    """The value cannot be read as what its field holds; the message says why."""


def account_region(session: Session) -> str | None:
    """The active account's country for reading phone numbers, from its locale's region."""
    _, _, region = current_settings(session).locale.partition("-")
    region = region.rpartition("-")[2].upper()  # "zh-Hant-TW" → "TW"
    return region if region in phonenumbers.SUPPORTED_REGIONS else None


def normalise_phone(value: str, *, region: str | None = None) -> str:
    """``value`` in E.164, read as a number of ``region`` unless it starts with ``+``."""
    hint = (
        f"give a valid {region} number, or one {INTERNATIONAL_HINT}"
        if region
        else f"give the number {INTERNATIONAL_HINT}"
    )
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidValue(f"not a phone number; {hint}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue(f"not a valid phone number; {hint}")
    if number.extension:
        raise InvalidValue("extensions are not supported; give the number without one")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


#: The usual address: a plain ASCII local part (RFC 5322's dot-atom, which email-validator
#: keeps as it is) and an ASCII domain, at most 254 characters in all.
_PLAIN = re.compile(
    r"(?=.{1,254}\Z)([A-Za-z0-9_!#$%&'*+\-/=?^`{|}~]+(?:\.[A-Za-z0-9_!#$%&'*+\-/=?^`{|}~]+)*)"
    r"@([A-Za-z0-9.\-]+)",
    re.DOTALL,
)


def normalise_email(value: str) -> str:
    """``value`` checked (syntax only, no DNS) and lower-cased.

    What email-validator says, sooner: most of its time goes on the domain, which a
    contact list repeats (an import of 100,000 addresses has a few hundred domains), so
    a plain address has only its domain checked, once per domain (:func:`_domain`); any
    other address goes through email-validator whole."""
    value = value.strip()
    plain = _PLAIN.fullmatch(value)
    if plain and (domain := _domain(plain[2])) is not None:
        return f"{plain[1]}@{domain}".lower()
    return _validated(value)


def _validated(value: str) -> str:
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidValue(str(exc)) from exc
    return checked.normalized.lower()


@functools.lru_cache(maxsize=4096)
def _domain(domain: str) -> str | None:
    """``domain`` as email-validator writes it, or None when it refuses it."""
    try:
        return validate_email(f"a@{domain}", check_deliverability=False).domain
    except EmailNotValidError:
        return None
