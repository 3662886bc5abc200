"""The member count a per-member answer is held against, as stored: the unit's latest sent
member total before the period, else the registered count (tester's finding 9)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import update

from storage.db.models import SubmissionValue
from storage.measures.member_count import latest_members
from storage.plan.periods import month
from storage.plan.validation import Members
from tests.builders import report, small_tree

NOV = month(2026, 11)


async def test_latest_sent_total_before_the_period_else_registered(session, catalog) -> None:
    tree = await small_tree(session)
    b1, b2 = tree.b1, tree.b2
    assert await latest_members(session, catalog, b1, NOV.start) == Members(100.0, "registered")
    await report(session, b1, "thang_chi_hoi", month(2026, 9), {"tong_hoi_vien": 125})
    await report(session, b1, "thang_chi_hoi", month(2026, 8), {"tong_hoi_vien": 118})
    # Not read: a draft (of any form), a skipped answer, this period and a later one, another
    # unit's.
    await report(session, b1, "quy_chi_hoi", month(2026, 10), {"tong_hoi_vien": 2}, status="draft")
    skipped = await report(session, b1, "thang_chi_hoi", month(2026, 10), {"tong_hoi_vien": 1})
    await session.execute(
        update(SubmissionValue)
        .where(SubmissionValue.submission_id == skipped.id)
        .values(value_num=None)
    )
    await report(session, b1, "thang_chi_hoi", NOV, {"tong_hoi_vien": 130})
    await report(session, b1, "thang_chi_hoi", month(2026, 12), {"tong_hoi_vien": 140})
    await report(session, b2, "thang_chi_hoi", month(2026, 10), {"tong_hoi_vien": 90})
    assert await latest_members(session, catalog, b1, NOV.start) == Members(
        125.0, "earlier_report", month(2026, 9)
    )
    assert await latest_members(session, catalog, b2, NOV.start) == Members(
        90.0, "earlier_report", month(2026, 10)
    )
    # Without a member total in the configuration, the units file's count; without that, none.
    plain = replace(
        catalog,
        indicators={
            code: ind.model_copy(update={"member_total": False})
            for code, ind in catalog.indicators.items()
        },
    )
    assert await latest_members(session, plain, b1, NOV.start) == Members(100.0, "registered")
    b2.member_count = None
    assert await latest_members(session, plain, b2, NOV.start) is None
