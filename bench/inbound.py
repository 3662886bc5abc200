"""Inbound conversations: many branch leaders completing a monthly report through the webhook.

    python -m bench.inbound                  # PostgreSQL: throughput, then latency at 300/s
    python -m bench.inbound --db sqlite
    python -m bench.inbound --quick          # a few hundred updates, to check it still runs

The bot runs in its own process, in webhook mode; this process posts Telegram updates to it
and plays the Telegram API the bot replies to, noting when each reply arrives. Latency is from
the start of the POST to the first reply for that chat. The same load is then run against the
baseline in bench/baseline_bot.py (aiogram FSM in Redis, one INSERT at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from aiohttp import ClientSession, TCPConnector, web

from bench.common import Shape, build_nation, database, engine_for, run, table
from bench.fanout import free_port
from tests.fakes.telegram import TOKEN

# One report: /baocao (2 replies), ten answers (one reply each), "gửi" (one reply).
SCRIPT = [
    ("/baocao", 2),
    *[(a, 1) for a in ["3", "1", "2", "10", "4", "5", "1", "2", "101", "1"]],
    ("gửi", 1),
]
UPDATE_IDS = itertools.count(1)  # never reused: a repeated id is a duplicate to the bot
NOW = "2025-11-27T09:00:00+07:00"  # only November's monthly report is open
BENCH_SECRET = "bench-webhook-secret"
SECRET_HEADER = {"X-Telegram-Bot-Api-Secret-Token": BENCH_SECRET}  # the baseline ignores it


class ReplySink:
    """The fake Telegram API: answers the bot and wakes the user waiting for a reply."""

    def __init__(self) -> None:
        self.arrivals: dict[int, list[float]] = defaultdict(list)
        self.waiters: dict[int, tuple[int, asyncio.Future]] = {}
        self.message_ids = itertools.count(1)

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method != "sendMessage":
            return web.json_response({"ok": True, "result": True})
        form = await request.post()
        chat = int(str(form["chat_id"]))
        self.arrivals[chat].append(time.perf_counter())
        waiting = self.waiters.get(chat)
        if waiting and len(self.arrivals[chat]) >= waiting[0] and not waiting[1].done():
            waiting[1].set_result(None)
        return web.json_response(
            {
                "ok": True,
                "result": {
                    "message_id": next(self.message_ids),
                    "date": int(time.time()),
                    "chat": {"id": chat, "type": "private"},
                    "text": "ok",
                },
            }
        )

    def expect(self, chat: int, total: int) -> asyncio.Future:
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        if len(self.arrivals[chat]) >= total:
            future.set_result(None)
        self.waiters[chat] = (total, future)
        return future


class Pacer:
    def __init__(self, per_second: float | None) -> None:
        self.interval = 1 / per_second if per_second else 0.0
        self.next = time.perf_counter()

    async def wait(self) -> None:
        if not self.interval:
            return
        now = time.perf_counter()
        slot = max(now, self.next)
        self.next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


async def load(
    webhook: str, sink: ReplySink, chats: list[int], concurrency: int, rate: float | None
) -> tuple[list[float], float]:
    """Each user sends the script, one update after the reply to the previous one."""
    latencies: list[float] = []
    pacer = Pacer(rate)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for chat in chats:
        queue.put_nowait(chat)

    async def user(http: ClientSession) -> None:
        while not queue.empty():
            chat = queue.get_nowait()
            expected = len(sink.arrivals[chat])
            for text, replies in SCRIPT:
                await pacer.wait()
                expected += replies
                done = sink.expect(chat, expected)
                update = {
                    "update_id": next(UPDATE_IDS),
                    "message": {
                        "message_id": 1,
                        "date": int(time.time()),
                        "text": text,
                        "chat": {"id": chat, "type": "private"},
                        "from": {"id": chat, "is_bot": False, "first_name": "Lan"},
                    },
                }
                started = time.perf_counter()
                first = len(sink.arrivals[chat])
                async with http.post(webhook, json=update, headers=SECRET_HEADER) as response:
                    assert response.status == 200, response.status
                try:
                    await asyncio.wait_for(done, 30)
                except TimeoutError:
                    raise RuntimeError(
                        f"chat {chat}: no reply to {text!r} (had {len(sink.arrivals[chat])}, "
                        f"expected {expected})"
                    ) from None
                latencies.append(sink.arrivals[chat][first] - started)

    started = time.perf_counter()
    async with ClientSession(connector=TCPConnector(limit=concurrency)) as http:
        await asyncio.gather(*(user(http) for _ in range(concurrency)))
    return latencies, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def start_bot(kind: str, url: str, api: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": api,
        "HOIBOT_NOW": NOW,
        "REMINDERS_ENABLED": "false",
        "HOIBOT_CONFIG_DIR": str(Path(__file__).parent / "national"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.inbound", "--serve", kind, "--port", str(port)], env=env
    )
    webhook = f"http://127.0.0.1:{port}/telegram/webhook"
    async with ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(f"http://127.0.0.1:{port}/ready") as response:
                    if response.status == 200:
                        return process, webhook
            except OSError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the bot did not start")


async def serve(kind: str, port: int) -> None:
    """The bot under test, in webhook mode (run in a child process)."""
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler

    from bot.app import (
        TELEGRAM_WEBHOOK_PATH,
        Service,
        WebServer,
        add_telegram_webhook,
        telegram_runtime,
    )
    from bot.config import Settings
    from bot.context import AppContext

    ctx = AppContext.create(Settings())
    server = WebServer()
    if kind == "ours":
        runtime = telegram_runtime(ctx)
        service = Service(ctx)
        await service.start({"telegram": runtime.channel}, reminders=False)
        add_telegram_webhook(server.app, runtime, service.intake, BENCH_SECRET)
    else:
        from bench import baseline_bot

        bot = baseline_bot.bot_for(TOKEN, ctx.settings.telegram_api_base or "")
        dispatcher = baseline_bot.build(
            ctx.engine, os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
        )
        SimpleRequestHandler(dispatcher=dispatcher, bot=bot).register(
            server.app, TELEGRAM_WEBHOOK_PATH
        )
    server.app.router.add_get("/ready", lambda _r: _ready())
    await server.start("127.0.0.1", port)
    await asyncio.Event().wait()


async def _ready() -> web.Response:
    return web.Response(text="ok")


async def run_case(
    kind: str, url: str, chats: list[int], concurrency: int, rate: float | None
) -> tuple[int, float, list[float]]:
    sink = ReplySink()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", sink.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    api_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", api_port).start()
    process, webhook = await start_bot(kind, url, f"http://127.0.0.1:{api_port}")
    try:
        latencies, elapsed = await load(webhook, sink, chats, concurrency, rate)
    finally:
        process.terminate()
        process.wait(10)
        await runner.cleanup()
    return len(latencies), elapsed, latencies


async def main(db: str, quick: bool) -> None:
    users = 40 if quick else 1500
    with tempfile.TemporaryDirectory() as tmp:
        url = await database(db, Path(tmp))
        engine = engine_for(url)
        await build_nation(engine, Shape(1, 30, users // 30 + 1, 0))
        from bench import baseline_bot

        await baseline_bot.prepare(engine)
        await engine.dispose()
        first_chat = 1_000_001
        chats = list(range(first_chat, first_chat + users))
        half = users // 2
        rows = []
        results = {}
        for kind in ("ours", "baseline"):
            # Reset the state both bots keep, so each run starts from no report at all.
            engine = engine_for(url)
            async with engine.begin() as conn:
                from sqlalchemy import text

                for table_name in (
                    "submission_values",
                    "audit_entries",
                    "submissions",
                    "conversations",
                    "processed_updates",
                    "baseline_reports",
                ):
                    await conn.execute(text(f"DELETE FROM {table_name}"))
            await engine.dispose()
            if kind == "baseline":
                import redis.asyncio as redis

                client = redis.from_url(
                    os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
                )
                await client.flushdb()
                await client.aclose()
            n, elapsed, lat = await run_case(kind, url, chats[:half], 8 if quick else 64, None)
            results[kind] = n / elapsed
            rows.append(
                [
                    kind,
                    "as fast as it goes",
                    f"{n / elapsed:,.0f}",
                    f"{percentile(lat, 0.5):.1f}",
                    f"{percentile(lat, 0.95):.1f}",
                    f"{percentile(lat, 0.99):.1f}",
                ]
            )
            paced = 100 if quick else 300
            n, elapsed, lat = await run_case(kind, url, chats[half:], 8 if quick else 64, paced)
            rows.append(
                [
                    kind,
                    f"paced at {paced}/s",
                    f"{n / elapsed:,.0f}",
                    f"{percentile(lat, 0.5):.1f}",
                    f"{percentile(lat, 0.95):.1f}",
                    f"{percentile(lat, 0.99):.1f}",
                ]
            )
    print(f"database: {db}; {users} leaders, {len(SCRIPT)} updates each")
    print(table(rows, ["bot", "load", "updates/s", "p50 ms", "p95 ms", "p99 ms"]))
    print(f"ours / baseline throughput: {results['ours'] / results['baseline']:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--serve", choices=["ours", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        run(lambda: serve(args.serve, args.port))
    else:
        run(lambda: main(args.db, args.quick))
