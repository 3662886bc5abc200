"""Rollups on a hand-made tree; every expected number is worked out in the comments."""

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select

from storage.db.models import SubmissionStatus, UnitParentHistory
from storage.db.units import create_unit, merge_units, move_unit
from storage.measures import ratios, rollup, totals
from storage.measures.completeness import completeness
from storage.measures.progress import progress
from storage.measures.target_status import Status
from storage.plan.catalog import Target
from storage.plan.periods import month, quarter, span, year_period
from tests.builders import report, small_tree

JAN, FEB, MAR = month(2026, 1), month(2026, 2), month(2026, 3)
Q1 = quarter(2026, 1)
FORM = "thang_chi_hoi"


async def test_totals_breakdown_stock_and_derived(session, catalog) -> None:
    t = await small_tree(session)
    await report(
        session,
        t.b1,
        FORM,
        JAN,
        {"ho_thoat_ngheo": 3, "hv_moi": 5, "hv_ra": 1, "tong_hoi_vien": 100},
    )
    await report(
        session,
        t.b1,
        FORM,
        FEB,
        {"ho_thoat_ngheo": 2, "hv_moi": 1, "hv_ra": 4, "tong_hoi_vien": 97},
    )
    await report(session, t.b2, FORM, JAN, {"ho_thoat_ngheo": 4, "tong_hoi_vien": 50})
    await report(session, t.b4, FORM, MAR, {"ho_thoat_ngheo": 10, "hv_moi": 2})
    # A draft never counts.
    await report(session, t.b5, FORM, JAN, {"ho_thoat_ngheo": 99}, status=SubmissionStatus.DRAFT)
    # Outside the quarter.
    await report(session, t.b3, FORM, month(2026, 4), {"ho_thoat_ngheo": 7})

    total = await rollup.total(session, catalog, "ho_thoat_ngheo", [t.province], Q1)
    assert total == 3 + 2 + 4 + 10
    assert await rollup.total(session, catalog, "ho_thoat_ngheo", [t.d1], Q1) == 9
    assert await rollup.total(session, catalog, "ho_thoat_ngheo", [t.d1, t.d2], Q1) == 19
    found = await totals.indicator_total(session, catalog, "ho_thoat_ngheo", t.province, Q1)
    rows = [(r.unit.code, r.figure.value) for r in found.rows]
    assert rows == [("KH-KV", 10), ("KH-KS", 9), ("KH-D3", None)]  # D3: no report, not 0
    assert found.share(found.rows[0]) == pytest.approx(10 / 19 * 100)
    # Stock: B1's latest (97, February) + B2's latest (50, January), not 100 + 97 + 50.
    assert await rollup.total(session, catalog, "tong_hoi_vien", [t.province], Q1) == 147
    # Derived: (5 + 1 + 2) new − (1 + 4) left = 3.
    assert await rollup.total(session, catalog, "tang_hv_thuan", [t.province], Q1) == 3
    by_district = await rollup.totals_by_root(
        session, catalog, "tang_hv_thuan", rollup.Roots(ids=(t.d1.id, t.d2.id)), Q1
    )
    assert by_district == {t.d1.id: 1.0, t.d2.id: 2.0}
    # A range of months and the whole year.
    assert (
        await rollup.total(
            session, catalog, "ho_thoat_ngheo", [t.province], span(FEB, month(2026, 4))
        )
        == 2 + 10 + 7
    )
    assert (
        await rollup.total(session, catalog, "ho_thoat_ngheo", [t.province], year_period(2026))
        == 26
    )


async def test_reparented_unit_rolls_up_into_its_new_parent(session, catalog) -> None:
    t = await small_tree(session)
    await report(session, t.b3, FORM, JAN, {"ho_thoat_ngheo": 6})
    await report(session, t.b1, FORM, JAN, {"ho_thoat_ngheo": 1})
    assert await rollup.total(session, catalog, "ho_thoat_ngheo", [t.d1], JAN) == 7

    await move_unit(session, catalog, t.c2, t.d2, date(2026, 2, 1))
    await session.commit()
    b3 = await session.get(type(t.b3), t.b3.id)
    await session.refresh(b3)
    assert b3.path == f"{t.d2.path}{t.c2.id}/{t.b3.id}/"
    assert b3.depth == 3
    assert await rollup.total(session, catalog, "ho_thoat_ngheo", [t.d1], JAN) == 1
    assert await rollup.total(session, catalog, "ho_thoat_ngheo", [t.d2], JAN) == 6
    assert await rollup.total(session, catalog, "ho_thoat_ngheo", [t.province], JAN) == 7
    history = (
        await session.scalars(
            select(UnitParentHistory)
            .where(UnitParentHistory.unit_id == t.c2.id)
            .order_by(UnitParentHistory.id)
        )
    ).all()
    assert [(h.parent_id, h.valid_to) for h in history] == [
        (t.d1.id, date(2026, 2, 1)),
        (t.d2.id, None),
    ]
    with pytest.raises(ValueError):
        await move_unit(session, catalog, t.d2, t.c2, date(2026, 3, 1))


async def test_merged_units_keep_their_history_under_the_new_unit(session, catalog) -> None:
    t = await small_tree(session)
    await report(session, t.b4, FORM, JAN, {"ho_thoat_ngheo": 2})
    await report(session, t.b5, FORM, JAN, {"ho_thoat_ngheo": 5})
    merged = await create_unit(
        session, code="C9", name="Xã Mới", level="commune", parent=t.d2, valid_from=date(2025, 7, 1)
    )
    await merge_units(session, catalog, [t.c3, t.c4], merged, date(2025, 7, 1))
    await session.commit()
    assert await rollup.total(session, catalog, "ho_thoat_ngheo", [merged], JAN) == 7
    assert await rollup.total(session, catalog, "ho_thoat_ngheo", [t.d3], JAN) == 0
    assert t.c3.valid_to == date(2025, 6, 30)
    # Closed communes are no longer expected in coverage of 2026; the new one is.
    cov = await ratios.coverage(
        session, catalog, "ho_thoat_ngheo", "commune", 1, [t.d2], year_period(2026)
    )
    assert (cov.reached, cov.units) == (1, 1)


async def test_coverage_counts_units_reaching_the_threshold(session, catalog) -> None:
    t = await small_tree(session)
    # hd_vhvn ≥ 2 per commune in 2026: C1 = 1 + 1 (two branches) → yes; C2 = 1 → no;
    # C3 = 3 → yes; C4 = nothing → no. 2 of 4.
    await report(session, t.b1, FORM, JAN, {"hd_vhvn": 1})
    await report(session, t.b2, FORM, FEB, {"hd_vhvn": 1})
    await report(session, t.b3, FORM, JAN, {"hd_vhvn": 1})
    await report(session, t.b4, FORM, MAR, {"hd_vhvn": 3})
    cov = await ratios.coverage(
        session, catalog, "hd_vhvn", "commune", 2, [t.province], year_period(2026)
    )
    assert (cov.reached, cov.units, cov.percent) == (2, 4, 50)
    cov_d1 = await ratios.coverage(
        session, catalog, "hd_vhvn", "commune", 2, [t.d1], year_period(2026)
    )
    assert (cov_d1.reached, cov_d1.units) == (1, 2)


async def test_rate_is_ratio_of_sums_not_mean_of_ratios(session, catalog) -> None:
    t = await small_tree(session)
    await report(session, t.b1, "quy_chi_hoi", Q1, {"pn_khuyet_tat": 10})
    await report(session, t.b2, "quy_chi_hoi", Q1, {"pn_khuyet_tat": 100})
    await report(session, t.b1, FORM, MAR, {"pn_kt_ho_tro": 5})
    await report(session, t.b2, FORM, MAR, {"pn_kt_ho_tro": 90})
    r = await ratios.rate(session, catalog, "pn_kt_ho_tro", "pn_khuyet_tat", [t.c1], Q1)
    # 95 / 110 = 86.4%, where the mean of 50% and 90% would say 70%.
    assert r.percent == pytest.approx(95 / 110 * 100)


async def test_completeness_on_time_late_missing(session, catalog) -> None:
    t = await small_tree(session)
    form = catalog.forms[FORM]
    await report(session, t.b1, FORM, JAN, {"hv_moi": 1})
    await report(session, t.b2, FORM, JAN, {"hv_moi": 1}, late=True)
    await report(session, t.b3, FORM, JAN, {"hv_moi": 1}, status=SubmissionStatus.DRAFT)
    await report(session, t.b4, FORM, FEB, {"hv_moi": 1})  # another month
    done = await completeness(session, form, JAN, t.province)
    assert (done.expected, done.on_time, done.late, done.in_progress) == (5, 1, 1, 1)
    assert sorted(u.code for u, _ in done.missing) == ["B3", "B4", "B5"]
    grouped = done.missing_by_parent()
    assert [u.code for u in grouped["Xã Sơn Hiệp"]] == ["B3"]
    d1 = await completeness(session, form, JAN, t.d1)
    assert (d1.expected, d1.submitted, len(d1.missing)) == (3, 2, 1)


def _target(**kw) -> Target:
    base = dict(
        code="t",
        label="Chỉ tiêu thử",
        kind="sum",
        source="KH thử, mục 1",
        indicator="ho_thoat_ngheo",
        target=100,
        period="2026",
    )
    return Target(**(base | kw))


@pytest.mark.parametrize(
    ("achieved", "status"),
    [(100, Status.ACHIEVED), (60, Status.ON_TRACK), (40, Status.BEHIND)],
)
async def test_progress_reads_sums_against_time_elapsed(session, catalog, achieved, status) -> None:
    t = await small_tree(session)
    await report(session, t.b1, FORM, JAN, {"ho_thoat_ngheo": achieved})
    cat = replace(catalog, targets=[_target()])
    # 6 July 2026: June's reports were due on the 5th: what is due covers 181/365 days.
    [p] = await progress(session, cat, t.province, date(2026, 7, 6))
    assert p.achieved == achieved
    assert p.expected_percent == pytest.approx(181 / 365 * 100)
    assert p.status == status


async def test_progress_kinds_scopes_and_group_targets(session, catalog) -> None:
    t = await small_tree(session)
    await report(session, t.b1, FORM, JAN, {"ho_thoat_ngheo": 300, "hv_moi": 10, "hv_ra": 4})
    await report(session, t.b4, FORM, JAN, {"ho_thoat_ngheo": 250, "hv_moi": 1})
    await report(session, t.b5, FORM, JAN, {"ho_thoat_ngheo": 1000})
    await report(session, t.b1, FORM, MAR, {"pn_kt_ho_tro": 8})
    await report(session, t.b1, "quy_chi_hoi", Q1, {"pn_khuyet_tat": 10})
    await report(session, t.b1, FORM, FEB, {"hd_vhvn": 2})
    targets = [
        _target(code="group", units=["KH-KS", "KH-KV"], target=1000),
        _target(code="net", indicator="tang_hv_thuan", target=10),
        _target(
            code="rate",
            kind="rate",
            indicator=None,
            numerator="pn_kt_ho_tro",
            denominator="pn_khuyet_tat",
            target=80,
        ),
        _target(
            code="cov",
            kind="coverage",
            indicator="hd_vhvn",
            level="commune",
            threshold=2,
            target=100,
        ),
    ]
    cat = replace(catalog, targets=targets)
    today = date(2026, 7, 2)
    by_code = {p.target.code: p for p in await progress(session, cat, t.province, today)}
    assert by_code["group"].achieved == 550  # KS 300 + KV 250; D3's 1000 is not in the group
    assert by_code["group"].status == Status.ON_TRACK  # 55% of target, 50.1% expected
    assert by_code["net"].achieved == 7  # (10 + 1) − 4
    assert by_code["rate"].achieved == 80 and by_code["rate"].status == Status.ACHIEVED
    assert by_code["cov"].achieved == 25 and by_code["cov"].counted == (1, 4)

    # From inside the group: a district sees the group's own figure; the unrelated district
    # does not see the group target; percent targets apply to the asker's own subtree.
    ks = {p.target.code: p for p in await progress(session, cat, t.d1, today)}
    assert ks["group"].achieved == 550
    assert "net" not in ks  # a province sum is not a district's target
    assert ks["cov"].counted == (1, 2)
    d3 = {p.target.code for p in await progress(session, cat, t.d3, today)}
    assert d3 == {"rate", "cov"}
    branch = {p.target.code for p in await progress(session, cat, t.b1, today)}
    assert branch == {"group", "rate"}  # coverage is counted over communes, not branches
