"""The dispatcher's clean stop and its fence (#19), in-process on SQLite and PostgreSQL.

A stop starts no new send: the sends in flight finish and are recorded, the rows claimed but
not tried go back to the queue as they were (their try given back), at once. A worker taken
for dead (its heartbeat late) sends nothing of what was handed back meanwhile: it checks, just
before each chunk, that it still holds the rows, and a row handed back is left to the worker
that has it now (never recorded by the first).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from schedules.messages import Capabilities, Outbound
from schedules.outbox import IN_FLIGHT, ChannelPace, Dispatcher
from schedules.planned import to_payload
from storage.db.delivery import register_worker, release_dead
from storage.db.models import OutboxMessage, OutboxStatus, Worker
from storage.db.sessions import transaction
from storage.plan.clock import ShiftedClock


class SlowChannel:
    """Takes every message; those whose text is in `hang` only once released."""

    name = "telegram"
    capabilities = Capabilities(buttons=True, max_text=4096, files=True)

    def __init__(self, *hang: str) -> None:
        self.hang = set(hang)
        self.release = asyncio.Event()
        self.started: list[str] = []
        self.sent: list[str] = []

    async def send(self, chat_id: str, message: Outbound) -> None:
        self.started.append(message.text)
        if message.text in self.hang:
            await self.release.wait()
        self.sent.append(message.text)


async def queue(ctx, count: int) -> list[str]:
    now = ctx.clock.now()
    texts = [f"nhắc {i}" for i in range(count)]
    async with transaction(ctx.sessions) as session:
        for i, text in enumerate(texts):
            session.add(
                OutboxMessage(
                    key=f"rem:{i}",
                    kind="reminder",
                    channel="telegram",
                    chat_id=str(100 + i),
                    payload=to_payload(Outbound(text)),
                    status=OutboxStatus.QUEUED,
                    attempts=0,
                    next_attempt_at=now - timedelta(seconds=1),
                    created_at=now,
                )
            )
    return texts


async def rows(ctx) -> dict[str, OutboxMessage]:
    async with ctx.sessions() as session:
        found = (await session.scalars(select(OutboxMessage))).all()
        return {row.payload["text"]: row for row in found}


async def until_started(channel: SlowChannel, count: int) -> None:
    for _ in range(500):
        if len(channel.started) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{len(channel.started)} sends started, not {count}")


def dispatcher(ctx, channel: SlowChannel, worker: str, **kwargs) -> Dispatcher:
    now = ctx.clock.now()
    return Dispatcher(
        ctx.sessions,
        {"telegram": channel},
        ctx.clock,
        quiet=(now.time(), now.time()),  # never quiet
        worker=worker,
        **kwargs,
    )


async def register(ctx, *workers: str) -> None:
    async with transaction(ctx.sessions) as session:
        for worker in workers:
            await register_worker(session, worker, datetime.now(UTC))


async def test_a_stop_lets_the_sends_in_flight_finish_and_hands_back_the_rest(ctx) -> None:
    ctx.clock = ShiftedClock(ctx.clock.now())
    texts = await queue(ctx, 12)
    await register(ctx, "w1")
    channel = SlowChannel(texts[0], texts[1])
    # Three chunks of four: the first two sends hang, the other two of the chunk go at once.
    outbox = dispatcher(ctx, channel, "w1", paces={"telegram": ChannelPace(None, 0)}, concurrency=4)
    running = asyncio.create_task(outbox.run_once())
    await until_started(channel, 4)
    outbox.stop()
    await asyncio.sleep(0.1)
    assert not running.done()  # the two in flight are not given up
    channel.release.set()
    await asyncio.wait_for(running, 5)
    assert sorted(channel.sent) == sorted(texts[:4])  # the chunk in flight, and no more
    found = await rows(ctx)
    assert {t for t, row in found.items() if row.status == OutboxStatus.SENT} == set(texts[:4])
    for text in texts[4:]:  # as they were before the claim: the next worker sends them
        row = found[text]
        assert (row.status, row.attempts, row.claimed_by) == (OutboxStatus.QUEUED, 0, None)
    assert not IN_FLIGHT


async def test_a_stop_ends_the_wait_for_a_turn_at_once(ctx) -> None:
    """Sends waiting for their slot (a slow pace, or a chat paused after a 429) are not in
    flight: a stop hands them back without waiting."""
    ctx.clock = ShiftedClock(ctx.clock.now())
    texts = await queue(ctx, 6)
    await register(ctx, "w1")
    channel = SlowChannel()
    outbox = dispatcher(ctx, channel, "w1", paces={"telegram": ChannelPace(0.5, 0)}, concurrency=6)
    running = asyncio.create_task(outbox.run_once())
    await until_started(channel, 1)  # the next slot is 2 s away
    outbox.stop()
    await asyncio.wait_for(running, 1)
    assert channel.sent == texts[:1]
    found = await rows(ctx)
    assert [found[t].status for t in texts[1:]] == [OutboxStatus.QUEUED] * 5


async def test_a_worker_taken_for_dead_sends_nothing_handed_back(ctx) -> None:
    """w1's heartbeat is late (a busy machine): w2 takes it for dead, and its rows back. w1,
    alive, finishes the send it had begun, but sends none of its later chunks (w2 does), and
    records nothing of them: each message goes out once."""
    ctx.clock = ShiftedClock(ctx.clock.now())
    texts = await queue(ctx, 4)
    await register(ctx, "w1", "w2")
    slow = SlowChannel(texts[0])
    first = dispatcher(ctx, slow, "w1", paces={"telegram": ChannelPace(None, 0)}, concurrency=1)
    running = asyncio.create_task(first.run_once())  # four chunks of one, all claimed by w1
    await until_started(slow, 1)
    async with transaction(ctx.sessions) as session:  # w2's housekeeping, 20 s later
        later = datetime.now(UTC) + timedelta(seconds=20)
        await session.execute(update(Worker).where(Worker.id == "w2").values(seen_at=later))
        assert await release_dead(session, later, timedelta(seconds=15)) == 4
    fast = SlowChannel()
    second = dispatcher(ctx, fast, "w2", paces={"telegram": ChannelPace(None, 0)})
    assert await second.run_once() == 4  # the first one too: w1's send of it may have failed
    slow.release.set()
    assert await asyncio.wait_for(running, 5) == 4
    assert slow.sent == texts[:1]  # the one in flight at the take-over, and no more
    assert sorted(fast.sent) == sorted(texts)
    found = await rows(ctx)
    assert {row.status for row in found.values()} == {OutboxStatus.SENT}


async def test_a_worker_whose_heartbeat_is_late_but_not_taken_for_dead_goes_on(ctx) -> None:
    """Checking its rows renews its heartbeat: nobody takes them back while they go out."""
    ctx.clock = ShiftedClock(ctx.clock.now())
    texts = await queue(ctx, 3)
    async with transaction(ctx.sessions) as session:
        await register_worker(session, "w1", datetime.now(UTC) - timedelta(seconds=14))
    channel = SlowChannel()
    outbox = dispatcher(ctx, channel, "w1", paces={"telegram": ChannelPace(None, 0)}, concurrency=1)
    assert await outbox.run_once() == 3
    assert channel.sent == texts
    async with transaction(ctx.sessions) as session:
        seen = await session.scalar(select(Worker.seen_at).where(Worker.id == "w1"))
        assert seen is not None and seen > datetime.now(UTC) - timedelta(seconds=5)
        assert await release_dead(session, datetime.now(UTC), timedelta(seconds=15)) == 0
