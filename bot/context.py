"""What every part of the running bot shares: settings, database, catalog and clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from schedules.clock import Clock, FixedClock
from storage.catalog import Catalog, load_catalog
from storage.db import make_engine, make_sessionmaker


@dataclass
class AppContext:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    catalog: Catalog
    clock: Clock = field(default_factory=Clock)

    @classmethod
    def create(
        cls, settings: Settings, clock: Clock | None = None, engine: AsyncEngine | None = None
    ) -> AppContext:
        engine = engine or make_engine(settings.database_url)
        if clock is None and settings.hoibot_now is not None:
            clock = FixedClock(settings.hoibot_now)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            catalog=load_catalog(settings.hoibot_config_dir),
            clock=clock or Clock(),
        )

    async def close(self) -> None:
        await self.engine.dispose()
