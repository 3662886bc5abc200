"""What every part of the running bot shares: settings, database, catalog and clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings, file_secret
from bot.web.links import WebLinks
from schedules.thi_dua import Rankings
from storage.db.sessions import make_engine, make_sessionmaker
from storage.plan.catalog import Catalog
from storage.plan.catalog_load import load_catalog
from storage.plan.clock import Clock, ShiftedClock


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
            clock = ShiftedClock(settings.hoibot_now)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            catalog=load_catalog(settings.hoibot_config_dir),
            clock=clock or Clock(),
        )

    @cached_property
    def web_links(self) -> WebLinks | None:
        """Links to the tracker pages, when the web server is reachable (PUBLIC_BASE_URL)."""
        s = self.settings
        if not s.public_base_url:
            return None
        lifetime = timedelta(hours=s.web_link_hours)
        return WebLinks(s.public_base_url, file_secret(s), self.clock, lifetime)

    @property
    def retention_days(self) -> int:
        return self.settings.personal_data_retention_days

    @property
    def invitation_days(self) -> int:
        return self.settings.invitation_days

    def invite_link(self, code: str) -> str | None:
        """The Telegram deep link that joins with this code, when the bot's name is set."""
        name = (self.settings.telegram_bot_username or "").lstrip("@")
        return f"https://t.me/{name}?start={code}" if name else None

    @cached_property
    def rankings(self) -> Rankings:
        """Thi đua rankings, kept in the database (schedules/thi_dua.py)."""
        return Rankings(self.sessions)

    async def close(self) -> None:
        await self.engine.dispose()
