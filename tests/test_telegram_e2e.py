"""The real aiogram bot over real HTTP against a local fake Telegram Bot API server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import ClientSession
from pydantic import SecretStr

from bot.app import (
    TELEGRAM_WEBHOOK_PATH,
    Service,
    TelegramRuntime,
    WebServer,
    add_telegram_webhook,
    start_telegram_polling,
    telegram_runtime,
)
from bot.context import AppContext
from storage.measures import report_audit, reporting
from storage.plan.clock import vn_datetime
from tests.builders import invite, small_tree_with_people
from tests.fakes.telegram import TOKEN, FakeTelegram, TelegramUser

SECRET = "s3cret-token_ok"
ANSWERS = ["3", "1", "2 hộ", "10", "4", "5", "1", "2", "101"]
LEADER = 5001


@dataclass
class Running:
    fake: FakeTelegram
    ctx: AppContext
    runtime: TelegramRuntime
    service: Service
    webhook: str | None = None
    task: asyncio.Task | None = None
    server: WebServer | None = None

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        if self.server:
            await self.server.stop()
        await self.service.stop()
        await self.runtime.client.close()


async def start_bot(fake: FakeTelegram, ctx: AppContext, mode: str) -> Running:
    ctx.settings.telegram_bot_token = SecretStr(TOKEN)
    ctx.settings.telegram_api_base = fake.base
    runtime = telegram_runtime(ctx)
    service = Service(ctx)
    await service.start({"telegram": runtime.channel}, reminders=False)
    running = Running(fake, ctx, runtime, service)
    if mode == "polling":
        running.task = await start_telegram_polling(runtime, service.intake, polling_timeout=1)
    else:
        running.server = WebServer()
        add_telegram_webhook(running.server.app, runtime, service.intake, SECRET)
        port = await running.server.start("127.0.0.1", 0)
        running.webhook = f"http://127.0.0.1:{port}{TELEGRAM_WEBHOOK_PATH}"
    return running


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def world(ctx):
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        code = await invite(session, people.leader, ctx.clock.now())
    return people, code


def user_of(running: Running, user_id: int = LEADER) -> TelegramUser:
    return TelegramUser(running.fake, user_id, running.webhook, SECRET)


async def values_of(ctx, unit_id: int, period: str = "2026-11"):
    async with ctx.sessions() as session:
        sub = await reporting.find_submission(session, unit_id, "thang_chi_hoi", period)
        return sub, await reporting.answers(session, sub.id)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_onboarding_and_full_report(fake, ctx, world, mode) -> None:
    people, code = world
    running = await start_bot(fake, ctx, mode)
    try:
        lan = user_of(running)
        await lan.send(f"/start {code}")
        assert "Chào chị Nguyễn Thị Lan! Chị đã kết nối với bot báo cáo của Chi hội thôn 1." in (
            lan.text
        )
        assert "Nghị định 13/2023/NĐ-CP" in lan.text and lan.buttons == ["Đồng ý"]
        await lan.click("Đồng ý")  # the personal-data notice, accepted by its button
        assert "ghi nhận chị đồng ý" in lan.text
        await lan.send("/baocao")
        assert "Câu 1/10" in lan.text
        assert lan.buttons == ["0"]
        for answer in ANSWERS[:-1]:
            await lan.send(answer)
        await lan.click("0")  # a button answers too
        assert "Câu 10/10" in lan.text
        await lan.click("Bỏ qua")
        assert "Tóm tắt" in lan.text
        assert lan.buttons[0] == "Gửi" and "Sửa mục 10" in lan.buttons
        await lan.click("Gửi")
        assert "báo cáo đúng hạn" in lan.text
        sub, values = await values_of(ctx, people.tree.b1.id)
        assert sub.status == "submitted" and values["hd_vhvn"] == 2
        assert values["tong_hoi_vien"] == 0 and values["pn_kt_ho_tro"] is None
        menu = [p for m, p in fake.calls if m == "setMyCommands"]
        assert mode == "webhook" or "baocao" in str(menu)
    finally:
        await running.stop()


async def test_restart_in_the_middle_and_redelivered_update(fake, ctx, world) -> None:
    people, code = world
    running = await start_bot(fake, ctx, "polling")
    lan = user_of(running)
    await lan.send(f"/start {code}")
    await lan.send("đồng ý")  # the personal-data notice
    await lan.send("/baocao")
    await lan.send("3")
    update = fake.message_update(LEADER, "1")
    await lan.deliver(update)
    assert "Câu 3/10" in lan.text
    await running.stop()

    # The bot comes back; Telegram redelivers the last update it had not seen confirmed.
    running = await start_bot(fake, ctx, "polling")
    try:
        lan = user_of(running)
        before = len(fake.sent_to(LEADER))
        fake.queue(update)
        await asyncio.sleep(1.5)
        assert len(fake.sent_to(LEADER)) == before  # handled once: nothing sent twice
        await lan.send("báo cáo")
        assert "Đã trả lời 2/10 câu" in lan.text and "Câu 3/10" in lan.text
        await lan.click("Quay lại")
        assert "Câu 2/10" in lan.text and "(Đã ghi: 1 người)" in lan.text
        await lan.send("2")
        for answer in ANSWERS[2:]:
            await lan.send(answer)
        await lan.click("Bỏ qua")
        await lan.click("Sửa mục 1")
        await lan.send("4")
        assert "1. Hội viên mới kết nạp: 4 người" in lan.text
        await lan.click("Gửi")
        _, values = await values_of(ctx, people.tree.b1.id)
        assert (values["hv_moi"], values["hv_ra"]) == (4, 2)
    finally:
        await running.stop()


async def test_late_submission_and_correction(fake, ctx, world) -> None:
    people, code = world
    ctx.clock.set(vn_datetime(2026, 12, 7, 9))  # November was due on 5/12
    running = await start_bot(fake, ctx, "webhook")
    try:
        lan = user_of(running)
        await lan.send(f"/start {code}")
        await lan.send("đồng ý")  # the personal-data notice
        await lan.send("/baocao")
        for answer in ANSWERS:
            await lan.send(answer)
        await lan.click("Bỏ qua")
        await lan.click("Gửi")
        assert "trễ hạn (05/12/2026)" in lan.text
        await lan.send("/baocao")
        await lan.click("Sửa mục 2")
        await lan.send("0")
        assert "• Mục 2. Hội viên ra khỏi tổ chức: 1 người → 0 người" in lan.text
        await lan.click("Lưu thay đổi")
        assert "Đã sửa mục 2: 1 người → 0 người" in lan.text
        await lan.click("Xong")
        sub, values = await values_of(ctx, people.tree.b1.id)
        assert sub.late and values["hv_ra"] == 0
        async with ctx.sessions() as session:
            trail = await report_audit.audit_trail(session, sub.id)
        assert [a.action for a in trail] == ["submit", "edit"]
    finally:
        await running.stop()


async def test_webhook_duplicate_and_secret(fake, ctx, world) -> None:
    _, code = world
    running = await start_bot(fake, ctx, "webhook")
    try:
        lan = user_of(running)
        update = fake.message_update(LEADER, f"/start {code}")
        await lan.deliver(update)
        assert "Chào chị" in lan.text
        before = len(fake.sent_to(LEADER))
        async with ClientSession() as http:
            # Telegram retries a delivery it thinks failed: the same update again.
            async with http.post(
                running.webhook, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            ) as r:
                assert r.status == 200
            async with http.post(
                running.webhook,
                json=fake.message_update(LEADER, "/baocao"),
                headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
            ) as r:
                assert r.status == 401
            async with http.post(running.webhook, json=fake.message_update(LEADER, "/baocao")) as r:
                assert r.status == 401
        await asyncio.sleep(0.5)
        assert len(fake.sent_to(LEADER)) == before
    finally:
        await running.stop()


async def test_wrong_code_and_no_role(fake, ctx, world) -> None:
    running = await start_bot(fake, ctx, "polling")
    try:
        stranger = user_of(running, 7007)
        await stranger.send("/start")
        assert "cần mã mời" in stranger.text
        await stranger.send("/baocao")
        assert "cần mã mời" in stranger.text
        await stranger.send("/start WRONG12345")
        assert "Mã mời «WR0N-G123-45» không đúng" in stranger.text
        await stranger.send("xin chào")
        assert "cần mã mời" in stranger.text
    finally:
        await running.stop()


async def test_long_messages_are_split_and_callback_data_is_small(fake, ctx, world) -> None:
    from bot.channels.telegram import keyboard
    from schedules.messages import Choice, Outbound

    running = await start_bot(fake, ctx, "polling")
    try:
        text = "\n".join(f"Dòng {i}: " + "chữ " * 30 for i in range(80))  # ~10,000 characters
        await running.runtime.channel.send(str(LEADER), Outbound(text, [Choice("Gửi", "1:send")]))
        pieces = fake.sent_to(LEADER)
        assert len(pieces) == 3 and all(len(p["text"]) <= 4096 for p in pieces)
        assert "\n".join(p["text"] for p in pieces) == text
        assert "reply_markup" in pieces[-1] and "reply_markup" not in pieces[0]
        with pytest.raises(ValueError):
            keyboard(Outbound("x", [Choice("x", "9" * 65)]))
    finally:
        await running.stop()


@pytest.fixture
async def demo(ctx):
    from bot.config import DEMO_CONFIG_DIR
    from schedules.demo import build_demo
    from tests.builders import linked

    async with ctx.sessions() as session:
        summary = await build_demo(
            session, ctx.catalog, DEMO_CONFIG_DIR, ctx.clock.today(), months=3
        )
        ids = {}
        for n, (role, person) in enumerate(summary.sample_people.items(), start=1):
            await linked(session, person, "telegram", str(9000 + n), ctx.clock.now())
            ids[role] = 9000 + n
        await session.commit()
    return ids


@pytest.mark.parametrize(
    "role", ["provincial_staff", "district_officer", "commune_officer", "branch_leader"]
)
async def test_staff_commands_for_each_role(fake, ctx, demo, role) -> None:
    running = await start_bot(fake, ctx, "polling")
    try:
        user = user_of(running, demo[role])
        await user.send("/tong thoát nghèo năm nay")
        assert "Hộ phụ nữ nghèo, cận nghèo được giúp thoát nghèo – " in user.text
        assert "năm 2026:" in user.text
        await user.send("/tiendo")
        assert "Tiến độ chỉ tiêu – " in user.text
        await user.send("/chuanop tháng 10")
        if role == "branch_leader":
            assert "dành cho cán bộ Hội" in user.text
        else:
            assert "Báo cáo tháng của chi hội – tháng 10/2026" in user.text
        await user.send("/tong thoát nghèo năm nay huyện Khánh Vĩnh")
        if role == "provincial_staff":
            assert "Huyện Khánh Vĩnh, năm 2026" in user.text
        else:  # KS officer, a commune officer of Cam Lâm, a branch leader: all outside
            assert "Không tìm thấy đơn vị «huyện Khánh Vĩnh»" in user.text
        # The first file imports aiogram (seconds): it may come after the bot went quiet.
        already = len(fake.sent_to(user.user_id))
        await user.send("/xuat tháng 10")
        kinds = [m["method"] for m in user.replies]
        if role == "branch_leader":
            assert kinds == ["sendMessage"]
        else:
            await fake.wait_for_file(user.user_id, "sendDocument", already)
        already = len(fake.sent_to(user.user_id))
        await user.send("/bieudo thoát nghèo tháng 10")
        if role != "branch_leader":
            await fake.wait_for_file(user.user_id, "sendPhoto", already)
    finally:
        await running.stop()


async def test_pagination_and_drill_down_on_telegram(fake, ctx, demo) -> None:
    running = await start_bot(fake, ctx, "webhook")
    try:
        staff = user_of(running, demo["provincial_staff"])
        # Past November's due date (5/12), most have not reported: a long list, in pages.
        # (Before it, /chuanop says the month is not due yet and lists no one.)
        ctx.clock.set(vn_datetime(2026, 12, 7, 9))
        await staff.send("/chuanop tháng 11")
        first = staff.text
        assert "(trang 1/" in first and "Xem thêm" in staff.buttons
        await staff.click("Xem thêm")
        assert "(trang 2/" in staff.text and staff.text != first
        await staff.click("⬇ Huyện Khánh Sơn")
        assert "Báo cáo tháng của chi hội – tháng 11/2026 – Huyện Khánh Sơn" in staff.text
        assert "⬆ Tỉnh Khánh Hòa" in staff.buttons
        await staff.send("/tong hội viên mới tháng 10")
        await staff.click("⬇ Huyện Khánh Sơn")
        assert "Hội viên mới kết nạp – Huyện Khánh Sơn, tháng 10/2026" in staff.text
    finally:
        await running.stop()
