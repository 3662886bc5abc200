"""Reminder fan-out: 100,000 leaders due at 08:00.

    python -m bench.fanout            # PostgreSQL, 100,000 branch leaders
    python -m bench.fanout --quick    # 400 leaders, short phases

Measures: the time to plan and queue every reminder; dispatcher throughput with the rate
limit lifted, against a fake Telegram API in another process; the achieved rate over a minute
with Telegram's limit (30/s) on while the fake answers 429 at random; the peak memory of this
process (the dataset is built in a child process, so it does not count).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from datetime import time as clock_time
from pathlib import Path

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import ClientSession
from sqlalchemy import func, select

from bench.common import (
    Shape,
    build_nation,
    database,
    engine_for,
    national_catalog,
    peak_rss_mb,
    run,
    table,
)
from bot.channels.telegram import TelegramChannel
from schedules.outbox import ChannelPace, Dispatcher, enqueue
from schedules.reminders import plan
from storage.clock import FixedClock, vn_datetime
from storage.db import make_sessionmaker
from storage.models import OutboxMessage, OutboxStatus
from tests.fakes.telegram import TOKEN


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def start_fake(random_429: float) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.telegram",
            "--port",
            str(port),
            "--random-429",
            str(random_429),
        ],
    )
    base = f"http://127.0.0.1:{port}"
    async with ClientSession() as http:
        for _ in range(100):
            try:
                async with http.get(base + "/_counts"):
                    return process, base
            except OSError:
                await asyncio.sleep(0.1)
    raise RuntimeError("the fake Telegram server did not start")


async def sent_count(base: str) -> int:
    async with ClientSession() as http, http.get(base + "/_counts") as response:
        return int((await response.json())["sent"])


async def queue_step(url: str, at_day: tuple[int, int, int]) -> tuple[float, float, int]:
    engine = engine_for(url)
    sessions = make_sessionmaker(engine)
    at = vn_datetime(*at_day, 8, 0)
    started = time.perf_counter()
    async with sessions() as session:
        planned = await plan(session, national_catalog(), at)
    planned_at = time.perf_counter()
    result = await enqueue(sessions, planned, at)
    queued_at = time.perf_counter()
    await engine.dispose()
    return planned_at - started, queued_at - planned_at, result.queued


async def dispatch(
    url: str,
    base: str,
    pace: ChannelPace,
    seconds: float,
    limit: int | None,
    day: tuple[int, int, int],
) -> tuple[int, float]:
    engine = engine_for(url)
    sessions = make_sessionmaker(engine)
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base), limit=200))
    clock = FixedClock(vn_datetime(*day, 9, 0))
    dispatcher = Dispatcher(
        sessions,
        {"telegram": TelegramChannel(bot)},
        clock,
        paces={"telegram": pace},
        batch=500,
        concurrency=64,
        quiet=(clock_time(0), clock_time(0)),
    )
    before = await sent_count(base)
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        if not await dispatcher.run_once():
            break
        if limit and await sent_count(base) - before >= limit:
            break
    elapsed = time.perf_counter() - started
    sent = await sent_count(base) - before
    await bot.session.close()
    await engine.dispose()
    return sent, elapsed


async def main(db: str, quick: bool, url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if url is None:
            url = await database(db, Path(tmp))
            shape = "quick" if quick else "full"
            subprocess.run(
                [sys.executable, "-m", "bench.fanout", "--build", shape, "--url", url], check=True
            )
        plan_s, queue_s, queued = await queue_step(url, (2025, 12, 26))  # December opens
        fake, base = await start_fake(0.0)
        try:
            free_sent, free_s = await dispatch(
                url, base, ChannelPace(None, 0), 120, 1_000 if quick else 30_000, (2025, 12, 26)
            )
        finally:
            fake.terminate()
        # More due (two days before the due date), for the paced minute.
        await queue_step(url, (2026, 1, 3))
        fake, base = await start_fake(0.01)
        minute = 10 if quick else 60
        try:
            paced_sent, paced_s = await dispatch(
                url, base, ChannelPace(30.0, 1.0), minute, None, (2026, 1, 3)
            )
        finally:
            fake.terminate()
        engine = engine_for(url)
        async with make_sessionmaker(engine)() as session:
            retried = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.error.like("%retry%"), OutboxMessage.status != OutboxStatus.FAILED
                )
            )
        await engine.dispose()
    rate = paced_sent / paced_s
    rows = [
        ["plan the reminders", f"{plan_s:.1f} s", "", ""],
        ["queue them in the outbox", f"{queue_s:.1f} s", "", ""],
        [
            f"plan + queue ({queued:,} reminders)",
            f"{plan_s + queue_s:.1f} s",
            "< 10 s",
            "met" if plan_s + queue_s < 10 else "NOT met",
        ],
        [
            f"dispatch, no rate limit ({free_sent:,} sent)",
            f"{free_sent / free_s:,.0f} msg/s",
            ">= 2,000 msg/s",
            "met" if free_sent / free_s >= 2000 else "NOT met",
        ],
        [
            f"dispatch at 30/s for {minute} s, 1% 429s ({retried} retried)",
            f"{rate:.2f} msg/s",
            ">= 29.1 msg/s (97%)",
            "met" if rate >= 29.1 else "NOT met",
        ],
        [
            "peak memory of this process",
            f"{peak_rss_mb():.0f} MB",
            "< 300 MB",
            "met" if peak_rss_mb() < 300 else "NOT met",
        ],
    ]
    print(table(rows, ["measure", "value", "goal", ""]))


async def build(url: str, which: str) -> None:
    shape = Shape(2, 10, 20, 0) if which == "quick" else Shape(34, 97, 30, 0)
    engine = engine_for(url)
    counts = await build_nation(engine, shape)
    await engine.dispose()
    print(f"dataset: {counts}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--build", choices=["quick", "full"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        run(lambda: build(args.url, args.build))
    else:
        run(lambda: main(args.db, args.quick, None))
