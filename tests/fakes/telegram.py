"""A local fake of the Telegram Bot API over real HTTP, for aiogram to talk to in tests.

It queues updates for getUpdates (or posts them to a webhook), logs what the bot sends, and
can answer the next call of a method with an injected error (429, 403, 5xx).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import defaultdict, deque
from typing import Any

from aiohttp import web

from tests.fakes import SENDER, Chaos, ReplyLog, post_or_queue

TOKEN = "123456:TEST-token"


class FakeTelegram(ReplyLog):
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.updates: list[dict[str, Any]] = []
        self.update_ids = itertools.count(1)
        self.message_ids = itertools.count(1000)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[dict[str, Any]] = []  # sendMessage / sendPhoto / sendDocument
        self.errors: dict[str, deque[tuple[int, dict[str, Any]]]] = defaultdict(deque)
        self.delays: dict[str, deque[float]] = defaultdict(deque)
        self.random_429: float = 0.0  # share of sendMessage calls answered 429 at random
        self.rng = __import__("random").Random(7)
        self.sent_times: list[float] = []
        self.chaos = Chaos()
        self._new_update = asyncio.Event()
        self._new_sent = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.base = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self.base

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    def fail_next(
        self, method: str, status: int, description: str = "", retry_after: int | None = None
    ) -> None:
        payload: dict[str, Any] = {
            "ok": False,
            "error_code": status,
            "description": description or f"Error {status}",
        }
        if retry_after is not None:
            payload["parameters"] = {"retry_after": retry_after}
        self.errors[method].append((status, payload))

    # ---- the API -----------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append((method, params))
        if self.delays[method]:
            await asyncio.sleep(self.delays[method].popleft())
        if method == "sendMessage" and self.random_429 and self.rng.random() < self.random_429:
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                },
                status=429,
            )
        if self.errors[method]:
            status, payload = self.errors[method].popleft()
            return web.json_response(payload, status=status)
        if method in ("sendMessage", "sendPhoto", "sendDocument"):
            text = str(params.get("text") or params.get("caption") or "")
            fault = await self.chaos.fault(method, params.get("chat_id"), text)
            if fault is not None:
                status, description, retry_after = fault
                body: dict[str, Any] = {
                    "ok": False,
                    "error_code": status,
                    "description": description,
                }
                if retry_after is not None:
                    body["parameters"] = {"retry_after": retry_after}
                return web.json_response(body, status=status)
        result = await self._result(method, params)
        if method in ("sendMessage", "sendPhoto", "sendDocument"):
            self.sent[-1]["sender"] = request.headers.get(SENDER)
            if _gone(request):
                # Delivered, but the bot gave up waiting (its timeout): it cannot know, and
                # will send it again. Marked, so a test can tell this from a real duplicate.
                self.sent[-1]["unconfirmed"] = True
        return web.json_response({"ok": True, "result": result})

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return await request.json()
        form = await request.post()
        out: dict[str, Any] = {}
        for key, value in form.items():
            out[key] = value if isinstance(value, str) else getattr(value, "filename", "file")
        if "reply_markup" in out and isinstance(out["reply_markup"], str):
            out["reply_markup"] = json.loads(out["reply_markup"])
        return out

    async def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {"id": 42, "is_bot": True, "first_name": "Hội LHPN", "username": "hoi_test_bot"}
        if method == "getUpdates":
            return await self._get_updates(params)
        if method in ("sendMessage", "sendPhoto", "sendDocument"):
            chat_id = int(params["chat_id"])
            message = {
                "message_id": next(self.message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "method": method,
            }
            message.update({k: v for k, v in params.items() if k != "chat_id"})
            self.sent.append(message)
            self.sent_times.append(time.monotonic())
            self._new_sent.set()
            reply = {k: v for k, v in message.items() if k in ("message_id", "date", "chat")}
            if method == "sendMessage":
                reply["text"] = params.get("text", "")
            return reply
        if method == "setWebhook":
            return True
        return True  # deleteWebhook, setMyCommands, answerCallbackQuery, sendChatAction, close

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 1.0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates and timeout:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        return self.updates[:100]

    # ---- what a user does --------------------------------------------------------------

    def message_update(self, user_id: int, text: str, update_id: int | None = None) -> dict:
        return {
            "update_id": update_id or next(self.update_ids),
            "message": {
                "message_id": next(self.message_ids),
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private"},
                "from": {"id": user_id, "is_bot": False, "first_name": "Lan"},
                "text": text,
            },
        }

    def callback_update(self, user_id: int, data: str, message_id: int) -> dict:
        return {
            "update_id": next(self.update_ids),
            "callback_query": {
                "id": f"cb{message_id}-{time.monotonic_ns()}",
                "from": {"id": user_id, "is_bot": False, "first_name": "Lan"},
                "chat_instance": "ci",
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": {"id": user_id, "type": "private"},
                    "text": "…",
                },
            },
        }

    def queue(self, update: dict) -> None:
        self.updates.append(update)
        self._new_update.set()

    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["chat"]["id"] == chat_id]

    async def wait_for_file(
        self, chat_id: int, method: str, already: int, timeout: float = 120
    ) -> dict[str, Any]:
        """The first `method` (sendPhoto, sendDocument) to the chat after its first `already`
        messages: a bot's first file imports aiogram, seconds on a busy machine."""
        deadline = time.monotonic() + timeout
        while True:
            sent = [m for m in self.sent_to(chat_id)[already:] if m["method"] == method]
            if sent:
                return sent[0]
            assert time.monotonic() < deadline, f"no {method} to chat {chat_id}"
            await asyncio.sleep(0.1)


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


class TelegramUser:
    """A person in Telegram: sends text, presses buttons, reads the bot's replies."""

    def __init__(
        self,
        fake: FakeTelegram,
        user_id: int,
        webhook: str | None = None,
        secret: str | None = None,
    ) -> None:
        self.fake = fake
        self.user_id = user_id
        self.webhook = webhook
        self.secret = secret
        self.replies: list[dict[str, Any]] = []

    async def deliver(self, update: dict) -> list[dict[str, Any]]:
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.secret or ""}
        self.replies = await post_or_queue(
            self.fake, self.user_id, update, self.webhook, update, headers
        )
        return self.replies

    async def send(self, text: str) -> list[dict[str, Any]]:
        return await self.deliver(self.fake.message_update(self.user_id, text))

    async def click(self, label: str) -> list[dict[str, Any]]:
        for message in reversed(self.fake.sent_to(self.user_id)):
            markup = message.get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        update = self.fake.callback_update(
                            self.user_id, button["callback_data"], message["message_id"]
                        )
                        return await self.deliver(update)
        raise AssertionError(f"no button {label!r}")

    @property
    def text(self) -> str:
        return "\n".join(str(m.get("text", "")) for m in self.replies)

    @property
    def buttons(self) -> list[str]:
        markup = (self.replies[-1].get("reply_markup") if self.replies else None) or {}
        return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


async def _serve(port: int, random_429: float) -> None:
    fake = FakeTelegram()
    fake.random_429 = random_429
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", fake._handle)

    async def counts(_request: web.Request) -> web.Response:
        return web.json_response({"sent": len(fake.sent), "calls": len(fake.calls)})

    app.router.add_get("/_counts", counts)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    # Keep the logs small in a long benchmark: only counts are read from outside.
    while True:
        await asyncio.sleep(5)
        del fake.calls[:-1000]
        fake.sent_times.clear()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="A fake Telegram Bot API for benchmarks.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--random-429", type=float, default=0.0)
    args = parser.parse_args()
    asyncio.run(_serve(args.port, args.random_429))
