"""Emails read the quick way agree with email-validator read the whole way.

:func:`crm.normalise.normalise_email` checks a plain address's domain once per domain
and its local part by a pattern; every address below, the odd ones above all, must come
out exactly as email-validator has it: the same normalised address, or the same refusal.
"""

from __future__ import annotations

import itertools

import pytest

from crm.normalise import InvalidValue, _domain, _validated, normalise_email

LOCALS = [
    "ada",
    "Ada.Lovelace",
    "first+tag",
    "o'hara",
    "x_y-z",
    "a!#$%&'*+-/=?^_`{|}~b",
    "a" * 64,
    "a" * 65,
    ".lead",
    "trail.",
    "two..dots",
    '"quoted"',
    "sp ace",
    "ünï",
    "Postmaster",
    "",
    "a@b",
]
DOMAINS = [
    "example.com",
    "EXAMPLE.com",
    "mail.example.co.uk",
    "localhost",
    "example",
    "x.local",
    "x.test",
    "invalid",
    "a..com",
    ".example.com",
    "example.com.",
    "-example.com",
    "example-.com",
    "exa_mple.com",
    "123.456",
    "example.123",
    "xn--bcher-kva.example",
    "xn--zz.example",
    "bücher.example",
    ("l" * 63) + ".com",
    ("l" * 64) + ".com",
    ".".join(["abcdefghij"] * 24) + ".com",
    "[127.0.0.1]",
    "",
]


def outcome(read, address):
    try:
        return read(address)
    except InvalidValue as exc:
        return ("refused", str(exc))


def test_every_address_reads_as_email_validator_reads_it():
    addresses = [f"{local}@{domain}" for local, domain in itertools.product(LOCALS, DOMAINS)]
    disagreements = {
        address: (outcome(normalise_email, address), outcome(_validated, address))
        for address in addresses
        if outcome(normalise_email, address) != outcome(_validated, address)
    }
    assert disagreements == {}
    assert sum(isinstance(outcome(_validated, a), str) for a in addresses) > 50  # both kinds


@pytest.mark.parametrize("written", ["Ada@Example.COM", "  ada@example.com\t", "ADA@EXAMPLE.COM"])
def test_plain_addresses_come_out_lower_cased_and_trimmed(written):
    assert normalise_email(written) == "ada@example.com"


def test_a_refused_domain_is_refused_with_email_validators_reason():
    with pytest.raises(InvalidValue, match="special-use or reserved name"):
        normalise_email("ada@x.local")


def test_each_domain_is_checked_once_however_many_addresses_use_it():
    _domain.cache_clear()
    for n in range(50):
        normalise_email(f"contact{n}@checked-once.example.org")
    info = _domain.cache_info()
    assert (info.misses, info.hits) == (1, 49)
