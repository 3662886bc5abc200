"""Reminder fan-out: 100,000 leaders due at 08:00.

    python -m bench.fanout                    # PostgreSQL, 100,000 branch leaders
    python -m bench.fanout --quick            # 400 leaders, short phases
    python -m bench.fanout --dispatchers 2    # unthrottled dispatch from two processes
    python -m bench.fanout --reuse            # the national dataset already in the database

Measures: the time to plan and queue every reminder (planning alone, then both as the bot
does them: each list queued as it is made); dispatcher throughput with the rate limit lifted,
from `--dispatchers` processes against a fake Telegram API in another process (counted at
the fake, from its first message to the last); the achieved rate over a minute with
Telegram's limit (30/s) on while the fake answers 429 at random; the peak memory of this
process (the dataset is built in a child process, so it does not count).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import time as clock_time
from pathlib import Path

from aiohttp import ClientSession
from sqlalchemy import delete, func, select

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
from bench.rollups import has_nation
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_client import TelegramClient
from schedules.outbox import ChannelPace, Dispatcher, enqueue
from schedules.reminders import plan_chunks
from storage.db.models import OutboxMessage, OutboxStatus
from storage.db.sessions import make_sessionmaker
from storage.plan.clock import FixedClock, vn_datetime
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
    """(planning alone, planning and queueing, messages queued)."""
    engine = engine_for(url)
    sessions = make_sessionmaker(engine)
    at = vn_datetime(*at_day, 8, 0)
    catalog = national_catalog()
    started = time.perf_counter()
    async with sessions() as session:
        async for _chunk in plan_chunks(session, catalog, at):
            pass  # made and dropped: the time of planning alone
    planned_at = time.perf_counter()
    async with sessions() as session:
        result = await enqueue(sessions, plan_chunks(session, catalog, at), at)
    queued_at = time.perf_counter()
    await engine.dispose()
    return planned_at - started, queued_at - planned_at, result.queued


async def dispatch_in_process(
    url: str, base: str, pace: ChannelPace, seconds: float, day: tuple[int, int, int]
) -> None:
    """One dispatcher, as a worker runs it, until the outbox is empty or `seconds` pass."""
    engine = engine_for(url)
    sessions = make_sessionmaker(engine)
    client = TelegramClient(TOKEN, base, limit=200)
    clock = FixedClock(vn_datetime(*day, 9, 0))
    dispatcher = Dispatcher(
        sessions,
        {"telegram": TelegramChannel(client)},
        clock,
        paces={"telegram": pace},
        batch=500,
        concurrency=64,
        quiet=(clock_time(0), clock_time(0)),
        worker=f"bench-{os.getpid()}",
    )
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        if not await dispatcher.run_once():
            break
    await client.close()
    await engine.dispose()


async def dispatch(
    url: str,
    base: str,
    pace: ChannelPace,
    seconds: float,
    limit: int | None,
    day: tuple[int, int, int],
    processes: int = 1,
) -> tuple[int, float]:
    """Messages the fake took and the seconds between its first and its last (up to `limit`),
    from `processes` dispatchers, each in its own process, as workers run them."""
    per_second = "none" if pace.per_second is None else str(pace.per_second / processes)
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.fanout",
                "--dispatch",
                url,
                base,
                per_second,
                str(pace.per_chat_seconds),
                str(seconds),
                "-".join(map(str, day)),
            ]
        )
        for _ in range(processes)
    ]
    before = await sent_count(base)
    first_at: float | None = None
    count_at_first = before
    last = before
    last_at = time.perf_counter()
    deadline = time.perf_counter() + seconds + 30  # their start-up does not count
    try:
        while time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
            now_sent = await sent_count(base)
            now = time.perf_counter()
            if first_at is None and now_sent > before:
                first_at, count_at_first = now, now_sent
            if now_sent != last:
                last, last_at = now_sent, now
            if limit and now_sent - before >= limit:
                break
            if all(c.poll() is not None for c in children):
                break
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(10)
    if first_at is None:
        return 0, 1.0
    return last - count_at_first, max(last_at - first_at, 1e-3)


async def clear_outbox(url: str) -> None:
    """A reused dataset starts each run with an empty outbox (all of it is this bench's)."""
    engine = engine_for(url)
    async with engine.begin() as conn:
        await conn.execute(delete(OutboxMessage))
    await engine.dispose()


# January 2026, after the twelve months of reports of the national dataset (bench.common):
# two days before its due date (a Tuesday: no weekly summaries), then the due date.
FIRST_DAY = (2026, 2, 3)
SECOND_DAY = (2026, 2, 5)


async def main(db: str, quick: bool, reuse: bool, dispatchers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = await database(db, Path(tmp))
        engine = engine_for(url)
        reusing = reuse and await has_nation(engine)
        await engine.dispose()
        if reusing:
            print("reusing the dataset already in the database")
            await clear_outbox(url)
        else:
            shape = "quick" if quick else "full"
            subprocess.run(
                [sys.executable, "-m", "bench.fanout", "--build", shape, "--url", url], check=True
            )
        plan_s, both_s, queued = await queue_step(url, FIRST_DAY)
        fake, base = await start_fake(0.0)
        try:
            free_sent, free_s = await dispatch(
                url,
                base,
                ChannelPace(None, 0),
                120,
                1_000 if quick else 30_000,
                FIRST_DAY,
                dispatchers,
            )
        finally:
            fake.terminate()
        # More due (on the due date), for the paced minute: one dispatcher, as one worker.
        await queue_step(url, SECOND_DAY)
        fake, base = await start_fake(0.01)
        minute = 10 if quick else 60
        try:
            paced_sent, paced_s = await dispatch(
                url, base, ChannelPace(30.0, 1.0), minute, None, SECOND_DAY
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
        ["plan the reminders (made and dropped)", f"{plan_s:.1f} s", "", ""],
        [
            f"plan + queue ({queued:,} reminders)",
            f"{both_s:.1f} s",
            "< 10 s",
            "met" if both_s < 10 else "NOT met",
        ],
        [
            f"dispatch, no rate limit, {dispatchers} process(es) ({free_sent:,} sent)",
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
    parser.add_argument(
        "--reuse", action="store_true", help="keep the national dataset of an earlier run"
    )
    parser.add_argument(
        "--dispatchers", type=int, default=1, help="dispatcher processes for the unthrottled run"
    )
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--dispatch", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        run(lambda: build(args.url, args.build))
    elif args.dispatch:
        url, base, rate, per_chat, seconds, day = args.dispatch
        pace = ChannelPace(None if rate == "none" else float(rate), float(per_chat))
        y, m, d = map(int, day.split("-"))
        run(lambda: dispatch_in_process(url, base, pace, float(seconds), (y, m, d)))
    else:
        run(lambda: main(args.db, args.quick, args.reuse, args.dispatchers))
