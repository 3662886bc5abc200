"""The wiring operators run (`hoibot run` → run_bot): both channels from their tokens, with
reminders, against the fake servers."""

import asyncio

from pydantic import SecretStr

from bot.app import run_bot
from storage.plan.clock import vn_datetime
from tests.builders import invite, small_tree_with_people
from tests.fakes.telegram import TOKEN, FakeTelegram, TelegramUser
from tests.fakes.zalo import TOKEN as ZALO_TOKEN
from tests.fakes.zalo import FakeZalo, ZaloUser


async def test_run_bot_serves_telegram_and_zalo_and_reminds(ctx, tmp_path) -> None:
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        tg_code = await invite(session, people.leader, ctx.clock.now())
        zalo_code = await invite(session, people.commune_officer, ctx.clock.now())
    telegram, zalo = FakeTelegram(), FakeZalo()
    await telegram.start()
    await zalo.start()
    s = ctx.settings
    s.telegram_bot_token, s.telegram_api_base = SecretStr(TOKEN), telegram.base
    s.zalo_bot_token, s.zalo_api_base = SecretStr(ZALO_TOKEN), zalo.base
    s.files_dir, s.reminder_check_minutes = tmp_path, 1
    ctx.clock.set(vn_datetime(2026, 12, 3, 9))  # November is due on 5/12: a d-2 reminder
    task = asyncio.create_task(run_bot(ctx))
    try:
        # Started: it imports the Telegram channel (aiogram, seconds on a busy machine) first.
        for _ in range(600):
            polling = [any(m == "getUpdates" for m, _ in f.calls) for f in (telegram, zalo)]
            if all(polling) or task.done():
                break
            await asyncio.sleep(0.1)
        lan = TelegramUser(telegram, 5001)
        await lan.send(f"/start {tg_code}")
        assert "Chào chị Nguyễn Thị Lan" in lan.text
        await lan.click("Đồng ý")  # the personal-data notice: nothing is sent her before (#22)
        assert "ghi nhận chị đồng ý" in lan.text
        mai = ZaloUser(zalo, "z-mai")
        await mai.send(zalo_code)
        assert "Chào chị Trần Thị Mai" in mai.text
        # The scheduler plans at start; once Lan is linked the next check reminds her. Ask
        # the planner directly rather than wait a minute.
        from bot.scheduler import plan_and_queue

        await plan_and_queue(ctx)
        for _ in range(100):
            if any("hạn nộp" in str(m.get("text", "")) for m in telegram.sent_to(5001)):
                break
            await asyncio.sleep(0.1)
        reminder = [m for m in telegram.sent_to(5001) if "hạn nộp" in str(m.get("text", ""))]
        assert reminder and "Báo cáo ngay" in str(reminder[0]["reply_markup"])
        assert "baocao" in str([p for m, p in telegram.calls if m == "setMyCommands"])
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await telegram.stop()
        await zalo.stop()
