"""``flask tenants …``: the operator's handle on the tenant lifecycle and migrations."""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import or_, select

from identity.models import User
from migrations import TENANT_TREE
from provisioning import spares
from provisioning.accounts import (
    IllegalTransition,
    InvalidSlug,
    SlugTaken,
    change_status,
    create_account,
    purge_account,
)
from provisioning.fleet import CURRENT, FAILED, UPGRADED, FleetBusy, migrate_fleet
from tenants.db import db
from tenants.models import Account, AccountStatus

tenants_cli = AppGroup("tenants", help="Create, inspect, suspend, delete and migrate tenants.")


def _describe(account: Account) -> dict:
    return {
        "id": str(account.id),
        "slug": account.slug,
        "name": account.name,
        "status": account.status.value,
        "plan": account.plan,
        "schema": account.schema_name,
        "schema_revision": account.schema_revision,
        "created_at": account.created_at.isoformat(),
    }


def _find(ref: str) -> Account:
    """An account by id or slug."""
    try:
        clause = Account.id == uuid.UUID(ref)
    except ValueError:
        clause = Account.slug == ref
    account = db.session.scalar(select(Account).where(clause))
    if account is None:
        raise click.ClickException(f"no account {ref!r}")
    return account


@tenants_cli.command("create")
@click.option("--name", required=True)
@click.option("--slug")
@click.option("--plan", default="free", show_default=True)
@click.option("--owner-email", help="An existing user who becomes the owner.")
def create(name: str, slug: str | None, plan: str, owner_email: str | None) -> None:
    """Provision a new account with its schema."""
    owner_id = None
    if owner_email:
        owner_id = db.session.scalar(select(User.id).where(User.email == owner_email.lower()))
        if owner_id is None:
            raise click.ClickException(f"no user with email {owner_email}")
    try:
        account = create_account(db.session, name=name, slug=slug, plan=plan, owner_id=owner_id)
    except (SlugTaken, InvalidSlug) as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(json.dumps(_describe(account)))


@tenants_cli.command("list")
@click.option("--status", type=click.Choice([s.value for s in AccountStatus]))
@click.option("--search", help="Part of the name or slug.")
def list_(status: str | None, search: str | None) -> None:
    """One JSON line per account."""
    query = select(Account).order_by(Account.created_at)
    if status:
        query = query.where(Account.status == AccountStatus(status))
    if search:
        query = query.where(
            or_(
                Account.name.icontains(search, autoescape=True),
                Account.slug.icontains(search, autoescape=True),
            )
        )
    for account in db.session.scalars(query):
        click.echo(json.dumps(_describe(account)))


@tenants_cli.command("show")
@click.argument("account")
def show(account: str) -> None:
    """One account, by id or slug."""
    click.echo(json.dumps(_describe(_find(account)), indent=2))


def _status_command(name: str, target: AccountStatus, help_text: str) -> None:
    @tenants_cli.command(name, help=help_text)
    @click.argument("account")
    def command(account: str) -> None:
        found = _find(account)
        try:
            change_status(db.session, found, target)
        except IllegalTransition as exc:
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        click.echo(f"{found.slug}: {found.status.value}")


_status_command("suspend", AccountStatus.SUSPENDED, "Refuse the account's requests (403).")
_status_command("resume", AccountStatus.ACTIVE, "Re-activate a suspended or deleted account.")
_status_command("delete", AccountStatus.DELETED, "Soft-delete: hidden (404), schema kept.")


@tenants_cli.command("purge")
@click.argument("account")
@click.option("--confirm", help="Repeat the account's slug to confirm.")
def purge(account: str, confirm: str | None) -> None:
    """Drop a deleted account's schema and registry row for good."""
    found = _find(account)
    if confirm is None:
        confirm = click.prompt(f"Type {found.slug!r} to purge it for good", default="")
    if confirm != found.slug:
        raise click.ClickException("confirmation did not match the slug; nothing purged")
    try:
        purge_account(db.session, found)
    except IllegalTransition as exc:
        raise click.ClickException(f"{exc} (delete it first)") from exc
    db.session.commit()
    click.echo(f"{found.slug}: purged")


@tenants_cli.command("spares")
@click.option(
    "--fill",
    "target",
    type=click.IntRange(min=0),
    help="Drop stale spares and create new ones until N are ready at head.",
)
def spares_(target: int | None) -> None:
    """The pool of spare schemas that make sign-ups fast: its size, or fill it."""
    if target is not None:
        result = spares.fill(db.engine, target)
        click.echo(f"created {result.created}, dropped {result.dropped} stale", err=True)
    pool = spares.status(db.engine)
    click.echo(json.dumps({"head": pool.head, "available": pool.available, "stale": pool.stale}))


@tenants_cli.command("migrate")
@click.option("--processes", type=int, default=lambda: os.cpu_count() or 1, show_default="cores")
@click.option(
    "--lock-timeout",
    "lock_timeout_ms",
    type=int,
    default=5000,
    show_default=True,
    help="Milliseconds a tenant may wait for a lock before it is failed.",
)
@click.option(
    "--wait",
    "wait_seconds",
    type=float,
    default=600,
    show_default=True,
    help="Seconds to wait for a concurrent run to finish.",
)
@click.option(
    "--account",
    "accounts",
    multiple=True,
    help="Migrate only this account (id or slug); repeatable. Default: every account.",
)
@click.option(
    "--tree",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    hidden=True,
    help="Another copy of the tenant migration tree (rehearsals and tests).",
)
def migrate(
    processes: int,
    lock_timeout_ms: int,
    wait_seconds: float,
    accounts: tuple[str, ...],
    tree: Path | None,
) -> None:
    """Public schema to head, then every tenant schema; non-zero exit if any tenant failed."""
    only = [_find(ref).id for ref in accounts] if accounts else None
    db.session.close()
    bar = None

    def announce(total: int) -> None:
        nonlocal bar
        click.echo(f"{total} tenant(s) to migrate", err=True)
        if total:
            bar = click.progressbar(length=total, label="migrating", file=sys.stderr)

    def progress(index: int, outcome) -> None:
        bar.update(1)
        if outcome.outcome == FAILED:
            click.echo(
                f"\n{outcome.schema} (account {outcome.account_id}) failed: {outcome.error}",
                err=True,
            )

    try:
        report = migrate_fleet(
            db.engine,
            tree=tree or TENANT_TREE,
            processes=processes,
            lock_timeout_ms=lock_timeout_ms,
            wait_seconds=wait_seconds,
            only=only,
            progress=progress,
            announce=announce,
        )
    except FleetBusy as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if bar is not None:
            bar.render_finish()
    summary = {
        "head": report.head,
        "upgraded": report.count(UPGRADED),
        "already_current": report.untouched + report.count(CURRENT),
        "failed": report.count(FAILED),
        "failures": [
            {"account": str(item.account_id), "schema": item.schema, "error": item.error}
            for item in report.failed
        ],
    }
    click.echo(json.dumps(summary))
    if report.failed:
        raise SystemExit(1)
