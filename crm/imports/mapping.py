"""Which column of the file goes into which field of a contact.

A mapping is ``{header: target}`` for every header of the file; a target is one of
:data:`STANDARD` (``tags``: names separated by ``,`` or ``;``) or
``custom_fields.<key>`` for one of the account's contact custom fields, and ``None``
leaves the column out. :func:`suggest` proposes one from the header names, compared
ignoring case, spacing and punctuation (``E-mail``, ``e_mail`` and ``EMAIL`` are one
name), in this order of precedence: a target's own name (``custom_fields.plan`` as the
export writes it included), a custom field's key or label, then common synonyms
(``Mobile``, ``Full name``, ``Organisation``…). A target goes to the first column that
asks for it; columns matching nothing are suggested as ignored and reported as unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crm.custom_fields import CustomFieldDefinition
from crm.export import CUSTOM_PREFIX

STANDARD = ("name", "email", "phone", "company", "tags")
SYNONYMS = {
    "name": (
        "fullname",
        "contactname",
        "contact",
        "displayname",
        "customername",
        "customer",
        "person",
    ),
    "email": ("emailaddress", "mail", "mailaddress", "emailid"),
    "phone": (
        "phonenumber",
        "mobile",
        "mobilephone",
        "mobilenumber",
        "cell",
        "cellphone",
        "cellnumber",
        "telephone",
        "telephonenumber",
        "tel",
        "msisdn",
        "whatsapp",
    ),
    "company": (
        "companyname",
        "organisation",
        "organization",
        "organisationname",
        "organizationname",
        "org",
        "business",
        "employer",
    ),
    "tags": ("tag", "labels", "label"),
}


class InvalidMapping(ValueError):
    """``errors`` maps ``mapping.<header>`` to what is wrong with that column's target."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def comparable(name: str) -> str:
    """``name`` as suggestions compare it: letters and digits only, case-folded."""
    return "".join(char for char in name.casefold() if char.isalnum())


def targets(definitions: Iterable[CustomFieldDefinition]) -> list[str]:
    """Every target a column may map to."""
    return [*STANDARD, *(f"{CUSTOM_PREFIX}{d.key}" for d in definitions)]


def _names(definitions: list[CustomFieldDefinition]) -> list[dict[str, str]]:
    """Comparable names to targets, by precedence."""
    own = {comparable(target): target for target in targets(definitions)}
    custom: dict[str, str] = {}
    for definition in definitions:
        for name in (definition.key, definition.label):
            custom.setdefault(comparable(name), f"{CUSTOM_PREFIX}{definition.key}")
    synonyms = {comparable(s): target for target, names in SYNONYMS.items() for s in names}
    return [own, custom, synonyms]


def suggest(
    headers: list[str], definitions: Iterable[CustomFieldDefinition]
) -> dict[str, str | None]:
    """The mapping proposed for ``headers`` (see the module's doc)."""
    tiers = _names(list(definitions))
    mapping: dict[str, str | None] = {header: None for header in headers}
    taken: set[str] = set()
    for tier in tiers:
        for header in headers:
            target = tier.get(comparable(header))
            if header and mapping[header] is None and target and target not in taken:
                mapping[header] = target
                taken.add(target)
    return mapping


def checked(
    mapping: dict[str, Any], headers: list[str], definitions: Iterable[CustomFieldDefinition]
) -> dict[str, str | None]:
    """``mapping`` (headers left out are ignored) as stored, or :class:`InvalidMapping`:
    a header the file does not have, an unknown target, a target given twice (the later
    column in the file is named)."""
    allowed = set(targets(definitions))
    errors: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    for header in sorted(mapping, key=lambda h: headers.index(h) if h in headers else len(headers)):
        target = mapping[header]
        if header not in headers or not header:
            errors[f"mapping.{header}"] = ["the file has no such column"]
        elif target in (None, ""):
            continue
        elif target not in allowed:
            errors[f"mapping.{header}"] = [
                f"no such field; one of {', '.join(sorted(allowed))}, or null to ignore it"
            ]
        elif target in seen:
            errors[f"mapping.{header}"] = [f"{target} is already mapped from {seen[target]!r}"]
        else:
            seen[target] = header
    if errors:
        raise InvalidMapping(errors)
    return {header: mapping.get(header) or None for header in headers}


def ignored_columns(mapping: dict[str, str | None]) -> list[str]:
    """The named columns the mapping leaves out (all the unknown ones, as suggested)."""
    return [header for header, target in mapping.items() if header and target is None]
