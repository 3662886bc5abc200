"""Zalo: text only, 2,000 characters, photos by URL. Choices become numbered lines.

Receives by long polling (one update a call, 408 when nothing came) or by webhook (the secret
header is checked; the update may come wrapped in {"ok", "result"} or flat). The platform may
deliver an update twice: the message id is the deduplication key.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from typing import Any

from aiohttp import web

from bot.channels.intake import Intake
from bot.channels.zalo_client import (
    ZaloClient,
    ZaloError,
    ZaloForbidden,
    ZaloQuotaExceeded,
)
from bot.files import FileLinks
from schedules.messages import (
    ZALO,
    Inbound,
    Outbound,
    PermanentFailure,
    QuotaExceeded,
    TemporaryFailure,
    Unreachable,
    render_text_only,
    split_text,
)
from storage.plan import texts_vi as vi

logger = logging.getLogger(__name__)
WEBHOOK_PATH = "/zalo/webhook"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
QUOTA_RETRY_SECONDS = 600


class ZaloChannel:
    name = "zalo"
    capabilities = ZALO

    def __init__(
        self,
        client: ZaloClient,
        files: FileLinks | None,
        quota_retry_seconds: float = QUOTA_RETRY_SECONDS,
    ) -> None:
        self.client = client
        self.files = files
        # Zalo gives no retry-after with its 429 "quota exceeded": wait this long.
        self.quota_retry_seconds = quota_retry_seconds

    async def send(self, chat_id: str, message: Outbound) -> None:
        try:
            await self._send(chat_id, message)
        except ZaloQuotaExceeded as exc:
            raise QuotaExceeded(self.quota_retry_seconds, str(exc)) from exc
        except ZaloForbidden as exc:
            raise Unreachable(str(exc)) from exc
        except ZaloError as exc:
            if exc.code >= 500:
                raise TemporaryFailure(str(exc)) from exc
            raise PermanentFailure(str(exc)) from exc
        except (TimeoutError, OSError) as exc:  # aiohttp's connection errors are OSErrors
            raise TemporaryFailure(repr(exc)) from exc

    async def _send(self, chat_id: str, message: Outbound) -> None:
        text = render_text_only(message)
        blob = message.photo or message.document
        if blob is not None:
            if self.files is None:
                text = vi.FILE_UNAVAILABLE
            else:
                url = self.files.publish(blob, message.filename or "file")
                if message.photo is not None:
                    await self.client.send_photo(chat_id, url, text[:2000])
                    return
                hours = int(self.files.lifetime.total_seconds() // 3600)
                text = vi.FILE_LINK.format(caption=text, hours=hours, url=url)
        for piece in split_text(text, self.capabilities.max_text):
            await self.client.send_message(chat_id, piece)


def parse_update(body: Any) -> Inbound | None:
    """An Inbound from either update shape; None for what the bot does not answer."""
    if isinstance(body, dict) and "result" in body and "message" not in body:
        body = body["result"]
    if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
        return None
    message = body["message"]
    sender = message.get("from") or {}
    chat = message.get("chat") or {}
    if sender.get("is_bot") or str(chat.get("chat_type", "PRIVATE")).upper() != "PRIVATE":
        return None
    if not sender.get("id") or not message.get("message_id"):
        return None
    return Inbound(
        "zalo",
        str(sender["id"]),
        str(chat.get("id") or sender["id"]),
        text=str(message.get("text") or message.get("caption") or ""),
        update_key=str(message["message_id"]),
        display_name=str(sender.get("display_name", "")),
        message_id=str(message["message_id"]),
    )


class ZaloRuntime:
    """Zalo's receivers; both store an update (bot.channels.intake) before confirming it."""

    def __init__(
        self,
        intake: Intake,
        channel: ZaloChannel,
        secret: str | None = None,
        poll_pause: float = 1.0,
    ) -> None:
        self.intake = intake
        self.channel = channel
        self.secret = secret
        self.poll_pause = poll_pause

    async def poll_forever(self, timeout: int = 30) -> None:
        """Long polling, at once again after a new update; each update is answered once even
        if the platform repeats it.

        Zalo has no offset: an update is the platform's to forget once getUpdates returned
        it, so it is stored before anything else (a failing database is retried)."""
        with contextlib.suppress(ZaloError):
            await self.channel.client.delete_webhook()
        while True:
            try:
                update = await self.channel.client.get_updates(timeout)
            except asyncio.CancelledError:
                raise
            except (ZaloError, OSError, TimeoutError) as exc:
                logger.warning("Zalo getUpdates failed: %s", exc)
                await asyncio.sleep(5)
                continue
            inbound = parse_update(update) if update is not None else None
            if inbound is not None and await self._store(inbound):
                continue  # a new update: more may be waiting, ask again at once
            # Nothing came, or a repeat: the platform has been seen to repeat itself when
            # polled fast, so pause (a repeat is harmless, it is handled once).
            await asyncio.sleep(self.poll_pause)

    async def _store(self, inbound: Inbound) -> bool:
        """Stores the update (a failing database is retried); True when it was new."""
        attempt = 0
        while True:
            try:
                return bool(await self.intake.receive([inbound]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                attempt += 1
                logger.warning("storing a Zalo update failed (try %d): %s", attempt, exc)
                await asyncio.sleep(min(2**attempt, 30))

    async def webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not self.secret or not hmac.compare_digest(given.encode(), self.secret.encode()):
            return web.json_response({"ok": False, "description": "Unauthorized"}, status=401)
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"ok": False, "description": "Bad JSON"}, status=400)
        inbound = parse_update(body)
        if inbound is not None:
            await self.intake.receive([inbound])  # an error is a 500: the platform retries
        return web.json_response({"ok": True})

    def register(self, app: web.Application) -> None:
        app.router.add_post(WEBHOOK_PATH, self.webhook)
