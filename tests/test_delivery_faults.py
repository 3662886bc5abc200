"""Nothing a leader sends, and nothing the bot owes her, is lost: the bot runs as its own
process (as `hoibot run` does; forked from a server that has imported it, tests/bot_process.py,
so a restart takes 0.2-1.3 s instead of 7-12 s of imports) against the fake Telegram (long
polling) and the fake Zalo (webhook), on PostgreSQL, with faults injected on every send (429
with retry_after, 500, 502, a timeout, and 403: she blocked the bot, and every send to her is
refused until she writes again; she then asks again) and the process killed with SIGKILL at
random points of a scripted conversation of 20 leaders and two staff (workbook and chart on
both channels), then restarted; or stopped with SIGTERM in the middle of a report and of a
reminder fan-out.

Checked at the end: every answer typed is stored once (the drafts hold exactly what was
typed, and each leader was asked questions 1..10 in order); every owed message (replies,
reminders, digests, the workbook and the chart) was delivered, or refused with 403 and marked
blocked (no more than the platform refused), and none twice. Duplicates allowed: a message the
platform took within 1.5 s before a SIGKILL (or just after it: the request was on its way),
before the bot recorded it; one delivered after the bot stopped waiting for its answer (no
Bot API takes an idempotency key); the answer to a person who, refused, asked again.

Looped once (29/11/2026, one round after another, `FAULT_KILLS=10`, a 2-core machine shared
by five sessions, load 4-8): 20 rounds, 200 kills; 18 rounds passed (180 kills survived), a
round taking 35-121 s. Faults that hit (rows, summed over the 18): replies 723 retried / 133
refused (403), reminders 149 / 13, digests 9 / 0, workbooks 5 / 2, charts 5 / 0, on both
channels; 313 repeats excused as sent just before a kill (the longest 1.4 s before it), 109
answers to asking again. The two failures: a question repeated after a kill 1.61 s after it
was sent (over the 1.5 s: the machine at load 7.6 with a second test suite running), and a
bookkeeping bug of this test (a repeat measured from the first copy instead of the copy
before it), since mended. Earlier loops found, and the code now avoids: a sent reply part
recorded only with the turn's last part, which could hang until the send timeout (the
question sent twice 7 s after a kill; the dispatcher's chunks had the same fault); charts
drawn in the event loop (matplotlib's import and drawing, 1-3 s of CPU under load, held every
record back); a claimed batch's late chunk handed back as abandoned. One round on the
near-final code stopped with a message still owed after 60 s, not seen again in the 20 rounds
after (the test now lists what is owed). The 403 forced on charts, the workbook and the
digest (`Chaos.block_first`) came after the loop.
Left: under load 7 a record can still come 1.5 s or more after the send, mostly right after
a restart, when the new process plans reminders and digests and takes over the dead one's
updates at once; then a round fails on the window.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientError, ClientSession
from sqlalchemy import func, select

from bot.context import AppContext
from storage import reporting
from storage.invitations import link_directly
from storage.models import (
    ChannelIdentity,
    OrgUnit,
    OutboxMessage,
    OutboxStatus,
    Person,
    Role,
    Worker,
)
from storage.units import create_unit
from tests import bot_process
from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.fakes.zalo import TOKEN as ZALO_TOKEN
from tests.fakes.zalo import FakeZalo

PG_URL = os.environ.get("TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL")

NOW = "2026-12-07T09:00:00+07:00"  # November was due on 5/12: late reminders and digests
ANSWERS = ["3", "1", "2 hộ", "10", "4", "5", "1", "2", "101"]
INDICATORS = ["hv_moi", "hv_ra", "ho_thoat_ngheo"]  # the first three answers, checked by value
SECRET = "zalo-webhook-secret-1"
KILLS = int(os.environ.get("FAULT_KILLS", "5"))  # CI: about a minute a round


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Leader:
    name: str
    channel: str
    chat: Any  # int on Telegram, str on Zalo
    unit_id: int
    first: str  # her first answer, hers alone


@dataclass
class World:
    telegram: FakeTelegram
    zalo: FakeZalo
    port: int
    env: dict[str, str]
    leaders: list[Leader] = field(default_factory=list)
    staff: list[tuple[str, Any]] = field(default_factory=list)
    kills: list[float] = field(default_factory=list)  # monotonic instants of SIGKILLs
    # When each chat, refused (403) while waiting, unblocked the bot and asked again.
    asked_again: dict[Any, list[float]] = field(default_factory=dict)
    starts: list[float] = field(default_factory=list)  # seconds from a start to taking updates
    proc: BaseProcess | None = None
    log: Path | None = None
    began: float = 0.0

    async def start(self) -> None:
        """Starts the bot; its clock goes on from where the last one was (HOIBOT_NOW)."""
        assert self.log is not None
        self.began = self.began or time.monotonic()
        now = datetime.fromisoformat(NOW) + timedelta(seconds=time.monotonic() - self.began)
        self.proc = bot_process.start({**self.env, "HOIBOT_NOW": now.isoformat()}, str(self.log))

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.kills.append(time.monotonic())
        await bot_process.wait(self.proc, 30)

    async def term(self) -> tuple[int, float]:
        """SIGTERM; the exit code and how long the bot took to exit."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.terminate()  # SIGTERM
        code = await bot_process.wait(self.proc, 30)
        return code, time.monotonic() - started

    # ---- what a person does ----------------------------------------------------------

    def fake(self, channel: str) -> FakeTelegram | FakeZalo:
        return self.telegram if channel == "telegram" else self.zalo

    async def say(self, channel: str, chat: Any, text: str) -> None:
        self.fake(channel).chaos.unblock(chat)  # she writes: she has not blocked the bot
        if channel == "telegram":
            self.telegram.queue(self.telegram.message_update(chat, text))
            return
        update = self.zalo.text_update(chat, text)
        url = f"http://127.0.0.1:{self.port}/zalo/webhook"
        async with ClientSession() as http:
            while True:  # as the platform does: again until the webhook answers 200
                with contextlib.suppress(ClientError, TimeoutError):
                    async with http.post(
                        url, json=update, headers={"X-Bot-Api-Secret-Token": SECRET}
                    ) as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.2)

    def sent(self, channel: str, chat: Any) -> list[dict[str, Any]]:
        fake = self.telegram if channel == "telegram" else self.zalo
        return fake.sent_to(chat)

    async def wait_for(
        self,
        channel: str,
        chat: Any,
        words: str,
        again: str,
        timeout: float = 300,
        method: str = "",
    ) -> None:
        """Until the chat has got `words`; if meanwhile a send to her was refused (she had
        blocked the bot), she unblocks it and says `again`, as a person would."""
        deadline = time.monotonic() + timeout
        while not any(
            words in str(m.get("text", "")) and method in m.get("method", "")
            for m in self.sent(channel, chat)
        ):
            if time.monotonic() > deadline:
                texts = [str(m.get("text", ""))[:40] for m in self.sent(channel, chat)]
                raise AssertionError(f"{chat} never got {words!r}; got {texts}")
            if str(chat) in self.fake(channel).chaos.blocked:
                self.asked_again.setdefault(chat, []).append(time.monotonic())
                await self.say(channel, chat, again)
            await asyncio.sleep(0.05)

    async def report(self, leader: Leader) -> None:
        await self.say(leader.channel, leader.chat, "/baocao")
        for k, answer in enumerate([leader.first, *ANSWERS[1:]], start=1):
            await self.wait_for(leader.channel, leader.chat, f"Câu {k}/10", "/baocao")
            await self.say(leader.channel, leader.chat, answer)
        await self.wait_for(leader.channel, leader.chat, "Câu 10/10", "/baocao")


async def build(ctx: AppContext, tmp_path: Path) -> World:
    telegram, zalo = FakeTelegram(), FakeZalo()
    await telegram.start()
    await zalo.start()
    port = free_port()
    world = World(telegram, zalo, port, {}, log=tmp_path / "bot.log")
    now = ctx.clock.now()
    async with ctx.sessions() as session:

        async def unit(code: str, level: str, parent: OrgUnit | None) -> OrgUnit:
            return await create_unit(
                session, code=code, name=f"Đơn vị {code}", level=level, parent=parent
            )

        province = await unit("KH", "province", None)
        district = await unit("KH-KS", "district", province)
        commune = await unit("C1", "commune", district)
        officer = Person(
            full_name="Trần Thị Mai", role=Role.COMMUNE_OFFICER, unit_id=commune.id, created_at=now
        )
        staff = Person(
            full_name="Phạm Thị Hương",
            role=Role.PROVINCIAL_STAFF,
            unit_id=province.id,
            created_at=now,
        )
        session.add_all([officer, staff])
        for i in range(20):
            branch = await unit(f"B{i + 1}", "branch", commune)
            leader = Person(
                full_name=f"Chị {i + 1}", role=Role.BRANCH_LEADER, unit_id=branch.id, created_at=now
            )
            session.add(leader)
            await session.flush()
            channel, chat = ("telegram", 6001 + i) if i % 2 == 0 else ("zalo", f"z{i + 1}")
            await link_directly(session, leader, channel, str(chat), now)
            world.leaders.append(Leader(f"Chị {i + 1}", channel, chat, branch.id, str(i % 4 + 1)))
        await session.flush()
        await link_directly(session, officer, "telegram", "6100", now)
        await link_directly(session, staff, "zalo", "zstaff", now)
        await session.commit()
    world.staff = [("telegram", 6100), ("zalo", "zstaff")]
    world.env = {
        **os.environ,
        "DATABASE_URL": str(PG_URL),
        "HOIBOT_NOW": NOW,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": telegram.base,
        "ZALO_BOT_TOKEN": ZALO_TOKEN,
        "ZALO_API_BASE": zalo.base,
        "ZALO_WEBHOOK_SECRET": SECRET,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": str(port),
        "FILES_DIR": str(tmp_path / "files"),
        "WORKER_TIMEOUT_SECONDS": "1",
        "SEND_TIMEOUT_SECONDS": "10",
        "ZALO_QUOTA_RETRY_SECONDS": "1",
        "TELEGRAM_RATE_PER_CHAT_SECONDS": "0.2",
        "ZALO_RATE_PER_CHAT_SECONDS": "0.2",
    }
    world.env.pop("TEST_DATABASE_URL", None)
    return world


async def running(ctx: AppContext, world: World) -> None:
    """Until the new process has registered as a worker (it is then taking updates)."""
    assert world.proc is not None
    mark = f"%-{world.proc.pid}-%"
    for _ in range(1200):
        async with ctx.sessions() as session:
            if await session.scalar(select(func.count()).where(Worker.id.like(mark))):
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the bot did not start")


async def settle(ctx: AppContext, timeout: float = 60) -> None:
    """Until nothing is owed: no message queued or being sent."""
    deadline = time.monotonic() + timeout
    while True:
        async with ctx.sessions() as session:
            owed = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_([OutboxStatus.QUEUED, OutboxStatus.SENDING]))
            )
        if not owed:
            return
        if time.monotonic() > deadline:
            async with ctx.sessions() as session:
                rows = (
                    await session.execute(
                        select(
                            OutboxMessage.id,
                            OutboxMessage.kind,
                            OutboxMessage.chat_id,
                            OutboxMessage.status,
                            OutboxMessage.attempts,
                            OutboxMessage.next_attempt_at,
                            OutboxMessage.claimed_at,
                            OutboxMessage.claimed_by,
                            OutboxMessage.error,
                        ).where(
                            OutboxMessage.status.in_([OutboxStatus.QUEUED, OutboxStatus.SENDING])
                        )
                    )
                ).all()
                workers = (await session.execute(select(Worker.id, Worker.seen_at))).all()
            raise AssertionError(f"{owed} messages still owed: {rows}; workers {workers}")
        await asyncio.sleep(0.2)


def _key(message: dict[str, Any]) -> str:
    return f"{message.get('method')}|{message.get('text') or message.get('caption') or ''}"


async def check(ctx: AppContext, world: World) -> Counter:
    """Everything the docstring promises; returns the duplicates excused, by reason."""
    excused: Counter = Counter()
    for channel, fake in (("telegram", world.telegram), ("zalo", world.zalo)):
        # Each message's latest copy so far (a repeat repeats the copy before it): when, and
        # whether the platform delivered it after the bot had stopped waiting.
        latest: dict[tuple[Any, str], tuple[float, bool]] = {}
        reasked: set[tuple[float, tuple[Any, str]]] = set()
        for i, message in enumerate(fake.sent):
            chat = message["chat"]["id"] if channel == "telegram" else message["chat_id"]
            at = world.telegram.sent_times[i] if channel == "telegram" else message["at"]
            key = (chat, _key(message))
            before = latest.get(key)
            latest[key] = (at, bool(message.get("unconfirmed")))
            if before is None:
                continue
            last, unconfirmed = before
            if unconfirmed:  # delivered while the bot's wait timed out
                excused["timed out"] += 1
                continue
            # She asked again after a refusal (403): the answer to that comes on top of what
            # was owed to her already. Each time she asked excuses one more copy of each
            # message, sent within a minute after it.
            asked = world.asked_again.get(chat, [])
            reason = next((t for t in asked if at - 60 < t < at and (t, key) not in reasked), None)
            if reason is not None:
                reasked.add((reason, key))
                excused["asked again"] += 1
                continue
            # Sent by the killed process: taken by the platform up to 1.5 s before the kill
            # (not yet recorded), or just after it (the request was on its way).
            window = [k for k in world.kills if last - 0.5 <= k <= last + 1.5]
            gaps = [round(k - last, 2) for k in world.kills]
            seen = [str(m.get("text", ""))[:30] for m in world.sent(channel, chat)]
            asks = [round(t - last, 2) for t in asked]
            assert window, (
                f"sent twice to {chat}: {key[1][:60]!r}, again {at - last:.2f} s later; kills"
                f" {gaps} s, asked again {asks} s after the copy before; {seen}"
            )
            excused["killed"] += 1
            excused["longest kill gap ms"] = max(
                excused["longest kill gap ms"], round(1000 * (min(window) - last))
            )
    async with ctx.sessions() as session:
        for leader in world.leaders:
            asked = [
                int(str(m.get("text", "")).split("Câu ")[1].split("/")[0])
                for m in world.sent(leader.channel, leader.chat)
                if "Câu " in str(m.get("text", ""))
            ]
            assert sorted(set(asked)) == list(range(1, 11)), (leader.name, asked)
            assert [a for i, a in enumerate(asked) if i == 0 or a != asked[i - 1]] == list(
                range(1, 11)
            ), (leader.name, asked)  # in order; a repeat only next to itself (excused above)
            found = await reporting.find_submission(
                session, leader.unit_id, "thang_chi_hoi", "2026-11"
            )
            assert found is not None, leader.name
            values = await reporting.answers(session, found.id)
            typed = [int(leader.first), int(ANSWERS[1]), 2]
            assert [values[code] for code in INDICATORS] == typed, (leader.name, values)
        statuses = Counter(
            (kind, chat, status)
            for kind, chat, status in (
                await session.execute(
                    select(OutboxMessage.kind, OutboxMessage.chat_id, OutboxMessage.status)
                )
            ).all()
        )
        unreachable = set(
            (
                await session.scalars(
                    select(ChannelIdentity.chat_id).where(ChannelIdentity.unreachable)
                )
            ).all()
        )
    # Sent, or refused because she had blocked the bot (403): nothing else, and no more
    # refused messages to a chat than the platform refused.
    assert {status for _, _, status in statuses} <= {OutboxStatus.SENT, OutboxStatus.BLOCKED}, (
        statuses
    )
    refused = Counter(
        chat for fake in (world.telegram, world.zalo) for chat, _ in fake.chaos.refused
    )
    blocked = Counter(
        chat for _, chat, status in statuses.elements() if status == OutboxStatus.BLOCKED
    )
    assert all(refused[chat] >= n for chat, n in blocked.items()), (blocked, refused)
    assert unreachable <= set(refused), (unreachable, refused)  # only those she blocked
    kinds = {kind for kind, _, _ in statuses}
    assert {"reply", "reminder", "digest"} <= kinds, kinds
    return excused


async def faulted(ctx: AppContext) -> Counter:
    """What the faults hit, by kind of send and channel: refused (403, "blocked") or sent
    after a retry ("retried")."""
    async with ctx.sessions() as session:
        rows = (
            await session.execute(
                select(
                    OutboxMessage.kind,
                    OutboxMessage.channel,
                    OutboxMessage.status,
                    OutboxMessage.attempts,
                    OutboxMessage.error,
                    OutboxMessage.payload,
                )
            )
        ).all()
    hit: Counter = Counter()
    for purpose, channel, status, attempts, error, payload in rows:
        kind = next((k for k in ("photo", "document") if payload.get(k)), purpose)
        if status == OutboxStatus.BLOCKED:
            hit[f"{kind} {channel} blocked"] += 1
        elif attempts > 1 or error:
            hit[f"{kind} {channel} retried"] += 1
    return hit


async def staff_asks(world: World) -> None:
    """The workbook and the chart, on both channels (a document, a photo, a link)."""
    for channel, chat in world.staff:
        ask = "/xuat tháng 10"
        await world.say(channel, chat, ask)
        if channel == "telegram":
            await world.wait_for(channel, chat, "", ask, method="sendDocument")
        else:
            await world.wait_for(channel, chat, ".xlsx", ask)
        ask = "/bieudo hội viên mới tháng 10"
        await world.say(channel, chat, ask)
        await world.wait_for(channel, chat, "", ask, method="sendPhoto")


async def run_round(ctx: AppContext, world: World, rng: random.Random, kills: int) -> Counter:
    world.telegram.chaos.share = world.zalo.chaos.share = 0.15
    world.telegram.chaos.rng.seed(rng.random())
    # 403 on the sends random faults seldom reach (a few a round): a chart on both channels,
    # the workbook, the weekly digest.
    for fake in (world.telegram, world.zalo):
        fake.chaos.block_first("sendPhoto")
    world.telegram.chaos.block_first("sendDocument")
    world.zalo.chaos.block_first("sendMessage", "Tin tuần")
    world.zalo.chaos.rng.seed(rng.random())
    world.telegram.chaos.hold = world.zalo.chaos.hold = 10.5  # past the send timeout
    await world.start()
    conversation = asyncio.gather(
        *(world.report(leader) for leader in world.leaders), staff_asks(world)
    )
    try:
        await world.wait_for("telegram", world.leaders[0].chat, "Câu 1/10", "/baocao")  # up
        for _ in range(kills):
            await asyncio.sleep(rng.uniform(0.1, 3.0))  # at a random point of its work
            await world.kill()
            began = time.monotonic()
            await world.start()
            await running(ctx, world)
            world.starts.append(time.monotonic() - began)
        await asyncio.wait_for(conversation, 400)
        await settle(ctx)
        world.telegram.chaos.share = world.zalo.chaos.share = 0
        code, took = await world.term()
        assert code == 0 and took < 5, (code, took)
    finally:
        conversation.cancel()
        with contextlib.suppress(BaseException):
            await conversation
        if world.proc and world.proc.exitcode is None:
            world.proc.kill()
            await bot_process.wait(world.proc, 30)
    return await check(ctx, world)


async def test_sigkill_at_random_points_loses_nothing(ctx, db_url, tmp_path) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the fault test runs on PostgreSQL")
    world = await build(ctx, tmp_path)
    try:
        seed = int(os.environ.get("FAULT_SEED", str(random.randrange(10**6))))
        excused = await run_round(ctx, world, random.Random(seed), KILLS)
        print(
            f"FAULTS seed {seed}: {KILLS} kills survived; duplicates excused: {dict(excused)};"
            f" starts {[round(s, 2) for s in world.starts]} s;"
            f" faulted (kind channel status) {dict(await faulted(ctx))}"
        )
    except BaseException:
        print((tmp_path / "bot.log").read_text()[-5000:])
        raise
    finally:
        await world.telegram.stop()
        await world.zalo.stop()


async def test_sigterm_during_a_report_and_a_fan_out(ctx, db_url, tmp_path) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the fault test runs on PostgreSQL")
    world = await build(ctx, tmp_path)
    try:
        # Slow sends: the reminders and digests of the first check are still going out.
        for method in ("sendMessage",):
            world.telegram.delays[method].extend([0.3] * 15)
        await world.start()
        conversation = asyncio.gather(*(world.report(leader) for leader in world.leaders))
        await world.wait_for("telegram", world.leaders[0].chat, "Câu 2/10", "/baocao")
        code, took = await world.term()
        assert code == 0 and took < 5, (code, took)
        await asyncio.sleep(0.5)
        await world.start()
        await asyncio.wait_for(conversation, 400)
        await settle(ctx)
        code, took = await world.term()
        assert code == 0 and took < 5, (code, took)
        world.kills.clear()  # no excuse: a clean stop sends nothing twice
        assert not (await check(ctx, world))["killed"]
    except BaseException:
        print((tmp_path / "bot.log").read_text()[-5000:])
        raise
    finally:
        if world.proc and world.proc.exitcode is None:
            world.proc.kill()
        await world.telegram.stop()
        await world.zalo.stop()
