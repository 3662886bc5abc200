"""What went out is recorded at once, whatever else is still being sent: a send that hangs
(up to the send timeout) must not leave an accepted message unrecorded, or a crash meanwhile
sends it again (the fault test found a question sent twice 7 s after a kill)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from schedules.messages import PLATFORMS, Capabilities, Outbound, TemporaryFailure
from schedules.outbox import IN_FLIGHT, ChannelPace, Dispatcher, enqueue
from schedules.planned import Plan, Planned, to_payload
from schedules.replies import deliver_replies
from storage.db.delivery import owe_replies, register_worker, requeue_abandoned
from storage.db.invitations import link_directly
from storage.db.models import OutboxMessage, OutboxStatus
from storage.db.sessions import transaction
from storage.plan.clock import ShiftedClock
from tests.builders import small_tree_with_people


class FailsOnce:
    """A channel (Telegram's or Zalo's limits) that refuses the first try of one piece (a
    500) and takes everything else."""

    def __init__(self, name: str, fail: str) -> None:
        self.name = name
        self.capabilities = PLATFORMS[name]
        self.fail = fail
        self.sent: list[str] = []

    async def send(self, chat_id: str, message: Outbound) -> None:
        assert len(message.text) <= self.capabilities.max_text  # one call each
        if message.text.startswith(self.fail):
            self.fail = "\0never"
            raise TemporaryFailure("500")
        self.sent.append(message.text)


class HangingChannel:
    """Takes every message at once except those whose text is `hang`, held until released."""

    name = "telegram"
    capabilities = Capabilities(buttons=True, max_text=4096, files=True)

    def __init__(self, hang: str) -> None:
        self.hang = hang
        self.release = asyncio.Event()
        self.sent: list[tuple[str, str]] = []

    async def send(self, chat_id: str, message: Outbound) -> None:
        if message.text == self.hang:
            await self.release.wait()
        self.sent.append((chat_id, message.text))


async def statuses(ctx) -> dict[str, str]:
    async with ctx.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
        return {row.payload["text"]: row.status for row in rows}


async def until(ctx, text: str, status: str) -> None:
    for _ in range(200):
        if (await statuses(ctx)).get(text) == status:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{text!r} never {status}: {await statuses(ctx)}")


async def test_a_reply_part_is_recorded_while_the_next_hangs(ctx) -> None:
    channel = HangingChannel("second")
    parts = [Outbound("first"), Outbound("second")]
    async with transaction(ctx.sessions) as session:
        ids, send_now = await owe_replies(
            session,
            channel="telegram",
            chat_id="1",
            person_id=None,
            key="reply:telegram:1",
            payloads=[to_payload(p) for p in parts],
            now=ctx.clock.now(),
            worker="w1",
        )
    assert send_now
    sending = asyncio.create_task(
        deliver_replies(ctx.sessions, ctx.clock, channel, "1", list(zip(ids, parts, strict=True)))
    )
    await until(ctx, "first", OutboxStatus.SENT)  # recorded while "second" still hangs
    assert (await statuses(ctx))["second"] == OutboxStatus.SENDING
    channel.release.set()
    await sending
    assert await statuses(ctx) == {"first": OutboxStatus.SENT, "second": OutboxStatus.SENT}


async def test_the_dispatcher_records_a_send_while_another_hangs(ctx) -> None:
    ctx.clock = ShiftedClock(ctx.clock.now())
    channel = HangingChannel("slow")
    now = ctx.clock.now()
    async with transaction(ctx.sessions) as session:
        for chat, text in (("1", "slow"), ("2", "quick")):
            session.add(
                OutboxMessage(
                    key=f"rem:{chat}",
                    kind="reminder",
                    channel="telegram",
                    chat_id=chat,
                    payload=to_payload(Outbound(text)),
                    status=OutboxStatus.QUEUED,
                    attempts=0,
                    next_attempt_at=now - timedelta(seconds=1),
                    created_at=now,
                )
            )
    dispatcher = Dispatcher(
        ctx.sessions,
        {"telegram": channel},
        ctx.clock,
        paces={"telegram": ChannelPace(None, 0)},
        quiet=(now.time(), now.time()),  # no quiet hours
    )
    running = asyncio.create_task(dispatcher.run_once())
    await until(ctx, "quick", OutboxStatus.SENT)
    assert (await statuses(ctx))["slow"] == OutboxStatus.SENDING
    channel.release.set()
    assert await running == 2
    assert await statuses(ctx) == {"slow": OutboxStatus.SENT, "quick": OutboxStatus.SENT}


@pytest.mark.parametrize(("platform", "limit"), [("telegram", 4096), ("zalo", 2000)])
async def test_a_long_digest_is_owed_in_parts_and_a_failed_part_alone_is_resent(
    ctx, platform, limit
) -> None:
    ctx.clock = ShiftedClock(ctx.clock.now())
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, now)
        officer = people.commune_officer
        await link_directly(session, officer, platform, "42", now)
        await session.commit()
    lines = [f"Dòng {i:03d}: chi hội thôn {i} đã báo cáo đủ, đúng hạn." for i in range(250)]
    text = "\n".join(lines)  # about 12,000 characters
    key = f"dig:{officer.id}:thang_chi_hoi:2026-10"
    await enqueue(
        ctx.sessions, Plan([Planned(key, "digest", officer.id, to_payload(Outbound(text)))]), now
    )
    async with ctx.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    parts = [row.payload["text"] for row in rows]
    assert [row.key for row in rows] == [key] + [f"{key}#{i}" for i in range(1, len(rows))]
    assert len(rows) >= 12_000 // limit + 1 and max(map(len, parts)) <= limit
    assert "\n".join(parts) == text  # cut at line breaks, nothing lost
    channel = FailsOnce(platform, parts[1])  # the second part fails once
    dispatcher = Dispatcher(
        ctx.sessions,
        {platform: channel},
        ctx.clock,
        paces={platform: ChannelPace(None, 0)},
        quiet=(now.time(), now.time()),
    )
    await dispatcher.run_once()
    assert parts[1] not in channel.sent and len(channel.sent) == len(parts) - 1
    async with transaction(ctx.sessions) as session:  # its retry comes due
        await session.execute(
            update(OutboxMessage).values(next_attempt_at=now - timedelta(seconds=1))
        )
    await dispatcher.run_once()
    assert sorted(channel.sent) == sorted(parts)  # each part once: the failed one alone again
    assert set((await statuses(ctx)).values()) == {OutboxStatus.SENT}


async def test_a_claimed_batch_is_in_flight_until_its_last_chunk_is_sent(ctx) -> None:
    """Rows of a batch's later chunks wait for the earlier ones (pacing, a 429 pause): the
    housekeeping must not hand them back as abandoned, or another worker sends them too."""
    ctx.clock = ShiftedClock(ctx.clock.now())
    channel = HangingChannel("first")
    now = ctx.clock.now()
    async with transaction(ctx.sessions) as session:
        await register_worker(session, "w1", datetime.now(UTC))  # as a running bot does
        for chat, text in (("1", "first"), ("2", "second")):
            session.add(
                OutboxMessage(
                    key=f"rem:{chat}",
                    kind="reminder",
                    channel="telegram",
                    chat_id=chat,
                    payload=to_payload(Outbound(text)),
                    status=OutboxStatus.QUEUED,
                    attempts=0,
                    next_attempt_at=now - timedelta(seconds=1),
                    created_at=now,
                )
            )
    dispatcher = Dispatcher(
        ctx.sessions,
        {"telegram": channel},
        ctx.clock,
        paces={"telegram": ChannelPace(None, 0)},
        concurrency=1,  # two chunks: "second" waits for "first"
        quiet=(now.time(), now.time()),
        worker="w1",
    )
    running = asyncio.create_task(dispatcher.run_once())
    await until(ctx, "second", OutboxStatus.SENDING)
    async with transaction(ctx.sessions) as session:  # long after the claim
        later = ctx.clock.now() + timedelta(hours=1)
        assert await requeue_abandoned(session, "w1", set(IN_FLIGHT), later) == 0
    channel.release.set()
    assert await running == 2
    assert channel.sent == [("1", "first"), ("2", "second")]
    assert not IN_FLIGHT
