"""Zalo's 429 "quota exceeded" is made visible (#19): the leader is told once why her replies
are late (a note on the first one held back, no message more against the quota), `hoibot
outbox status` and the officers' digests say the channel's quota is exhausted and until when;
when it lifts, her replies go out in order, the note first."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select
from typer.testing import CliRunner

from bot.channels.zalo import ZaloChannel
from bot.channels.zalo_client import ZaloClient
from bot.config import get_settings
from schedules.messages import Outbound
from schedules.outbox import ChannelPace, Dispatcher
from schedules.planned import to_payload
from schedules.reminders import plan
from schedules.replies import deliver_replies
from storage.db.delivery import owe_replies, quota_exhausted
from storage.db.invitations import link_directly
from storage.db.models import OutboxMessage, OutboxStatus
from storage.db.sessions import transaction
from storage.plan import texts_vi as vi
from storage.plan.clock import vn_datetime
from tests.builders import small_tree_with_people
from tests.fakes.zalo import TOKEN, FakeZalo
from tests.test_workers import stamp_head

MONDAY = vn_datetime(2026, 12, 7, 9, 0)


async def reply(ctx, channel: ZaloChannel, person_id: int, key: str, text: str) -> None:
    """A turn's reply, owed and sent at once as a worker does."""
    async with transaction(ctx.sessions) as session:
        ids, send_now = await owe_replies(
            session,
            channel="zalo",
            chat_id="z1",
            person_id=person_id,
            key=key,
            payloads=[to_payload(Outbound(text))],
            now=ctx.clock.now(),
            worker="w1",
        )
    if send_now:
        await deliver_replies(ctx.sessions, ctx.clock, channel, "z1", [(ids[0], Outbound(text))])


async def test_a_quota_exceeded_is_told_once_and_shown_to_staff(ctx, db_url, monkeypatch) -> None:
    ctx.clock.set(MONDAY)
    fake = FakeZalo()
    await fake.start()
    client = ZaloClient(TOKEN, fake.base)
    channel = ZaloChannel(client, None, quota_retry_seconds=600)
    try:
        async with ctx.sessions() as session:
            people = await small_tree_with_people(session, ctx.clock.now())
            await link_directly(session, people.leader, "zalo", "z1", ctx.clock.now())
            await link_directly(session, people.provincial, "zalo", "zs", ctx.clock.now())
            await session.commit()
        leader = people.leader.id
        fake.fail_next("sendMessage", 429, "quota exceeded")
        await reply(ctx, channel, leader, "t1", "Câu 1/10: Số hội viên mới?")
        await reply(ctx, channel, leader, "t2", "Câu 2/10: Số hội viên ra khỏi hội?")
        await reply(ctx, channel, leader, "t3", "Dạ em ghi rồi ạ.")
        assert not fake.sent  # the quota: nothing went out

        async with ctx.sessions() as session:
            rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
            exhausted = await quota_exhausted(session, ctx.clock.now())
        note = vi.QUOTA_DELAYED_NOTE.format(channel="Zalo")
        texts = [row.payload["text"] for row in rows]
        assert texts[0].startswith(note) and "Câu 1/10" in texts[0]
        assert [t.count(note) for t in texts] == [1, 0, 0]  # told once
        assert {row.status for row in rows} == {OutboxStatus.QUEUED}
        assert exhausted == {"zalo": MONDAY + timedelta(seconds=600)}

        # The weekly digest of the provincial staff says so.
        async with ctx.sessions() as session:
            planned = await plan(session, ctx.catalog, ctx.clock.now())
        weekly = [m for m in planned.messages if m.key.startswith("week:")]
        assert weekly
        told = vi.DIGEST_QUOTA.format(channel="Zalo", until="09:10 07/12/2026")
        assert all(told in m.payload["text"] for m in weekly), weekly[0].payload["text"]

        # `hoibot outbox status` too.
        await stamp_head(ctx)
        monkeypatch.setenv("DATABASE_URL", db_url)
        monkeypatch.setenv("HOIBOT_NOW", MONDAY.isoformat())
        get_settings.cache_clear()
        from bot.cli import app

        result = await asyncio.to_thread(CliRunner().invoke, app, ["outbox", "status"])
        get_settings.cache_clear()
        assert result.exit_code == 0, result.output
        assert (
            "zalo: quota exhausted (the platform answered 429 quota exceeded); sends wait until"
            " 2026-12-07 09:10 (Vietnam time)"
        ) in result.output

        # When it lifts: her replies in order, the note first, each once.
        ctx.clock.set(MONDAY + timedelta(seconds=601))
        dispatcher = Dispatcher(
            ctx.sessions, {"zalo": channel}, ctx.clock, paces={"zalo": ChannelPace(None, 0)}
        )
        while await dispatcher.run_once():
            pass
        got = [m["text"] for m in fake.sent_to("z1")]
        assert got == texts
        async with ctx.sessions() as session:
            assert not await quota_exhausted(session, ctx.clock.now())
    finally:
        await client.close()
        await fake.stop()
