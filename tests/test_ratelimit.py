"""The limiter spaces the moments sends actually start, whatever holds up the event loop."""

from __future__ import annotations

import asyncio
import time

import pytest

from schedules.ratelimit import RateLimiter


async def _send_all(limiter: RateLimiter, n: int, block_every: int = 0) -> list[float]:
    starts: list[float] = []

    async def one(i: int) -> None:
        await limiter.acquire(f"chat{i}")
        starts.append(time.monotonic())
        if block_every and i % block_every == 0:
            time.sleep(0.08)  # the loop busy (a synchronous chunk of work) right after a start

    await asyncio.gather(*(one(i) for i in range(n)))
    return sorted(starts)


def _min_span(starts: list[float], count: int) -> float:
    return min(starts[i + count - 1] - starts[i] for i in range(len(starts) - count + 1))


async def test_no_more_than_the_rate_within_any_second_even_when_the_loop_stalls() -> None:
    limiter = RateLimiter(30.0)
    starts = await _send_all(limiter, 75, block_every=7)
    # 31 starts never within a second; 30 never bunched (the old limiter let them through
    # together after a stall: the wait ended for all of them at once).
    assert _min_span(starts, 31) >= 1.0
    assert _min_span(starts, 30) >= 0.75 * 29 / 30
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= 0.75 / 30 - 0.002


async def test_the_average_pace_holds() -> None:
    limiter = RateLimiter(30.0)
    starts = await _send_all(limiter, 61)
    assert 60 / (starts[-1] - starts[0]) == pytest.approx(30, rel=0.05)


async def test_a_pause_holds_everyone_back() -> None:
    limiter = RateLimiter(100.0)
    await limiter.acquire("a")
    limiter.pause(0.3)
    started = time.monotonic()
    await limiter.acquire("b")
    assert time.monotonic() - started >= 0.29


async def test_one_chat_waits_its_own_gap_without_holding_others() -> None:
    limiter = RateLimiter(None, per_chat_seconds=0.3)
    await limiter.acquire("a")
    started = time.monotonic()
    await limiter.acquire("b")
    assert time.monotonic() - started < 0.05
    await limiter.acquire("a")
    assert time.monotonic() - started >= 0.28
