"""`hoibot db`: the database schema and the kept totals."""

from __future__ import annotations

import typer

from bot.cli.base import console
from bot.cli.runner import run_with_context
from bot.context import AppContext

group = typer.Typer(help="Database schema.")


@group.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest version."""
    from storage.db import aggregates
    from storage.db.migrate import upgrade

    async def work(ctx: AppContext) -> bool:
        await upgrade(ctx.engine)
        # Kept stocks came with 0009 after the reports: filled once, with the configuration
        # that says which indicators are stocks (a migration does not have it).
        async with ctx.sessions() as session, session.begin():
            return await aggregates.fill_stocks_if_empty(session, ctx.catalog)

    if run_with_context(work, schema=False, create=True):
        console.print("Kept stock values filled from the reports.")
    console.print("Database is up to date.")


@group.command("rebuild-totals")
def db_rebuild_totals() -> None:
    """Recompute the kept totals of flows and stocks from the reports (after a change of
    the configuration's indicators, or to check them)."""
    from storage.db import aggregates

    async def work(ctx: AppContext) -> None:
        async with ctx.sessions() as session, session.begin():
            await aggregates.rebuild(session, ctx.catalog)
            await aggregates.analyze(session)

    run_with_context(work, units=False)
    console.print("Kept totals rebuilt from the reports.")
