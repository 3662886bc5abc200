"""Runs Alembic migrations from code (`hoibot db upgrade`, tests, `hoibot run`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    def run(connection: object) -> None:
        cfg = alembic_config(str(engine.url))
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def revisions(engine: AsyncEngine) -> tuple[str | None, str | None]:
    """(the database's revision, None when never migrated; the newest this code knows)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    def current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as conn:
        found = await conn.run_sync(current)
    return found, ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()


def is_known(engine: AsyncEngine, revision: str) -> bool:
    """Whether this code has the migration `revision` (a database may be newer than it)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    try:
        return script.get_revision(revision) is not None
    except (CommandError, KeyError):
        return False
