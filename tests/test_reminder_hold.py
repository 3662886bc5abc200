"""The due-day reminder does not cut into a report she is typing (#19): while she answers its
questions the reminder waits; once she has sent the report none is owed; if she leaves it
half done, the reminder reaches her at a later check of the same day."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.engine import Engine
from handlers.report_flow import FLOW
from schedules.reminders import IN_A_REPORT, REPORT_FLOW, plan
from storage.plan.clock import vn_datetime
from tests.builders import invite, small_tree_with_people
from tests.chat import ChatUser

DUE_DAY = vn_datetime(2026, 12, 5, 9, 0)  # November's monthly report is due on 5/12


@pytest.fixture
async def lan(ctx):
    ctx.clock.set(DUE_DAY - timedelta(days=1))
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        code = await invite(session, people.leader, ctx.clock.now())
    user = ChatUser(Engine(ctx), "701")
    await user.join(code)
    return people.leader.id, user


async def reminders_to(ctx, person_id: int) -> list[str]:
    async with ctx.sessions() as session:
        planned = await plan(session, ctx.catalog, ctx.clock.now())
    return [m.payload["text"] for m in planned.messages if m.person_id == person_id]


def test_the_flow_names_agree() -> None:
    assert REPORT_FLOW == FLOW


async def test_no_reminder_in_the_middle_of_her_report(ctx, lan) -> None:
    person_id, user = lan
    ctx.clock.set(DUE_DAY - timedelta(minutes=5))
    await user.send("/baocao")
    await user.send("3")
    assert "Câu 2/10" in user.text
    ctx.clock.set(DUE_DAY)  # the morning check, while she is at question 2
    assert await reminders_to(ctx, person_id) == []
    for answer in ["0", "1", "2", "1", "2", "0", "1", "97", "0"]:
        await user.send(answer)
    await user.send("Gửi")
    assert "Cảm ơn chị" in user.text
    ctx.clock.set(DUE_DAY + timedelta(hours=3))
    assert await reminders_to(ctx, person_id) == []  # sent: nothing owed


async def test_a_report_left_half_done_is_reminded_later(ctx, lan) -> None:
    person_id, user = lan
    ctx.clock.set(DUE_DAY - timedelta(minutes=5))
    await user.send("/baocao")
    await user.send("3")
    ctx.clock.set(DUE_DAY)
    assert await reminders_to(ctx, person_id) == []
    ctx.clock.set(DUE_DAY - timedelta(minutes=5) + IN_A_REPORT + timedelta(minutes=1))
    [text] = await reminders_to(ctx, person_id)
    assert "hôm nay" in text.lower() or "hạn" in text


async def test_a_leader_not_reporting_is_reminded(ctx, lan) -> None:
    person_id, _ = lan
    ctx.clock.set(DUE_DAY)
    assert len(await reminders_to(ctx, person_id)) == 1
