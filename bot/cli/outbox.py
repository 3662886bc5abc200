"""`hoibot outbox`: the queue of messages the bot sends unasked."""

from __future__ import annotations

from typing import Any

import typer

from bot.cli.base import plural
from bot.cli.runner import run_with_context
from bot.context import AppContext

group = typer.Typer(help="The queue of messages the bot sends unasked.")


@group.command("status")
def outbox_status() -> None:
    """Queued, sent, failed, blocked and capped counts per channel; a quota exhausted; how
    many people are sent nothing unasked until they accept the personal-data notice."""
    from schedules.outbox import status_counts
    from storage.db.delivery import quota_exhausted
    from storage.db.people import awaiting_notice
    from storage.plan.clock import VN

    async def work(ctx: AppContext) -> Any:
        async with ctx.sessions() as session:
            return (
                await status_counts(session),
                await quota_exhausted(session, ctx.clock.now()),
                len(await awaiting_notice(session)),
            )

    counts, exhausted, waiting = run_with_context(work, units=False)
    if not counts:
        typer.echo("The outbox is empty.")
    for channel, by_status in sorted(counts.items()):
        typer.echo(channel + ": " + ", ".join(f"{s} {n}" for s, n in by_status.items()))
    for channel, until in sorted(exhausted.items()):
        typer.echo(
            f"{channel}: quota exhausted (the platform answered 429 quota exceeded); sends wait"
            f" until {until.astimezone(VN):%Y-%m-%d %H:%M} (Vietnam time)"
        )
    if waiting:
        typer.echo(
            f"{plural(waiting, 'person', 'people')} joined but have not accepted the"
            " personal-data notice: no reminder or digest is planned for them until they do"
        )
