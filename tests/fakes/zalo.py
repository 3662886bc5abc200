"""A local fake of the Zalo Bot API over real HTTP: one update per getUpdates, 408 when the
long poll ends empty, duplicate deliveries and 429 on demand, a log of what the bot sent."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import defaultdict, deque
from typing import Any

from aiohttp import web

from tests.fakes import SENDER, Chaos, ReplyLog, post_or_queue

TOKEN = "1234567890:zalo-test-secret"


class FakeZalo(ReplyLog):
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.updates: deque[dict[str, Any]] = deque()
        self.message_ids = itertools.count(1)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[dict[str, Any]] = []
        self.errors: dict[str, deque[tuple[int, str]]] = defaultdict(deque)
        self.webhook: dict[str, Any] | None = None
        self._new_update = asyncio.Event()
        self._new_sent = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.base = ""
        self.empty_polls = 0
        self.chaos = Chaos()
        self.delays: dict[str, deque[float]] = defaultdict(deque)  # slow answers, in turn

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self.base

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    def fail_next(self, method: str, code: int, description: str = "") -> None:
        self.errors[method].append((code, description or f"Error {code}"))

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}
            )
        method = request.match_info["method"]
        params = await request.json() if request.can_read_body else {}
        self.calls.append((method, params))
        if self.delays[method]:
            await asyncio.sleep(self.delays[method].popleft())
        if self.errors[method]:
            code, description = self.errors[method].popleft()
            return web.json_response({"ok": False, "error_code": code, "description": description})
        if method in ("sendMessage", "sendPhoto"):
            text = str(params.get("text") or params.get("caption") or "")
            fault = await self.chaos.fault(method, params.get("chat_id"), text)
            if fault is not None:
                code, description, _ = fault  # Zalo's 429 says nothing of when to retry
                return web.json_response(
                    {"ok": False, "error_code": code, "description": description}
                )
        if method == "getMe":
            result: Any = {
                "id": "b0t",
                "account_name": "Hội LHPN",
                "account_type": "BASIC",
                "can_join_groups": False,
            }
        elif method == "getUpdates":
            if self.webhook:
                return web.json_response(
                    {"ok": False, "error_code": 400, "description": "webhook is set"}
                )
            if not self.updates:
                self._new_update.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._new_update.wait(), min(float(params.get("timeout", 30)), 0.5)
                    )
            if not self.updates:
                self.empty_polls += 1
                return web.json_response(
                    {"ok": False, "error_code": 408, "description": "Request timeout"}
                )
            result = self.updates.popleft()
        elif method in ("sendMessage", "sendPhoto"):
            text = params.get("text") if method == "sendMessage" else params.get("caption", "")
            if method == "sendMessage" and not 1 <= len(text or "") <= 2000:
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 400,
                        "description": "text must be 1-2000 characters",
                    }
                )
            entry = {
                "method": method,
                "chat_id": params["chat_id"],
                "text": text or "",
                "photo": params.get("photo"),
                "at": time.monotonic(),
                "sender": request.headers.get(SENDER),
            }
            # Delivered, but the bot gave up waiting: it will send it again (see the Telegram fake).
            entry["unconfirmed"] = request.transport is None or request.transport.is_closing()
            self.sent.append(entry)
            self._new_sent.set()
            result = {"message_id": f"m{next(self.message_ids)}", "date": int(time.time() * 1000)}
        elif method == "setWebhook":
            self.webhook = {"url": params["url"], "secret_token": params["secret_token"]}
            result = {"url": params["url"], "updated_at": int(time.time() * 1000)}
        elif method == "deleteWebhook":
            self.webhook = None
            result = True
        elif method == "getWebhookInfo":
            if not self.webhook:
                return web.json_response(
                    {"ok": False, "error_code": 404, "description": "Not Found"}
                )
            result = {"url": self.webhook["url"]}
        else:
            result = True
        return web.json_response({"ok": True, "result": result})

    # ---- what a user does --------------------------------------------------------------

    def text_update(self, user_id: str, text: str) -> dict[str, Any]:
        return {
            "event_name": "message.text.received",
            "message": {
                "from": {"id": user_id, "display_name": "Lan", "is_bot": False},
                "chat": {"id": user_id, "chat_type": "PRIVATE"},
                "message_id": f"u{next(self.message_ids)}",
                "date": int(time.time() * 1000),
                "text": text,
            },
        }

    def queue(self, update: dict[str, Any]) -> None:
        self.updates.append(update)
        self._new_update.set()

    def sent_to(self, chat_id: str) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["chat_id"] == chat_id]


class ZaloUser:
    """A person on Zalo: types text (numbers for choices), reads the bot's replies."""

    def __init__(
        self,
        fake: FakeZalo,
        user_id: str,
        webhook: str | None = None,
        secret: str | None = None,
        wrapped: bool = False,
    ) -> None:
        self.fake = fake
        self.user_id = user_id
        self.webhook = webhook
        self.secret = secret
        self.wrapped = wrapped
        self.replies: list[dict[str, Any]] = []

    async def deliver(self, update: dict[str, Any]) -> list[dict[str, Any]]:
        body = {"ok": True, "result": update} if self.wrapped else update
        headers = {"X-Bot-Api-Secret-Token": self.secret or ""}
        self.replies = await post_or_queue(
            self.fake, self.user_id, update, self.webhook, body, headers
        )
        return self.replies

    async def send(self, text: str) -> list[dict[str, Any]]:
        return await self.deliver(self.fake.text_update(self.user_id, text))

    async def click(self, label: str) -> list[dict[str, Any]]:
        """What a Zalo user does for a button: type its number, or its words."""
        last = self.replies[-1]["text"] if self.replies else ""
        for line in last.split("\n"):
            number, _, rest = line.partition(". ")
            if number.isdigit() and rest == label:
                return await self.send(number)
        if f"«{label}»" in last:
            return await self.send(label)
        raise AssertionError(f"no choice {label!r} in {last!r}")

    @property
    def text(self) -> str:
        return "\n".join(m["text"] for m in self.replies)
