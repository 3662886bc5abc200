"""Wiring: which channels run (by the tokens present), polling or webhook, and shutdown."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiohttp import web

from bot.channels.base import Channel
from bot.channels.telegram import TelegramChannel, build_dispatcher, make_bot, set_menu
from bot.channels.zalo import WEBHOOK_PATH as ZALO_WEBHOOK_PATH
from bot.channels.zalo import ZaloChannel, ZaloRuntime
from bot.channels.zalo_client import ZaloClient
from bot.config import file_secret
from bot.context import AppContext
from bot.files import FileLinks
from bot.web.routes import register as register_pages
from handlers.engine import Engine
from schedules.runner import ReminderService

logger = logging.getLogger(__name__)
TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"


@dataclass
class TelegramRuntime:
    bot: Bot
    dispatcher: Dispatcher
    channel: TelegramChannel


def telegram_runtime(ctx: AppContext, engine: Engine) -> TelegramRuntime:
    bot = make_bot(ctx.settings)
    channel = TelegramChannel(bot)
    return TelegramRuntime(bot, build_dispatcher(engine, channel), channel)


async def start_telegram_polling(rt: TelegramRuntime, polling_timeout: int = 10) -> asyncio.Task:
    await rt.bot.delete_webhook(drop_pending_updates=False)
    await set_menu(rt.bot)
    return asyncio.create_task(
        rt.dispatcher.start_polling(
            rt.bot,
            handle_signals=False,
            polling_timeout=polling_timeout,
            close_bot_session=False,
        )
    )


def add_telegram_webhook(app: web.Application, rt: TelegramRuntime, secret: str | None) -> None:
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler

    SimpleRequestHandler(dispatcher=rt.dispatcher, bot=rt.bot, secret_token=secret).register(
        app, path=TELEGRAM_WEBHOOK_PATH
    )


@dataclass
class WebServer:
    app: web.Application = field(default_factory=web.Application)
    runner: web.AppRunner | None = None
    port: int = 0

    async def start(self, host: str, port: int) -> int:
        self.runner = web.AppRunner(self.app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        server = site._server  # noqa: SLF001 - the only way to learn an ephemeral port
        self.port = server.sockets[0].getsockname()[1] if server else port  # type: ignore[union-attr]
        return self.port

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()


def zalo_runtime(ctx: AppContext, engine: Engine) -> ZaloRuntime:
    settings = ctx.settings
    assert settings.zalo_bot_token is not None
    client = ZaloClient(settings.zalo_bot_token.get_secret_value(), settings.zalo_api_base)
    files = None
    if settings.public_base_url:
        files = FileLinks(
            settings.files_dir,
            settings.public_base_url,
            file_secret(settings),
            ctx.clock,
            timedelta(hours=settings.file_link_hours),
        )
    secret = (
        settings.zalo_webhook_secret.get_secret_value() if settings.zalo_webhook_secret else None
    )
    return ZaloRuntime(engine, ZaloChannel(client, files), secret)


async def run_bot(ctx: AppContext) -> None:
    """Runs every channel whose token is configured until cancelled."""
    settings = ctx.settings
    engine = Engine(ctx)
    tasks: list[asyncio.Task] = []
    web_server: WebServer | None = None
    telegram: TelegramRuntime | None = None
    reminders: ReminderService | None = None
    zalo: ZaloRuntime | None = None
    try:
        if settings.telegram_bot_token:
            telegram = telegram_runtime(ctx, engine)
            if settings.telegram_webhook_url:
                web_server = web_server or WebServer()
                secret = (
                    settings.telegram_webhook_secret.get_secret_value()
                    if settings.telegram_webhook_secret
                    else None
                )
                add_telegram_webhook(web_server.app, telegram, secret)
                await set_menu(telegram.bot)
                await telegram.bot.set_webhook(settings.telegram_webhook_url, secret_token=secret)
                logger.info("Telegram: webhook at %s", settings.telegram_webhook_url)
            else:
                tasks.append(await start_telegram_polling(telegram))
                logger.info("Telegram: long polling")
        if settings.zalo_bot_token:
            zalo = zalo_runtime(ctx, engine)
            if zalo.channel.files:
                web_server = web_server or WebServer()
                zalo.channel.files.register(web_server.app)
            if settings.public_base_url and zalo.secret:
                web_server = web_server or WebServer()
                zalo.register(web_server.app)
                url = settings.public_base_url.rstrip("/") + ZALO_WEBHOOK_PATH
                await zalo.channel.client.set_webhook(url, zalo.secret)
                logger.info("Zalo: webhook at %s", url)
            else:
                tasks.append(asyncio.create_task(zalo.poll_forever()))
                logger.info("Zalo: long polling")
        channels: dict[str, Channel] = {}
        if telegram:
            channels["telegram"] = telegram.channel
        if zalo:
            channels["zalo"] = zalo.channel
        if settings.reminders_enabled and channels:
            reminders = ReminderService(ctx, channels)
            reminders.start()
        if settings.public_base_url:
            web_server = web_server or WebServer()
            register_pages(web_server.app, ctx)
        if web_server:
            await web_server.start(settings.web_host, settings.web_port)
        await asyncio.gather(*tasks) if tasks else await asyncio.Event().wait()
    finally:
        if reminders:
            await reminders.stop()
        for task in tasks:
            task.cancel()
        if web_server:
            await web_server.stop()
        if telegram:
            await telegram.bot.session.close()
        if zalo:
            await zalo.channel.client.close()
