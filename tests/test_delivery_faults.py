"""Nothing a leader sends, and nothing the bot owes her, is lost: the bot runs as its own
process (as `hoibot run` does; forked from a server that has imported it, tests/bot_process.py,
so a restart takes 0.2-1.3 s instead of 7-12 s of imports) against the fake Telegram (long
polling) and the fake Zalo (webhook), on PostgreSQL, with faults injected on every send (429
with retry_after, 500, 502, a timeout, and 403: she blocked the bot, and every send to her is
refused until she writes again; she then asks again) and the process killed with SIGKILL at
random points of a scripted conversation of 20 leaders and two staff (workbook and chart on
both channels), then restarted; or stopped with SIGTERM in the middle of a report and of a
reminder fan-out; or stopped cleanly (SIGTERM, SIGINT) four times while 300 reminders and 40
weekly digests are planned and sent, where no repeat at all is allowed (#19).

Checked at the end: every answer typed is stored once (the drafts hold exactly what was
typed, and each leader was asked questions 1..10 in order); every owed message (replies,
reminders, digests, the workbook and the chart) was delivered, or refused with 403 and marked
blocked (no more than the platform refused), and none twice, except where no bot could avoid
it. No Bot API takes an idempotency key, so the only repeat a bot cannot avoid is of a message
the platform took (or had on its way) from a process that had not yet recorded it as sent
when it died. Exactly, with no timing: each bot process signs its requests and names its
database connections (tests/bot_process.py), so every copy the fakes take is known by the
process that sent it; after each stop, once PostgreSQL has dropped that process's connections
(a COMMIT already sent still lands), the test reads which owed rows (replies, outbox rows, each
part its own row) are recorded as sent, and matches them to the platform's calls by channel,
chat, method and text (`row_calls`, rendered as the channels render them). For each such call,
a process's copies beyond the rows it recorded are "unrecorded": allowed only if it was
killed, and no more than the rows of that call not recorded as sent at its death (so a row
recorded as sent and sent again fails); a cleanly stopped process leaves none; and a row
recorded as sent is never owed again. Also excused: a copy the platform took after the bot's
connection had closed (its send timed out, or it died): it could not know. The answers to a
person who, refused, asked again are rows of their own, counted as any other. The gap between
an unrecorded copy and the kill after it is printed, never checked. Matched by text, two rows of
the same text to one chat (she asked again) cannot be told apart: a row sent again is caught
only when it outnumbers the rows of its text still owed. Checked by breaking the bot on
purpose (not committed): rows recorded as sent handed back when their worker died, and
reminders sent twice by the dispatcher, each failed the first round.

Looped once with the earlier rule, a repeat excused if its copy came within 1.5 s before a
kill (29/11/2026, one round after another, `FAULT_KILLS=10`, a 2-core machine shared by five
sessions, load 4-8): 20 rounds, 200 kills; 18 rounds passed (180 kills survived), a round
taking 35-121 s. Faults that hit (rows, summed over the 18): replies 723 retried / 133 refused
(403), reminders 149 / 13, digests 9 / 0, workbooks 5 / 2, charts 5 / 0, on both channels; 313
repeats excused as sent just before a kill (the longest 1.4 s before it), 109 answers to
asking again. The two failures: a question repeated after a kill 1.61 s after it was sent
(over the 1.5 s: the machine at load 7.6 with a second test suite running), and a bookkeeping
bug of this test (a repeat measured from the first copy instead of the copy before it), since
mended. Earlier loops found, and the code now avoids: a sent reply part recorded only with the
turn's last part, which could hang until the send timeout (the question sent twice 7 s after a
kill; the dispatcher's chunks had the same fault); charts drawn in the event loop
(matplotlib's import and drawing, 1-3 s of CPU under load, held every record back); a claimed
batch's late chunk handed back as abandoned. One round on the near-final code stopped with a
message still owed after 60 s, not seen again in the 20 rounds after (the test now lists what
is owed). The 403 forced on charts, the workbook and the digest (`Chaos.block_first`) came
after the loop.

Looped with this rule (29/11/2026 07:06-07:38 UTC, one round after another from a frozen
copy, `FAULT_KILLS=10`, the same machine, load 2.1-6.5 at the rounds' ends, the full test suite
running alongside for about five of them): 30 rounds, 300 kills, all 30 passed (300 kills
survived), a round taking 30-132 s and once 325 s (a slow round, not explained: the most tries
of a row and the longest wait are printed since). Faults that hit (rows, summed over the 30):
replies 1048 retried / 244 refused (403), reminders 129 / 32, digests 0 / 30, workbooks 9 /
28, charts 9 / 60, on both channels; 272 copies taken from a process killed before it recorded
them (so free to be sent again after the restart), 10 of them taken after the kill (the request on
its way), the longest 1.15 s before its kill, none over 1.5 s this time; no copy taken after
the bot stopped waiting; 383 times a leader, refused, asked again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientError, ClientSession
from sqlalchemy import func, select, text

from bot.context import AppContext
from schedules.messages import PLATFORMS, render_text_only, split_text
from schedules.planned import from_payload
from storage.db.invitations import link_directly
from storage.db.models import (
    ChannelIdentity,
    OrgUnit,
    OutboxMessage,
    OutboxStatus,
    Person,
    Role,
    Worker,
)
from storage.db.units import create_unit
from storage.measures import reporting
from storage.plan import texts_vi as vi
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
REMINDER = "quá hạn"  # the late reminder of 7/12
WEEKLY = "Tin tuần"  # the weekly digest of a Monday (7/12)


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
class Stopped:
    """A bot process once stopped: when, how, and the owed messages the database held then,
    as calls to the platform (`Calls`)."""

    at: float  # monotonic instant of the SIGKILL or SIGTERM
    killed: bool
    calls: Calls


@dataclass
class Calls:
    """Owed messages as the platform calls they make, each (channel, chat, call key): how
    many rows exist, and how many of them are recorded as sent."""

    owed: Counter = field(default_factory=Counter)
    sent: Counter = field(default_factory=Counter)


URL = re.compile(r"https?://\S+")
HOURS = re.compile(r"trong \d+ giờ")


def _call_key(method: str, text: str) -> str:
    """What tells two calls apart: the method and the text, links and their hours aside (a
    file's link is new each time it is sent)."""
    return f"{method}|{URL.sub('<link>', HOURS.sub('trong _ giờ', text))}"


def row_calls(channel: str, payload: dict[str, Any]) -> list[str]:
    """The calls an outbox row makes, rendered as the channel renders it (bot.channels)."""
    message = from_payload(payload)
    limit = PLATFORMS[channel].max_text
    if channel == "telegram":
        keys = [_call_key("sendMessage", p) for p in split_text(message.text, limit)]
        keys = keys if message.text else []
        keys += [_call_key("sendPhoto", "")] if message.photo else []
        return keys + ([_call_key("sendDocument", "")] if message.document else [])
    words = render_text_only(message)
    if message.photo:
        return [_call_key("sendPhoto", words[:2000])]
    if message.document:
        words = vi.FILE_LINK.format(caption=words, hours=0, url="http://link")
    return [_call_key("sendMessage", p) for p in split_text(words, limit)]


async def outbox_calls(sessions: Any) -> Calls:
    calls = Calls()
    async with sessions() as session:
        rows = await session.execute(
            select(
                OutboxMessage.channel,
                OutboxMessage.chat_id,
                OutboxMessage.payload,
                OutboxMessage.status,
            )
        )
        for channel, chat, payload, status in rows.all():
            for key in row_calls(channel, payload):
                calls.owed[(channel, chat, key)] += 1
                if status == OutboxStatus.SENT:
                    calls.sent[(channel, chat, key)] += 1
    return calls


@dataclass
class World:
    telegram: FakeTelegram
    zalo: FakeZalo
    port: int
    env: dict[str, str]
    leaders: list[Leader] = field(default_factory=list)
    staff: list[tuple[str, Any]] = field(default_factory=list)
    sessions: Any = None  # the test's sessionmaker, to read what a stopped process recorded
    # Each process started, in order: its name (on its requests and database connections),
    # and once it is stopped, what the database held then (`Stopped`).
    names: list[str] = field(default_factory=list)
    stopped: dict[str, Stopped] = field(default_factory=dict)
    # When each chat, refused (403) while waiting, unblocked the bot and asked again.
    asked_again: dict[Any, list[float]] = field(default_factory=dict)
    starts: list[float] = field(default_factory=list)  # seconds from a start to taking updates
    # People who say nothing and are owed one message each: (channel, chat, words in it).
    quiet: list[tuple[str, Any, str]] = field(default_factory=list)
    proc: BaseProcess | None = None
    log: Path | None = None
    began: float = 0.0

    async def start(self) -> None:
        """Starts the bot; its clock goes on from where the last one was (HOIBOT_NOW)."""
        assert self.log is not None
        self.began = self.began or time.monotonic()
        now = datetime.fromisoformat(NOW) + timedelta(seconds=time.monotonic() - self.began)
        self.proc = bot_process.start({**self.env, "HOIBOT_NOW": now.isoformat()}, str(self.log))
        assert self.proc.pid is not None
        self.names.append(bot_process.name(self.proc.pid))

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        at = time.monotonic()
        await bot_process.wait(self.proc, 30)
        await self.frozen(at, killed=True)

    async def term(self, sig: int = signal.SIGTERM) -> tuple[int, float]:
        """SIGTERM (or SIGINT: a Ctrl-C); the exit code and how long the bot took to exit."""
        assert self.proc is not None and self.proc.pid is not None
        started = time.monotonic()
        os.kill(self.proc.pid, sig)
        code = await bot_process.wait(self.proc, 30)
        took = time.monotonic() - started
        await self.frozen(started, killed=False)
        return code, took

    async def frozen(self, at: float, *, killed: bool) -> None:
        """What the stopped process left recorded: once PostgreSQL has dropped its
        connections (a COMMIT it sent just before dying still lands), nothing changes it."""
        name = self.names[-1]
        for _ in range(600):
            async with self.sessions() as session:
                left = await session.scalar(
                    text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n"),
                    {"n": name},
                )
            if not left:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"PostgreSQL still serves {name} 30 s after it ended")
        self.stopped[name] = Stopped(at, killed, await outbox_calls(self.sessions))

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


async def build(ctx: AppContext, tmp_path: Path, *, fan_out: int = 0, weekly: int = 0) -> World:
    """20 leaders who report and two staff who ask for files; `fan_out` more leaders who
    only get a reminder, and `weekly` more provincial staff who only get the weekly digest
    (half on each channel)."""
    telegram, zalo = FakeTelegram(), FakeZalo()
    await telegram.start()
    await zalo.start()
    port = free_port()
    world = World(telegram, zalo, port, {}, log=tmp_path / "bot.log", sessions=ctx.sessions)
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
        for i in range(fan_out):
            branch = await unit(f"F{i + 1}", "branch", commune)
            leader = Person(
                full_name=f"Chị F{i + 1}",
                role=Role.BRANCH_LEADER,
                unit_id=branch.id,
                created_at=now,
            )
            session.add(leader)
            await session.flush()
            channel, chat = ("telegram", 20001 + i) if i % 2 == 0 else ("zalo", f"f{i + 1}")
            await link_directly(session, leader, channel, str(chat), now)
            world.quiet.append((channel, chat, REMINDER))
        for i in range(weekly):
            person = Person(
                full_name=f"Cán bộ {i + 1}",
                role=Role.PROVINCIAL_STAFF,
                unit_id=province.id,
                created_at=now,
            )
            session.add(person)
            await session.flush()
            channel, chat = ("telegram", 30001 + i) if i % 2 == 0 else ("zalo", f"s{i + 1}")
            await link_directly(session, person, channel, str(chat), now)
            world.quiet.append((channel, chat, WEEKLY))
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


def copies(world: World) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """What the platforms took, by (channel, chat, call key), in order, each with its sender
    (the process that made the request) and `at`, when the platform took it."""
    out: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for channel, fake in (("telegram", world.telegram), ("zalo", world.zalo)):
        for i, message in enumerate(fake.sent):
            chat = message["chat"]["id"] if channel == "telegram" else message["chat_id"]
            at = world.telegram.sent_times[i] if channel == "telegram" else message["at"]
            words = str(message.get("text") or message.get("caption") or "")
            key = (channel, str(chat), _call_key(str(message.get("method")), words))
            out.setdefault(key, []).append({**message, "at": at})
    return out


async def check_copies(ctx: AppContext, world: World) -> Counter:
    """Each copy the platforms took is of a row sent once, or excused (killed before its
    record, or the bot's wait timed out); returns the repeats excused, by reason, and the
    gaps between a repeated copy and the kill after it (information only)."""
    excused: Counter = Counter()
    gaps: list[float] = []
    final = await outbox_calls(ctx.sessions)
    for call, sent in copies(world).items():
        described = f"{call[1]} {call[0]} {call[2][:70]!r}"
        senders = {m.get("sender") for m in sent}
        assert senders <= set(world.names), (described, senders, world.names)
        recorded_before = 0
        for name in world.names:
            stop = world.stopped[name]
            # Each process sends a row once (a copy of one whose send timed out aside: the
            # platform took it after the bot stopped waiting, so it could not know).
            confirmed = [m for m in sent if m.get("sender") == name and not m.get("unconfirmed")]
            excused["timed out"] += sum(
                1 for m in sent if m.get("sender") == name and m.get("unconfirmed")
            )
            recorded = stop.calls.sent[call]
            assert recorded >= recorded_before, (
                f"{described}: {recorded_before} rows recorded as sent, {recorded} after {name}"
            )  # a row recorded as sent is never owed again
            # Copies this process got through that it had not recorded as sent when it
            # stopped: each is a row sent again by the next process, unless recorded.
            unrecorded = len(confirmed) - (recorded - recorded_before)
            assert unrecorded >= 0, (
                f"{described}: {recorded - recorded_before} rows recorded as sent by {name},"
                f" but the platform took {len(confirmed)} copies from it"
            )
            if unrecorded:
                # Sent twice, or more: only a copy the platform took (or had on its way)
                # before a SIGKILL, of a row not recorded as sent when the process died, can
                # be repeated. A row recorded as sent is never sent again, so the unrecorded
                # copies can be no more than the rows not recorded then.
                not_recorded = stop.calls.owed[call] - recorded
                assert stop.killed and unrecorded <= not_recorded, (
                    f"{described}: {name} ({'killed' if stop.killed else 'stopped cleanly'})"
                    f" sent {len(confirmed)} copies, {recorded - recorded_before} recorded then;"
                    f" {not_recorded} rows of it owed, not recorded as sent;"
                    f" copies by process {[world.names.index(m.get('sender')) for m in sent]};"
                    f" in the end {final.owed[call]} rows, {final.sent[call]} sent"
                )
                excused["killed before its record"] += unrecorded
                gaps += [stop.at - m["at"] for m in confirmed[-unrecorded:]]
            recorded_before = recorded
    if gaps:
        excused["longest send-to-kill gap ms"] = round(1000 * max(gaps))
        excused["taken after the kill (on its way)"] = sum(1 for gap in gaps if gap < 0)
        excused["send-to-kill gaps over 1.5 s"] = sum(1 for gap in gaps if gap > 1.5)
    return excused


async def check(ctx: AppContext, world: World) -> Counter:
    """Everything the docstring promises; returns the repeats excused, by reason, and the
    gaps between a repeated copy and the kill after it (information only)."""
    excused = await check_copies(ctx, world)
    excused["asked again"] = sum(len(times) for times in world.asked_again.values())
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
            ), (leader.name, asked)  # in order; a repeat only next to itself
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
    after a retry ("retried"); and the most tries of a row, the longest a row waited to be
    sent (from queued to sent, in seconds of the bot's clock)."""
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
                    OutboxMessage.created_at,
                    OutboxMessage.sent_at,
                )
            )
        ).all()
    hit: Counter = Counter()
    for purpose, channel, status, attempts, error, payload, created, sent in rows:
        hit["most tries"] = max(hit["most tries"], attempts)
        if sent is not None:
            waited = round((sent - created).total_seconds())
            hit["longest wait s"] = max(hit["longest wait s"], waited)
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
    # Ten leaders who do not report: the others, reporting, are not reminded in the middle.
    world = await build(ctx, tmp_path, fan_out=10)
    try:
        seed = int(os.environ.get("FAULT_SEED", str(random.randrange(10**6))))
        excused = await run_round(ctx, world, random.Random(seed), KILLS)
        print(
            f"FAULTS seed {seed}: {KILLS} kills survived; repeats excused: {dict(excused)};"
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
    # Ten leaders who do not report: the others, reporting, are not reminded in the middle.
    world = await build(ctx, tmp_path, fan_out=10)
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
        # No excuse: a process stopped cleanly has recorded everything it sent (check()).
        assert not (await check(ctx, world))["killed before its record"]
    except BaseException:
        print((tmp_path / "bot.log").read_text()[-5000:])
        raise
    finally:
        if world.proc and world.proc.exitcode is None:
            world.proc.kill()
        await world.telegram.stop()
        await world.zalo.stop()


async def test_sigterm_during_fan_outs_and_digests_sends_nothing_twice(
    ctx, db_url, tmp_path
) -> None:
    """A clean stop (SIGTERM, SIGINT), again and again, while 300 reminders and 40 weekly
    digests go out (and once while they are being planned): each stop exits 0 within 5 s with
    no traceback; no copy is sent that was not recorded as sent before the stop (so nothing
    goes twice); and in the end everyone has her message, once.

    Against the code before #19's fix this failed: a reminder sent by a cleanly stopped
    process, not recorded, sent again after the restart; and APScheduler's CancelledError
    traceback when the stop came during the planning."""
    if not db_url.startswith("postgresql"):
        pytest.skip("the fault test runs on PostgreSQL")
    world = await build(ctx, tmp_path, fan_out=300, weekly=40)
    assert world.log is not None
    owed_at_stops = []
    try:
        # Slow answers: sends are in flight at every stop.
        world.telegram.delays["sendMessage"].extend([0.15] * 3000)
        world.zalo.delays["sendMessage"].extend([0.15] * 3000)
        stops = (
            (0, signal.SIGTERM),
            (40, signal.SIGINT),
            (60, signal.SIGTERM),
            (60, signal.SIGINT),
        )
        for stop_after, sig in stops:  # more messages taken by the platforms before the stop
            await world.start()
            await running(ctx, world)
            taken = len(world.telegram.sent) + len(world.zalo.sent)
            deadline = time.monotonic() + 120
            while len(world.telegram.sent) + len(world.zalo.sent) < taken + stop_after:
                assert time.monotonic() < deadline, "the fan-out stalled"
                await asyncio.sleep(0.01)
            code, took = await world.term(sig)
            assert code == 0 and took < 5, (sig, code, took)
            async with ctx.sessions() as session:
                owed_at_stops.append(
                    await session.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.status != OutboxStatus.SENT)
                    )
                )
        await world.start()
        await settle(ctx, timeout=120)
        code, took = await world.term()
        assert code == 0 and took < 5, (code, took)
        assert not (await check_copies(ctx, world))["killed before its record"]
        log = world.log.read_text()
        assert "Traceback" not in log and "CancelledError" not in log, log[-3000:]
        # Nothing lost, nothing twice: each her one message, and every row sent.
        for channel, chat, words in world.quiet:
            got = [m for m in world.sent(channel, chat) if words in str(m.get("text", ""))]
            assert len(got) == 1, (channel, chat, words, len(got))
        async with ctx.sessions() as session:
            statuses = Counter((await session.scalars(select(OutboxMessage.status))).all())
        assert set(statuses) == {OutboxStatus.SENT}, statuses
        # The stops landed in the middle of the work (rows owed at each, fewer each time).
        assert all(owed_at_stops[1:]), owed_at_stops
        print(f"SIGTERM rounds: rows owed after each stop {owed_at_stops}; {statuses}")
    except BaseException:
        print(world.log.read_text()[-5000:])
        raise
    finally:
        if world.proc and world.proc.exitcode is None:
            world.proc.kill()
        await world.telegram.stop()
        await world.zalo.stop()
