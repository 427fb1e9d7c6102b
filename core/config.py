"""One configuration object, read from the environment and nothing else.

Every variable is listed in the README. Reading happens in :meth:`Config.from_env`,
never at import time, so tests build as many differently configured apps as they need.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

#: The checkout (or installed tree) the service runs from.
ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


def _int(environ: dict[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _flag(environ: dict[str, str], name: str) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _read_key(environ: dict[str, str], name: str) -> str | None:
    """A PEM key given inline (``NAME``) or as a file path (``NAME_FILE``)."""
    if environ.get(name):
        return environ[name].replace("\\n", "\n")
    path = environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE: cannot read {path}: {exc}") from exc
    return None


def _key_pairs(environ: dict[str, str], name: str) -> tuple[tuple[str, str], ...]:
    """``kid=PEM`` or ``kid=/path/to/key.pem`` entries, comma-separated (``\\n`` in inline PEM)."""
    raw = environ.get(name, "").strip()
    pairs = []
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        kid, sep, value = entry.partition("=")
        kid, value = kid.strip(), value.strip()
        if not sep or not kid or not value:
            raise ConfigError(f"{name}: expected kid=PEM or kid=path entries, got {entry!r}")
        if value.startswith("-----BEGIN"):
            pem = value.replace("\\n", "\n")
        else:
            try:
                pem = Path(value).read_text()
            except OSError as exc:
                raise ConfigError(f"{name}: cannot read {value}: {exc}") from exc
        pairs.append((kid, pem))
    return tuple(pairs)


def _reader_processes() -> int:
    """A core each beyond the first, at most four: checking an import's rows (its phone
    numbers above all) takes about as long as writing them, so on two cores one reader
    beside the worker and PostgreSQL is worth it (bench/contacts.py: 8,200 rows/s
    against 6,100 without; crm.imports.rows.read_batches)."""
    return max(0, min(4, (os.cpu_count() or 1) - 1))


@dataclass(frozen=True)
class Config:
    database_url: str
    redis_url: str
    jwt_private_key: str
    jwt_key_id: str = "turumba-1"
    jwt_issuer: str = "turumba"
    access_token_ttl: int = 900
    #: Public keys of retired signing keys, ``(kid, PEM)``: their tokens verify until expiry.
    jwt_previous_public_keys: tuple[tuple[str, str], ...] = ()
    #: Sessions: refresh tokens rotate on use and expire after this many idle seconds.
    refresh_token_ttl: int = 30 * 86400
    #: The second log-in step (MFA) must follow the password within this many seconds.
    mfa_token_ttl: int = 300
    mfa_issuer: str = "Turumba"
    #: Brute-force lockout on log-in, MFA and refresh: failures per window, then a lock.
    login_max_failures: int = 5
    login_ip_max_failures: int = 50
    login_failure_window: int = 900
    login_lockout: int = 900
    #: Soft-deleted accounts and users stay restorable this many days, then are purged.
    retention_days: int = 30
    #: Deleted contacts stay restorable this many days, then the workers purge them.
    contact_retention_days: int = 30
    max_content_length: int = 1024 * 1024
    #: Largest CSV file a contact import takes (its own limit, over max_content_length).
    import_max_bytes: int = 50 * 1024 * 1024
    #: Rows a contact import writes per transaction (and checkpoint).
    import_batch_size: int = 1000
    #: Processes a large contact import reads (checks) its rows in, beside the worker's
    #: (0: the worker reads them itself). Default: see :func:`_reader_processes`.
    import_processes: int = 0
    db_pool_size: int = 10
    #: Milliseconds a statement waits for a row lock before failing (0: forever). A
    #: request answers instead of hanging; a worker's job fails and is retried later.
    db_lock_timeout: int = 30_000
    #: Seconds an account lookup or a standing stays cached at most (see tenants.registry).
    registry_ttl: int = 30
    auth_rate_limit: int = 30
    auth_rate_window: int = 60
    log_level: str = "INFO"
    #: ``smtp://user:pass@host:port`` (``?starttls=true``), ``smtps://…``, or
    #: ``file:///path`` to write each message as an .eml file (the dev default).
    smtp_url: str = ""
    mail_from: str = "Turumba <no-reply@turumba.localhost>"
    #: Where links in emails point (the browser console).
    public_url: str = "http://127.0.0.1:8000"
    #: The built browser console served at ``/`` (api.console; built by core.console).
    console_dir: Path = ROOT / "web" / "dist"
    #: Email verification and password reset (identity.verification, identity.recovery).
    email_verification_ttl: int = 86400
    verification_resend_interval: int = 60
    verification_daily_limit: int = 5
    password_reset_ttl: int = 3600
    password_reset_hourly_limit: int = 3
    #: Let automation webhooks reach private, loopback and link-local addresses (off in
    #: production: a rule must not become a way into the internal network).
    webhook_allow_private: bool = False
    #: Seconds an agent whose last console tab closed stays online (a reload, a flaky
    #: network) before presence makes them offline (helpdesk.presence).
    presence_grace: int = 30
    #: Seconds between the checks an open socket gets again (api.sockets): a revoked
    #: session or a removed member is disconnected within this.
    socket_recheck: int = 30

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Config:
        env = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {
            "database_url": env.get("TURUMBA_DATABASE_URL", ""),
            "redis_url": env.get("TURUMBA_REDIS_URL", ""),
            "jwt_private_key": _read_key(env, "TURUMBA_JWT_PRIVATE_KEY") or "",
            "jwt_key_id": env.get("TURUMBA_JWT_KEY_ID", "turumba-1"),
            "jwt_issuer": env.get("TURUMBA_JWT_ISSUER", "turumba"),
            "access_token_ttl": _int(env, "TURUMBA_ACCESS_TOKEN_TTL", 900),
            "jwt_previous_public_keys": _key_pairs(env, "TURUMBA_JWT_PREVIOUS_PUBLIC_KEYS"),
            "refresh_token_ttl": _int(env, "TURUMBA_REFRESH_TOKEN_TTL", 30 * 86400),
            "mfa_token_ttl": _int(env, "TURUMBA_MFA_TOKEN_TTL", 300),
            "mfa_issuer": env.get("TURUMBA_MFA_ISSUER", "Turumba"),
            "login_max_failures": _int(env, "TURUMBA_LOGIN_MAX_FAILURES", 5),
            "login_ip_max_failures": _int(env, "TURUMBA_LOGIN_IP_MAX_FAILURES", 50),
            "login_failure_window": _int(env, "TURUMBA_LOGIN_FAILURE_WINDOW", 900),
            "login_lockout": _int(env, "TURUMBA_LOGIN_LOCKOUT", 900),
            "retention_days": _int(env, "TURUMBA_RETENTION_DAYS", 30),
            "contact_retention_days": _int(env, "TURUMBA_CONTACT_RETENTION_DAYS", 30),
            "max_content_length": _int(env, "TURUMBA_MAX_CONTENT_LENGTH", 1024 * 1024),
            "import_max_bytes": _int(env, "TURUMBA_IMPORT_MAX_BYTES", 50 * 1024 * 1024),
            "import_batch_size": _int(env, "TURUMBA_IMPORT_BATCH_SIZE", 1000),
            "import_processes": _int(env, "TURUMBA_IMPORT_PROCESSES", _reader_processes()),
            "db_pool_size": _int(env, "TURUMBA_DB_POOL_SIZE", 10),
            "db_lock_timeout": _int(env, "TURUMBA_DB_LOCK_TIMEOUT", 30_000),
            "registry_ttl": _int(env, "TURUMBA_REGISTRY_TTL", 30),
            "auth_rate_limit": _int(env, "TURUMBA_AUTH_RATE_LIMIT", 30),
            "auth_rate_window": _int(env, "TURUMBA_AUTH_RATE_WINDOW", 60),
            "log_level": env.get("TURUMBA_LOG_LEVEL", "INFO").upper(),
            "smtp_url": env.get("TURUMBA_SMTP_URL", ""),
            "mail_from": env.get("TURUMBA_MAIL_FROM", "Turumba <no-reply@turumba.localhost>"),
            "public_url": env.get("TURUMBA_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
            "console_dir": Path(env.get("TURUMBA_CONSOLE_DIR") or ROOT / "web" / "dist"),
            "email_verification_ttl": _int(env, "TURUMBA_EMAIL_VERIFICATION_TTL", 86400),
            "verification_resend_interval": _int(env, "TURUMBA_VERIFICATION_RESEND_INTERVAL", 60),
            "verification_daily_limit": _int(env, "TURUMBA_VERIFICATION_DAILY_LIMIT", 5),
            "password_reset_ttl": _int(env, "TURUMBA_PASSWORD_RESET_TTL", 3600),
            "password_reset_hourly_limit": _int(env, "TURUMBA_PASSWORD_RESET_HOURLY_LIMIT", 3),
            "webhook_allow_private": _flag(env, "TURUMBA_WEBHOOK_ALLOW_PRIVATE"),
            "presence_grace": _int(env, "TURUMBA_PRESENCE_GRACE", 30),
            "socket_recheck": _int(env, "TURUMBA_SOCKET_RECHECK", 30),
        }
        values.update(overrides)
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        missing = [
            f"TURUMBA_{f.name.upper()}"
            for f in fields(self)
            if f.name in {"database_url", "redis_url", "jwt_private_key"}
            and not getattr(self, f.name)
        ]
        if missing:
            raise ConfigError(
                "missing settings: " + ", ".join(missing) + " (`python3 dev.py run` provides "
                "embedded defaults under .data/)"
            )
        if not self.database_url.startswith(
            ("postgresql://", "postgresql+psycopg://", "postgres://")
        ):
            raise ConfigError("TURUMBA_DATABASE_URL must be a postgresql:// URL")
        if self.import_batch_size < 1:
            raise ConfigError("TURUMBA_IMPORT_BATCH_SIZE must be at least 1")
        if self.import_processes < 0:
            raise ConfigError("TURUMBA_IMPORT_PROCESSES must be 0 or more")

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with the psycopg 3 driver named explicitly."""
        url = self.database_url
        for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url
