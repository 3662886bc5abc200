"""Telegram: inline keyboards for choices, polling or webhook, both through the durable
intake (bot.channels.intake). The Bot API is spoken as JSON (bot.channels.telegram_client);
aiogram sends the files, imported by the first one. The engine sees `Inbound` and `Outbound`.
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

from aiohttp import ClientError, web

from bot.channels.intake import Intake
from bot.channels.telegram_client import ApiError, TelegramClient
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
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


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


class TelegramChannel:
    name = "telegram"
    capabilities = TELEGRAM

    def __init__(self, client: TelegramClient) -> None:
        self.client = client

    async def send(self, chat_id: str, message: Outbound) -> None:
        """Sends, translating the API's errors into the channel-neutral ones."""
        try:
            await self._send(chat_id, message)
        except ApiError as exc:
            if exc.retry_after is not None:
                raise RetryLater(float(exc.retry_after), str(exc)) from exc
            if exc.status == 403:
                raise Unreachable(str(exc)) from exc
            if exc.status == 400 and "chat not found" in exc.description.lower():
                raise Unreachable(str(exc)) from exc  # her account is gone
            if exc.status >= 500 or exc.status == 429:
                raise TemporaryFailure(str(exc)) from exc
            raise PermanentFailure(str(exc)) from exc
        except (ClientError, OSError) as exc:  # the network (timeouts too), there or back
            raise TemporaryFailure(str(exc) or type(exc).__name__) from exc

    async def _send(self, chat_id: str, message: Outbound) -> None:
        pieces = split_text(message.text, self.capabilities.max_text) if message.text else []
        markup = keyboard(message)
        chat = int(chat_id)
        for i, piece in enumerate(pieces):
            body = json.dumps({"chat_id": chat, "text": piece}, ensure_ascii=False)
            if markup is not None and i == len(pieces) - 1:
                body = f'{body[:-1]}, "reply_markup": {markup}}}'
            await self.client.call("sendMessage", body)
        if message.photo:
            await self._send_file(chat, message.photo, message.filename or "chart.png", True)
        if message.document:
            await self._send_file(chat, message.document, message.filename or "file", False)

    async def _send_file(self, chat: int, data: bytes, filename: str, photo: bool) -> None:
        """A multipart upload through aiogram (imported here, by the first file), its
        errors read as the Bot API's own so that `send` maps them the one way."""
        bot = await self.client.files_bot()  # aiogram imported by now
        from aiogram.exceptions import (
            TelegramAPIError,
            TelegramForbiddenError,
            TelegramNetworkError,
            TelegramRetryAfter,
            TelegramServerError,
        )
        from aiogram.types import BufferedInputFile

        upload = BufferedInputFile(data, filename)
        try:
            if photo:
                await bot.send_photo(chat, upload)
            else:
                await bot.send_document(chat, upload)
        except TelegramRetryAfter as exc:
            raise ApiError(429, exc.message, exc.retry_after) from exc
        except TelegramNetworkError as exc:  # aiohttp's error or a timeout, wrapped
            raise TemporaryFailure(str(exc)) from exc
        except TelegramAPIError as exc:
            status = 403 if isinstance(exc, TelegramForbiddenError) else 400
            status = 500 if isinstance(exc, TelegramServerError) else status
            raise ApiError(status, exc.message, None) from exc


def inbound_from_json(data: Any) -> Inbound | None:
    """What the engine sees of an update (None for what the bot does not answer), read
    straight from its JSON: aiogram's pydantic Update (every type of the Bot API) cost more
    than the rest of a plain answer's parsing, and its import 120 MB at rest
    (tests/test_telegram_parse.py checks both read the same). Raises ValueError for what is
    not an update."""
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


async def receive_inbounds(client: TelegramClient, intake: Intake, inbounds: list[Inbound]) -> None:
    """Stores the updates (the caller confirms them only after this), then stops the spinner
    on each pressed button, which needs no durability."""
    await intake.receive(inbounds)
    for inbound in inbounds:
        if inbound.callback_id:
            intake.background(_acknowledge(client, inbound.callback_id))


async def _acknowledge(client: TelegramClient, callback_id: str) -> None:
    with contextlib.suppress(ApiError, ClientError, OSError):
        await client.call("answerCallbackQuery", {"callback_query_id": callback_id})


def read_updates(updates: list[Any]) -> tuple[list[Inbound], int | None]:
    """What getUpdates returned: the inbounds, and the offset that confirms them all (None
    for none). An update that cannot be read is logged and confirmed: it never would be."""
    inbounds: list[Inbound] = []
    offset: int | None = None
    for data in updates:
        try:
            offset = int(data["update_id"]) + 1
            inbound = inbound_from_json(data)
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("Telegram: an update skipped, %s", exc)
            continue
        if inbound is not None:
            inbounds.append(inbound)
    return inbounds, offset


class TelegramPoller:
    """Long polling that confirms an update (the next offset) only after it is stored.

    aiogram's own polling confirms a batch as soon as it has fetched it, before its handlers
    ran: an update in flight when the process dies would be lost."""

    def __init__(self, client: TelegramClient, intake: Intake, timeout: int = 25) -> None:
        self.client = client
        self.intake = intake
        self.timeout = timeout

    async def run(self) -> None:
        offset: int | None = None
        failures = 0
        while True:
            try:
                asked: dict[str, Any] = {
                    "timeout": self.timeout,
                    "allowed_updates": ALLOWED_UPDATES,
                }
                if offset is not None:
                    asked["offset"] = offset
                updates = await self.client.call("getUpdates", asked, timeout=self.timeout + 10)
                inbounds, confirmed = read_updates(updates or [])
                await receive_inbounds(self.client, self.intake, inbounds)
            except asyncio.CancelledError:
                raise
            except ApiError as exc:
                failures += 1
                logger.warning("Telegram polling: %s", exc)
                await asyncio.sleep(
                    float(exc.retry_after) if exc.retry_after is not None else min(2**failures, 30)
                )
                continue
            except Exception as exc:  # the network or the database: try again
                failures += 1
                logger.warning("Telegram polling: %s", exc)
                await asyncio.sleep(min(2**failures, 30))
                continue
            failures = 0
            if confirmed is not None:
                offset = confirmed


def webhook_handler(
    client: TelegramClient, intake: Intake, secret: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Answers 200 only once the update is stored; refuses a call without the secret.
    Lean: the body read as JSON once, no object built that the update does not need."""
    expected = secret.encode()

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), expected):
            return web.json_response({"ok": False, "description": "Unauthorized"}, status=401)
        try:
            inbound = inbound_from_json(json.loads(await request.read()))
        except ValueError:  # json's errors (and a body not UTF-8) are ValueErrors too
            return web.json_response({"ok": False, "description": "Bad update"}, status=400)
        # An error here is a 500: Telegram sends the update again.
        if inbound is not None:
            await receive_inbounds(client, intake, [inbound])
        return web.Response(body=b"{}", content_type="application/json")

    return handle


async def set_menu(client: TelegramClient) -> None:
    commands = [{"command": c, "description": d} for c, d in MENU]
    await client.call("setMyCommands", {"commands": commands})


async def set_webhook(client: TelegramClient, url: str, secret: str) -> None:
    await client.call(
        "setWebhook", {"url": url, "secret_token": secret, "allowed_updates": ALLOWED_UPDATES}
    )


async def delete_webhook(client: TelegramClient) -> None:
    """Before long polling (Telegram serves one or the other); pending updates are kept."""
    await client.call("deleteWebhook", {"drop_pending_updates": False})
