"""Running a command's work with the settings, the database and the checked configuration."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from bot.cli.base import CliError, bad_url, masked
from bot.config import Settings, get_settings
from bot.context import AppContext
from storage.db.sessions import make_engine

T = TypeVar("T")


async def check_database(
    ctx: AppContext, schema: bool, units: bool, *, create: bool = False
) -> None:
    """Stops with one line when the database cannot be reached, is not there (a SQLite file
    is created only by the commands that build a database: `create`), is not migrated or is
    newer than this code, and with the configuration's problems when its targets name units
    the database lacks."""
    from sqlalchemy import func, select

    from storage.db.catalog_db_checks import check_against_database
    from storage.db.migrate import is_known, revisions
    from storage.db.models import OrgUnit
    from storage.plan.config_files import ConfigError

    url = ctx.engine.url
    sqlite = url.get_backend_name() == "sqlite"
    where = "its folder exists" if sqlite else "the database server is running"
    cannot = f"Cannot open the database {masked(ctx.settings.database_url)}"
    file = Path(url.database or "")
    if sqlite and url.database not in (None, "", ":memory:"):
        if not file.parent.is_dir():
            raise CliError(
                f"{cannot} (the folder {file.parent} does not exist): check DATABASE_URL "
                f"and that {where}."
            )
        if not create and not file.exists():
            raise CliError(
                f"There is no database at {file}: check DATABASE_URL (a mistyped path?); "
                "`hoibot db upgrade` creates a new one."
            )
    try:
        current, head = await revisions(ctx.engine)
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise CliError(
            f"{cannot} ({reason[0] if reason else type(exc).__name__}): check DATABASE_URL "
            f"and that {where}."
        ) from exc
    if current is not None and not is_known(ctx.engine, current):
        raise CliError(
            f"The database is at version {current}, newer than this hoibot knows (its latest "
            f"is {head}): update hoibot (git pull, then make install), or check DATABASE_URL."
        )
    if not schema:
        return
    if current is None:
        raise CliError("The database has no tables yet: run `hoibot db upgrade` first.")
    if current != head:
        raise CliError(
            f"The database is at version {current}, older than this hoibot needs ({head}): "
            "run `hoibot db upgrade` first."
        )
    if units:
        async with ctx.sessions() as session:
            if not await session.scalar(select(func.count()).select_from(OrgUnit)):
                raise CliError(
                    "The database has no units yet: import them first with "
                    "`hoibot units import FILE` (README: Installing for your province)."
                )
            problems = await check_against_database(
                session, ctx.catalog, ctx.settings.hoibot_config_dir
            )
            if problems:
                raise ConfigError(problems)


def run_with_context(
    work: Callable[[AppContext], Awaitable[T]],
    *,
    schema: bool = True,
    units: bool = True,
    create: bool = False,
) -> T:
    """Runs `work` with the settings, database and checked configuration. `schema=False` for
    the commands that migrate the database themselves; `units=False` for those that work
    without units (or bring them in, so targets may name units not imported yet); `create`
    for those that may create a SQLite database that is not there (`db upgrade`, `demo`)."""

    return with_settings(get_settings(), work, schema=schema, units=units, create=create)


def with_settings(
    settings: Settings,
    work: Callable[[AppContext], Awaitable[T]],
    *,
    schema: bool = True,
    units: bool = False,
    create: bool = False,
) -> T:
    if not settings.database_url.strip():
        raise CliError(
            "DATABASE_URL is empty: set it in .env (or leave it out for ./hoibot.db), e.g. "
            "sqlite+aiosqlite:///path/to/hoibot.db or postgresql://user@host:5432/name."
        )

    async def main() -> T:
        try:
            engine = make_engine(settings.database_url)
        except Exception as exc:  # an unknown scheme or a driver that is not installed
            raise CliError(bad_url(settings.database_url, str(exc))) from exc
        try:
            ctx = AppContext.create(settings, engine=engine)
        except BaseException:
            await engine.dispose()
            raise
        try:
            await check_database(ctx, schema, units, create=create)
            return await work(ctx)
        finally:
            await ctx.close()

    return asyncio.run(main())


def output_path(path: Path, suffixes: tuple[str, ...]) -> Path:
    """A file a command will write: refused before any work when it could not be."""
    if path.suffix.lower() not in suffixes:
        raise CliError(
            f"{path}: cannot write a {path.suffix or 'suffix-less'} file; "
            f"name it with {' or '.join(suffixes)}."
        )
    if not path.parent.is_dir():
        raise CliError(f"{path}: the folder {path.parent} does not exist; create it first.")
    return path


def shipped_provinces() -> dict[str, Path]:
    """The provinces shipped under demo/, by the name `hoibot demo --province` takes."""
    from bot.config import DEMO_CONFIG_DIR

    return {
        p.name.replace("_", "-"): p
        for p in sorted(DEMO_CONFIG_DIR.parent.iterdir())
        if (p / "units.csv").exists()
    }


def shown(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    return str(path)


def is_demo_config() -> bool:
    """Whether HOIBOT_CONFIG_DIR is one of the shipped provinces (a demo may be built)."""
    configured = get_settings().hoibot_config_dir.resolve()
    return any(configured == p.resolve() for p in shipped_provinces().values())
