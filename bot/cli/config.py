"""`hoibot config`: checking the operator's configuration files."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.cli.base import console
from bot.cli.runner import with_settings
from bot.config import get_settings
from bot.context import AppContext

group = typer.Typer(help="The operator's configuration files.")


@group.command("check")
def config_check(
    folder: Path = typer.Argument(
        None, help="The folder of YAML files (default: HOIBOT_CONFIG_DIR)"
    ),
    database: str = typer.Option(
        None, "--database", help="Also check the units of this database (a URL) against it"
    ),
) -> None:
    """Check the configuration files and report every problem, one line each."""
    from storage.catalog import ConfigError, load_catalog
    from storage.catalog_checks import check_against_database

    folder = folder or get_settings().hoibot_config_dir
    catalog = load_catalog(folder)  # its ConfigError is printed by Commands, exit 1
    note = "target units not checked against a database (--database URL to check them)"
    if database:

        async def units(ctx: AppContext) -> list[str]:
            async with ctx.sessions() as session:
                return await check_against_database(session, catalog, folder)

        settings = get_settings().model_copy(
            update={"database_url": database, "hoibot_config_dir": folder}
        )
        problems = with_settings(settings, units)
        if problems:
            raise ConfigError(problems)
        note = "the units in the database fit it (levels, and units named by targets)"
    console.print(
        f"Configuration in {folder} is OK: {len(catalog.levels)} levels, "
        f"{len(catalog.indicators)} indicators, {len(catalog.forms)} forms, "
        f"{len(catalog.targets)} targets, {len(catalog.terms)} terms; {note}.",
        soft_wrap=True,
    )
