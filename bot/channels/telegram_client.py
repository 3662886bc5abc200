"""The Telegram Bot API as JSON over one aiohttp session, and aiogram only for files.

Every call the bot makes at start and at rest (the menu, the webhook, long polling, text
replies, the end of a button's spinner) is a POST of JSON to `<base>/bot<token>/<method>`,
read for `ok`, the error and the result: no pydantic model is built. aiogram, the project's
Telegram framework, sends what needs a multipart upload (charts, workbooks); importing it
builds every type of the Bot API (~120 MB), so it is imported by the first file sent
(tests/test_memory_at_rest.py).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import ssl
from typing import TYPE_CHECKING, Any

import aiohttp
import certifi
from yarl import URL

if TYPE_CHECKING:
    from aiogram import Bot

from bot.config import Settings

DEFAULT_BASE = "https://api.telegram.org"
JSON_HEADERS = {"Content-Type": "application/json"}


class ApiError(Exception):
    """The Bot API refused a call: its status, description and the wait it asked for."""

    def __init__(self, status: int, description: str, retry_after: float | None) -> None:
        super().__init__(f"Telegram {status}: {description}")
        self.status = status
        self.description = description
        self.retry_after = retry_after


class TelegramClient:
    """One bot's connection to the Bot API (or to `base`: a local Bot API server, a fake)."""

    def __init__(
        self, token: str, base: str | None = None, timeout: float = 20.0, limit: int = 100
    ) -> None:
        self.token = token
        self.base = (base or DEFAULT_BASE).rstrip("/")
        self.timeout = timeout
        self.limit = limit
        # The trust store aiogram uses (certifi), so both connections verify alike. Read
        # here, not by the first call: that would arrive late, and a paced burst bunch up.
        self._ssl = ssl.create_default_context(cafile=certifi.where())
        self._http: aiohttp.ClientSession | None = None
        self._files: Bot | None = None
        # Made once, not per call (a reply is a call): each method's URL parsed, the timeout.
        self._urls: dict[str, URL] = {}
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._ssl, limit=self.limit)
            )
        return self._http

    async def call(
        self, method: str, body: str | dict[str, Any], timeout: float | None = None
    ) -> Any:
        """`body`: the parameters, or their JSON already written (a reply's, cached parts).
        Returns the result; raises ApiError for a refusal, aiohttp's errors (and
        TimeoutError) for the network."""
        if not isinstance(body, str):
            body = json.dumps(body, ensure_ascii=False)
        url = self._urls.get(method)
        if url is None:
            url = self._urls[method] = URL(f"{self.base}/bot{self.token}/{method}")
        async with self._session().post(
            url,
            data=body.encode(),
            headers=JSON_HEADERS,
            timeout=aiohttp.ClientTimeout(total=timeout) if timeout else self._timeout,
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

    async def files_bot(self) -> Bot:
        """aiogram's Bot for uploads, made on the first file. aiogram is imported in a
        thread: its import builds every model of the Bot API (1-10 s), and the event loop
        goes on serving the other chats meanwhile."""
        if self._files is None:
            await asyncio.to_thread(importlib.import_module, "aiogram.client.session.aiohttp")
            from aiogram import Bot
            from aiogram.client.session.aiohttp import AiohttpSession
            from aiogram.client.telegram import TelegramAPIServer

            if self._files is None:  # another first file may have made it meanwhile
                api = TelegramAPIServer.from_base(self.base)
                session = AiohttpSession(api=api, timeout=self.timeout)
                self._files = Bot(self.token, session=session)
        return self._files

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._files is not None:
            await self._files.session.close()


def make_client(settings: Settings) -> TelegramClient:
    assert settings.telegram_bot_token is not None
    return TelegramClient(
        settings.telegram_bot_token.get_secret_value(),
        settings.telegram_api_base,
        settings.send_timeout_seconds,
    )
