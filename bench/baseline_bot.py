"""The baseline: a minimal aiogram survey bot, built the way most Telegram survey bots are.

The same questions, the state and answers in aiogram's FSM in Redis, and one INSERT of the
whole report at the end. Nothing is durable until then, nothing is deduplicated, and it knows
no schedule, hierarchy or second channel. It exists only to be measured against.
"""

from __future__ import annotations

import json

from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import Message
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

QUESTIONS = [
    "Trong kỳ này, chi hội kết nạp được bao nhiêu hội viên mới?",
    "Có bao nhiêu hội viên ra khỏi tổ chức?",
    "Có bao nhiêu hộ phụ nữ nghèo, cận nghèo được giúp thoát nghèo?",
    "Có bao nhiêu lao động nữ được tư vấn nghề, dạy nghề?",
    "Trong số đó, bao nhiêu chị được cấp bằng, chứng chỉ?",
    "Có bao nhiêu lao động nữ được giới thiệu, tạo việc làm?",
    "Có thêm bao nhiêu hộ hội viên đạt tiêu chí 5 không, 3 sạch?",
    "Chi hội tổ chức được mấy hoạt động văn hóa, văn nghệ, thể dục thể thao?",
    "Hiện nay chi hội có tổng cộng bao nhiêu hội viên?",
    "Từ đầu năm đến nay, bao nhiêu phụ nữ khuyết tật được chi hội hỗ trợ?",
]


def build(engine: AsyncEngine, redis_url: str) -> Dispatcher:
    router = Router()

    @router.message(Command("baocao"))
    async def start(message: Message, state: FSMContext) -> None:
        await state.set_state("q0")
        await state.set_data({"answers": []})
        await message.answer("Báo cáo tháng của chi hội. Có 10 câu.")
        await message.answer(f"Câu 1/10: {QUESTIONS[0]}")

    @router.message(F.text.lower() == "gửi")
    async def send(message: Message, state: FSMContext) -> None:
        data = await state.get_data()
        async with engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO baseline_reports (chat_id, answers) VALUES (:c, :a)"),
                {"c": str(message.chat.id), "a": json.dumps(data.get("answers", []))},
            )
        await state.clear()
        await message.answer("Em đã nhận báo cáo. Cảm ơn chị!")

    @router.message(F.text)
    async def answer(message: Message, state: FSMContext) -> None:
        current = await state.get_state()
        if not current or not current.startswith("q"):
            await message.answer("Gõ /baocao để báo cáo.")
            return
        text_ = (message.text or "").replace(".", "").strip()
        if not text_.isdigit():
            await message.answer("Chị gõ một con số nhé.")
            return
        data = await state.get_data()
        answers = [*data.get("answers", []), int(text_)]
        index = int(current[1:]) + 1
        await state.update_data(answers=answers)
        if index < len(QUESTIONS):
            await state.set_state(f"q{index}")
            await message.answer(f"Câu {index + 1}/10: {QUESTIONS[index]}")
        else:
            await state.set_state("summary")
            await message.answer("Tóm tắt: " + ", ".join(map(str, answers)) + ". Gõ «Gửi».")

    dispatcher = Dispatcher(storage=RedisStorage.from_url(redis_url))
    dispatcher.include_router(router)
    return dispatcher


async def prepare(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS baseline_reports"))
        await conn.execute(
            text(
                "CREATE TABLE baseline_reports (id INTEGER PRIMARY KEY"
                + (" GENERATED ALWAYS AS IDENTITY" if engine.dialect.name == "postgresql" else "")
                + ", chat_id VARCHAR(64), answers TEXT)"
            )
        )


def bot_for(token: str, api_base: str) -> Bot:
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))
