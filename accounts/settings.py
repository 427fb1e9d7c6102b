"""Account settings: the registry name plus the tenant's presentation settings.

Every change is audited with the changed fields before and after; a name change
reaches every process's registry cache once the transaction commits.
"""

from __future__ import annotations

import re
import uuid
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy.orm import Session

from accounts.models import DEFAULT_LOCALE, DEFAULT_TIMEZONE, AccountSettings
from audit.service import Actor, changes, record
from tenants.hooks import after_commit
from tenants.models import Account
from tenants.registry import registry

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FIELDS = ("name", "logo_url", "timezone", "locale", "business_hours")
_TIME = re.compile(r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")
#: language[-Script][-REGION]: "en", "pt-BR", "zh-Hant-TW", "es-419".
_LOCALE = re.compile(r"^([a-z]{2,3})(?:-([a-z]{4}))?(?:-([a-z]{2}|[0-9]{3}))?$", re.IGNORECASE)


class InvalidSettings(ValueError):
    """Some settings are not acceptable; ``errors`` maps each field to its messages."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__("invalid settings")
        self.errors = errors


def normalise_timezone(name: str) -> str:
    if name not in available_timezones():
        try:  # aliases such as "UTC" are not always listed but do load
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Paris)") from exc
    return name


def normalise_locale(tag: str) -> str:
    match = _LOCALE.fullmatch(tag.replace("_", "-"))
    if match is None:
        raise ValueError(f"{tag!r} is not a language tag (e.g. en, pt-BR, zh-Hant-TW)")
    language, script, region = match.groups()
    parts = [language.lower()]
    if script:
        parts.append(script.title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def normalise_business_hours(hours: dict[str, Any]) -> tuple[dict[str, list], dict[str, list]]:
    """``(normalised, errors)``: intervals sorted per weekday; errors keyed by weekday."""
    normalised: dict[str, list] = {}
    errors: dict[str, list] = {}
    for day, intervals in hours.items():
        if day not in WEEKDAYS:
            errors[day] = [f"not a weekday; use {', '.join(WEEKDAYS)}"]
            continue
        problems = []
        spans = []
        for interval in intervals:
            start, end = interval.get("start", ""), interval.get("end", "")
            if not _TIME.match(start) or not _TIME.match(end) or start == "24:00":
                problems.append(f"{start}-{end}: times are HH:MM between 00:00 and 24:00")
            elif _minutes(start) >= _minutes(end):
                problems.append(f"{start}-{end}: the start must be before the end")
            else:
                spans.append((start, end))
        spans.sort(key=lambda span: _minutes(span[0]))
        for (s1, e1), (s2, e2) in pairwise(spans):
            if _minutes(s2) < _minutes(e1):
                problems.append(f"{s1}-{e1} overlaps {s2}-{e2}")
        if problems:
            errors[day] = problems
        elif spans:
            normalised[day] = [{"start": s, "end": e} for s, e in spans]
    ordered = {day: normalised[day] for day in WEEKDAYS if day in normalised}
    return ordered, errors


def current_settings(session: Session) -> AccountSettings:
    """The active account's settings row (defaults until first saved; not added)."""
    return session.get(AccountSettings, 1) or AccountSettings(
        id=1, timezone=DEFAULT_TIMEZONE, locale=DEFAULT_LOCALE
    )


def describe(session: Session, account_id: uuid.UUID) -> dict[str, Any]:
    account = session.get(Account, account_id)
    settings = current_settings(session)
    return {
        "name": account.name,
        "logo_url": settings.logo_url,
        "timezone": settings.timezone,
        "locale": settings.locale,
        "business_hours": settings.business_hours or {},
        "updated_at": settings.updated_at,
    }


def validate(changes_: dict[str, Any]) -> dict[str, Any]:
    """The changes normalised, or :class:`InvalidSettings` naming every bad field."""
    values = dict(changes_)
    errors: dict[str, Any] = {}
    for field, normalise in (("timezone", normalise_timezone), ("locale", normalise_locale)):
        if values.get(field) is not None:
            try:
                values[field] = normalise(values[field])
            except ValueError as exc:
                errors[field] = [str(exc)]
    if values.get("business_hours") is not None:
        values["business_hours"], hour_errors = normalise_business_hours(values["business_hours"])
        if hour_errors:
            errors["business_hours"] = hour_errors
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not values["name"]:
            errors["name"] = ["the name cannot be blank"]
    if errors:
        raise InvalidSettings(errors)
    return values


def update_settings(
    session: Session, *, account_id: uuid.UUID, actor: Actor, **changes_: Any
) -> dict[str, Any]:
    """Apply ``changes_`` (any of :data:`FIELDS`) to the active account; audited."""
    values = validate(changes_)
    before = describe(session, account_id)
    account = session.get(Account, account_id)
    settings = current_settings(session)
    for field, value in values.items():
        if field == "name":
            account.name = value
        elif field in ("timezone", "locale") and value is None:
            setattr(settings, field, DEFAULT_TIMEZONE if field == "timezone" else DEFAULT_LOCALE)
        else:
            setattr(settings, field, value)
    session.add(settings)
    session.flush()
    after = describe(session, account_id)
    old, new = changes(
        {k: before[k] for k in FIELDS if k in values}, {k: after[k] for k in FIELDS if k in values}
    )
    if new:
        record(
            session,
            actor=actor,
            action="settings.updated",
            target_type="account",
            target_id=account_id,
            before=old,
            after=new,
        )
    if "name" in new:
        reg = registry()
        after_commit(session, lambda: reg.invalidate(account_id))
    return after
