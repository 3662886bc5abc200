"""The same reporting conversation on Telegram and on Zalo, each over real HTTP against its own
local fake server, by polling and by webhook: same flows, same stored results."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from pydantic import SecretStr
from sqlalchemy import select

from bot.app import Service, WebServer, zalo_runtime
from bot.channels.zalo import WEBHOOK_PATH, parse_update
from bot.files import FileLinks
from handlers.engine import Engine
from storage.db.models import ChannelIdentity, OutboxMessage, OutboxStatus, Person
from storage.measures import reporting
from tests.builders import invite, linked, small_tree_with_people
from tests.fakes.telegram import FakeTelegram, TelegramUser
from tests.fakes.zalo import TOKEN as ZALO_TOKEN
from tests.fakes.zalo import FakeZalo, ZaloUser
from tests.test_telegram_e2e import SECRET, start_bot

ZALO_SECRET = "zalo-webhook-secret"
MODES = ["telegram-polling", "telegram-webhook", "zalo-polling", "zalo-webhook"]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Running:
    """A bot on one channel and mode, and a way to make its users."""

    def __init__(self) -> None:
        self.stops: list = []
        self.user = None  # callable(user_id) -> driver
        self.link = None  # callable(driver, code) -> awaitable

    async def stop(self) -> None:
        for stop in reversed(self.stops):
            await stop()


async def start(mode: str, ctx, tmp_path: Path) -> Running:
    running = Running()
    if mode.startswith("telegram"):
        fake = FakeTelegram()
        await fake.start()
        running.stops.append(fake.stop)
        bot = await start_bot(fake, ctx, mode.split("-")[1])
        running.stops.append(bot.stop)
        running.user = lambda uid: TelegramUser(fake, int(uid), bot.webhook, SECRET)
        running.link = lambda user, code: joined(user, f"/start {code}")
        running.fake = fake
        return running
    fake = FakeZalo()
    await fake.start()
    running.stops.append(fake.stop)
    ctx.settings.zalo_bot_token = SecretStr(ZALO_TOKEN)
    ctx.settings.zalo_api_base = fake.base
    ctx.settings.files_dir = tmp_path / "files"
    server = WebServer()
    port = free_port()
    ctx.settings.public_base_url = f"http://127.0.0.1:{port}"
    ctx.settings.zalo_webhook_secret = SecretStr(ZALO_SECRET)
    service = Service(ctx)
    runtime = zalo_runtime(ctx, service.intake)
    await service.start({"zalo": runtime.channel}, reminders=False)
    running.stops.append(service.stop)
    runtime.poll_pause = 0.05
    runtime.channel.files.register(server.app)  # type: ignore[union-attr]
    webhook = None
    if mode.endswith("webhook"):
        runtime.register(server.app)
        webhook = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    await server.start("127.0.0.1", port)
    if not webhook:
        task = asyncio.create_task(runtime.poll_forever(timeout=1))

        async def stop_polling() -> None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        running.stops.append(stop_polling)
    running.stops.append(server.stop)
    running.stops.append(runtime.channel.client.close)
    running.user = lambda uid: ZaloUser(
        fake, uid, webhook, ZALO_SECRET, wrapped=mode.endswith("webhook")
    )
    running.link = joined
    running.fake = fake
    running.runtime = runtime
    running.service = service
    return running


async def joined(user: Any, first: str) -> Any:
    """Joins with a code (a deep link's /start or typed) and accepts the personal-data
    notice, by the word that works on every channel."""
    await user.send(first)
    assert "Nghị định 13/2023/NĐ-CP" in user.text
    return await user.send("đồng ý")


@pytest.fixture
async def world(ctx):
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        code = await invite(session, people.leader, ctx.clock.now())
    return people, code


@pytest.mark.parametrize("mode", MODES)
async def test_the_same_report_on_every_channel(ctx, world, tmp_path, mode) -> None:
    people, code = world
    running = await start(mode, ctx, tmp_path)
    try:
        lan = running.user("5001" if mode.startswith("telegram") else "51a7e")
        await lan.send(f"/start {code}" if mode.startswith("telegram") else code)
        assert "Chào chị Nguyễn Thị Lan! Chị đã kết nối với bot báo cáo của Chi hội thôn 1." in (
            lan.text
        )
        assert "Nghị định 13/2023/NĐ-CP" in lan.text  # the notice, the same on every channel
        await lan.send("/baocao")  # nothing else before she accepts it
        assert "cần đồng ý" in lan.text
        await lan.send("đồng ý")
        assert "ghi nhận chị đồng ý" in lan.text
        await lan.send("/baocao" if mode.startswith("telegram") else "bao cao")
        assert "Câu 1/10" in lan.text
        await lan.click("0")  # a button on Telegram; the word "0" typed on Zalo: a number
        await lan.send("1 người")
        await lan.send("2 hộ")
        for answer in ["10", "4", "5", "1", "2", "101"]:
            await lan.send(answer)
        await lan.click("Bỏ qua")
        assert "Tóm tắt" in lan.text
        await lan.send("sửa 1")
        await lan.send("3")
        assert "1. Hội viên mới kết nạp: 3 người" in lan.text
        await lan.click("Gửi")
        assert "báo cáo đúng hạn" in lan.text
        async with ctx.sessions() as session:
            sub = await reporting.find_submission(
                session, people.tree.b1.id, "thang_chi_hoi", "2026-11"
            )
            stored = await reporting.answers(session, sub.id)
        assert stored == {
            "hv_moi": 3,
            "hv_ra": 1,
            "ho_thoat_ngheo": 2,
            "ld_tu_van_nghe": 10,
            "ld_chung_chi": 4,
            "ld_viec_lam": 5,
            "ho_5k3s": 1,
            "hd_vhvn": 2,
            "tong_hoi_vien": 101,
            "pn_kt_ho_tro": None,
        }
        assert sub.status == "submitted"
        if mode.startswith("zalo"):
            assert all(len(m["text"]) <= 2000 for m in running.fake.sent)
    finally:
        await running.stop()


async def test_zalo_duplicates_empty_polls_and_numbered_choices(ctx, world, tmp_path) -> None:
    people, code = world
    running = await start("zalo-polling", ctx, tmp_path)
    fake: FakeZalo = running.fake
    try:
        lan = running.user("51a7e")
        await joined(lan, code)
        for _ in range(150):  # a 408 is "nothing new", and polling goes on
            if fake.empty_polls >= 1:
                break
            await asyncio.sleep(0.1)
        assert fake.empty_polls >= 1
        await lan.send("bao cao")
        update = fake.text_update("51a7e", "7")
        fake.queue(update)
        fake.queue(update)  # the platform delivers the same message twice
        await lan.deliver(fake.text_update("51a7e", "2"))

        async def stored() -> dict[str, object]:
            async with ctx.sessions() as session:
                sub = await reporting.find_submission(
                    session, people.tree.b1.id, "thang_chi_hoi", "2026-11"
                )
                return await reporting.answers(session, sub.id)

        # Polled rather than a fixed wait: the duplicate is dropped whenever it is read, and a
        # loaded machine takes its time (a fixed 0.3 s failed under load).
        deadline = asyncio.get_running_loop().time() + 15
        while await stored() != {"hv_moi": 7, "hv_ra": 2}:
            assert asyncio.get_running_loop().time() < deadline, await stored()
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)  # a second answer from the duplicate would land by now
        assert await stored() == {"hv_moi": 7, "hv_ra": 2}
        questions = [m["text"] for m in fake.sent_to("51a7e") if "Câu 2/10" in m["text"]]
        assert len(questions) == 1  # answered once, asked once
        # Numbered choices on a text-only channel: "Trả lời 1 hoặc 2" and a typed number.
        await lan.send("/huy")
        ctx.clock.set(ctx.clock.now().replace(month=10, day=2))
        await lan.send("baocao")
        assert "1. Báo cáo tháng của chi hội – tháng 9/2026" in lan.text
        assert "Trả lời 1 hoặc 2." in lan.text
        await lan.send("2")
        assert "Báo cáo quý của chi hội" in lan.text and "Câu 1/5" in lan.text
        await lan.send("tiến độ")  # a staff word without slash or diacritics
        assert "Tiến độ chỉ tiêu – Chi hội thôn 1" in lan.text
    finally:
        await running.stop()


async def test_zalo_webhook_checks_the_secret_and_both_shapes(ctx, world, tmp_path) -> None:
    _, code = world
    running = await start("zalo-webhook", ctx, tmp_path)
    fake: FakeZalo = running.fake
    try:
        lan = running.user("51a7e")
        lan.wrapped = False  # the flat shape seen in real traffic
        await lan.send(code)
        assert "Chào chị Nguyễn Thị Lan" in lan.text
        url = lan.webhook
        async with ClientSession() as http:
            for headers in ({"X-Bot-Api-Secret-Token": "wrong"}, {}):
                async with http.post(
                    url, json=fake.text_update("51a7e", "bao cao"), headers=headers
                ) as response:
                    assert response.status == 401
        assert parse_update({"ok": True, "result": fake.text_update("x", "hi")}).text == "hi"
        group = fake.text_update("x", "hi")
        group["message"]["chat"]["chat_type"] = "GROUP"
        assert parse_update(group) is None
    finally:
        await running.stop()


async def test_files_by_signed_links_on_zalo(ctx, world, tmp_path) -> None:
    people, _ = world
    running = await start("zalo-polling", ctx, tmp_path)
    try:
        async with ctx.sessions() as session:
            await linked(session, people.provincial, "zalo", "staff1", ctx.clock.now())
            await session.commit()
        staff = running.user("staff1")
        await staff.send("bieu do thoat ngheo nam nay")
        [photo] = [m for m in staff.replies if m["method"] == "sendPhoto"]
        async with ClientSession() as http, http.get(photo["photo"]) as response:
            assert response.status == 200
            assert (await response.read())[:4] == b"\x89PNG"
        await staff.send("xuat excel nam 2026")
        text = staff.text
        assert "Tải về (link dùng trong 24 giờ): http" in text
        link = text.split("): ")[1].strip()
        async with ClientSession() as http, http.get(link) as response:
            assert response.status == 200 and (await response.read())[:2] == b"PK"
    finally:
        await running.stop()


def test_signed_links_valid_expired_tampered(tmp_path, clock) -> None:
    links = FileLinks(tmp_path, "https://bot.example.vn/", b"k" * 32, clock, timedelta(hours=2))
    url = links.publish(b"data", "bao-cao.xlsx")
    path, query = url.split("?")
    file_id, name = path.split("/files/")[1].split("/")
    params = dict(p.split("=") for p in query.split("&"))
    assert links.check(file_id, name, params["exp"], params["sig"]).read_bytes() == b"data"
    assert links.check(file_id, name, params["exp"], "0" * 32) is None  # tampered signature
    assert links.check(file_id, name, str(int(params["exp"]) + 3600), params["sig"]) is None
    assert links.check(file_id, "khac.xlsx", params["exp"], params["sig"]) is None
    assert links.check(file_id, "../x", params["exp"], params["sig"]) is None
    clock.set(clock.now() + timedelta(hours=3))
    assert links.check(file_id, name, params["exp"], params["sig"]) is None  # expired
    # Expired files are removed from disk (the folder's time is the real clock's: age it).
    import os

    folder = tmp_path / file_id
    os.utime(folder, (0, 0))
    assert links.sweep() == 1 and not folder.exists()


async def test_one_person_on_both_channels_reminded_where_she_was_last(
    ctx, world, tmp_path
) -> None:
    from bot.scheduler import plan_and_queue
    from storage.plan.clock import vn_datetime

    people, code = world
    engine = Engine(ctx)
    from tests.chat import ChatUser

    telegram_user = ChatUser(engine, "5001")
    await telegram_user.join(code)
    await telegram_user.send("/lienket")
    zalo_code = telegram_user.text.split(": ")[1].split("\n")[0]
    zalo_user = ChatUser(engine, "51a7e", channel="zalo")
    await zalo_user.send(zalo_code)
    assert "Chào chị Nguyễn Thị Lan" in zalo_user.text
    async with ctx.sessions() as session:
        accounts = (
            await session.scalars(
                select(ChannelIdentity).where(ChannelIdentity.person_id == people.leader.id)
            )
        ).all()
        assert sorted(a.channel for a in accounts) == ["telegram", "zalo"]
        assert len((await session.scalars(select(Person))).all()) == 4
    ctx.clock.set(vn_datetime(2026, 12, 3, 9))  # 2 days before November's due date
    await plan_and_queue(ctx)
    async with ctx.sessions() as session:
        [row] = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.person_id == people.leader.id)
            )
        ).all()
    assert row.channel == "zalo"  # the channel she used last


async def test_zalo_outbox_rate_cap_and_429(ctx, world, tmp_path) -> None:
    from bot.scheduler import plan_and_queue
    from schedules.outbox import ChannelPace, Dispatcher
    from storage.db.models import Role
    from storage.plan.clock import vn_datetime

    people, _ = world
    running = await start("zalo-polling", ctx, tmp_path)
    fake: FakeZalo = running.fake
    try:
        async with ctx.sessions() as session:
            leaders = [
                Person(
                    full_name=f"Đinh Thị {i}",
                    role=Role.BRANCH_LEADER,
                    unit_id=u.id,
                    created_at=ctx.clock.now(),
                )
                for i, u in enumerate(people.tree.branches[1:], 2)
            ]
            session.add_all(leaders)
            await session.flush()
            for p in [people.leader, *leaders]:
                await linked(session, p, "zalo", f"z{p.id}", ctx.clock.now())
            await linked(session, people.commune_officer, "zalo", "officer", ctx.clock.now())
            officer_c3 = Person(
                full_name="Võ Thị Ba",
                role=Role.COMMUNE_OFFICER,
                unit_id=people.tree.c3.id,
                created_at=ctx.clock.now(),
            )
            session.add(officer_c3)
            await session.flush()
            await linked(session, officer_c3, "zalo", "officer3", ctx.clock.now())
            await session.commit()
        # This test's own dispatcher, with a cap, sends them: the bot's stands aside.
        await running.service.reminders.stop()
        ctx.clock.set(vn_datetime(2026, 11, 3, 8))  # October's d-2 reminders: 5 leaders
        await plan_and_queue(ctx)
        fake.fail_next("sendMessage", 429, "quota exceeded")
        running.runtime.channel.quota_retry_seconds = 0.2
        dispatcher = Dispatcher(
            ctx.sessions,
            {"zalo": running.runtime.channel},
            ctx.clock,
            paces={"zalo": ChannelPace(None, 0, monthly_cap=3)},
            concurrency=1,
        )
        await dispatcher.run_once()
        ctx.clock.set(ctx.clock.now() + timedelta(minutes=30))
        await dispatcher.run_once()
        await dispatcher.run_once()
        async with ctx.sessions() as session:
            rows = (await session.scalars(select(OutboxMessage))).all()
        by_status = sorted(r.status for r in rows)
        assert by_status.count(OutboxStatus.SENT) == 3
        assert by_status.count(OutboxStatus.CAPPED) == 2
        # In id order: B1 met the 429 and went later, B2 and B3 went, then B1; the cap of 3
        # stopped B4's and B5's reminders.
        capped = sorted(r.person_id for r in rows if r.status == OutboxStatus.CAPPED)
        assert capped == [leaders[2].id, leaders[3].id]
        # The officer's digest names the branches whose reminder the cap stopped.
        ctx.clock.set(vn_datetime(2026, 11, 6, 9))
        await plan_and_queue(ctx)
        async with ctx.sessions() as session:
            digest = await session.scalar(
                select(OutboxMessage).where(OutboxMessage.key.like(f"dig:{officer_c3.id}:%"))
            )
        assert "Chưa gửi được lời nhắc cho: Chi hội thôn 4" in digest.payload["text"]
        assert "hết lượt tin trong tháng" in digest.payload["text"]
    finally:
        await running.stop()
