"""Pacing sends to a channel: a global rate and a minimum gap per chat.

Telegram counts messages as they ARRIVE, at most `per_second` in any second. So the limiter
spaces the moments sends actually start (taken after the wait, not the slot planned before
it): a send held up by a busy event loop pushes the next one back instead of letting the two
go out together. A sender that fell behind may catch up a little (slots left unused up to
CATCH_UP seconds ago), but never closer than MIN_GAP of the interval to the previous start
and never more than `per_second` starts within one second.

A 429 holds back that chat for the time Telegram asks; several within a short time mean the
channel as a whole is over its limit, and then everyone waits.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque


class RateLimiter:
    CATCH_UP = 0.2  # seconds of slots a late sender may still use
    MIN_GAP = 0.75  # of the interval: the closest two starts may be, even when catching up
    WINDOW = 1.0  # at most `per_second` starts within any WINDOW seconds

    def __init__(self, per_second: float | None, per_chat_seconds: float = 0.0) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self.per_chat = per_chat_seconds
        self._next_slot = 0.0  # the evenly spaced plan, for the catch-up
        self._paused_until = 0.0
        self._chat_next: dict[str, float] = {}
        self._recent_429: list[float] = []
        self._lock = asyncio.Lock()
        # The last starts, as many as one WINDOW may hold.
        self._starts: deque[float] = deque(maxlen=max(1, math.floor(per_second or 1)))

    def _earliest(self, plan: float) -> float:
        """The earliest moment the next send may start: its planned slot, but never too close
        to the starts so far."""
        earliest = plan
        if self._starts:
            earliest = max(earliest, self._starts[-1] + self.MIN_GAP * self.interval)
            if len(self._starts) == self._starts.maxlen:
                earliest = max(earliest, self._starts[0] + self.WINDOW)
        return earliest

    async def acquire(self, chat_id: str) -> None:
        """Waits for this message's turn. Sends start one at a time, in the order they
        asked; the start is recorded when the wait is over (what the server will see)."""
        if self.per_chat:
            now = time.monotonic()
            chat_ready = self._chat_next.get(chat_id, 0.0)
            # Reserved now, so a second message to the same chat waits behind this one.
            self._chat_next[chat_id] = max(now, chat_ready) + self.per_chat
            if len(self._chat_next) > 50_000:  # forget chats whose gap has passed
                self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
            if chat_ready > now:
                await asyncio.sleep(chat_ready - now)
        if not self.interval and self._paused_until <= time.monotonic():
            return
        async with self._lock:
            entered = time.monotonic()
            while True:  # a 429 may pause the channel while this one sleeps
                plan = max(self._next_slot, entered - self.CATCH_UP, self._paused_until)
                now = time.monotonic()
                start = self._earliest(plan) if self.interval else plan
                if start <= now:
                    break
                await asyncio.sleep(start - now)
            now = time.monotonic()
            self._starts.append(now)
            self._next_slot = plan + self.interval
            if self.per_chat:
                self._chat_next[chat_id] = max(
                    self._chat_next.get(chat_id, 0.0), now + self.per_chat
                )

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
