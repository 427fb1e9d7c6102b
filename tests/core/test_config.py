"""Configuration comes from the environment only, with clear errors."""

from __future__ import annotations

import pytest

from core.config import Config, ConfigError

BASE = {
    "TURUMBA_DATABASE_URL": "postgres://u@db/turumba",
    "TURUMBA_REDIS_URL": "redis://cache:6379/0",
    "TURUMBA_JWT_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\\nabc\\n-----END PRIVATE KEY-----",
}


def test_reads_every_setting_from_the_environment():
    config = Config.from_env(
        {**BASE, "TURUMBA_ACCESS_TOKEN_TTL": "60", "TURUMBA_LOG_LEVEL": "debug"}
    )
    assert config.sqlalchemy_url == "postgresql+psycopg://u@db/turumba"
    assert config.access_token_ttl == 60
    assert config.log_level == "DEBUG"
    assert config.jwt_private_key.splitlines()[1] == "abc"


def test_names_every_missing_setting():
    with pytest.raises(ConfigError) as error:
        Config.from_env({})
    for name in ("TURUMBA_DATABASE_URL", "TURUMBA_REDIS_URL", "TURUMBA_JWT_PRIVATE_KEY"):
        assert name in str(error.value)


def test_rejects_malformed_values():
    with pytest.raises(ConfigError, match="TURUMBA_DB_POOL_SIZE"):
        Config.from_env({**BASE, "TURUMBA_DB_POOL_SIZE": "many"})
    with pytest.raises(ConfigError, match="postgresql"):
        Config.from_env({**BASE, "TURUMBA_DATABASE_URL": "mysql://x/y"})
    with pytest.raises(ConfigError, match="TURUMBA_WEBHOOK_ALLOW_PRIVATE"):
        Config.from_env({**BASE, "TURUMBA_WEBHOOK_ALLOW_PRIVATE": "maybe"})
    with pytest.raises(ConfigError, match="TURUMBA_IMPORT_BATCH_SIZE"):
        Config.from_env({**BASE, "TURUMBA_IMPORT_BATCH_SIZE": "0"})
    with pytest.raises(ConfigError, match="TURUMBA_IMPORT_PROCESSES"):
        Config.from_env({**BASE, "TURUMBA_IMPORT_PROCESSES": "-1"})


def test_contact_imports_have_their_own_limits():
    config = Config.from_env({**BASE, "TURUMBA_IMPORT_MAX_BYTES": "1000"})
    assert (config.import_max_bytes, config.max_content_length) == (1000, 1024 * 1024)
    assert config.import_batch_size == 1000
    assert 0 <= config.import_processes <= 4
    assert Config.from_env({**BASE, "TURUMBA_IMPORT_PROCESSES": "3"}).import_processes == 3


@pytest.mark.parametrize(("raw", "allowed"), [("", False), ("off", False), ("TRUE", True)])
def test_webhooks_stay_off_internal_addresses_unless_allowed(raw, allowed):
    config = Config.from_env({**BASE, "TURUMBA_WEBHOOK_ALLOW_PRIVATE": raw})
    assert config.webhook_allow_private is allowed


def test_reads_the_signing_key_from_a_file(tmp_path):
    key_file = tmp_path / "key.pem"
    key_file.write_text("PEM FROM FILE")
    env = {k: v for k, v in BASE.items() if k != "TURUMBA_JWT_PRIVATE_KEY"}
    config = Config.from_env({**env, "TURUMBA_JWT_PRIVATE_KEY_FILE": str(key_file)})
    assert config.jwt_private_key == "PEM FROM FILE"
    with pytest.raises(ConfigError, match="cannot read"):
        Config.from_env({**env, "TURUMBA_JWT_PRIVATE_KEY_FILE": str(tmp_path / "missing")})


def test_keeps_an_explicit_driver():
    config = Config.from_env({**BASE, "TURUMBA_DATABASE_URL": "postgresql+psycopg://h/d"})
    assert config.sqlalchemy_url == "postgresql+psycopg://h/d"
