"""Fake Telegram and Zalo servers for the tests, speaking real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any


class ReplyLog:
    """What a fake server has sent, and waiting for the bot to answer a chat."""

    _new_sent: asyncio.Event

    def sent_to(self, chat_id: Any) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def wait_for_replies(
        self, chat_id: Any, already: int, quiet: float = 0.1, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Messages sent to the chat after the first `already`, once the bot has gone quiet."""
        deadline = time.monotonic() + timeout
        while len(self.sent_to(chat_id)) <= already:
            if time.monotonic() > deadline:
                raise AssertionError(f"no reply to chat {chat_id}")
            self._new_sent.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_sent.wait(), 0.2)
        count = -1
        while count != len(self.sent_to(chat_id)):
            count = len(self.sent_to(chat_id))
            await asyncio.sleep(quiet)
        return self.sent_to(chat_id)[already:]


FAULTS = ("429", "500", "502", "timeout", "403")


class Chaos:
    """Injected faults on the send methods: a share of calls answered 429 (retry after 1 s),
    500, 502, held past the client's timeout then refused (a timed-out send that the platform
    did not keep), or 403: she blocked the bot, and every send to her is refused until she
    unblocks it and writes again (`unblock`). Chosen at random."""

    def __init__(self, share: float = 0.0, hold: float = 3.0, seed: int = 12) -> None:
        import random

        self.share = share
        self.hold = hold
        self.rng = random.Random(seed)
        self.injected: dict[str, int] = {}
        self.blocked: set[str] = set()
        self.refused: list[tuple[str, str]] = []  # (chat, text) answered 403
        self.to_block: list[tuple[str, str]] = []  # (method, words): the next such call, 403

    async def fault(
        self, method: str, chat: object, text: str
    ) -> tuple[int, str, int | None] | None:
        """(status, description, retry_after) for this call, or None to serve it."""
        if str(chat) in self.blocked:
            self.refused.append((str(chat), text))
            return 403, "Forbidden: bot was blocked by the user", None
        chosen = next(
            ((m, w) for m, w in self.to_block if m == method and w in text and self.share), None
        )
        if chosen is not None:  # a kind of send that random faults seldom reach
            self.to_block.remove(chosen)
            kind = "403"
        elif not self.share or self.rng.random() >= self.share:
            return None
        else:
            kind = self.rng.choice(FAULTS)
        self.injected[f"{method}:{kind}"] = self.injected.get(f"{method}:{kind}", 0) + 1
        if kind == "429":
            return 429, "Too Many Requests: retry after 1", 1
        if kind == "timeout":
            await asyncio.sleep(self.hold)
            return 504, "Gateway Timeout", None
        if kind == "403":
            self.blocked.add(str(chat))
            self.refused.append((str(chat), text))
            return 403, "Forbidden: bot was blocked by the user", None
        return int(kind), f"Error {kind}", None

    def block_first(self, method: str, words: str = "") -> None:
        """The next call of `method` whose text has `words` is refused: she blocked the bot."""
        self.to_block.append((method, words))

    def unblock(self, chat: object) -> bool:
        """She unblocks the bot (before writing to it again); whether she had blocked it."""
        if str(chat) not in self.blocked:
            return False
        self.blocked.discard(str(chat))
        return True


async def post_or_queue(
    fake: Any,
    user_id: Any,
    update: dict[str, Any],
    webhook: str | None,
    body: dict[str, Any],
    headers: dict[str, str],
) -> list[dict[str, Any]]:
    """Delivers an update by webhook (POST `body`) or by the fake's polling queue, then waits
    for the bot's replies to that user."""
    from aiohttp import ClientSession

    before = len(fake.sent_to(user_id))
    if webhook:
        async with (
            ClientSession() as http,
            http.post(webhook, json=body, headers=headers) as response,
        ):
            assert response.status == 200, response.status
    else:
        fake.queue(update)
    return await fake.wait_for_replies(user_id, before)
