"""Telegram through aiogram 3: inline keyboards for choices, polling or webhook.

Only this module imports aiogram; the conversation engine sees `Inbound` and `Outbound`.
"""

from __future__ import annotations

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)

from bot.channels.base import (
    Capabilities,
    Choice,
    Inbound,
    Outbound,
    PermanentFailure,
    RetryLater,
    TemporaryFailure,
    Unreachable,
    answer,
    split_text,
)
from bot.config import Settings
from handlers.commands import MENU
from handlers.engine import Engine

CALLBACK_LIMIT = 64  # bytes


def make_bot(settings: Settings) -> Bot:
    assert settings.telegram_bot_token is not None
    session = None
    if settings.telegram_api_base:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    return Bot(settings.telegram_bot_token.get_secret_value(), session=session)


def keyboard(message: Outbound) -> InlineKeyboardMarkup | None:
    """Short answers side by side, longer ones one per row; edit shortcuts in rows of three."""
    if not message.choices and not message.button_only:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    short: list[InlineKeyboardButton] = []
    for choice in message.choices:
        button = _button(choice)
        if len(choice.label) <= 12:
            short.append(button)
            if len(short) == 3:
                rows.append(short)
                short = []
        else:
            rows.append([button])
    if short:
        rows.append(short)
    extra = [_button(c) for c in message.button_only]
    rows += [extra[i : i + 3] for i in range(0, len(extra), 3)]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _button(choice: Choice) -> InlineKeyboardButton:
    if len(choice.data.encode()) > CALLBACK_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_LIMIT} bytes: {choice.data!r}")
    return InlineKeyboardButton(text=choice.label, callback_data=choice.data)


class TelegramChannel:
    name = "telegram"
    capabilities = Capabilities(buttons=True, max_text=4096, files=True)

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: str, message: Outbound) -> None:
        """Sends, translating aiogram's errors into the channel-neutral ones."""
        try:
            await self._send(chat_id, message)
        except TelegramRetryAfter as exc:
            raise RetryLater(exc.retry_after, str(exc)) from exc
        except TelegramForbiddenError as exc:
            raise Unreachable(str(exc)) from exc
        except (TelegramServerError, TelegramNetworkError, TimeoutError) as exc:
            raise TemporaryFailure(str(exc)) from exc
        except TelegramAPIError as exc:
            raise PermanentFailure(str(exc)) from exc

    async def _send(self, chat_id: str, message: Outbound) -> None:
        pieces = split_text(message.text, self.capabilities.max_text) if message.text else []
        markup = keyboard(message)
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            await self.bot.send_message(int(chat_id), piece, reply_markup=markup if last else None)
        if message.photo:
            await self.bot.send_photo(
                int(chat_id), BufferedInputFile(message.photo, message.filename or "chart.png")
            )
        if message.document:
            await self.bot.send_document(
                int(chat_id), BufferedInputFile(message.document, message.filename or "file")
            )


def build_dispatcher(engine: Engine, channel: TelegramChannel) -> Dispatcher:
    router = Router(name="conversation")

    async def reply(inbound: Inbound) -> None:
        await answer(engine.handle, channel, inbound)

    @router.message(F.chat.type == "private")
    async def on_message(message: Message, event_update: Update) -> None:
        user = message.from_user
        if user is None:
            return
        await reply(
            Inbound(
                channel.name,
                str(user.id),
                str(message.chat.id),
                text=message.text or message.caption or "",
                update_key=str(event_update.update_id),
                display_name=user.full_name,
            )
        )

    @router.callback_query()
    async def on_callback(query: CallbackQuery, event_update: Update) -> None:
        await query.answer()  # stops the spinner on her button at once
        if query.message is None:
            return
        await reply(
            Inbound(
                channel.name,
                str(query.from_user.id),
                str(query.message.chat.id),
                choice=query.data,
                update_key=str(event_update.update_id),
                display_name=query.from_user.full_name,
            )
        )

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


async def set_menu(bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(command=c, description=d) for c, d in MENU])
