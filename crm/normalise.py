"""How a contact's email and phone are written down, so equal ones compare equal.

Phones become E.164 (``+14155550123``), parsed with the account's country as the
default region when its locale names one (``en-GB`` → ``GB``), else only numbers in
international format (``+`` and the country code) are understood. Emails are checked
for syntax only (no DNS look-up) and lower-cased whole.
"""

from __future__ import annotations

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


def normalise_email(value: str) -> str:
    """``value`` checked (syntax only, no DNS) and lower-cased."""
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidValue(str(exc)) from exc
    return checked.normalized.lower()
