"""``flask events relay``: move committed outbox events to Redis."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import AppGroup

from events.relay import DEFAULT_BATCH, DEFAULT_INTERVAL, RelayError, relay_forever, relay_once
from events.retention import KEEP, prune
from events.timers import fire_due
from tenants.db import db

events_cli = AppGroup(
    "events", help="The event stream: relay the outbox to consumers, fire due timers."
)


@events_cli.command("relay")
@click.option("--once", is_flag=True, help="Publish what is pending, then exit.")
@click.option("--batch", default=DEFAULT_BATCH, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--interval",
    default=DEFAULT_INTERVAL,
    show_default=True,
    type=click.FloatRange(0.01),
    help="Seconds between passes when no new event is announced (the fallback poll).",
)
def relay_command(once: bool, batch: int, interval: float) -> None:
    """Publish pending outbox events and fire due timers (continuously, or --once)."""
    if not once:
        relay_forever(db.session, limit=batch, interval=interval)
        return
    fired = 0
    while count := fire_due(limit=batch):
        fired += count
    click.echo(f"fired {fired} timers")
    total = 0
    try:
        while published := relay_once(db.session, limit=batch):
            total += published
    except RelayError as exc:
        raise click.ClickException(f"{exc} ({total} published before)") from exc
    click.echo(f"published {total} events")


@events_cli.command("prune")
@click.option(
    "--days",
    default=KEEP.days,
    show_default=True,
    type=click.IntRange(0),
    help="Keep what was published or fired within this many days.",
)
def prune_command(days: int) -> None:
    """Delete published outbox events and fired timers older than --days."""
    counts = prune(db.session, keep=timedelta(days=days))
    click.echo(f"pruned {counts['events']} events and {counts['timers']} timers")
