"""Free-text search over contacts: what a person types into a search box (``?q=``).

The text is split into words and every word must match (AND), each in any of the
contact's name, email or company (a substring, ignoring case; ``%`` and ``_`` are just
characters) or, when the word is written like a phone number (digits with the usual
separators, at least :data:`MIN_PHONE_DIGITS` digits), in its phone. Phones are stored in
E.164, so the word is compared by its digits alone (``555-01`` finds ``+14155550123``),
and its start is read as a person writes a number:

- ``+`` (or the international prefix ``00``) means the country code follows: the phone
  must start with those digits (``+44 20`` finds ``+44…`` but not ``+1…4420…``);
- a trunk ``0`` means a national number: with the account's country known
  (:func:`crm.normalise.account_region`), the phone must start with its country code
  and the rest (``020 7946`` finds ``+4420 7946…`` in a GB account); without one, the
  digits after the zeros are looked for anywhere.

The digits are also looked for anywhere as typed, so a fragment from the middle of a
number (``0958``) is found too. A whole text written like a phone number
(``+1 (415) 555-0123``) is also read as one number, as well as word by word.
"""

from __future__ import annotations

import re

import phonenumbers
from sqlalchemy import ColumnElement, and_, or_

from crm.models import Contact

#: Fewer digits than this would match most phones: such a word searches the texts only.
MIN_PHONE_DIGITS = 3
#: A word read as a phone number: digits and the separators people write between them.
_PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]+")

_TEXT_COLUMNS = (Contact.name, Contact.email, Contact.company)


def _escaped(text: str) -> str:
    """``text`` for a LIKE pattern with ``\\`` as the escape: wildcards match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _in_texts(word: str) -> ColumnElement[bool]:
    pattern = f"%{_escaped(word)}%"
    return or_(*(column.ilike(pattern, escape="\\") for column in _TEXT_COLUMNS))


def _in_phone(text: str, region: str | None) -> ColumnElement[bool] | None:
    """The phones ``text`` (written like a phone number) finds; None when it is not one."""
    text = text.strip()
    if not _PHONE_LIKE.fullmatch(text):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) < MIN_PHONE_DIGITS:
        return None
    if text.startswith("+"):
        return Contact.phone.startswith(f"+{digits}")
    found = [Contact.phone.contains(digits)]
    if digits.startswith("00") and digits[2:]:
        found.append(Contact.phone.startswith(f"+{digits[2:]}"))
    elif digits.startswith("0") and (national := digits.lstrip("0")):
        if region:
            code = phonenumbers.country_code_for_region(region)
            found.append(Contact.phone.startswith(f"+{code}{national}"))
        else:
            found.append(Contact.phone.contains(national))
    return or_(*found)


def _word(word: str, region: str | None) -> ColumnElement[bool]:
    phone = _in_phone(word, region)
    texts = _in_texts(word)
    return texts if phone is None else or_(texts, phone)


def search_condition(q: str | None, *, region: str | None = None) -> ColumnElement[bool] | None:
    """The contacts ``q`` finds (see the module's docstring); None when it has no words.

    ``region`` is the account's country (``GB``), for numbers typed with a trunk ``0``.
    The condition reads the contact row alone, so it narrows any selection of contacts
    (a list, a segment's members, an export)."""
    words = (q or "").split()
    if not words:
        return None
    every = and_(*(_word(word, region) for word in words))
    if len(words) == 1:
        return every
    whole = _in_phone(q or "", region)
    return every if whole is None else or_(whole, every)
