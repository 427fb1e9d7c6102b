"""Schema names and slugs."""

from __future__ import annotations

import uuid

import pytest

from tenants.naming import (
    InvalidSchemaName,
    is_valid_slug,
    schema_for,
    slugify,
    validate_schema_name,
)


def test_schema_names_come_from_the_account_id():
    account_id = uuid.uuid4()
    assert schema_for(account_id) == f"t_{account_id.hex}"
    assert validate_schema_name(schema_for(account_id)) == schema_for(account_id)


@pytest.mark.parametrize(
    "name",
    ["public", 't_1"; DROP SCHEMA public; --', "t_" + "0" * 31, "T_" + "a" * 32, "pg_catalog"],
)
def test_anything_else_is_refused_before_it_reaches_ddl(name):
    with pytest.raises(InvalidSchemaName):
        validate_schema_name(name)


@pytest.mark.parametrize(
    "text,slug",
    [("Acme Corp.", "acme-corp"), ("  Ünïcode & Co  ", "unicode-co"), ("!!!", "account")],
)
def test_slugify(text, slug):
    assert slugify(text) == slug
    assert is_valid_slug(slug)


@pytest.mark.parametrize("slug", ["-acme", "acme-", "Acme", "a_b", "a" * 64, ""])
def test_invalid_slugs(slug):
    assert not is_valid_slug(slug)
