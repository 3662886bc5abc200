"""Nothing about reports reaches someone who joined and has not accepted the personal-data
notice (#22, Decree 13/2023/NĐ-CP): the bot waits for her "Đồng ý" before anything else, so
neither reminders nor digests are planned for her, and nudges skip her; the officer above is
told which units' leaders have not accepted (she is why they were not reminded), and the
weekly summary counts them. Once she accepts, she is reminded as anyone else."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.config import get_settings
from handlers.engine import Engine
from schedules.reminders import plan
from storage.db.models import OutboxMessage, Person, Role
from storage.plan import texts_vi as vi
from storage.plan.clock import vn_datetime
from storage.plan.periods import month
from tests.builders import invite, report, small_tree_with_people
from tests.chat import ChatUser
from tests.test_workers import stamp_head

DUE_DAY = vn_datetime(2026, 12, 5, 9, 0)  # November's monthly report is due on 5/12
DAY_AFTER = vn_datetime(2026, 12, 6, 9, 0)  # the officers' digests of who has not sent it
MONDAY = vn_datetime(2026, 12, 7, 9, 0)  # the weekly summary


@pytest.fixture
async def world(ctx):
    """Lan (B1) and Hoa (the district) joined and did not press «Đồng ý»; Thu (B2), Mai (C1)
    and Hương (the province) joined and accepted."""
    ctx.clock.set(DUE_DAY - timedelta(days=1))
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        thu = Person(
            full_name="Đỗ Thị Thu",
            role=Role.BRANCH_LEADER,
            unit_id=people.tree.b2.id,
            created_at=ctx.clock.now(),
        )
        session.add(thu)
        await session.commit()
        codes = {
            p.id: await invite(session, p, ctx.clock.now())
            for p in (people.leader, thu, people.commune_officer)
        }
        codes |= {
            p.id: await invite(session, p, ctx.clock.now())
            for p in (people.district_officer, people.provincial)
        }
    users = {}
    for i, (pid, code) in enumerate(codes.items()):
        users[pid] = ChatUser(Engine(ctx), f"80{i}")
        if pid in (people.leader.id, people.district_officer.id):
            await users[pid].send(f"/start {code}")
            assert "Đồng ý" in users[pid].buttons  # shown the notice, not pressed
        else:
            await users[pid].join(code)
    return people, thu, users


async def planned_at(ctx, moment) -> dict[int, list[str]]:
    ctx.clock.set(moment)
    async with ctx.sessions() as session:
        found = await plan(session, ctx.catalog, ctx.clock.now())
    out: dict[int, list[str]] = {}
    for m in found.messages:
        out.setdefault(m.person_id, []).append(m.payload["text"])
    return out


async def test_no_reminder_nor_digest_before_she_accepts(ctx, world, db_url, monkeypatch) -> None:
    people, thu, users = world
    lan, hoa = people.leader, people.district_officer
    due = await planned_at(ctx, DUE_DAY)
    assert lan.id not in due
    assert len(due[thu.id]) == 1  # her colleague who accepted is reminded as usual

    digests = await planned_at(ctx, DAY_AFTER)
    assert lan.id not in digests and hoa.id not in digests  # (Hoa: the communes' digest)
    [digest] = digests[people.commune_officer.id]
    assert people.tree.b1.name in digest and people.tree.b2.name in digest
    line = vi.DIGEST_NOT_ACCEPTED.format(names=people.tree.b1.name)
    assert line in digest  # why Lan was not reminded
    assert people.tree.b2.name not in line

    weekly = await planned_at(ctx, MONDAY)
    assert hoa.id not in weekly
    [summary] = weekly[people.provincial.id]
    assert vi.WEEKLY_JOINED.format(joined=2, total=2, leader="chi hội trưởng") in summary
    assert vi.WEEKLY_NOT_ACCEPTED.format(count=1, leader="chi hội trưởng") in summary

    # The operator's `hoibot outbox status` counts Lan and Hoa.
    await stamp_head(ctx)
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    from bot.cli import app

    result = await asyncio.to_thread(CliRunner().invoke, app, ["outbox", "status"])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert (
        "2 people joined but have not accepted the personal-data notice: no reminder or digest"
        " is planned for them until they do"
    ) in result.output


async def test_reminded_once_she_accepts(ctx, world) -> None:
    people, _thu, users = world
    lan = people.leader
    ctx.clock.set(DUE_DAY - timedelta(hours=1))
    await users[lan.id].send("Đồng ý")
    assert "ghi nhận chị đồng ý" in users[lan.id].text
    due = await planned_at(ctx, DUE_DAY)
    assert len(due[lan.id]) == 1
    digests = await planned_at(ctx, DAY_AFTER)
    assert all(
        vi.DIGEST_NOT_ACCEPTED.split("{")[0] not in t for t in digests[people.commune_officer.id]
    )


async def test_an_officers_nudge_skips_her(ctx, world) -> None:
    people, thu, users = world
    ctx.clock.set(DAY_AFTER)
    async with ctx.sessions() as session:
        found = await plan(session, ctx.catalog, ctx.clock.now())
    [digest] = [m for m in found.messages if m.person_id == people.commune_officer.id]
    [[_, nudge]] = [c for c in digest.payload["choices"] if c[1].startswith("g:nudge:")]
    mai = users[people.commune_officer.id]
    await mai.press(nudge)
    assert vi.NUDGED.format(n=1, level="chi hội") in mai.text
    assert vi.NUDGE_NOT_ACCEPTED.format(n=1, leader="chi hội trưởng") in mai.text
    async with ctx.sessions() as session:
        keys = (await session.scalars(select(OutboxMessage.key))).all()
    nudged = [k for k in keys if k.startswith("nudge:")]
    assert nudged and all(k.startswith(f"nudge:{thu.id}:") for k in nudged), keys


async def test_who_has_not_joined_names_those_who_did_not_accept(ctx, world) -> None:
    people, _thu, users = world
    mai = users[people.commune_officer.id]
    ctx.clock.set(DUE_DAY)
    await mai.send("chưa kết nối")  # both her leaders joined; Lan did not accept
    t = people.tree
    assert vi.NOT_JOINED_ALL.format(unit=t.c1.name, total=2) in mai.text
    line = vi.NOT_ACCEPTED_LINE.format(n=1, names=f"Nguyễn Thị Lan ({t.b1.name})")
    assert line in mai.text
    await users[people.leader.id].send("Đồng ý")
    await mai.send("chưa kết nối")
    assert mai.text == vi.NOT_JOINED_ALL.format(unit=t.c1.name, total=2)


async def test_a_reopened_report_is_not_announced_to_her(ctx, world) -> None:
    people, _thu, users = world
    async with ctx.sessions() as session:
        await report(session, people.tree.b1, "thang_chi_hoi", month(2026, 11), {"hv_moi": 3})
        await session.commit()
    ctx.clock.set(vn_datetime(2026, 12, 22, 9))  # November closed on 20/12
    mai = users[people.commune_officer.id]
    await mai.send("/mobaocao chi hội thôn 1 tháng 11")
    assert "Đã mở lại báo cáo tháng của chi hội tháng 11/2026 của Chi hội thôn 1" in mai.text
    assert "Em đã nhắn cho Nguyễn Thị Lan" not in mai.text
    # She has joined: not "chưa kết nối", but why she was not told.
    assert "chưa đồng ý thông báo về dữ liệu cá nhân nên em chưa nhắn được" in mai.text
    async with ctx.sessions() as session:
        keys = (await session.scalars(select(OutboxMessage.key))).all()
    assert not [k for k in keys if k.startswith(f"reopen:{people.leader.id}:")]
