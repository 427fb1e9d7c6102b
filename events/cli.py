"""``flask events relay``: move committed outbox events to Redis."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from events.relay import DEFAULT_BATCH, RelayError, relay_forever, relay_once
from tenants.db import db

events_cli = AppGroup("events", help="The event stream: relay the outbox to consumers.")


@events_cli.command("relay")
@click.option("--once", is_flag=True, help="Publish what is pending, then exit.")
@click.option("--batch", default=DEFAULT_BATCH, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--interval",
    default=0.5,
    show_default=True,
    type=click.FloatRange(0.01),
    help="Seconds to wait when nothing is pending.",
)
def relay_command(once: bool, batch: int, interval: float) -> None:
    """Publish pending outbox events (continuously, or --once)."""
    if not once:
        relay_forever(db.session, limit=batch, interval=interval)
        return
    total = 0
    try:
        while published := relay_once(db.session, limit=batch):
            total += published
    except RelayError as exc:
        raise click.ClickException(f"{exc} ({total} published before)") from exc
    click.echo(f"published {total} events")
