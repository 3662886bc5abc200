"""`hoibot reminders`: what the reporting schedule queues, previewed or queued now."""

from __future__ import annotations

from typing import Any

import typer

from bot.cli.base import CliError
from bot.cli.runner import run_with_context
from bot.context import AppContext

group = typer.Typer(help="Reminders and digests on the reporting schedule.")


def moment(text: str | None) -> Any:
    from datetime import datetime

    from storage.plan.clock import VN

    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"Cannot read the time {text!r}: write it like 2026-11-23 08:00.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=VN)


@group.command("preview")
def reminders_preview(
    at: str = typer.Option(None, help='Local time, e.g. "2026-11-23 08:00" (default: now)'),
    show: int = typer.Option(3, help="How many message texts to print"),
) -> None:
    """What would be queued at that moment, without queueing or sending anything."""
    from collections import Counter

    from schedules.reminders import plan

    async def work(ctx: AppContext) -> Any:
        async with ctx.sessions() as session:
            return await plan(session, ctx.catalog, moment(at) or ctx.clock.now())

    planned = run_with_context(work)
    counts = Counter(
        (
            m.kind,
            ":".join(m.key.split(":")[2:4])
            if m.kind != "digest" or m.key.startswith("dig")
            else "weekly",
            m.key.split(":")[4] if m.key.startswith("rem") else "",
        )
        for m in planned.messages
    )
    if not counts:
        typer.echo("Nothing is due at that moment.")
    for (kind, what, step), n in sorted(counts.items()):
        typer.echo(f"{n:6d}  {kind:8} {what} {step}")
    for message in planned.messages[:show]:
        typer.echo("\n--- " + message.key + "\n" + message.payload["text"])


@group.command("queue")
def reminders_queue() -> None:
    """Plan and queue what is due now (the running bot does this every few minutes)."""
    from bot.scheduler import plan_and_queue

    result = run_with_context(plan_and_queue)
    typer.echo(
        f"Queued {result.queued}; {result.already} were already queued; "
        f"{result.unreachable} people have no reachable account."
    )
