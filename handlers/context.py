"""What the handlers need of the running bot, as a protocol: the bot's `AppContext`
(bot/context.py) provides it, so the handlers never import the bot layer above them."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schedules.thi_dua import Rankings
from storage.db.models import Person
from storage.plan.catalog import Catalog
from storage.plan.clock import Clock


class PageLinks(Protocol):
    """Signed links to a person's tracker pages (bot/web/links.py)."""

    lifetime: timedelta

    def url(self, person: Person) -> str: ...


class HandlerContext(Protocol):
    sessions: async_sessionmaker[AsyncSession]
    catalog: Catalog
    clock: Clock

    @property
    def web_links(self) -> PageLinks | None: ...

    @property
    def rankings(self) -> Rankings: ...

    @property
    def retention_days(self) -> int:
        """How long message texts are kept (PERSONAL_DATA_RETENTION_DAYS)."""
        ...

    @property
    def invitation_days(self) -> int:
        """How long a new invitation stays valid (INVITATION_DAYS)."""
        ...

    def invite_link(self, code: str) -> str | None:
        """The Telegram link that joins with an invitation code (None: no bot name set)."""
        ...
