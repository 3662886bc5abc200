"""Timing: APScheduler plans reminders and recomputes kept thi đua rankings every few minutes;
the dispatcher drains the outbox.

The scheduler only says "look now"; what is due is computed from the database each time, so
a restart, a second process or a missed tick changes nothing that is sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.context import AppContext
from schedules.digests import WEEKLY_ROLES
from schedules.messages import Channel
from schedules.outbox import ChannelPace, Dispatcher, QueueResult, enqueue
from schedules.reminders import plan_chunks
from schedules.thi_dua import refresh
from storage.db.sessions import try_lock
from storage.plan.catalog import Catalog
from storage.plan.clock import VN

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
        from storage.plan.catalog import Schedule

        schedules = [Schedule()]
    return min(s.quiet_from for s in schedules), max(s.quiet_until for s in schedules)


async def plan_and_queue(ctx: AppContext, *, skip_if_busy: bool = False) -> QueueResult:
    """Plans and queues what is due, one process at a time. `skip_if_busy` (the scheduler of
    each worker): another is planning, so this check is skipped; the outbox keys would queue
    each message once anyway, this spares planning it N times."""
    now = ctx.clock.now()
    async with try_lock(ctx.engine, "hoibot:plan-reminders", wait=not skip_if_busy) as mine:
        if not mine:
            return QueueResult()
        async with ctx.sessions() as session:
            planned = plan_chunks(session, ctx.catalog, now, web=ctx.web_links is not None)
            result = await enqueue(ctx.sessions, planned, now)
    if result.queued:
        logger.info(
            "queued %d messages (%d already queued, %d people unreachable)",
            result.queued,
            result.already,
            result.unreachable,
        )
    return result


async def refresh_rankings(ctx: AppContext) -> int:
    """Recomputes out-of-date kept rankings, and keeps those the weekly summary's "most
    improved" reads (their history of days spares computing the scores of weeks ago); one
    worker at a time (the others skip)."""
    async with try_lock(ctx.engine, "hoibot:refresh-rankings") as mine:
        if not mine:
            return 0
        done = await refresh(ctx.sessions, ctx.catalog, ctx.clock, also=WEEKLY_ROLES)
    if done:
        logger.info("recomputed %d thi đua rankings", done)
    return done


async def prune_personal_data(ctx: AppContext) -> int:
    """Drops what is kept past PERSONAL_DATA_RETENTION_DAYS (storage/db/personal_data/retention.py);
    one worker at a time (the others skip)."""
    from storage.db.personal_data.retention import prune
    from storage.db.sessions import transaction

    async with try_lock(ctx.engine, "hoibot:prune-personal-data") as mine:
        if not mine:
            return 0
        async with transaction(ctx.sessions) as session:
            done = await prune(session, ctx.clock.now(), ctx.settings.personal_data_retention_days)
    if done.total:
        logger.info(
            "pruned personal data past %d days: %d message texts, %d handled updates, "
            "%d invitations, %d wrong codes",
            ctx.settings.personal_data_retention_days,
            done.message_texts,
            done.handled_updates,
            done.invitations,
            done.code_attempts,
        )
    return done.total


class ReminderService:
    """The outbox dispatcher (always: owed replies go through it) and the scheduler: it plans
    reminders when they are on, and recomputes kept thi đua rankings after reports arrive."""

    def __init__(
        self,
        ctx: AppContext,
        channels: Mapping[str, Channel],
        *,
        worker: str | None = None,
        reminders: bool = True,
    ) -> None:
        self.ctx = ctx
        self.dispatcher = Dispatcher(
            ctx.sessions,
            channels,
            ctx.clock,
            paces=paces(ctx),
            quiet=quiet_hours(ctx.catalog),
            worker=worker,
            lease=timedelta(seconds=ctx.settings.worker_timeout_seconds),
        )
        self.reminders = reminders
        # Always: personal data past its retention is pruned daily (Decree 13/2023/NĐ-CP).
        self.scheduler = AsyncIOScheduler(timezone=VN)
        self.task: asyncio.Task | None = None
        self.jobs: set[asyncio.Task] = set()  # scheduled checks running now

    def start(self) -> None:
        if self.scheduler:
            # The scheduler keeps real time; each check reads the bot's clock (which, with
            # HOIBOT_NOW, runs on from there), so the first check is now and the next ones
            # every few minutes, whatever day the clock says.
            if self.reminders:
                self.scheduler.add_job(
                    self._job,
                    "interval",
                    args=[plan_and_queue, self.ctx],
                    kwargs={"skip_if_busy": True},
                    minutes=self.ctx.settings.reminder_check_minutes,
                    next_run_time=datetime.now(VN),
                    max_instances=1,
                    coalesce=True,
                )
            if self.ctx.settings.thi_dua_refresh_minutes:
                self.scheduler.add_job(
                    self._job,
                    "interval",
                    args=[refresh_rankings, self.ctx],
                    minutes=self.ctx.settings.thi_dua_refresh_minutes,
                    max_instances=1,
                    coalesce=True,
                )
            self.scheduler.add_job(
                prune_personal_data,
                "interval",
                args=[self.ctx],
                hours=24,
                next_run_time=datetime.now(VN) + timedelta(minutes=1),
                max_instances=1,
                coalesce=True,
            )
            self.scheduler.start()
        self.task = asyncio.create_task(self.dispatcher.run_forever())

    async def _job(self, job: Callable[..., Awaitable[object]], *args: Any, **kwargs: Any) -> None:
        """A scheduled check, stopped quietly by `stop`: what it had queued is committed, and
        the next check (of this worker or another) does the rest."""
        task = asyncio.current_task()
        assert task is not None
        self.jobs.add(task)
        try:
            await job(*args, **kwargs)
        except asyncio.CancelledError:
            if not self.dispatcher.stopping:
                raise
            logger.info("stopping: %s left for the next check", job.__name__)
        finally:
            self.jobs.discard(task)

    async def stop(self, seconds: float = 3.0) -> None:
        """Stops the checks and the sends: a send in flight finishes and is recorded (within
        `seconds`), the messages claimed but not tried go back to the queue."""
        if self.scheduler and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.dispatcher.stop()
        for job in list(self.jobs):
            job.cancel()
        await asyncio.gather(*self.jobs, return_exceptions=True)
        if self.task:
            try:
                await asyncio.wait_for(asyncio.shield(self.task), seconds)
            except TimeoutError:
                # A send hanging past the stop's time: left as a send that timed out would be
                # (retried by the next worker); retire_worker hands its row back.
                logger.warning("stopping: a send still in flight after %.1f s is given up", seconds)
                self.task.cancel()
                await asyncio.gather(self.task, return_exceptions=True)
