"""`hoibot web`: the tracker pages alone, with a person's link."""

from __future__ import annotations

import asyncio
import contextlib

import typer

from bot.cli.base import CliError, app, console
from bot.cli.runner import run_with_context
from bot.config import get_settings
from bot.context import AppContext


@app.command()
def web(
    as_: str = typer.Option(..., "--as", help="Person id, phone or name: whose link to print"),
) -> None:
    """Serve the tracker pages only and print a person's link (PUBLIC_BASE_URL, or
    http://localhost:WEB_PORT when it is not set); Ctrl-C stops."""
    from bot.app import WebServer
    from bot.web.routes import register
    from storage.db.people import find_person

    settings = get_settings()
    if not settings.public_base_url:
        settings.public_base_url = f"http://localhost:{settings.web_port}"

    async def work(ctx: AppContext) -> None:
        assert ctx.web_links is not None
        async with ctx.sessions() as session:
            found = await find_person(session, as_)
        if len(found) != 1:
            raise CliError(
                f"{len(found)} people match {as_!r}: give an id, a phone or a fuller name."
            )
        server = WebServer()
        register(server.app, ctx)
        await server.start(settings.web_host, settings.web_port)
        console.print(f"{found[0].full_name}: {ctx.web_links.url(found[0])}")
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    with contextlib.suppress(KeyboardInterrupt):
        run_with_context(work)
