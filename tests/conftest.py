"""Shared fixtures: a database on SQLite (always) and PostgreSQL (when TEST_DATABASE_URL is
set), the demo configuration, and a fixed clock."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import DEMO_CONFIG_DIR, Settings
from bot.context import AppContext
from storage.db.models import Base
from storage.db.sessions import make_engine, make_sessionmaker
from storage.plan.catalog import Catalog
from storage.plan.catalog_load import load_catalog
from storage.plan.clock import FixedClock, vn_datetime

pytest_plugins = ["tests.web_site"]  # the tracker pages' `site` fixture
PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
_pg_state = {"schema_ready": False}


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(DEMO_CONFIG_DIR)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(vn_datetime(2026, 11, 27, 9, 0))


async def _fresh_postgres() -> AsyncEngine:
    assert PG_URL
    engine = make_engine(PG_URL, pool_size=5)
    async with engine.begin() as conn:
        if not _pg_state["schema_ready"]:
            await conn.run_sync(Base.metadata.drop_all)
            await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            await conn.run_sync(Base.metadata.create_all)
            _pg_state["schema_ready"] = True
        else:
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return engine


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        await engine.dispose()
        yield url
    else:
        engine = await _fresh_postgres()
        await engine.dispose()
        assert PG_URL
        yield PG_URL


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as s:
        yield s


@pytest.fixture
async def ctx(db_url: str, clock: FixedClock, catalog: Catalog) -> AsyncIterator[AppContext]:
    settings = Settings(database_url=db_url, _env_file=None)  # type: ignore[call-arg]
    engine = make_engine(db_url)
    context = AppContext(settings, engine, make_sessionmaker(engine), catalog, clock)
    yield context
    await context.close()
