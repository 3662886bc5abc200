"""Zalo long polling: replies per second and step latency with 1, 5 and 20 users at once.

The bot polls the fake Zalo (one update a call, as the platform does) and answers people it
does not know yet (one reply a message, no report needed). Each user sends STEPS messages,
each after the reply to the previous one; a step's latency is from her message to its reply.
Before issue 12 the bot paused a second after every update; now it polls again at once after
a new one and pauses only after an empty poll or a repeat.

    python -m bench.zalo_pace [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from bench.common import database, run, table
from bot.app import Service, zalo_runtime
from bot.config import Settings
from bot.context import AppContext
from storage.db.models import Base
from storage.db.sessions import make_engine
from tests.fakes.zalo import TOKEN, FakeZalo

STEPS = 5


async def user(fake: FakeZalo, name: str, latencies: list[float]) -> None:
    for _ in range(STEPS):
        before = len(fake.sent_to(name))
        started = time.monotonic()
        fake.queue(fake.text_update(name, "xin chào"))
        while len(fake.sent_to(name)) <= before:
            await asyncio.sleep(0.005)
        latencies.append(time.monotonic() - started)


async def case(users: int, tmp: Path) -> list[str]:
    url = await database("sqlite", tmp)
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()
    fake = FakeZalo()
    await fake.start()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=url, zalo_bot_token=SecretStr(TOKEN), zalo_api_base=fake.base
    )
    ctx = AppContext.create(settings)
    service = Service(ctx)
    runtime = zalo_runtime(ctx, service.intake)
    await service.start({"zalo": runtime.channel}, reminders=False)
    task = asyncio.create_task(runtime.poll_forever(timeout=1))
    latencies: list[float] = []
    try:
        await asyncio.sleep(0.5)
        started = time.monotonic()
        await asyncio.gather(*(user(fake, f"z{n}", latencies) for n in range(users)))
        elapsed = time.monotonic() - started
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await service.stop()
        await runtime.channel.client.close()
        await ctx.close()
        await fake.stop()
    ordered = sorted(latencies)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return [
        str(users),
        f"{len(latencies) / elapsed:.1f}",
        f"{statistics.median(latencies) * 1000:.0f}",
        f"{p95 * 1000:.0f}",
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 and 5 users only")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for users in [1, 5] if args.quick else [1, 5, 20]:
            rows.append(await case(users, Path(tmp)))
    print(table(rows, ["users", "replies/s", "step p50 ms", "step p95 ms"]))


if __name__ == "__main__":
    run(main)
