"""Telegram through aiogram 3 (its Bot, methods and types): inline keyboards for choices,
polling or webhook, both through the durable intake (bot.channels.intake).

Only this module imports aiogram; the conversation engine sees `Inbound` and `Outbound`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import Response
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteWebhook,
    GetUpdates,
    SendDocument,
    SendMessage,
    SendPhoto,
    SetMyCommands,
    SetWebhook,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    Update,
)
from aiohttp import ClientError, ClientTimeout, web

from bot.channels.intake import Intake
from bot.config import Settings
from handlers.commands import MENU
from schedules.messages import (
    TELEGRAM,
    Choice,
    Inbound,
    Outbound,
    PermanentFailure,
    RetryLater,
    TemporaryFailure,
    Unreachable,
    split_text,
)

logger = logging.getLogger(__name__)
CALLBACK_LIMIT = 64  # bytes
# aiogram reads each answer of the API as `Response[<the method's result type>]`; pydantic
# keeps such parametrised classes only weakly, so each time the collector freed one it was
# built again on the next call (a profile of the inbound benchmark: ~300 rebuilds for 1,200
# updates, a tenth of the bot's CPU). Held here, each is built once.
_RESPONSE_TYPES = [
    Response[method.__returning__]  # type: ignore[name-defined]
    for method in (
        SendMessage,
        SendPhoto,
        SendDocument,
        AnswerCallbackQuery,
        GetUpdates,
        SetMyCommands,
        SetWebhook,
        DeleteWebhook,
    )
]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


def make_bot(settings: Settings) -> Bot:
    assert settings.telegram_bot_token is not None
    session = AiohttpSession(timeout=settings.send_timeout_seconds)
    if settings.telegram_api_base:
        session = AiohttpSession(
            api=TelegramAPIServer.from_base(settings.telegram_api_base),
            timeout=settings.send_timeout_seconds,
        )
    return Bot(settings.telegram_bot_token.get_secret_value(), session=session)


def keyboard(message: Outbound) -> str | None:
    """Short answers side by side, longer ones one per row; edit shortcuts in rows of three:
    the `reply_markup` of the Bot API, as JSON."""
    if not message.choices and not message.button_only:
        return None
    return _keyboard(tuple(message.choices), tuple(message.button_only))


@lru_cache(maxsize=512)
def _keyboard(choices: tuple[Choice, ...], button_only: tuple[Choice, ...]) -> str:
    """Written once for each set of buttons (a fan-out sends the same ones 100,000 times)."""
    rows: list[list[dict[str, str]]] = []
    short: list[dict[str, str]] = []
    for choice in choices:
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
    extra = [_button(c) for c in button_only]
    rows += [extra[i : i + 3] for i in range(0, len(extra), 3)]
    return json.dumps({"inline_keyboard": rows}, ensure_ascii=False)


def _button(choice: Choice) -> dict[str, str]:
    if len(choice.data.encode()) > CALLBACK_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_LIMIT} bytes: {choice.data!r}")
    return {"text": choice.label, "callback_data": choice.data}


class ApiError(Exception):
    """The Bot API refused a call: its status, description and the wait it asked for."""

    def __init__(self, status: int, description: str, retry_after: float | None) -> None:
        super().__init__(f"Telegram {status}: {description}")
        self.status = status
        self.description = description
        self.retry_after = retry_after


async def call_json(bot: Bot, method: str, body: str) -> Any:
    """One Bot API call with a JSON body already written, through the bot's own HTTP session
    (its timeout, its connection pool), reading only `ok`, the error and the result: no
    pydantic model is built either way (they were most of a send's CPU)."""
    session = bot.session
    http = await session.create_session()  # type: ignore[attr-defined]
    url = session.api.api_url(token=bot.token, method=method)
    async with http.post(
        url,
        data=body.encode(),
        headers={"Content-Type": "application/json"},
        timeout=ClientTimeout(total=float(session.timeout)),
    ) as response:
        raw = await response.read()
        status = response.status
    try:
        answer = json.loads(raw)
    except ValueError as exc:
        raise ApiError(status if status >= 500 else 502, "not a JSON answer", None) from exc
    if isinstance(answer, dict) and answer.get("ok") is True:
        return answer.get("result")
    answer = answer if isinstance(answer, dict) else {}
    wait = (answer.get("parameters") or {}).get("retry_after")
    code = int(answer.get("error_code") or status)
    raise ApiError(code, str(answer.get("description") or ""), wait)


class TelegramChannel:
    name = "telegram"
    capabilities = TELEGRAM

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: str, message: Outbound) -> None:
        """Sends, translating the API's (and aiogram's) errors into the channel-neutral ones."""
        try:
            await self._send(chat_id, message)
        except ApiError as exc:
            if exc.retry_after is not None:
                raise RetryLater(float(exc.retry_after), str(exc)) from exc
            if exc.status == 403:
                raise Unreachable(str(exc)) from exc
            if exc.status == 400 and "chat not found" in exc.description.lower():
                raise Unreachable(str(exc)) from exc
            if exc.status >= 500 or exc.status == 429:
                raise TemporaryFailure(str(exc)) from exc
            raise PermanentFailure(str(exc)) from exc
        except (ClientError, OSError) as exc:  # the network, on the way there or back
            raise TemporaryFailure(str(exc) or type(exc).__name__) from exc
        except TelegramRetryAfter as exc:
            raise RetryLater(exc.retry_after, str(exc)) from exc
        except TelegramForbiddenError as exc:
            raise Unreachable(str(exc)) from exc
        except TelegramBadRequest as exc:
            if "chat not found" in exc.message.lower():  # her account is gone
                raise Unreachable(str(exc)) from exc
            raise PermanentFailure(str(exc)) from exc
        except (TelegramServerError, TelegramNetworkError, TimeoutError) as exc:
            raise TemporaryFailure(str(exc)) from exc
        except TelegramAPIError as exc:
            raise PermanentFailure(str(exc)) from exc

    async def _send(self, chat_id: str, message: Outbound) -> None:
        pieces = split_text(message.text, self.capabilities.max_text) if message.text else []
        markup = keyboard(message)
        chat = int(chat_id)
        for i, piece in enumerate(pieces):
            body = json.dumps({"chat_id": chat, "text": piece}, ensure_ascii=False)
            if markup is not None and i == len(pieces) - 1:
                body = f'{body[:-1]}, "reply_markup": {markup}}}'
            await call_json(self.bot, "sendMessage", body)
        if message.photo:
            await self.bot.send_photo(
                int(chat_id), BufferedInputFile(message.photo, message.filename or "chart.png")
            )
        if message.document:
            await self.bot.send_document(
                int(chat_id), BufferedInputFile(message.document, message.filename or "file")
            )


def to_inbound(update: Update) -> Inbound | None:
    """What the engine sees of an update; None for what the bot does not answer."""
    message = update.message or update.edited_message
    if message is not None:
        user = message.from_user
        if message.chat.type != "private" or user is None:
            return None
        return Inbound(
            TelegramChannel.name,
            str(user.id),
            str(message.chat.id),
            text=message.text or message.caption or "",
            update_key=str(update.update_id),
            display_name=user.full_name,
            message_id=str(message.message_id),
            edited=update.message is None,
        )
    query = update.callback_query
    if query is not None and query.message is not None:
        return Inbound(
            TelegramChannel.name,
            str(query.from_user.id),
            str(query.message.chat.id),
            choice=query.data,
            update_key=str(update.update_id),
            display_name=query.from_user.full_name,
            callback_id=query.id,
        )
    return None


def inbound_from_json(data: Any) -> Inbound | None:
    """`to_inbound` of a webhook's JSON, read straight from the dict: building aiogram's
    pydantic Update (every type of the Bot API) cost more than the rest of a plain answer's
    parsing. Raises ValueError for what is not an update."""
    try:
        update_key = str(int(data["update_id"]))
        message = data.get("message") or data.get("edited_message")
        if message is not None:
            user = message.get("from")
            if message["chat"]["type"] != "private" or user is None:
                return None
            return Inbound(
                TelegramChannel.name,
                str(int(user["id"])),
                str(int(message["chat"]["id"])),
                text=message.get("text") or message.get("caption") or "",
                update_key=update_key,
                display_name=_full_name(user),
                message_id=str(int(message["message_id"])),
                edited=data.get("message") is None,
            )
        query = data.get("callback_query")
        if query is not None and query.get("message") is not None:
            return Inbound(
                TelegramChannel.name,
                str(int(query["from"]["id"])),
                str(int(query["message"]["chat"]["id"])),
                choice=query.get("data"),
                update_key=update_key,
                display_name=_full_name(query["from"]),
                callback_id=str(query["id"]),
            )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a Telegram update: {exc}") from exc
    return None


def _full_name(user: dict[str, Any]) -> str:
    first = str(user["first_name"])
    return f"{first} {user['last_name']}" if user.get("last_name") else first


async def receive(bot: Bot, intake: Intake, updates: list[Update]) -> None:
    """Stores the updates (the caller confirms them only after this), then stops the spinner
    on each pressed button, which needs no durability."""
    await receive_inbounds(bot, intake, [i for i in map(to_inbound, updates) if i is not None])


async def receive_inbounds(bot: Bot, intake: Intake, inbounds: list[Inbound]) -> None:
    await intake.receive(inbounds)
    for inbound in inbounds:
        if inbound.callback_id:
            intake.background(_acknowledge(bot, inbound.callback_id))


async def _acknowledge(bot: Bot, callback_id: str) -> None:
    with contextlib.suppress(ApiError, ClientError, OSError):
        await call_json(bot, "answerCallbackQuery", json.dumps({"callback_query_id": callback_id}))


class TelegramPoller:
    """Long polling that confirms an update (the next offset) only after it is stored.

    aiogram's own polling confirms a batch as soon as it has fetched it, before its handlers
    ran: an update in flight when the process dies would be lost."""

    def __init__(self, bot: Bot, intake: Intake, timeout: int = 25) -> None:
        self.bot = bot
        self.intake = intake
        self.timeout = timeout

    async def run(self) -> None:
        offset: int | None = None
        failures = 0
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset,
                    timeout=self.timeout,
                    allowed_updates=ALLOWED_UPDATES,
                    request_timeout=self.timeout + 10,
                )
                await receive(self.bot, self.intake, updates)
            except asyncio.CancelledError:
                raise
            except TelegramRetryAfter as exc:
                await asyncio.sleep(exc.retry_after)
                continue
            except Exception as exc:  # the network, the API or the database: try again
                failures += 1
                logger.warning("Telegram polling: %s", exc)
                await asyncio.sleep(min(2**failures, 30))
                continue
            failures = 0
            if updates:
                offset = updates[-1].update_id + 1


def webhook_handler(
    bot: Bot, intake: Intake, secret: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Answers 200 only once the update is stored; refuses a call without the secret."""

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.json_response({"ok": False, "description": "Unauthorized"}, status=401)
        try:
            inbound = inbound_from_json(await request.json())
        except ValueError:  # json's errors are ValueErrors too
            return web.json_response({"ok": False, "description": "Bad update"}, status=400)
        # An error here is a 500: Telegram sends the update again.
        await receive_inbounds(bot, intake, [inbound] if inbound else [])
        return web.json_response({})

    return handle


async def set_menu(bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(command=c, description=d) for c, d in MENU])
