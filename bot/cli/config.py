"""`hoibot config`: checking the operator's configuration files."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.cli.base import CliError, console, plural
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
        None,
        "--database",
        help="Check the units of this database (a URL) against it; default: DATABASE_URL, "
        "from the environment or .env, when it is set",
    ),
    no_database: bool = typer.Option(
        False, "--no-database", help="Check the files only, not the units of a database"
    ),
) -> None:
    """Check the configuration files and report every problem, one line each; then check the
    units of the database against them (every unit's level is listed, every unit a target
    names exists)."""
    from sqlalchemy import func, select

    from storage.db.catalog_db_checks import check_against_database
    from storage.db.models import OrgUnit
    from storage.plan.catalog_load import load_catalog
    from storage.plan.config_files import ConfigError

    if database is not None and not database.strip():
        raise CliError(
            "--database was given an empty URL (is the shell variable set? the shell does not "
            "read .env): leave --database out to check the DATABASE_URL of .env, or write "
            "the URL."
        )
    settings = get_settings()
    folder = folder or settings.hoibot_config_dir
    catalog = load_catalog(folder)  # its ConfigError is printed by Commands, exit 1
    url = database or (
        settings.database_url if "database_url" in settings.model_fields_set else None
    )
    note = "target units not checked against a database (DATABASE_URL is not set; "
    note += "--database URL to check them)"
    if no_database:
        note = "target units not checked against a database (--no-database)"
    elif url is not None and (missing := _missing_sqlite_file(url)) is not None:
        note = (
            f"there is no database at {missing} yet (`hoibot db upgrade` creates it; check "
            "DATABASE_URL if it should be there)"
        )
    elif url is not None:

        async def units(ctx: AppContext) -> list[str] | None:
            async with ctx.sessions() as session:
                if not await session.scalar(select(func.count()).select_from(OrgUnit)):
                    return None
                return await check_against_database(session, catalog, folder)

        checked = settings.model_copy(update={"database_url": url, "hoibot_config_dir": folder})
        problems = with_settings(checked, units)
        if problems:
            raise ConfigError(problems)
        note = (
            "the units in the database fit it (levels, and units named by targets)"
            if problems is not None
            else "the database has no units yet (import them with `hoibot units import`, "
            "then check again)"
        )
    console.print(
        f"Configuration in {folder} is OK: {plural(len(catalog.levels), 'level')}, "
        f"{plural(len(catalog.indicators), 'indicator')}, {plural(len(catalog.forms), 'form')}, "
        f"{plural(len(catalog.targets), 'target')}, {plural(len(catalog.terms), 'term')}; "
        f"{note}.",
        soft_wrap=True,
    )


def _missing_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL when it is not there (the files are checked all the same)."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        return None  # an unreadable URL is said by the database check itself
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path
