"""`/baocao` on the driver (handlers/opening_path.py, #25) stores and says exactly what the
general path does: each case walked by a worker both ways, on a fresh database each time,
leaves every row of every table the same and the same replies; the cases the path leaves to
the general one (a sent report, the notice shown for the first time) fall back whole."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest

from handlers.engine import Engine
from handlers.plain_answer import OUTCOMES
from schedules.messages import Inbound
from schedules.replies import deliver_replies
from storage.db.delivery import store_pending
from storage.db.invitations import link_directly
from storage.db.models import NoticeAcceptance, SubmissionStatus
from storage.db.personal_data.notice import record_accepted
from storage.db.sessions import one_statement
from storage.measures import report_approval
from storage.plan.clock import vn_datetime
from storage.plan.periods import month
from tests.builders import People, report, small_tree_with_people
from tests.test_plain_answer import Recording, _reset, _rows

FORM = "thang_chi_hoi"
NOV = vn_datetime(2026, 11, 27, 9, 0)  # November's monthly report is open


async def _accepted(ctx, session, people: People) -> None:
    await link_directly(session, people.leader, "telegram", "77", ctx.clock.now())
    await record_accepted(session, people.leader, "the notice", channel="telegram", now=NOV)


def _codes(ctx) -> list[str]:
    return [q.indicator for q in ctx.catalog.forms[FORM].questions]


async def first_report(ctx, session, people: People) -> None:
    """Linked by the operator (no conversation yet), October sent: November's first /baocao."""
    await _accepted(ctx, session, people)
    await report(session, people.tree.b1, FORM, month(2026, 10), {_codes(ctx)[0]: 120})


async def draft_begun(ctx, session, people: People) -> None:
    """She answered three questions of November, then left."""
    await _accepted(ctx, session, people)
    await report(session, people.tree.b1, FORM, month(2026, 10), {_codes(ctx)[0]: 120})
    values = dict(zip(_codes(ctx)[:3], [3, 1, 2], strict=True))
    await report(
        session, people.tree.b1, FORM, month(2026, 11), values, status=SubmissionStatus.DRAFT
    )


async def all_answered(ctx, session, people: People) -> None:
    """Every answer of November's draft given, not sent: the summary."""
    await _accepted(ctx, session, people)
    values = dict.fromkeys(_codes(ctx), 1)
    await report(
        session, people.tree.b1, FORM, month(2026, 11), values, status=SubmissionStatus.DRAFT
    )


async def sent_already(ctx, session, people: People) -> None:
    await _accepted(ctx, session, people)
    await report(session, people.tree.b1, FORM, month(2026, 11), {_codes(ctx)[0]: 3})


async def period_closed(ctx, session, people: People) -> None:
    """October closed on 20/11 and was not sent; November opens on 25/11."""
    ctx.clock.set(vn_datetime(2026, 11, 22, 9))
    await _accepted(ctx, session, people)


async def reopened_too(ctx, session, people: People) -> None:
    """October sent, then reopened by the commune: two reports to pick from."""
    await _accepted(ctx, session, people)
    sub = await report(session, people.tree.b1, FORM, month(2026, 10), {_codes(ctx)[0]: 120})
    await report_approval.reopen(session, sub, people.commune_officer, NOV)
    await session.commit()


async def notice_waiting(ctx, session, people: People) -> None:
    """Joined with a code, shown the notice, not accepted yet: the notice again."""
    await link_directly(session, people.leader, "telegram", "77", NOV)
    session.add(
        NoticeAcceptance(
            person_id=people.leader.id, notice_hash="x", shown_at=NOV, asked_at_joining=True
        )
    )
    await session.commit()


async def notice_never_shown(ctx, session, people: People) -> None:
    """Joined before the notice existed: told it now (written: the general path)."""
    await link_directly(session, people.leader, "telegram", "77", NOV)
    await session.commit()


Setup = Callable[[Any, Any, People], Awaitable[None]]
CASES: list[tuple[Setup, list[str], int]] = [  # the case, her messages, /baocao taken here
    (first_report, ["/baocao", "3", "/baocao", "Báo cáo", "1"], 3),
    (draft_begun, ["/baocao", "5"], 1),
    (all_answered, ["/baocao"], 1),
    (sent_already, ["/baocao"], 0),
    (period_closed, ["/baocao"], 1),
    (reopened_too, ["/baocao", "2"], 1),
    (notice_waiting, ["/baocao"], 1),
    (notice_never_shown, ["/baocao", "/baocao"], 1),
]


async def _walk(ctx, setup: Setup, messages: list[str], *, plain: bool) -> tuple[Any, list[str]]:
    await _reset(ctx)
    ctx.clock.set(NOV)
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        await setup(ctx, session, people)
        await session.commit()
    engine = Engine(ctx, "w1", plain=plain)
    channel = Recording()
    engine.capabilities["telegram"] = channel.capabilities
    keys = itertools.count(1)
    for words in messages:
        inbound = Inbound("telegram", "77", "77", text=words, update_key=str(next(keys)))
        async with one_statement(ctx.sessions) as session:
            await store_pending(
                session, "telegram", [(inbound.update_key or "", inbound.to_payload())], "w1",
                ctx.clock.now(),
            )  # fmt: skip
        taken = await engine.take(inbound)
        if taken.owed:
            await deliver_replies(ctx.sessions, ctx.clock, channel, "77", taken.owed, engine.marks)
    if engine.marks is not None:
        await engine.marks.close()
    return await _rows(ctx), channel.sent


@pytest.mark.parametrize(("setup", "messages", "taken"), CASES, ids=[c[0].__name__ for c in CASES])
async def test_opening_on_the_driver_stores_what_the_general_path_stores(
    ctx, setup: Setup, messages: list[str], taken: int
) -> None:
    before = OUTCOMES["opening, taken"]
    driver_rows, driver_sent = await _walk(ctx, setup, messages, plain=True)
    assert OUTCOMES["opening, taken"] - before == taken
    general_rows, general_sent = await _walk(ctx, setup, messages, plain=False)
    assert OUTCOMES["opening, taken"] - before == taken  # the switch turns it off
    assert driver_sent == general_sent and driver_sent
    for name, rows in general_rows.items():
        assert driver_rows[name] == rows, name


async def test_the_first_report_reads_as_a_leader_expects(ctx) -> None:
    """What the driver's /baocao says and keeps (not only that both paths agree)."""
    rows, sent = await _walk(ctx, first_report, ["/baocao"], plain=True)
    assert "tháng 11/2026" in sent[0] and "Câu 1/10" in sent[1]
    (conversation,) = rows["conversations"]
    assert conversation["flow"] == "report" and conversation["step"] == "question"
    assert conversation["data"]["notice"] == "ok" and conversation["data"]["hist"]
    (draft,) = [s for s in rows["submissions"] if s["period_key"] == month(2026, 11).key]
    assert draft["status"] == SubmissionStatus.DRAFT and draft["late"] is False
    assert isinstance(draft["created_at"], datetime)
