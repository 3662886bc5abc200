"""Wiring: which channels run (by the tokens present), polling or webhook, and shutdown.

`Service` is one running bot process (a worker): it registers itself, receives through the
durable intake, sends through the outbox, and on a stop (SIGTERM, SIGINT) stops taking
updates, lets the work in flight finish or hands it back, and closes its connections.

Only what is used is imported: the tracker pages (Jinja2) only with a public address; aiogram
(110-120 MB of pydantic models, built on import) only by the first file a Telegram bot sends,
the rest of the Bot API being JSON (bot.channels.telegram_client). A bot at rest has not
imported aiogram (tests/test_memory_at_rest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import secrets
import signal
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web

from bot.channels.intake import Intake
from bot.channels.telegram import (
    TelegramChannel,
    TelegramPoller,
    delete_webhook,
    set_menu,
    set_webhook,
    webhook_handler,
)
from bot.channels.telegram_client import TelegramClient, make_client
from bot.channels.zalo import WEBHOOK_PATH as ZALO_WEBHOOK_PATH
from bot.channels.zalo import ZaloChannel, ZaloRuntime
from bot.channels.zalo_client import ZaloClient
from bot.config import file_secret, webhook_secret
from bot.context import AppContext
from bot.files import FileLinks
from bot.scheduler import ReminderService
from bot.web.errors import Runner
from handlers.engine import Engine
from schedules.messages import Channel
from schedules.outbox import IN_FLIGHT
from storage.db.delivery import (
    heartbeat,
    register_worker,
    release_dead,
    requeue_abandoned,
    retire_worker,
)
from storage.db.sessions import transaction

logger = logging.getLogger(__name__)
TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"
# A message held "sending" by this worker, not being sent, this long after its claim: its
# record failed; longer than any send (SEND_TIMEOUT_SECONDS) may take.
ABANDONED = timedelta(minutes=2)
DRAIN_SECONDS = 2.0  # in-flight turns may finish within this on a stop; the rest goes back
# Sends in flight on a stop finish and are recorded within this (a fake or a platform that
# hangs longer is given up as a send that timed out); the whole stop stays under 5 s.
SENDS_SECONDS = 3.0


@dataclass
class TelegramRuntime:
    client: TelegramClient
    channel: TelegramChannel


def telegram_runtime(ctx: AppContext) -> TelegramRuntime:
    client = make_client(ctx.settings)
    return TelegramRuntime(client, TelegramChannel(client))


async def start_telegram_polling(
    rt: TelegramRuntime, intake: Intake, polling_timeout: int = 25
) -> asyncio.Task:
    await delete_webhook(rt.client)
    await set_menu(rt.client)
    return asyncio.create_task(TelegramPoller(rt.client, intake, polling_timeout).run())


def add_telegram_webhook(
    app: web.Application, rt: TelegramRuntime, intake: Intake, secret: str
) -> None:
    app.router.add_post(TELEGRAM_WEBHOOK_PATH, webhook_handler(rt.client, intake, secret))


@dataclass
class WebServer:
    app: web.Application = field(default_factory=web.Application)
    runner: web.AppRunner | None = None
    port: int = 0

    async def start(self, host: str, port: int, *, reuse_port: bool = False) -> int:
        """`reuse_port`: other processes listen on the same port (several workers)."""
        # A stop waits this long for requests being answered (each only stores an update).
        self.runner = Runner(self.app, shutdown_timeout=0.5)  # Vietnamese parser errors
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port, reuse_port=reuse_port or None)
        await site.start()
        server = site._server  # noqa: SLF001 - the only way to learn an ephemeral port
        self.port = server.sockets[0].getsockname()[1] if server else port  # type: ignore[attr-defined]
        return self.port

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()


def zalo_runtime(ctx: AppContext, intake: Intake) -> ZaloRuntime:
    settings = ctx.settings
    assert settings.zalo_bot_token is not None
    client = ZaloClient(
        settings.zalo_bot_token.get_secret_value(),
        settings.zalo_api_base,
        timeout=settings.send_timeout_seconds,
    )
    files = None
    if settings.public_base_url:
        files = FileLinks(
            settings.files_dir,
            settings.public_base_url,
            file_secret(settings),
            ctx.clock,
            timedelta(hours=settings.file_link_hours),
        )
    secret = webhook_secret(settings.zalo_webhook_secret, settings.zalo_bot_token)
    channel = ZaloChannel(client, files, settings.zalo_quota_retry_seconds)
    return ZaloRuntime(intake, channel, secret)


def new_worker_id() -> str:
    return f"{socket.gethostname()[:30]}-{os.getpid()}-{secrets.token_hex(4)}"


class Service:
    """One worker: its row in `workers`, the intake, the outbox dispatcher, the reminders."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.worker = new_worker_id()
        self.engine = Engine(ctx, self.worker, plain=ctx.settings.plain_answer_path)
        self.intake = Intake(ctx, self.engine, self.worker)
        self.reminders: ReminderService | None = None
        self.timeout = timedelta(seconds=ctx.settings.worker_timeout_seconds)
        self._housekeeping: asyncio.Task | None = None

    async def start(self, channels: dict[str, Channel], *, reminders: bool) -> None:
        self.intake.add_channels(channels)
        async with transaction(self.ctx.sessions) as session:
            await register_worker(session, self.worker, datetime.now(UTC))
        self.reminders = ReminderService(
            self.ctx, channels, worker=self.worker, reminders=reminders
        )
        self.reminders.start()
        self._housekeeping = asyncio.create_task(self._keep())

    async def _keep(self) -> None:
        """Shows this worker alive; takes over what dead ones left (updates, sends)."""
        pause = self.timeout.total_seconds() / 4
        while True:
            try:
                # Real time, not the bot's clock: with HOIBOT_NOW each start rewinds that one.
                now = datetime.now(UTC)
                async with transaction(self.ctx.sessions) as session:
                    await heartbeat(session, self.worker, now)
                    released = await release_dead(session, now, self.timeout)
                    released += await requeue_abandoned(
                        session, self.worker, set(IN_FLIGHT), self.ctx.clock.now() - ABANDONED
                    )
                if released:
                    logger.info("%d messages left by a stopped worker go out again", released)
                while await self.intake.recover():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup: try again at the next beat
                logger.exception("worker housekeeping failed")
            await asyncio.sleep(pause)

    async def stop(self) -> None:
        """In-flight turns finish (or roll back), the dispatcher ends its batch, and what
        this worker still holds goes back to the queue for the next one."""
        if self._housekeeping:
            self._housekeeping.cancel()
            await asyncio.gather(self._housekeeping, return_exceptions=True)
        await asyncio.gather(
            self.intake.drain(DRAIN_SECONDS),
            self.reminders.stop(SENDS_SECONDS) if self.reminders else asyncio.sleep(0),
        )
        if self.engine.marks is not None:  # before its rows "sending" go back to the queue
            await self.engine.marks.close()
        with contextlib.suppress(Exception):
            async with transaction(self.ctx.sessions) as session:
                await retire_worker(session, self.worker)


async def run_bot(
    ctx: AppContext, *, handle_signals: bool = False, worker_index: int | None = None
) -> None:
    """Runs every channel whose token is configured until cancelled or, with
    `handle_signals`, until SIGTERM or SIGINT, then stops cleanly.

    `worker_index`: this is one of several workers (bot.workers) sharing the web port; only
    the first polls (a platform serves one poller per bot) and registers the webhooks and the
    menu, the others take webhook calls, send and take over what a dead worker left."""
    settings = ctx.settings
    first = not worker_index
    service = Service(ctx)
    stop = asyncio.Event()
    if handle_signals:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    receivers: list[asyncio.Task] = []
    web_server: WebServer | None = None
    telegram: TelegramRuntime | None = None
    zalo: ZaloRuntime | None = None
    try:
        channels: dict[str, Channel] = {}
        if settings.telegram_bot_token:
            telegram = telegram_runtime(ctx)
            channels["telegram"] = telegram.channel
        if settings.zalo_bot_token:
            zalo = zalo_runtime(ctx, service.intake)
            channels["zalo"] = zalo.channel
        # Before receiving: updates are handled and replies sent only by a started service.
        await service.start(channels, reminders=settings.reminders_enabled)
        if telegram:
            if settings.telegram_webhook_url:
                web_server = web_server or WebServer()
                secret = webhook_secret(
                    settings.telegram_webhook_secret, settings.telegram_bot_token
                )
                add_telegram_webhook(web_server.app, telegram, service.intake, secret)
                if first:
                    await set_menu(telegram.client)
                    await set_webhook(telegram.client, settings.telegram_webhook_url, secret)
                    logger.info("Telegram: webhook at %s", settings.telegram_webhook_url)
            elif first:
                receivers.append(await start_telegram_polling(telegram, service.intake))
                logger.info("Telegram: long polling")
        if zalo:
            if zalo.channel.files:
                web_server = web_server or WebServer()
                zalo.channel.files.register(web_server.app)
            if settings.public_base_url and settings.zalo_webhook_secret:
                web_server = web_server or WebServer()
                zalo.register(web_server.app)
                url = settings.public_base_url.rstrip("/") + ZALO_WEBHOOK_PATH
                if first:
                    await zalo.channel.client.set_webhook(url, zalo.secret or "")
                    logger.info("Zalo: webhook at %s", url)
            elif first:
                receivers.append(asyncio.create_task(zalo.poll_forever()))
                logger.info("Zalo: long polling")
        if settings.public_base_url:
            from bot.web.routes import register as register_pages

            web_server = web_server or WebServer()
            register_pages(web_server.app, ctx)
        if web_server:
            await web_server.start(
                settings.web_host, settings.web_port, reuse_port=worker_index is not None
            )
        waiter = asyncio.create_task(stop.wait())
        await asyncio.wait([waiter, *receivers], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        logger.info("stopping")
    finally:
        # Stop taking updates first (an unconfirmed one is fetched again by the next worker),
        # then finish or hand back the work in flight, then close.
        for task in receivers:
            task.cancel()
        await asyncio.gather(*receivers, return_exceptions=True)
        if web_server:
            await web_server.stop()
        await service.stop()
        if telegram:
            await telegram.client.close()
        if zalo:
            await zalo.channel.client.close()
        logger.info("stopped")
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                asyncio.get_running_loop().remove_signal_handler(sig)
            # The process is about to exit: spare it the final sweep of its objects (after a
            # file, aiogram's and pydantic's millions: seconds on a busy machine, past a
            # service manager's patience). Everything is closed already.
            gc.freeze()
