"""A late report an officer reopened (/mobaocao, after its period closed) is owed like a report
that is due: after the notice of the reopening she is reminded two days later, then every
three days, until she sends it or it is closed again; held while she is in a report, and after
"Nhắc lại sau" until the next morning (before, nothing reminded her after the notice)."""

import pytest
from sqlalchemy import select, update

from handlers.engine import Engine
from schedules.outbox import enqueue
from schedules.planned import Plan
from schedules.reminders import plan
from storage.db.invitations import link_directly
from storage.db.models import OutboxMessage, Submission
from storage.plan.clock import vn_datetime
from tests.builders import invite, small_tree_with_people
from tests.chat import ChatUser


@pytest.fixture
async def world(ctx):
    ctx.clock.set(vn_datetime(2026, 11, 1, 9))
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        code = await invite(session, people.leader, ctx.clock.now())
        await link_directly(session, people.commune_officer, "telegram", "officer", ctx.clock.now())
        await session.commit()
    engine = Engine(ctx)
    lan = ChatUser(engine, "801")
    await lan.join(code)
    return people, lan, ChatUser(engine, "officer")


async def reopened_reminders(ctx, people, day: int, hour: int = 10) -> list:
    at = vn_datetime(2026, 12, day, hour)
    async with ctx.sessions() as session:
        planned = (await plan(session, ctx.catalog, at)).messages
    return [m for m in planned if ":reopened:" in m.key and m.person_id == people.leader.id]


async def test_a_reopened_late_report_is_reminded_until_sent(ctx, world) -> None:
    people, lan, officer = world
    ctx.clock.set(vn_datetime(2026, 12, 22, 9))  # November closed on 20/12, never sent
    await officer.send("/mobaocao chi hội thôn 1 tháng 11")
    assert "để báo cáo bù" in officer.text and "Em đã nhắn cho Nguyễn Thị Lan" in officer.text
    assert await reopened_reminders(ctx, people, 22) == []  # the notice is today's word
    assert await reopened_reminders(ctx, people, 23) == []
    due = await reopened_reminders(ctx, people, 24)
    assert len(due) == 1
    text = due[0].payload["text"]
    assert "báo cáo tháng của chi hội tháng 11/2026 đã được mở lại ngày 22/12/2026" in text
    assert "Báo cáo ngay" in [label for label, _ in due[0].payload["choices"]]
    assert await reopened_reminders(ctx, people, 24, hour=5) == []  # quiet hours
    assert await reopened_reminders(ctx, people, 25) == []
    assert await reopened_reminders(ctx, people, 26) == []
    assert len(await reopened_reminders(ctx, people, 27)) == 1  # every three days
    assert len(await reopened_reminders(ctx, people, 30)) == 1
    ctx.clock.set(vn_datetime(2026, 12, 30, 9, 30))
    await lan.send("/baocao")  # she is answering: held, not cut into her questions
    await lan.click(next(b for b in lan.buttons if "11/2026" in b))  # December is open too
    assert "Câu 1/10" in lan.text
    assert await reopened_reminders(ctx, people, 30) == []
    await lan.send("3 0 1 2 1 2 0 1 97 0")
    await lan.click("Gửi")
    assert "Cảm ơn chị" in lan.text
    for day in (30, 31):  # sent: owed no more
        ctx.clock.set(vn_datetime(2026, 12, day, 9))
        assert await reopened_reminders(ctx, people, day, hour=14) == []


async def test_closed_again_or_snoozed_it_is_not_reminded(ctx, world) -> None:
    people, lan, officer = world
    ctx.clock.set(vn_datetime(2026, 12, 22, 9))
    await officer.send("/mobaocao chi hội thôn 1 tháng 11")
    ctx.clock.set(vn_datetime(2026, 12, 24, 10))
    due = await reopened_reminders(ctx, people, 24)
    assert len(due) == 1
    await enqueue(ctx.sessions, Plan(due), ctx.clock.now())  # queued; she presses "later"
    async with ctx.sessions() as session:
        keys = (await session.scalars(select(OutboxMessage.key))).all()
    assert due[0].key in keys
    later = next(data for label, data in due[0].payload["choices"] if data.startswith("g:later"))
    await lan.press(later)
    assert "em sẽ nhắc chị lại" in lan.text
    assert await reopened_reminders(ctx, people, 24, hour=15) == []  # snoozed
    assert len(await reopened_reminders(ctx, people, 25)) == 1  # the next morning
    async with ctx.sessions() as session:  # closed again (as /duyet or "Xong" would)
        await session.execute(update(Submission).values(reopened=False))
        await session.commit()
    assert await reopened_reminders(ctx, people, 27) == []
