"""Owed replies, the durable intake, webhook secrets, the demo clock, and the smaller rules of
issue 12 (edits, staff words mid-report, forged buttons), in-process and quick."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import pytest
from aiohttp import ClientSession
from pydantic import SecretStr
from sqlalchemy import select, text

from bot.app import Service, start_telegram_polling, telegram_runtime
from bot.config import webhook_secret
from handlers.engine import Engine
from schedules.messages import Inbound
from storage.db.delivery import (
    mark_sent_each,
    queue_messages,
    record_sent,
    store_pending,
    store_updates,
)
from storage.db.models import ChannelIdentity, OutboxMessage, OutboxStatus, PendingUpdate
from storage.db.sessions import make_engine, make_sessionmaker, one_statement, transaction
from storage.measures import reporting
from storage.plan.clock import ShiftedClock, vn_datetime
from tests.builders import invite, small_tree_with_people
from tests.chat import ChatUser
from tests.fakes.telegram import TOKEN, FakeTelegram, TelegramUser

LEADER = 5001
_ids = itertools.count(100)


@pytest.fixture
async def fake():
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def world(ctx):
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        code = await invite(session, people.leader, ctx.clock.now())
        officer_code = await invite(session, people.district_officer, ctx.clock.now())
    return people, code, officer_code


class Bot:
    """A worker polling the fake Telegram, as run_bot wires it."""

    def __init__(self, ctx, fake: FakeTelegram) -> None:
        ctx.clock = ShiftedClock(ctx.clock.now())  # retries come due as time goes on
        ctx.settings.telegram_bot_token = SecretStr(TOKEN)
        ctx.settings.telegram_api_base = fake.base
        self.runtime = telegram_runtime(ctx)
        self.service = Service(ctx)
        self.task: asyncio.Task | None = None

    async def __aenter__(self) -> Bot:
        await self.service.start({"telegram": self.runtime.channel}, reminders=False)
        self.task = await start_telegram_polling(self.runtime, self.service.intake, 1)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self.task
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.service.stop()
        await self.runtime.client.close()


async def test_a_failed_reply_is_retried_in_order(ctx, fake, world) -> None:
    _, code, _ = world
    async with Bot(ctx, fake):
        lan = TelegramUser(fake, LEADER)
        await lan.send(f"/start {code}")
        await lan.send("đồng ý")  # the personal-data notice
        fake.fail_next("sendMessage", 500)  # the first question does not go through
        fake.queue(fake.message_update(LEADER, "/baocao"))
        fake.queue(fake.message_update(LEADER, "3"))  # she answers before seeing it
        for _ in range(100):
            texts = [m["text"] for m in fake.sent_to(LEADER)]
            if any("Câu 2/10" in t for t in texts):
                break
            await asyncio.sleep(0.1)
        texts = [m["text"] for m in fake.sent_to(LEADER)]
        first = next(i for i, t in enumerate(texts) if "Câu 1/10" in t)
        second = next(i for i, t in enumerate(texts) if "Câu 2/10" in t)
        assert first < second  # the retried question came first, the next one after it
        assert sum("Câu 1/10" in t for t in texts) == 1
    async with ctx.sessions() as session:
        statuses = set((await session.scalars(select(OutboxMessage.status))).all())
    assert statuses == {OutboxStatus.SENT}


@pytest.mark.parametrize(
    ("status", "why"),
    [(403, "Forbidden: bot was blocked by the user"), (400, "Bad Request: chat not found")],
)
async def test_blocked_then_writes_again(ctx, fake, world, status, why) -> None:
    _, code, _ = world
    async with Bot(ctx, fake):
        lan = TelegramUser(fake, LEADER)
        await lan.send(f"/start {code}")
        await lan.send("đồng ý")  # the personal-data notice
        fake.fail_next("sendMessage", status, why)
        fake.queue(fake.message_update(LEADER, "/baocao"))
        for _ in range(100):
            async with ctx.sessions() as session:
                account = await session.scalar(select(ChannelIdentity))
            if account and account.unreachable:
                break
            await asyncio.sleep(0.1)
        assert account is not None and account.unreachable
        await lan.send("/trogiup")  # she unblocked the bot and writes again
        # (the replies held behind the refused one may arrive first: wait for her turn)
        for _ in range(100):
            async with ctx.sessions() as session:
                account = await session.scalar(select(ChannelIdentity))
            if account is not None and not account.unreachable:
                break
            await asyncio.sleep(0.05)
        assert account is not None and not account.unreachable
        assert any("/baocao" in str(m.get("text")) for m in fake.sent_to(LEADER))


async def test_a_stored_update_left_by_a_dead_worker_is_handled(ctx, fake, world) -> None:
    _, code, _ = world
    update = Inbound("telegram", str(LEADER), str(LEADER), text=f"/start {code}", update_key="77")
    async with transaction(ctx.sessions) as session:  # stored, then the worker died
        await store_pending(
            session, "telegram", [("77", update.to_payload())], "gone", ctx.clock.now()
        )
    async with Bot(ctx, fake):
        lan = TelegramUser(fake, LEADER)
        replies = await fake.wait_for_replies(LEADER, 0)
        assert "Chào chị Nguyễn Thị Lan" in replies[0]["text"]
        fake.queue(fake.message_update(LEADER, "/start x", update_id=77))  # redelivered
        await lan.send("/baocao")
    assert sum("Chào chị" in m["text"] for m in fake.sent_to(LEADER)) == 1


async def test_telegram_webhook_without_a_configured_secret(ctx, fake, world) -> None:
    from bot.app import run_bot
    from tests.test_channels_e2e import free_port

    port = free_port()
    s = ctx.settings
    s.telegram_bot_token, s.telegram_api_base = SecretStr(TOKEN), fake.base
    s.telegram_webhook_url = f"http://127.0.0.1:{port}/telegram/webhook"
    s.web_host, s.web_port, s.reminders_enabled = "127.0.0.1", port, False
    task = asyncio.create_task(run_bot(ctx))
    try:
        for _ in range(600):  # it imports the Telegram channel (aiogram) first: seconds
            registered = [p for m, p in fake.calls if m == "setWebhook"]
            if registered:
                break
            await asyncio.sleep(0.05)
        secret = registered[0]["secret_token"]
        assert secret == webhook_secret(None, s.telegram_bot_token) and len(secret) >= 32
        await asyncio.sleep(0.3)
        url = s.telegram_webhook_url
        async with ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "forged"}):
                body = fake.message_update(LEADER, "/baocao")
                async with http.post(url, json=body, headers=headers) as response:
                    assert response.status == 401
        lan = TelegramUser(fake, LEADER, url, secret)
        await lan.send(f"/start {world[1]}")
        assert "Chào chị" in lan.text
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_the_demo_clock_runs_on_from_hoibot_now() -> None:
    start = vn_datetime(2027, 3, 1, 8)
    clock = ShiftedClock(start)
    first = clock.now()
    assert timedelta(0) <= first - start < timedelta(seconds=5)
    assert clock.now() >= first


# ---- the smaller rules, through the engine -----------------------------------------------


async def said(engine: Engine, text: str, message_id: str, *, edited: bool = False) -> str:
    inbound = Inbound(
        "telegram",
        "501",
        "501",
        text=text,
        update_key=str(next(_ids)),
        message_id=message_id,
        edited=edited,
    )
    return "\n".join(m.text for m in await engine.handle(inbound))


async def test_edits_of_the_current_and_of_an_older_answer(ctx, world) -> None:
    people, code, _ = world
    engine = Engine(ctx)
    await said(engine, f"/start {code}", "1")
    await said(engine, "đồng ý", "1b")  # the personal-data notice
    await said(engine, "/baocao", "2")
    assert "Câu 2/10" in await said(engine, "3", "3")
    assert "Câu 2/10" in await said(engine, "abc", "4")  # refused: the question stays open
    text = await said(engine, "1", "4", edited=True)  # she corrects that message
    assert "Câu 3/10" in text
    text = await said(engine, "5", "3", edited=True)  # an older answer, edited
    assert "sửa 3" in text and "Câu 3/10" in text
    async with ctx.sessions() as session:
        sub = await reporting.find_submission(
            session, people.tree.b1.id, "thang_chi_hoi", "2026-11"
        )
        values = await reporting.answers(session, sub.id)
    assert (values["hv_moi"], values["hv_ra"]) == (3, 1)


async def test_a_staff_word_mid_report_answers_then_asks_again(ctx, world) -> None:
    _, code, _ = world
    lan = ChatUser(Engine(ctx), "501")
    await lan.join(code)
    await lan.send("/baocao")
    await lan.send("3")
    await lan.send("tổng thoát nghèo năm nay")
    assert "năm 2026" in lan.last[0].text and "Câu 2/10" in lan.last[-1].text
    await lan.send("1")
    assert "Câu 3/10" in lan.text


async def test_a_typed_staff_question_takes_a_unit_code(ctx, world) -> None:
    _, _, officer_code = world
    mai = ChatUser(Engine(ctx), "601")
    await mai.send(officer_code)
    await mai.click("Đồng ý")
    await mai.send("/tong thoát nghèo năm nay KH-KS")
    slash = mai.text
    await mai.send("tổng thoát nghèo năm nay KH-KS")
    assert mai.text == slash and "Không tìm thấy" not in slash


async def test_a_leaders_forged_nudge_is_refused(ctx, world) -> None:
    _, code, _ = world
    lan = ChatUser(Engine(ctx), "501")
    await lan.join(code)
    await lan.press("g:nudge:thang_chi_hoi:2026-10")
    assert "dành cho cán bộ Hội" in lan.text
    async with ctx.sessions() as session:
        assert not (await session.scalars(select(OutboxMessage))).all()


async def test_zalo_polls_again_at_once_after_an_update(ctx, world) -> None:
    """Five leaders writing at once are answered within one pause, not one a second."""
    from bot.app import zalo_runtime
    from tests.fakes.zalo import TOKEN as ZALO_TOKEN
    from tests.fakes.zalo import FakeZalo

    fake = FakeZalo()
    await fake.start()
    ctx.settings.zalo_bot_token, ctx.settings.zalo_api_base = SecretStr(ZALO_TOKEN), fake.base
    service = Service(ctx)
    runtime = zalo_runtime(ctx, service.intake)
    await service.start({"zalo": runtime.channel}, reminders=False)
    runtime.poll_pause = 2.0
    task = asyncio.create_task(runtime.poll_forever(timeout=1))
    try:
        await asyncio.sleep(0.3)
        started = asyncio.get_running_loop().time()
        for n in range(5):
            fake.queue(fake.text_update(f"z{n}", "xin chào"))
        for n in range(5):
            await fake.wait_for_replies(f"z{n}", 0, quiet=0.01)
        assert asyncio.get_running_loop().time() - started < 2.0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await service.stop()
        await runtime.channel.client.close()
        await fake.stop()


async def test_a_single_statement_commits_itself_and_leaves_no_autocommit_behind(
    db_url, clock
) -> None:
    # One connection, so the transaction after the single statement reuses its connection.
    engine = make_engine(db_url, pool_size=1, max_overflow=0)
    sessions = make_sessionmaker(engine)
    now = clock.now()
    try:
        async with one_statement(sessions) as session:
            await store_pending(session, "telegram", [("1", {"n": 1})], "w1", now)
        with pytest.raises(RuntimeError):
            async with transaction(sessions) as session:
                await store_pending(session, "telegram", [("2", {"n": 2})], "w1", now)
                raise RuntimeError  # rolls back: the connection is transactional again
        async with sessions() as session:
            keys = set((await session.scalars(select(PendingUpdate.key))).all())
        assert keys == {"1"}
    finally:
        await engine.dispose()


async def test_the_driver_store_stores_what_the_orm_store_stored(ctx) -> None:
    """The intake's store on the driver (`store_updates`) writes the very rows the ORM's
    `store_pending` wrote (the payload's JSON text to the byte, the moment, the claim), and
    a repeat of an update stored either way is a duplicate to both."""
    now = ctx.clock.now()
    payloads = [
        Inbound("x", "5001", "5001", text="Chào chị “Lan” — 1.500 hộ", update_key="1").to_payload(),
        {"n": 2, "nested": {"list": [1, 2.5, None, True]}, "empty": ""},
    ]
    async with one_statement(ctx.sessions) as session:
        old = await store_pending(
            session, "orm", [("1", payloads[0]), ("2", payloads[1])], "w1", now
        )
    new = await store_updates(
        ctx.engine, [("driver", "1", payloads[0]), ("driver", "2", payloads[1])], "w1", now
    )
    assert old == {"1", "2"} and new == {("driver", "1"), ("driver", "2")}

    columns = "key, CAST(payload AS TEXT), received_at, claimed_by"
    rows = {}
    async with ctx.sessions() as session:
        for channel in ("orm", "driver"):
            found = await session.execute(
                text(f"SELECT {columns} FROM pending_updates WHERE channel = :c ORDER BY id"),
                {"c": channel},
            )
            rows[channel] = [tuple(row) for row in found.all()]
        stored = (await session.scalars(select(PendingUpdate).order_by(PendingUpdate.id))).all()
    assert rows["driver"] == rows["orm"] and len(rows["orm"]) == 2
    assert [(r.channel, r.payload, r.received_at) for r in stored] == [
        (channel, payload, now) for channel in ("orm", "driver") for payload in payloads
    ]

    # Repeats: none new, whichever way stored them, alone or with a new one; one statement
    # may mix channels.
    again = [("driver", "1", payloads[0]), ("orm", "2", payloads[1]), ("driver", "3", {})]
    assert await store_updates(ctx.engine, again, "w2", now) == {("driver", "3")}
    async with one_statement(ctx.sessions) as session:
        assert await store_pending(session, "driver", [("2", payloads[1])], "w1", now) == set()
    async with ctx.sessions() as session:
        claims = dict(
            (
                await session.execute(
                    select(PendingUpdate.key, PendingUpdate.claimed_by).where(
                        PendingUpdate.channel == "driver"
                    )
                )
            ).all()
        )
    assert claims == {"1": "w1", "2": "w1", "3": "w2"}
    assert await store_updates(ctx.engine, [], "w1", now) == set()


async def test_sent_recorded_on_the_driver_as_through_the_session(ctx) -> None:
    """The "sent" marks no turn took along (`record_sent`, on the driver) write what the
    turn's own statement (`mark_sent_each`) writes: each row its own moment, one statement."""
    now = ctx.clock.now()
    rows = [
        {"key": f"k{i}", "kind": "reply", "person_id": None, "channel": "telegram",
         "chat_id": "1", "payload": {"text": "x"}, "status": OutboxStatus.SENDING,
         "attempts": 1, "next_attempt_at": now, "created_at": now}
        for i in range(4)
    ]  # fmt: skip
    async with transaction(ctx.sessions) as session:
        await queue_messages(session, rows)
        ids = list((await session.scalars(select(OutboxMessage.id).order_by("id"))).all())
    moments = {row_id: now + timedelta(milliseconds=7 * i + 1) for i, row_id in enumerate(ids)}
    async with transaction(ctx.sessions) as session:
        await mark_sent_each(session, {i: moments[i] for i in ids[:2]})
    await record_sent(ctx.engine, {i: moments[i] for i in ids[2:]})
    await record_sent(ctx.engine, {})
    async with ctx.sessions() as session:
        found = await session.execute(
            text("SELECT id, status, CAST(sent_at AS TEXT), error, claimed_by FROM outbox")
        )
        stored = {row[0]: tuple(row[1:]) for row in found.all()}
        sent_at = dict(
            (await session.execute(select(OutboxMessage.id, OutboxMessage.sent_at))).all()
        )
    assert sent_at == moments
    assert {row[0] for row in stored.values()} == {OutboxStatus.SENT}
    texts = [stored[i][1] for i in ids]
    assert len(set(texts)) == 4 and all(len(t) == len(texts[0]) for t in texts)
