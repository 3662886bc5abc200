"""Timing: APScheduler plans reminders every few minutes; the dispatcher drains the outbox.

The scheduler only says "look now"; what is due is computed from the database each time, so
a restart, a second process or a missed tick changes nothing that is sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.channels.base import Channel
from bot.context import AppContext
from schedules.clock import VN
from schedules.outbox import ChannelPace, Dispatcher, QueueResult, enqueue
from schedules.reminders import plan
from storage.catalog import Catalog

logger = logging.getLogger(__name__)


def paces(ctx: AppContext) -> dict[str, ChannelPace]:
    s = ctx.settings
    return {
        "telegram": ChannelPace(s.telegram_rate_per_second, s.telegram_rate_per_chat_seconds),
        "zalo": ChannelPace(
            s.zalo_rate_per_second, s.zalo_rate_per_chat_seconds, s.zalo_monthly_cap
        ),
    }


def quiet_hours(catalog: Catalog) -> tuple:
    """The widest quiet night of all forms: unasked messages never go out inside it."""
    schedules = [f.schedule for f in catalog.forms.values()]
    if not schedules:
        from storage.catalog import Schedule

        schedules = [Schedule()]
    return min(s.quiet_from for s in schedules), max(s.quiet_until for s in schedules)


async def plan_and_queue(ctx: AppContext) -> QueueResult:
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        planned = await plan(session, ctx.catalog, now, web=ctx.web_links is not None)
    result = await enqueue(ctx.sessions, planned, now)
    if result.queued:
        logger.info(
            "queued %d messages (%d already queued, %d people unreachable)",
            result.queued,
            result.already,
            result.unreachable,
        )
    return result


class ReminderService:
    def __init__(self, ctx: AppContext, channels: Mapping[str, Channel]) -> None:
        self.ctx = ctx
        self.dispatcher = Dispatcher(
            ctx.sessions, channels, ctx.clock, paces=paces(ctx), quiet=quiet_hours(ctx.catalog)
        )
        self.scheduler = AsyncIOScheduler(timezone=VN)
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.scheduler.add_job(
            plan_and_queue,
            "interval",
            args=[self.ctx],
            minutes=self.ctx.settings.reminder_check_minutes,
            next_run_time=self.ctx.clock.now(),
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.start()
        self.task = asyncio.create_task(self.dispatcher.run_forever())

    async def stop(self) -> None:
        self.scheduler.shutdown(wait=False)
        if self.task:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
