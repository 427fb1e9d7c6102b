"""Operator commands: ``flask tenants purge-expired`` and ``flask users restore EMAIL``."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from accounts.deletion import NotRestorable, purge_expired, restore_user
from provisioning.cli import tenants_cli
from tenants.db import db

users_cli = AppGroup("users", help="Operate on users: restore a soft-deleted one.")


def _retention_days() -> int:
    return current_app.extensions["turumba.config"].retention_days


@tenants_cli.command("purge-expired")
def purge_expired_command() -> None:
    """Purge accounts and users deleted longer ago than the retention period."""
    purged = purge_expired(db.session, retention_days=_retention_days())
    db.session.commit()
    click.echo(json.dumps({"accounts": purged.accounts, "users": purged.users}))


def purge_expired_job() -> dict:
    """The same as a queued job (run it periodically, e.g. daily, on the ``low`` queue)."""
    purged = purge_expired(db.session, retention_days=_retention_days())
    db.session.commit()
    return {"accounts": purged.accounts, "users": purged.users}


@users_cli.command("restore")
@click.argument("email")
def restore(email: str) -> None:
    """Undo a user's self-deletion while within the retention period."""
    try:
        user = restore_user(db.session, email=email, retention_days=_retention_days())
    except NotRestorable as exc:
        raise click.ClickException(
            f"no user {email} deleted within the last {_retention_days()} days"
        ) from exc
    db.session.commit()
    click.echo(f"{user.email}: restored")
