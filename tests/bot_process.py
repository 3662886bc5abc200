"""A bot process for the fault tests, as `hoibot run` starts it, forked from a long-lived
server that has already imported the bot (multiprocessing's forkserver, `preload`): a start
costs a fork instead of the imports (aiogram's alone takes 5-12 s on a loaded machine), so a
test can kill and restart the bot many times a minute."""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
import threading
import time
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from typing import Any

from tests.fakes import SENDER


@functools.cache
def context() -> ForkServerContext:
    """The forkserver (started at the first start) imports the bot's modules once."""
    forkserver = multiprocessing.get_context("forkserver")
    # bot.app imports the Telegram channel (aiogram) only for a Telegram bot: preload it too.
    forkserver.set_forkserver_preload(
        ["tests.bot_process", "bot.app", "bot.channels.telegram", "bot.context"]
    )
    return forkserver


def start(env: dict[str, str], log: str) -> BaseProcess:
    process = context().Process(target=_main, args=(env, log, os.getpid()), daemon=False)
    process.start()
    return process


async def wait(process: BaseProcess, timeout: float) -> int:
    """The exit code (negative: killed by that signal), without blocking the event loop."""
    deadline = time.monotonic() + timeout
    while process.exitcode is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"bot process {process.pid} still running after {timeout} s")
        await asyncio.sleep(0.02)
    return process.exitcode


def _main(env: dict[str, str], log: str, test: int) -> None:
    threading.Thread(target=_orphaned, args=(test,), daemon=True).start()
    # The environment of this start (the settings are read from it), and its output in `log`.
    os.environ.clear()
    os.environ.update(env)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    logging.basicConfig(level=logging.WARNING)
    _sign_requests()
    asyncio.run(_run())


def name(pid: int) -> str:
    """The process's name on its requests to the fakes and on its database connections."""
    return f"hoibot-test-{pid}"


def _sign_requests() -> None:
    """Every HTTP request this process makes says which process made it (a header no fake
    answers to), so a test can tell which process sent each copy of a message, exactly,
    even one whose request reached the fake after the process died."""
    import aiohttp

    init = aiohttp.ClientSession.__init__

    def signed(self: aiohttp.ClientSession, *args: Any, **kwargs: Any) -> None:
        kwargs["headers"] = {**(kwargs.get("headers") or {}), SENDER: name(os.getpid())}
        init(self, *args, **kwargs)

    aiohttp.ClientSession.__init__ = signed  # type: ignore[method-assign]


async def _run() -> None:
    from bot.app import run_bot
    from bot.config import Settings
    from bot.context import AppContext
    from storage.db.sessions import make_engine

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    # Its connections carry its name: after a SIGKILL, the test waits until PostgreSQL has
    # dropped them (a COMMIT already sent still lands) before reading what it recorded.
    named = {"server_settings": {"application_name": name(os.getpid())}}
    postgres = settings.database_url.startswith("postgres")
    engine = make_engine(settings.database_url, **({"connect_args": named} if postgres else {}))
    ctx = AppContext.create(settings, engine=engine)
    try:
        await run_bot(ctx, handle_signals=True)
    finally:
        await ctx.close()


def _orphaned(test: int) -> None:
    """Ends the bot if the test process is gone (killed from outside): its parent is the
    forkserver, which the kernel does not end with the test, and a bot left running would
    take the next test's updates."""
    while True:
        time.sleep(1)
        try:
            os.kill(test, 0)
        except ProcessLookupError:
            os._exit(1)
