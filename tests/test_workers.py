"""`hoibot run --workers N`: several bot processes behind one webhook port on PostgreSQL.

The command line is run as operators run it, against the fake Telegram API in webhook mode.
Checked: every worker listens on the one port and answers; a reminder fan-out shared by two
workers reaches every leader once; a worker killed (SIGKILL) in the middle of it leaves its
claimed messages to the others, and only the messages it had in flight at that instant (sent,
not yet recorded) may arrive twice, counted as tests/test_delivery_faults.py counts them:
taken by the platform within 1.5 s before the kill (or, sent before it, taken just after).
A SIGTERM to the parent stops every worker within 5 s; a Ctrl-C in the middle of a fan-out
sends nothing twice (the sends in flight recorded, the rest handed back). With
WORKER_TIMEOUT_SECONDS=1 a worker only late (a loaded machine) can be taken for dead: it then
sends none of the rows handed back (schedules.outbox.Lease), which had made the fan-out test
flaky (two reminders to a chat).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from aiohttp import ClientSession
from sqlalchemy import func, select

from bot.context import AppContext
from storage.db.invitations import link_directly
from storage.db.migrate import alembic_config
from storage.db.models import OrgUnit, OutboxMessage, OutboxStatus, Person, Role, Worker
from storage.db.units import create_unit
from tests.fakes.telegram import TOKEN, FakeTelegram

PG_URL = os.environ.get("TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(
    not PG_URL, reason="several workers need PostgreSQL: set TEST_DATABASE_URL"
)
NOW = "2026-12-03T09:00:00+07:00"  # November is due on 5/12: every leader gets a d-2 reminder
SECRET = "workers-webhook-secret"
REMINDER = "hạn nộp"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def leaders_on_telegram(ctx: AppContext, count: int) -> list[int]:
    """A commune of `count` branches, each leader linked on Telegram; their chat ids."""
    now = ctx.clock.now()
    chats = []
    async with ctx.sessions() as session:

        async def unit(code: str, level: str, parent: OrgUnit | None) -> OrgUnit:
            return await create_unit(
                session, code=code, name=f"Đơn vị {code}", level=level, parent=parent
            )

        district = await unit("D1", "district", await unit("KH", "province", None))
        commune = await unit("C1", "commune", district)
        for i in range(count):
            branch = await unit(f"B{i + 1}", "branch", commune)
            leader = Person(
                full_name=f"Chị {i + 1}", role=Role.BRANCH_LEADER, unit_id=branch.id, created_at=now
            )
            session.add(leader)
            await session.flush()
            await link_directly(session, leader, "telegram", str(7001 + i), now)
            chats.append(7001 + i)
        await session.commit()
    return chats


async def stamp_head(ctx: AppContext) -> None:
    """The test schema is made from the models: tell `hoibot run` it is migrated."""
    from alembic import command

    def stamp(connection: object) -> None:
        cfg = alembic_config(str(ctx.engine.url))
        cfg.attributes["connection"] = connection
        command.stamp(cfg, "head")

    async with ctx.engine.begin() as conn:
        await conn.run_sync(stamp)


class Bots:
    """`hoibot run --workers N` as a child process of the test."""

    def __init__(self, telegram: FakeTelegram, log: Path, rate: int = 1000) -> None:
        self.port = free_port()
        self.log = log
        self.env = {
            **os.environ,
            "DATABASE_URL": str(PG_URL),
            "HOIBOT_NOW": NOW,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE": telegram.base,
            "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{self.port}/telegram/webhook",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_RATE_PER_SECOND": str(rate),
            "TELEGRAM_RATE_PER_CHAT_SECONDS": "0",
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": str(self.port),
            "WORKER_TIMEOUT_SECONDS": "1",
        }
        for name in ("TEST_DATABASE_URL", "ZALO_BOT_TOKEN", "PUBLIC_BASE_URL"):
            self.env.pop(name, None)
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, workers: int) -> None:
        with self.log.open("ab") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                "--workers",
                str(workers),
                env=self.env,
                stdout=err,
                stderr=err,
            )

    async def pids(self, ctx: AppContext, count: int, timeout: float = 120) -> list[int]:
        """The pids of the workers, once `count` of them have registered."""
        deadline = time.monotonic() + timeout
        while True:
            async with ctx.sessions() as session:
                ids = list((await session.scalars(select(Worker.id))).all())
            if len(ids) >= count:
                return sorted(int(i.split("-")[-2]) for i in ids)
            assert self.proc is not None and self.proc.returncode is None, self.tail()
            assert time.monotonic() < deadline, f"{len(ids)} workers started\n{self.tail()}"
            await asyncio.sleep(0.1)

    async def term(self, sig: int = signal.SIGTERM) -> tuple[int, float]:
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(sig)
        code = await asyncio.wait_for(self.proc.wait(), 30)
        return code, time.monotonic() - started

    async def post(self, chat: int, text: str, telegram: FakeTelegram) -> None:
        url = f"http://127.0.0.1:{self.port}/telegram/webhook"
        update = telegram.message_update(chat, text)
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        # A fresh connection each time, as many senders make: the kernel picks the worker.
        async with ClientSession() as http, http.post(url, json=update, headers=headers) as r:
            assert r.status == 200, await r.text()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    async def close(self) -> None:
        if self.proc and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


def listening_sockets(pid: int, port: int) -> int:
    """How many sockets process `pid` has listening on TCP `port` (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.split(":")[1], 16) == port and inode in inodes:
                found += 1
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


async def reminders_sent(telegram: FakeTelegram) -> Counter:
    return Counter(m["chat"]["id"] for m in telegram.sent if REMINDER in str(m.get("text", "")))


async def settle(ctx: AppContext, queued: int, timeout: float = 120) -> None:
    """Until `queued` messages have been queued and none is owed any more."""
    deadline = time.monotonic() + timeout
    while True:
        async with ctx.sessions() as session:
            total = await session.scalar(select(func.count()).select_from(OutboxMessage))
            owed = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_([OutboxStatus.QUEUED, OutboxStatus.SENDING]))
            )
        if total >= queued and not owed:
            return
        assert time.monotonic() < deadline, f"{total} queued, {owed} messages still owed"
        await asyncio.sleep(0.2)


@pytest.fixture
async def world(ctx, db_url, tmp_path):
    if not db_url.startswith("postgresql"):
        pytest.skip("several workers need PostgreSQL")
    await stamp_head(ctx)
    telegram = FakeTelegram()
    await telegram.start()
    bots = Bots(telegram, tmp_path / "bots.log")
    try:
        yield telegram, bots
    except BaseException:
        print(bots.tail())
        raise
    finally:
        await bots.close()
        await telegram.stop()


def test_sqlite_refuses_several_workers(tmp_path) -> None:
    import subprocess

    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'one.db'}"}
    env["TELEGRAM_BOT_TOKEN"] = TOKEN
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--workers", "2"],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines() == [
        "--workers above 1 needs PostgreSQL (SQLite takes one writer at a time): set "
        "DATABASE_URL to postgresql://... or run one worker."
    ]
    assert not (tmp_path / "one.db").exists()  # refused before anything was made


async def test_workers_share_the_port_answer_and_stop_on_sigterm(ctx, world) -> None:
    telegram, bots = world
    chats = await leaders_on_telegram(ctx, 12)
    await bots.start(3)
    pids = await bots.pids(ctx, 3)
    for pid in pids:
        for _ in range(100):  # registered just before its web server starts
            if listening_sockets(pid, bots.port):
                break
            await asyncio.sleep(0.1)
        assert listening_sockets(pid, bots.port) == 1, pid
    for chat in chats:
        await bots.post(chat, "/baocao", telegram)
    for chat in chats:
        replies = await telegram.wait_for_replies(chat, 0, timeout=60)
        assert any("Câu 1/10" in str(m.get("text", "")) for m in replies), replies
    # The webhook and the menu are registered once, by the first worker.
    assert [m for m, _ in telegram.calls].count("setWebhook") == 1
    code, took = await bots.term()
    assert code == 0 and took < 5, (code, took, bots.tail())
    assert not [pid for pid in pids if alive(pid)]
    async with ctx.sessions() as session:  # each retired itself: nothing left for others
        assert not await session.scalar(select(func.count()).select_from(Worker))


async def test_two_workers_one_fan_out_each_reminder_once(ctx, world) -> None:
    telegram, bots = world
    chats = await leaders_on_telegram(ctx, 300)
    telegram.delays["sendMessage"].extend([0.05] * 1000)  # both dispatchers get a share
    await bots.start(2)
    await bots.pids(ctx, 2)
    await settle(ctx, len(chats))
    sent = await reminders_sent(telegram)
    assert set(sent) == set(chats) and set(sent.values()) == {1}, sent.most_common(3)
    async with ctx.sessions() as session:
        keys = (await session.scalars(select(OutboxMessage.key))).all()
    assert len(keys) == len(chats)  # planned by both, queued once
    code, took = await bots.term()
    assert code == 0 and took < 5, (code, took)


async def test_worker_killed_in_the_middle_of_a_fan_out(ctx, world) -> None:
    telegram, bots = world
    chats = await leaders_on_telegram(ctx, 400)
    telegram.delays["sendMessage"].extend([0.2] * 2000)  # slow enough to kill in the middle
    await bots.start(2)
    pids = await bots.pids(ctx, 2)
    deadline = time.monotonic() + 120
    while sum((await reminders_sent(telegram)).values()) < len(chats) // 4:
        assert time.monotonic() < deadline, bots.tail()
        await asyncio.sleep(0.02)
    os.kill(pids[0], signal.SIGKILL)
    killed_at = time.monotonic()
    halfway = sum((await reminders_sent(telegram)).values())
    assert halfway < len(chats) * 3 // 4, halfway  # killed in the middle, not at the end
    await settle(ctx, len(chats))
    # Every leader got her reminder; a second one only if the first was in flight when the
    # worker was killed: taken by the platform in the instant before the kill (not yet
    # recorded), or sent before it and taken just after (the fake holds each send 0.2 s),
    # with nobody left to hear the answer.
    firsts: dict[int, float] = {}
    excused = 0
    for message, at in zip(telegram.sent, telegram.sent_times, strict=True):
        if REMINDER not in str(message.get("text", "")):
            continue
        chat = message["chat"]["id"]
        if chat not in firsts:
            firsts[chat] = at
            continue
        gap = killed_at - firsts[chat]
        assert -0.5 <= gap <= 1.5, f"sent twice to {chat}, {gap:.2f} s before the kill"
        excused += 1
    assert set(firsts) == set(chats)
    print(f"killed with {halfway} of {len(chats)} sent; {excused} sent twice (in flight)")
    async with ctx.sessions() as session:
        statuses = Counter((await session.scalars(select(OutboxMessage.status))).all())
    assert statuses == Counter({OutboxStatus.SENT: len(chats)}), statuses
    code, took = await bots.term()
    assert code == 0 and took < 5, (code, took)


async def test_a_stop_in_the_middle_of_a_fan_out_sends_nothing_twice(ctx, world) -> None:
    """Ctrl-C (SIGINT to the parent, passed on to the workers as SIGTERM) while two workers
    send 300 reminders: within 5 s, exit 0; the sends in flight were recorded and the rest
    handed back, so after a new start every leader has her reminder once."""
    telegram, bots = world
    chats = await leaders_on_telegram(ctx, 300)
    telegram.delays["sendMessage"].extend([0.1] * 1000)
    await bots.start(2)
    await bots.pids(ctx, 2)
    deadline = time.monotonic() + 120
    while sum((await reminders_sent(telegram)).values()) < len(chats) // 4:
        assert time.monotonic() < deadline, bots.tail()
        await asyncio.sleep(0.02)
    code, took = await bots.term(signal.SIGINT)
    assert code == 0 and took < 5, (code, took)
    async with ctx.sessions() as session:
        statuses = Counter((await session.scalars(select(OutboxMessage.status))).all())
        assert not await session.scalar(select(func.count()).select_from(Worker))
    # Stopped in the middle, nothing left "sending": each row sent, or queued again.
    assert set(statuses) == {OutboxStatus.SENT, OutboxStatus.QUEUED}, statuses
    assert statuses[OutboxStatus.SENT] == sum((await reminders_sent(telegram)).values())
    await bots.start(2)
    await settle(ctx, len(chats))
    sent = await reminders_sent(telegram)
    assert set(sent) == set(chats) and set(sent.values()) == {1}, sent.most_common(3)
    code, took = await bots.term()
    assert code == 0 and took < 5, (code, took)
    assert "Traceback" not in bots.tail(), bots.tail()
