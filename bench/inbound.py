"""Inbound conversations: many branch leaders completing a monthly report through the webhook.

    python -m bench.inbound                  # PostgreSQL: throughput, then latency at 300/s
    python -m bench.inbound --db sqlite
    python -m bench.inbound --quick          # a few hundred updates, to check it still runs
    python -m bench.inbound --workers 2      # our bot as two processes on one port
    python -m bench.inbound --profile        # only our bot, profiled (cProfile), its SQL counted
    python -m bench.inbound --pieces         # only our bot, its CPU by piece (no profiler)
    python -m bench.inbound --before 73a3da7 # also the bot of an earlier commit: before / after
                                             # / baseline in one run, with their ratios

The bot runs in its own process, in webhook mode; this process posts Telegram updates to it
and plays the Telegram API the bot replies to, noting when each reply arrives. Latency is from
the start of the POST to the first reply for that chat. The same load is then run against the
baseline in bench/baseline_bot.py (aiogram FSM in Redis, one INSERT at the end).

With `--workers N` our bot runs as N processes sharing the webhook port (SO_REUSEPORT: the
kernel spreads the connections) and the database. Per update posted: CPU is the bot's
processes' user + system time; "no core" the time they were ready to run but waited for a
core (/proc/PID/schedstat: the machine's other load); PG CPU that of the PostgreSQL backends
serving the benchmark's database. CPU + no core near the elapsed time per update means the
bot was never waiting on the database, a lock or the network. `--profile` runs only our bot,
unpaced, 8 users at a time, under cProfile (CPU time; use it for where the time goes, not for
speed), and counts its SQL statements.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from aiohttp import ClientSession, TCPConnector, web
from sqlalchemy import text as sql

from bench import cpu_pieces
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
PROFILE_ENV = ["BENCH_PROFILE"]  # or BENCH_PIECES (--pieces): what the bot's process measures
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
        # aiogram posts a form; our bot's replies are JSON (#25).
        form = await (
            request.json() if request.content_type == "application/json" else request.post()
        )
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
                    await asyncio.wait_for(done, 120)  # a loaded machine stalls long
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


def _processes() -> dict[int, tuple[int, str]]:
    """Every process's parent and title (Linux /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found[int(entry.name)] = (int(fields[1]), title)
    return found


def _times(pids: set[int]) -> tuple[float, float]:
    """User + system CPU of these processes, and how long they were ready to run but
    waited for a core (schedstat: the machine's other load, not their own work)."""
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = waited = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            schedstat = Path(f"/proc/{pid}/schedstat").read_text().split()
        except OSError:
            continue
        cpu += (int(fields[11]) + int(fields[12])) / ticks
        waited += int(schedstat[1]) / 1e9
    return cpu, waited


@dataclass
class Usage:
    """CPU of the bot's processes (and their descendants), the time they were runnable but
    had no core, and the CPU of the PostgreSQL backends serving the benchmark's database
    (their titles name it; the pool keeps them for the whole run)."""

    cpu: float = 0.0
    waited: float = 0.0
    db_cpu: float = 0.0

    @classmethod
    def now(cls, roots: list[int], database_name: str | None) -> Usage:
        processes = _processes()
        tree = set(roots)
        grew = True
        while grew:
            more = {pid for pid, (parent, _) in processes.items() if parent in tree} - tree
            tree |= more
            grew = bool(more)
        cpu, waited = _times(tree)
        backends = (
            {pid for pid, (_, title) in processes.items() if f" {database_name} " in title}
            if database_name
            else set()
        )
        return cls(cpu, waited, _times(backends)[0])

    def __sub__(self, other: Usage) -> Usage:
        return Usage(self.cpu - other.cpu, self.waited - other.waited, self.db_cpu - other.db_cpu)


async def start_bot(
    kind: str,
    url: str,
    api: str,
    workers: int = 1,
    profile: Path | None = None,
    code: Path | None = None,
    outcomes: Path | None = None,
) -> tuple[list[subprocess.Popen], str]:
    """Starts the bot (`code`: the bot of another checkout, its own `bench.inbound --serve`)."""
    port = free_port()
    root = code or Path(__file__).parent.parent
    env = os.environ | {
        "DATABASE_URL": url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": api,
        "HOIBOT_NOW": NOW,
        "REMINDERS_ENABLED": "false",
        "HOIBOT_CONFIG_DIR": str(root / "bench" / "national"),
        "PYTHONPATH": str(root),
    }
    command = [sys.executable, "-m", "bench.inbound", "--serve", kind, "--port", str(port)]
    if workers > 1:
        command.append("--reuse-port")
    processes = []
    for n in range(workers):
        extra = {PROFILE_ENV[0]: f"{profile}.{n}"} if profile else {}
        if outcomes is not None:
            extra["BENCH_OUTCOMES"] = f"{outcomes}.{n}"
        processes.append(subprocess.Popen(command, env=env | extra, cwd=root))
    webhook = f"http://127.0.0.1:{port}/telegram/webhook"
    ready: set[int] = set()
    # A new connection each time: the kernel spreads connections (not requests) over workers.
    async with ClientSession(connector=TCPConnector(force_close=True)) as http:
        for _ in range(3000):  # 5 minutes: a loaded machine starts aiogram slowly
            for process in processes:
                if process.pid in ready:
                    continue
                try:
                    # Each worker answers its own pid: with a shared port, ask until all did.
                    async with http.get(f"http://127.0.0.1:{port}/ready") as response:
                        if response.status == 200:
                            ready.add(int(await response.text()))
                except OSError:
                    pass
            if len(ready) == workers:
                return processes, webhook
            await asyncio.sleep(0.1)
    stop_bot(processes)  # not left running after the failure
    raise RuntimeError("the bot did not start")


def stop_bot(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(30)


async def serve(kind: str, port: int, reuse_port: bool) -> None:
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
    profile = os.environ.get("BENCH_PROFILE")
    if profile:
        cpu_pieces.start_profile(ctx, Path(profile))
    if os.environ.get("BENCH_PIECES"):
        cpu_pieces.install(Path(os.environ["BENCH_PIECES"]))
    outcomes = os.environ.get("BENCH_OUTCOMES")
    if outcomes:
        _keep_outcomes(Path(outcomes))
    server = WebServer()
    if kind == "ours":
        runtime = telegram_runtime(ctx)
        service = Service(ctx)
        await service.start({"telegram": runtime.channel}, reminders=False)
        add_telegram_webhook(server.app, runtime, service.intake, BENCH_SECRET)

        async def close() -> None:  # as run_bot stops: the work in flight ends, not cancelled
            await server.stop()
            await service.stop()
            await runtime.client.close()
    else:
        from bench import baseline_bot

        bot = baseline_bot.bot_for(TOKEN, ctx.settings.telegram_api_base or "")
        dispatcher = baseline_bot.build(
            ctx.engine, os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
        )
        close = bot.session.close
        SimpleRequestHandler(dispatcher=dispatcher, bot=bot).register(
            server.app, TELEGRAM_WEBHOOK_PATH
        )
    server.app.router.add_get("/ready", lambda _r: _ready())
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    # As `hoibot run --workers N` does (bot.workers): each worker a whole process on one port.
    await server.start("127.0.0.1", port, reuse_port=reuse_port)
    await stop.wait()
    await close()
    await ctx.engine.dispose()


async def _ready() -> web.Response:
    return web.Response(text=str(os.getpid()))


def _keep_outcomes(path: Path) -> None:
    """Writes at exit what became of the updates the plain answer's path tried."""
    import atexit

    from handlers import plain_answer

    def dump() -> None:
        tried = plain_answer.OUTCOMES
        path.write_text("; ".join(f"{n} {why}" for why, n in tried.most_common()) or "none")

    atexit.register(dump)


@dataclass
class Case:
    updates: int
    elapsed: float
    latencies: list[float]
    usage: Usage
    tried: str = ""  # what became of the answers the plain path tried

    def row(self, kind: str, load: str) -> list[str]:
        return [
            kind,
            load,
            f"{self.updates / self.elapsed:,.0f}",
            f"{percentile(self.latencies, 0.5):.1f}",
            f"{percentile(self.latencies, 0.95):.1f}",
            f"{percentile(self.latencies, 0.99):.1f}",
            *(
                f"{seconds * 1000 / self.updates:.2f}"
                for seconds in (self.usage.cpu, self.usage.waited, self.usage.db_cpu)
            ),
        ]


async def run_case(
    kind: str,
    url: str,
    chats: list[int],
    concurrency: int,
    rate: float | None,
    workers: int = 1,
    profile: Path | None = None,
    code: Path | None = None,
) -> Case:
    sink = ReplySink()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", sink.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    api_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", api_port).start()
    outcomes = Path(tempfile.mkdtemp()) / "plain"
    processes, webhook = await start_bot(
        kind, url, f"http://127.0.0.1:{api_port}", workers, profile, code, outcomes
    )
    # PostgreSQL's backends are named by their database; SQLite runs inside the bot.
    database_name = None if url.startswith("sqlite") else url.rsplit("/", 1)[1]
    roots = [p.pid for p in processes]
    try:
        before = Usage.now(roots, database_name)
        latencies, elapsed = await load(webhook, sink, chats, concurrency, rate)
        usage = Usage.now(roots, database_name) - before
    finally:
        stop_bot(processes)
        await runner.cleanup()
    # What the plain answer's path did in each worker (an older checkout writes nothing).
    tried = [f.read_text() for f in sorted(outcomes.parent.glob("plain.*"))]
    shutil.rmtree(outcomes.parent)
    return Case(len(latencies), elapsed, latencies, usage, " | ".join(tried))


async def reset(url: str) -> None:
    """Clears the state both bots keep, so each run starts from no report at all."""
    engine = engine_for(url)
    async with engine.begin() as conn:
        for table_name in (
            "submission_values",
            "audit_entries",
            "submissions",
            "conversations",
            "processed_updates",
            "pending_updates",
            "outbox",
            "baseline_reports",
        ):
            await conn.execute(sql(f"DELETE FROM {table_name}"))
    await engine.dispose()
    import redis.asyncio as redis

    client = redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"))
    await client.flushdb()
    await client.aclose()


def checkout(ref: str, into: Path) -> Path:
    """The project's files at `ref` (a commit, branch or tag), unpacked into `into`."""
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref],
        cwd=Path(__file__).parent.parent,
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


async def main(
    db: str,
    quick: bool,
    users: int | None,
    workers: list[int],
    profile: bool,
    before: str | None = None,
    pieces: bool = False,
    unpaced: bool = False,
) -> None:
    """`pieces`: as `profile`, the CPU by piece measured without a profiler instead."""
    PROFILE_ENV[0] = "BENCH_PIECES" if pieces else "BENCH_PROFILE"
    profile = profile or pieces
    load_before = os.getloadavg()
    users = users or (40 if quick else 1500)
    concurrency = 8 if quick or profile else 64
    paced = 100 if quick else 300
    rows = []
    rates: dict[str, float] = {}
    cpu: dict[str, float] = {}  # CPU ms per update, unpaced
    profiles: list[str] = []
    tried: list[str] = []
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
        # Profiled, the bot is twice as slow: only its unpaced run, with fewer users at once.
        kinds = [("ours", n) for n in workers] if profile else [("baseline", 1)]
        if before and not profile:
            old = checkout(before, Path(tmp) / "before")
            kinds += [("before", n) for n in workers]
        kinds += [] if profile else [("ours", n) for n in workers]
        for kind, n in kinds:
            plural = "s" if n > 1 else ""
            label = {"ours": "after" if before else "ours", "before": f"before ({before})"}
            name = label.get(kind, kind)
            name = name if kind == "baseline" or workers == [1] else f"{name}, {n} worker{plural}"
            prefix = Path(tmp) / f"profile-{n}" if profile and kind == "ours" else None
            code = old if kind == "before" else None
            served = "ours" if kind == "before" else kind
            await reset(url)
            case = await run_case(served, url, chats[:half], concurrency, None, n, prefix, code)
            rates[name] = case.updates / case.elapsed
            cpu[name] = case.usage.cpu * 1000 / case.updates
            rows.append(case.row(name, "as fast as it goes"))
            if case.tried:
                tried.append(f"{name}, as fast as it goes: {case.tried}")
            print(*rows[-1], sep=" | ", flush=True)  # a later failure keeps what was measured
            if prefix:
                files = [Path(f"{prefix}.{i}") for i in range(n)]
                summary = (
                    cpu_pieces.pieces_report(files, case.updates)
                    if pieces
                    else cpu_pieces.profile_summary(prefix, n, case.updates)
                )
                profiles.append(f"{name}:\n{summary}")
            if profile or unpaced:
                continue
            # Paced at the given rate, or at half the baseline's (the goal's load).
            for rate in dict.fromkeys([paced, round(rates["baseline"] / 2)]):
                await reset(url)
                case = await run_case(served, url, chats[half:], concurrency, rate, n, None, code)
                rows.append(case.row(name, f"paced at {rate}/s"))
                if case.tried:
                    tried.append(f"{name}, paced at {rate}/s: {case.tried}")
                print(*rows[-1], sep=" | ", flush=True)
    print(f"database: {db}; {users} leaders, {len(SCRIPT)} updates each")
    loads = " / ".join(" ".join(f"{x:.1f}" for x in a) for a in (load_before, os.getloadavg()))
    print(f"load average (1, 5, 15 min) before / after: {loads}")
    headers = ["bot", "load", "updates/s", "p50 ms", "p95 ms", "p99 ms", "CPU ms/upd"]
    print(table(rows, [*headers, "no core ms/upd", "PG CPU ms/upd"]))
    for name, achieved in rates.items():
        if name != "baseline" and "baseline" in rates:
            print(f"{name} / baseline throughput: {achieved / rates['baseline']:.2f}")
    if "baseline" in cpu:
        for name, ms in cpu.items():
            if name != "baseline":
                print(f"{name} / baseline CPU per update: {ms / cpu['baseline']:.2f}")
    for line in tried:
        print(f"the plain answer's path, {line}")
    for text_ in profiles:
        print(text_)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--users", type=int, help="leaders (default 1,500; quick: 40)")
    parser.add_argument(
        "--workers", default="1", help="our bot's processes, one run each: 1 or 1,2,4"
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--pieces", action="store_true")
    parser.add_argument("--unpaced", action="store_true", help="only the unpaced case of each bot")
    parser.add_argument(
        "--before",
        metavar="REF",
        help="also run the bot of this git commit (before), in the same run as this code's",
    )
    parser.add_argument("--serve", choices=["ours", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        run(lambda: serve(args.serve, args.port, args.reuse_port))
    else:
        counts = [int(n) for n in args.workers.split(",")]
        run(
            lambda: main(
                args.db,
                args.quick,
                args.users,
                counts,
                args.profile,
                args.before,
                args.pieces,
                args.unpaced,
            )
        )
