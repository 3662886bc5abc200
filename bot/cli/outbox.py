"""`hoibot outbox`: the queue of messages the bot sends unasked."""

from __future__ import annotations

from typing import Any

import typer

from bot.cli.runner import run_with_context
from bot.context import AppContext

group = typer.Typer(help="The queue of messages the bot sends unasked.")


@group.command("status")
def outbox_status() -> None:
    """Queued, sent, failed, blocked and capped counts per channel."""
    from schedules.outbox import status_counts

    async def work(ctx: AppContext) -> Any:
        async with ctx.sessions() as session:
            return await status_counts(session)

    counts = run_with_context(work, units=False)
    if not counts:
        typer.echo("The outbox is empty.")
    for channel, by_status in sorted(counts.items()):
        typer.echo(channel + ": " + ", ".join(f"{s} {n}" for s, n in by_status.items()))
