"""Pacing sends to a channel: a global rate and a minimum gap per chat.

A 429 holds back that chat for the time Telegram asks; several within a short time mean the
channel as a whole is over its limit, and then everyone waits.
"""

from __future__ import annotations

import asyncio
import time


class RateLimiter:
    CATCH_UP = 0.2  # seconds of slots a late sender may still use, in a short burst

    CATCH_UP = 0.2  # seconds of slots a late sender may still use, in a short burst

    def __init__(self, per_second: float | None, per_chat_seconds: float = 0.0) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self.per_chat = per_chat_seconds
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._chat_next: dict[str, float] = {}
        self._recent_429: list[float] = []
        self._lock = asyncio.Lock()

    async def acquire(self, chat_id: str) -> None:
        """Waits for this message's turn: slots are handed out in order, evenly spaced."""
        async with self._lock:
            now = time.monotonic()
            # Slots left unused while the sender was busy (a database write between chunks)
            # can still be taken, up to CATCH_UP seconds' worth, so the average holds.
            base = max(self._next_slot, now - self.CATCH_UP, self._paused_until)
            chat_ready = self._chat_next.get(chat_id, 0.0)
            start = max(now, base, chat_ready)
            self._next_slot = max(base, chat_ready) + self.interval
            if self.per_chat:
                self._chat_next[chat_id] = start + self.per_chat
                if len(self._chat_next) > 50_000:  # forget chats whose gap has passed
                    self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        if start > now:
            await asyncio.sleep(start - now)

    BURST = 5  # 429s within BURST_WINDOW seconds that pause the whole channel
    BURST_WINDOW = 2.0

    def back_off(self, chat_id: str, seconds: float) -> None:
        now = time.monotonic()
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), now + seconds)
        self._recent_429 = [t for t in self._recent_429 if t > now - self.BURST_WINDOW] + [now]
        if len(self._recent_429) >= self.BURST:
            self.pause(seconds)
            self._recent_429 = []

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nobody on this channel sends until the wait is over."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        self._next_slot = max(self._next_slot, self._paused_until)
