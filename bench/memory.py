"""Memory at rest: resident memory of `hoibot run` in each configuration, with 100,000 people.

    python -m bench.memory            # PostgreSQL, 100,000 branch leaders (+ officers)
    python -m bench.memory --quick    # 420 people
    python -m bench.memory --imports  # only the imports of each configuration, no database

Each configuration is the real command line (`python -m bot.cli run`) in its own process,
against local fakes of the platforms: a terminal chat (no token), Zalo only (long polling),
Telegram long polling, Telegram webhook. Its VmRSS is read from /proc once it is started and
idle, again after a leader's few messages (a report opened and answered, progress, a total),
and its peak (VmHWM). The imports table is a fresh interpreter's VmRSS after importing each
configuration's modules: what each library costs before any work.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bench.common import NATIONAL_CONFIG, Shape, build_nation, database, engine_for, run, table
from bench.fanout import free_port
from bench.inbound import NOW
from tests.fakes.telegram import TOKEN as TELEGRAM_TOKEN
from tests.fakes.telegram import FakeTelegram, TelegramUser
from tests.fakes.zalo import TOKEN as ZALO_TOKEN
from tests.fakes.zalo import FakeZalo, ZaloUser

GOAL_MB = 150
ROOT = Path(__file__).resolve().parent.parent
LEADER_CHAT = 1_000_001  # the first leader of the national dataset, linked on Telegram
ZALO_USER = "zalo-1000001"  # the same leader, linked on Zalo for the Zalo configuration
MESSAGES = ["/baocao", "3", "/tiendo", "/tong thoat ngheo"]
SECRET = "bench-memory-secret"
SETTLE = 3.0  # seconds after start before "idle": the reminders' first planning has run
# What each configuration imports before any work: the libraries, then our run path, each
# line adding its modules to those of the line before (from "bot.cli" on).
LIBRARIES = ["pydantic_settings", "sqlalchemy.ext.asyncio", "asyncpg", "aiohttp"]
RUN_PATH = [
    ("bot.cli (the command line)", ["bot.cli"]),
    ("+ bot.app and the Zalo channel: terminal, Zalo", ["bot.app", "bot.channels.zalo"]),
    ("+ the Telegram channel (JSON, no aiogram)", ["bot.channels.telegram"]),
    ("+ the pages (Jinja2), with PUBLIC_BASE_URL", ["bot.web.routes"]),
    ("+ aiogram: a Telegram bot's first chart or file", ["aiogram.client.session.aiohttp"]),
]
IMPORTS = [
    ("Python, nothing imported", []),
    ("pydantic-settings, SQLAlchemy, asyncpg, aiohttp", LIBRARIES),
    ("aiogram alone", ["aiogram"]),
    *[
        (label, [m for _, more in RUN_PATH[: i + 1] for m in more])
        for i, (label, _) in enumerate(RUN_PATH)
    ],
]


@dataclass
class Figures:
    idle: float
    after: float
    peak: float


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (resident now) and VmHWM (the most it has been), in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


def imports_rss(modules: list[str]) -> float:
    code = "".join(f"import {m}\n" for m in modules) + (
        "print([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip()) / 1024


async def start(env: dict[str, str], cwd: Path, stdin: bool = False) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE if stdin else (cwd / "bot.log").open("ab"),
        stderr=asyncio.subprocess.STDOUT,
    )


async def until(ready: Callable[[], bool], process: asyncio.subprocess.Process) -> None:
    for _ in range(3000):  # 5 minutes: a start on a busy machine
        if ready():
            return
        if process.returncode is not None:
            raise RuntimeError(f"the bot stopped with code {process.returncode}")
        await asyncio.sleep(0.1)
    raise RuntimeError("the bot did not start")


async def terminal(env: dict[str, str], cwd: Path) -> Figures:
    process = await start(env, cwd, stdin=True)
    assert process.stdin and process.stdout

    async def prompt() -> None:
        """Until the chat waits for the next line ("> ", input()'s prompt, no newline)."""
        seen = b""
        while not seen.endswith(b"> "):
            chunk = await asyncio.wait_for(process.stdout.read(4096), 300)  # type: ignore[union-attr]
            if not chunk:
                raise RuntimeError(f"the terminal chat ended: {seen[-500:].decode()}")
            seen += chunk

    try:
        await prompt()
        await asyncio.sleep(SETTLE)
        idle = memory_mb(process.pid)["VmRSS"]
        for text in MESSAGES:
            process.stdin.write(f"{text}\n".encode())
            await prompt()
        figures = memory_mb(process.pid)
        process.stdin.write(b"/thoat\n")
        await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return Figures(idle, figures["VmRSS"], figures["VmHWM"])


async def channel(
    env: dict[str, str],
    cwd: Path,
    started: Callable[[], bool],
    send: Callable[[str], Awaitable[object]],
) -> Figures:
    process = await start(env, cwd)
    try:
        await until(started, process)
        await asyncio.sleep(SETTLE)
        idle = memory_mb(process.pid)["VmRSS"]
        for text in MESSAGES:
            try:
                await send(text)
            except AssertionError as exc:  # no reply: what the bot said
                log = (cwd / "bot.log").read_text()[-3000:]
                raise RuntimeError(f"{exc}; the bot's log ends:\n{log}") from exc
        await asyncio.sleep(1)
        figures = memory_mb(process.pid)
    finally:
        process.terminate()
        await process.wait()
    return Figures(idle, figures["VmRSS"], figures["VmHWM"])


async def zalo_only(env: dict[str, str], cwd: Path) -> Figures:
    fake = FakeZalo()
    await fake.start()
    user = ZaloUser(fake, ZALO_USER)
    try:
        env = env | {"ZALO_BOT_TOKEN": ZALO_TOKEN, "ZALO_API_BASE": fake.base}
        polled = lambda: any(m == "getUpdates" for m, _ in fake.calls)  # noqa: E731
        return await channel(env, cwd, polled, user.send)
    finally:
        await fake.stop()


async def telegram(env: dict[str, str], cwd: Path, webhook: bool) -> Figures:
    fake = FakeTelegram()
    # Update ids of their own: the same ids as the other case's would be duplicates, ignored.
    fake.update_ids = itertools.count(1_000 if webhook else 1)
    await fake.start()
    env = env | {"TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_API_BASE": fake.base}
    method = "getUpdates"
    user = TelegramUser(fake, LEADER_CHAT)
    if webhook:
        port = free_port()
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        env |= {
            "TELEGRAM_WEBHOOK_URL": url,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": str(port),
        }
        method = "setWebhook"  # called just before the web server starts listening
        user = TelegramUser(fake, LEADER_CHAT, webhook=url, secret=SECRET)
    try:

        def started() -> bool:
            return any(m == method for m, _ in fake.calls) and (not webhook or listening(port))

        return await channel(env, cwd, started, user.send)
    finally:
        await fake.stop()


def listening(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def prepare(url: str, quick: bool) -> int:
    """The national dataset (quick: a small country), migrated as `hoibot run` expects, with
    its first leader linked on Zalo too. Returns how many people it holds."""
    from sqlalchemy import func, select

    from storage.db.invitations import link_directly
    from storage.db.migrate import upgrade
    from storage.db.models import ChannelIdentity, Person
    from storage.db.sessions import make_sessionmaker, transaction
    from storage.plan.clock import Clock

    if not quick:  # built in a child process, so its memory is not this one's
        subprocess.run(
            [sys.executable, "-m", "bench.fanout", "--build", "full", "--url", url], check=True
        )
    engine = engine_for(url)
    try:
        if quick:
            await build_nation(engine, Shape(2, 10, 20, 0))
        async with engine.begin() as conn:  # built from the models: stamped as the newest
            await conn.run_sync(_stamp)
        await upgrade(engine)
        async with transaction(make_sessionmaker(engine)) as session:
            leader = await session.scalar(
                select(Person)
                .join(ChannelIdentity, ChannelIdentity.person_id == Person.id)
                .where(ChannelIdentity.external_id == str(LEADER_CHAT))
            )
            assert leader is not None
            await link_directly(session, leader, "zalo", ZALO_USER, Clock().now())
            return int(await session.scalar(select(func.count()).select_from(Person)) or 0)
    finally:
        await engine.dispose()


def national_config(folder: Path) -> Path:
    """The national configuration without its targets on named units (Khánh Sơn, Khánh
    Vĩnh): the generated country has no such units, and `hoibot run` checks every target's
    units against the database before it starts (the other benchmarks run in-process)."""
    import shutil

    import yaml

    copy = folder / "national"
    shutil.copytree(NATIONAL_CONFIG, copy)
    targets = copy / "targets.yaml"
    data = yaml.safe_load(targets.read_text())
    data["targets"] = [t for t in data["targets"] if "units" not in t]
    targets.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return copy


def _stamp(connection: object) -> None:
    from alembic import command

    from storage.db.migrate import alembic_config

    cfg = alembic_config("")
    cfg.attributes["connection"] = connection
    command.stamp(cfg, "head")


async def main(db: str, quick: bool, imports_only: bool) -> None:
    rows = [[label, f"{imports_rss(modules):.0f} MB"] for label, modules in IMPORTS]
    print("Imports only (a fresh interpreter's VmRSS after importing):")
    print(table(rows, ["imported", "VmRSS"]))
    if imports_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        url = await database(db, cwd)
        people = await prepare(url, quick)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM_", "ZALO_", "PUBLIC_BASE_URL", "WEB_"))
        } | {
            "DATABASE_URL": url,
            "HOIBOT_CONFIG_DIR": str(national_config(cwd)),
            "HOIBOT_NOW": NOW,
            "PYTHONPATH": str(ROOT),
        }
        cases: list[tuple[str, Callable[[], Awaitable[Figures]]]] = [
            ("terminal chat (no token)", lambda: terminal(env, cwd)),
            ("Zalo only, long polling", lambda: zalo_only(env, cwd)),
            ("Telegram, long polling", lambda: telegram(env, cwd, webhook=False)),
            ("Telegram, webhook", lambda: telegram(env, cwd, webhook=True)),
        ]
        results = []
        for name, measure in cases:
            figures = await measure()
            met = "met" if figures.after < GOAL_MB else "NOT met"
            results.append(
                [
                    name,
                    f"{figures.idle:.0f} MB",
                    f"{figures.after:.0f} MB",
                    f"{figures.peak:.0f} MB",
                    met,
                ]
            )
    print(f"\n`hoibot run`, {people:,} people registered ({db}):")
    header = ["configuration", "idle", "after a few messages", "peak", f"< {GOAL_MB} MB"]
    print(table(results, header))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--imports", action="store_true", help="only the imports table")
    args = parser.parse_args()
    run(lambda: main(args.db, args.quick, args.imports))
