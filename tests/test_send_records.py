"""What went out is recorded at once, whatever else is still being sent: a send that hangs
(up to the send timeout) must not leave an accepted message unrecorded, or a crash meanwhile
sends it again (the fault test found a question sent twice 7 s after a kill)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from schedules.messages import Capabilities, Outbound
from schedules.outbox import ChannelPace, Dispatcher, deliver_replies
from schedules.reminders import to_payload
from storage.clock import ShiftedClock
from storage.db import transaction
from storage.delivery import owe_replies
from storage.models import OutboxMessage, OutboxStatus


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
