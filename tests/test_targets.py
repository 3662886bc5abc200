"""Verdicts of the target tracker on a hand-made tree; every expected figure is worked out.

Tree (tests.builders.small_tree): KH ─ KH-KS ─ C1 (B1, B2), C2 (B3); KH-KV ─ C3 (B4);
KH-D3 ─ C4 (B5). Five branches, four communes."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from handlers.views import progress_lines, progress_text
from storage.measures.progress import progress
from storage.measures.target_status import Status, TargetProgress, behind_count, verdict
from storage.plan.catalog import Catalog, Target
from storage.plan.catalog_load import load_catalog
from storage.plan.config_files import ConfigError
from storage.plan.expressions import evaluate_formula, formula_names
from storage.plan.periods import half, month, quarter, year_period
from tests.builders import DEMO_CONFIG_DIR, report, small_tree

JAN, FEB, MAR = month(2026, 1), month(2026, 2), month(2026, 3)
Q1 = quarter(2026, 1)
FORM = "thang_chi_hoi"


def _target(**kw: object) -> Target:
    base: dict[str, object] = dict(
        code="t",
        label="Chỉ tiêu thử",
        kind="sum",
        source="KH thử, mục 1",
        indicator="ho_thoat_ngheo",
        target=100,
        period="2026",
    )
    return Target.model_validate(base | kw)


def _rate(**kw: object) -> Target:
    base: dict[str, object] = dict(
        kind="rate", indicator=None, numerator="pn_kt_ho_tro", denominator="pn_khuyet_tat"
    )
    return _target(**(base | {"target": 80} | kw))


async def _one(session, catalog: Catalog, target: Target, today: date, unit=None):
    t = unit
    items = await progress(session, replace(catalog, targets=[target]), t, today)
    assert len(items) == 1
    return items[0]


async def test_rate_counts_only_units_that_gave_both(session, catalog) -> None:
    t = await small_tree(session)
    # B1 gives both for March (8 of 10); B2 only the numerator (5); B3 the numerator in
    # February (3) and the denominator for Q1 (6, period ending 31 March); B4, B5 nothing.
    await report(session, t.b1, FORM, MAR, {"pn_kt_ho_tro": 8})
    await report(session, t.b1, "quy_chi_hoi", Q1, {"pn_khuyet_tat": 10})
    await report(session, t.b2, FORM, MAR, {"pn_kt_ho_tro": 5})
    await report(session, t.b3, FORM, FEB, {"pn_kt_ho_tro": 3})
    await report(session, t.b3, "quy_chi_hoi", Q1, {"pn_khuyet_tat": 6})
    today = date(2026, 7, 2)
    # Same period: only B1 pairs (March): 8/10 = 80%, on 1 of 5 branches. Summing everything
    # would have said (8 + 5 + 3) / (10 + 6) = 100%.
    p = await _one(session, catalog, _rate(), today, t.province)
    assert p.achieved == pytest.approx(80.0)
    assert p.basis == (1, 5) and p.basis_level == "branch"
    assert p.status == Status.ACHIEVED
    text = progress_text(catalog, "Tỉnh", [p], today)
    assert "tính trên 1/5 chi hội đã báo cáo đủ" in text
    # Latest known value of each stock within the window: B1 and B3 pair, (8+3)/(10+6).
    p = await _one(session, catalog, _rate(stocks="latest"), today, t.province)
    assert p.achieved == pytest.approx(11 / 16 * 100)
    assert p.basis == (2, 5)
    assert p.status == Status.BEHIND  # 68.75% < 80%, a rate is held all along
    # Asked from district KH-KS (B1, B2, B3): same two units out of three.
    p = await _one(session, catalog, _rate(stocks="latest"), today, t.d1)
    assert p.basis == (2, 3)


async def test_no_data_is_not_behind(session, catalog) -> None:
    t = await small_tree(session)
    today = date(2026, 11, 2)
    targets = [
        _target(code="sum"),
        _rate(code="rate"),
        _target(code="cov", kind="coverage", indicator="hd_vhvn", level="commune", threshold=2),
    ]
    # Something reported outside the window does not count either.
    await report(session, t.b1, FORM, month(2025, 12), {"ho_thoat_ngheo": 5, "hd_vhvn": 3})
    items = await progress(session, replace(catalog, targets=targets), t.province, today)
    assert {p.status for p in items} == {Status.NO_DATA}
    assert all(p.achieved is None for p in items)
    assert behind_count(items) == 0
    text = progress_text(catalog, "Tỉnh", items, today)
    assert "3 chỉ tiêu: 3 chưa có số liệu." in text
    assert text.count("⚪ chưa có số liệu") == 3 and "🔴" not in text
    # A zero that was reported is data: 0 of 100 by November is behind.
    await report(session, t.b1, FORM, JAN, {"ho_thoat_ngheo": 0})
    p = await _one(session, catalog, _target(), today, t.province)
    assert p.achieved == 0 and p.status == Status.BEHIND


async def test_year_end_expectation(session, catalog) -> None:
    t = await small_tree(session)
    await report(session, t.b1, FORM, JAN, {"ho_thoat_ngheo": 10})
    target = _target(expect="end")
    # All year long 10 of 100 is not judged: the figure is due when the year's last
    # reports are (December's monthly report, due 5 January); never green before then.
    for day in (date(2026, 11, 30), date(2026, 12, 31), date(2027, 1, 5)):
        p = await _one(session, catalog, target, day, t.province)
        assert p.expected is None and p.status == Status.PENDING, day
        assert not p.final
    text = progress_text(catalog, "Tỉnh", [p], date(2027, 1, 5))
    assert "⏳ chưa đến hạn đánh giá" in text and "🟢" not in text
    assert "báo cáo cuối kỳ đến hạn ngày 05/01/2027" in text
    # Linear says behind: 10% done while the reports due (to October) cover 83% of the year.
    p = await _one(session, catalog, _target(), date(2026, 11, 30), t.province)
    assert p.status == Status.BEHIND
    # The day after the last due date the whole target is owed: a final "không đạt".
    p = await _one(session, catalog, target, date(2027, 1, 6), t.province)
    assert p.expected == 100 and p.final and p.status == Status.MISSED
    text = progress_text(catalog, "Tỉnh", [p], date(2027, 1, 6))
    assert "❌ không đạt" in text
    assert "báo cáo muộn còn được nhận đến hết ngày 20/01/2027" in text
    p = await _one(session, catalog, target, date(2027, 3, 1), t.province)
    assert p.status == Status.MISSED
    assert "Kết quả cuối cùng của năm 2026." in progress_text(
        catalog, "Tỉnh", [p], date(2027, 3, 1)
    )


@pytest.mark.parametrize(
    ("today", "achieved", "expected", "status"),
    [
        (date(2026, 2, 1), 5, None, Status.PENDING),  # no milestone passed yet
        # March's milestone (20) is owed once March's reports are due (5 April).
        (date(2026, 4, 5), 5, None, Status.PENDING),
        (date(2026, 4, 6), 25, 20, Status.ON_TRACK),
        (date(2026, 7, 2), 40, 20, Status.ON_TRACK),  # June's reports are not due yet
        (date(2026, 7, 6), 40, 50, Status.BEHIND),  # June milestone: 50
        (date(2026, 7, 6), 55, 50, Status.ON_TRACK),
        (date(2026, 7, 6), 100, 50, Status.ACHIEVED),
    ],
)
async def test_milestones(session, catalog, today, achieved, expected, status) -> None:
    t = await small_tree(session)
    await report(session, t.b1, FORM, JAN, {"ho_thoat_ngheo": achieved})
    target = _target(
        expect="milestones",
        milestones=[{"date": "2026-03-31", "value": 20}, {"date": "2026-06-30", "value": 50}],
    )
    p = await _one(session, catalog, target, today, t.province)
    assert p.expected == expected and p.status == status


async def test_january_shows_last_year_and_keeps_its_final_result(session, catalog) -> None:
    """At the turn of the year a yearly target is listed once: last year's result while no
    report of the new year is due (being completed, then final), never a second line."""
    t = await small_tree(session)
    await report(session, t.b1, FORM, month(2026, 11), {"ho_thoat_ngheo": 95})
    cat = replace(catalog, targets=[_target(period="yearly")])

    async def shown(day: date):
        items = await progress(session, cat, t.province, day)
        assert len(items) == 1  # one target, listed once
        return items[0], progress_text(cat, "Tỉnh", items, day)

    # 31 December: December's reports are due on 5 January; what is due (to November)
    # covers 334/365 of the year: 91.5 expected, 95 reached.
    p, text = await shown(date(2026, 12, 31))
    assert p.period.key == "2026" and not p.previous_window
    assert p.expected == pytest.approx(100 * 334 / 365) and p.status == Status.ON_TRACK
    assert "1 chỉ tiêu: 1 đúng tiến độ." in text
    assert "tính đến 30/11/2026, năm 2026" in text
    # 3 January: nothing of 2027 is due; 2026's result, still being completed.
    p, text = await shown(date(2027, 1, 3))
    assert p.period.key == "2026" and p.previous_window and p.status == Status.ON_TRACK
    assert "báo cáo đầu tiên của năm 2027 đến hạn ngày 05/02/2027" in text
    # December's report comes in; on 6 January 2026 is final: 98 of 100, not reached.
    await report(session, t.b1, FORM, month(2026, 12), {"ho_thoat_ngheo": 3})
    p, text = await shown(date(2027, 1, 6))
    assert (p.period.key, p.achieved, p.status) == ("2026", 98, Status.MISSED)
    assert "1 chỉ tiêu: 1 chưa đến hạn đánh giá." in text  # (nothing of 2027 due)
    assert "đang xem kết quả năm 2026: 1 không đạt." in text
    # After its forms close, the year's final result stays (it is not replaced by nothing).
    p, text = await shown(date(2027, 1, 25))
    assert p.period.key == "2026" and p.status == Status.MISSED
    assert "Kết quả cuối cùng của năm 2026." in text
    # January 2027's report (sent from 26 January): 2027 is shown, nothing due of it yet.
    await report(session, t.b1, FORM, month(2027, 1), {"ho_thoat_ngheo": 3})
    p, _ = await shown(date(2027, 1, 31))
    assert (p.period.key, p.achieved, p.status) == ("2027", 3, Status.PENDING)
    p, _ = await shown(date(2027, 2, 6))  # January due: 3 of the 8.5 owed
    assert p.period.key == "2027" and p.status == Status.BEHIND


async def test_by_year_windows_and_strict_bounds(session, catalog) -> None:
    t = await small_tree(session)
    # Members in hd_vhvn stand in for a yes/no: coverage of branches with at least 1.
    for b in (t.b1, t.b2, t.b3):
        await report(session, b, FORM, month(2025, 6), {"hd_vhvn": 1})
        await report(session, b, FORM, month(2027, 6), {"hd_vhvn": 1})
    await report(session, t.b4, FORM, month(2027, 6), {"hd_vhvn": 1})
    target = _target(
        kind="coverage",
        indicator="hd_vhvn",
        level="branch",
        compare="above",
        period="term",
        target=None,
        by_year={2025: 60, "2027..2030": 80},
    )
    # 2025: 3/5 = 60%, not above 60%. While the year runs it keeps pace (what is due by
    # 31 December, to November, owes 91.5% of 60); final and missed on 6 January.
    for day in (date(2025, 12, 1), date(2025, 12, 31), date(2026, 1, 5)):
        p = await _one(session, catalog, target, day, t.province)
        assert (p.goal, p.achieved, p.period.key) == (60, 60, "2025"), day
        assert p.status == Status.ON_TRACK, day
    p = await _one(session, catalog, target, date(2026, 1, 6), t.province)
    assert (p.period.key, p.status) == ("2025", Status.MISSED) and p.previous_window
    # 2026 is not listed: held against 2027's 80% ("by 2027"), not yet due.
    p = await _one(session, catalog, target, date(2026, 6, 1), t.province)
    assert (p.goal, p.due_year, p.period.key) == (80, 2027, "2026")
    assert p.status == Status.NO_DATA
    # 2027: 4/5 = 80%, not above 80%: a final "không đạt" once December is due.
    p = await _one(session, catalog, target, date(2027, 12, 31), t.province)
    assert (p.goal, p.achieved, p.status) == (80, 80, Status.ON_TRACK)
    p = await _one(session, catalog, target, date(2028, 1, 6), t.province)
    assert (p.period.key, p.goal, p.achieved, p.status) == ("2027", 80, 80, Status.MISSED)
    # After the last listed year, the last year's result stands.
    p = await _one(session, catalog, target, date(2031, 3, 1), t.province)
    assert p.period.key == "2030" and p.status == Status.NO_DATA


async def test_upper_bound_rate(session, catalog) -> None:
    t = await small_tree(session)
    await report(session, t.b1, FORM, MAR, {"pn_kt_ho_tro": 1})
    await report(session, t.b1, "quy_chi_hoi", Q1, {"pn_khuyet_tat": 100})
    below = _rate(compare="below", target=2)
    p = await _one(session, catalog, below, date(2026, 7, 1), t.province)
    assert p.achieved == 1 and p.status == Status.ACHIEVED and p.percent is None
    p = await _one(session, catalog, _rate(compare="below", target=1), date(2026, 7, 1), t.province)
    assert p.status == Status.BEHIND  # 1% is not below 1%
    assert "dưới 1%" in progress_text(catalog, "Tỉnh", [p], date(2026, 7, 1))


async def test_coverage_over_a_filtered_set(session, catalog) -> None:
    t = await small_tree(session)
    # "Branches that still have disabled women" (pn_khuyet_tat > 0): B1 (10), B2 (4); B3 has
    # none (0) and B4, B5 did not say: only B1 and B2 are counted. B1 supported one.
    await report(session, t.b1, "quy_chi_hoi", Q1, {"pn_khuyet_tat": 10})
    await report(session, t.b2, "quy_chi_hoi", Q1, {"pn_khuyet_tat": 4})
    await report(session, t.b3, "quy_chi_hoi", Q1, {"pn_khuyet_tat": 0})
    await report(session, t.b1, FORM, MAR, {"pn_kt_ho_tro": 1})
    await report(session, t.b3, FORM, MAR, {"pn_kt_ho_tro": 2})
    target = _target(
        kind="coverage",
        indicator="pn_kt_ho_tro",
        level="branch",
        where={"indicator": "pn_khuyet_tat", "compare": "above", "value": 0},
    )
    p = await _one(session, catalog, target, date(2026, 7, 2), t.province)
    assert p.counted == (1, 2) and p.achieved == 50


def test_division_in_formulas() -> None:
    assert sorted(formula_names("(a + b) / c * 100")) == ["a", "b", "c"]
    assert evaluate_formula("a / b * 100", {"a": 3, "b": 4}) == 75
    assert evaluate_formula("a / b * 100", {"a": 3, "b": 0}) is None
    assert evaluate_formula("a - b / c", {"a": 3, "b": 1}) is None
    with pytest.raises(ValueError):
        formula_names("a ** 2")


def _config(tmp_path: Path, forms: str = "", indicators: str = "", targets: str = "") -> Path:
    folder = tmp_path / "cfg"
    shutil.copytree(DEMO_CONFIG_DIR, folder)
    for name, extra in (
        ("forms.yaml", forms),
        ("indicators.yaml", indicators),
        ("targets.yaml", targets),
    ):
        if extra:
            with (folder / name).open("a", encoding="utf-8") as f:
                f.write(extra)
    return folder


MULTI_LEVEL = """
  - code: nam_co_so
    name: Báo cáo năm của cơ sở Hội
    level: commune
    periodicity: year
    questions: [ung_dung_cntt, ho_dat, tong_ho]
"""
RATIO_INDICATORS = """
  - code: ho_dat
    label: Hộ đạt tiêu chí
    question: Bao nhiêu hộ đạt tiêu chí?
  - code: tong_ho
    label: Tổng số hộ
    question: Tổng số hộ?
    aggregation: last
  - code: ty_le_ho_dat
    label: Tỷ lệ hộ đạt tiêu chí
    type: derived
    formula: ho_dat / tong_ho * 100
    unit: "%"
"""


async def test_one_indicator_at_two_levels_and_ratio_coverage(session, tmp_path) -> None:
    cat = load_catalog(_config(tmp_path, forms=MULTI_LEVEL, indicators=RATIO_INDICATORS))
    assert cat.levels_of_indicator("ung_dung_cntt") == ["commune", "branch"]
    t = await small_tree(session)
    y = year_period(2026)
    # Communes answer about themselves: C1 yes, C2 no. Branches: B1, B2, B3 yes (under C1, C2).
    await report(session, t.c1, "nam_co_so", y, {"ung_dung_cntt": 1, "ho_dat": 96, "tong_ho": 100})
    await report(session, t.c2, "nam_co_so", y, {"ung_dung_cntt": 0, "ho_dat": 90, "tong_ho": 100})
    await report(session, t.c3, "nam_co_so", y, {"ho_dat": 5, "tong_ho": 0})
    for b in (t.b1, t.b2, t.b3):
        await report(session, b, "quy_chi_hoi", quarter(2026, 4), {"ung_dung_cntt": 1})
    today = date(2027, 1, 30)
    communes = _target(kind="coverage", indicator="ung_dung_cntt", level="commune")
    # C1's own yes; C2's own no is not lifted by its branch's yes: 1/4.
    p = await _one(session, cat, communes, today, t.province)
    assert p.counted == (1, 4)
    both = _target(kind="coverage", indicator="ung_dung_cntt", level=["commune", "branch"])
    p = await _one(session, cat, both, today, t.province)
    assert p.counted == (1 + 3, 4 + 5)
    # A sum on the communes' own answers only: 1, not 1 + 3.
    own = _target(indicator="ung_dung_cntt", reported_at="commune")
    p = await _one(session, cat, own, today, t.province)
    assert p.achieved == 1
    # 90% of communes with 95%+ households meeting the criteria: C1 96% yes, C2 90% no,
    # C3 has no households (no value), C4 said nothing: 1/4 communes.
    ratio = _target(kind="coverage", indicator="ty_le_ho_dat", level="commune", threshold=95)
    p = await _one(session, cat, ratio, today, t.province)
    assert p.counted == (1, 4) and p.achieved == 25


COMMUNE_OWN_SUM = """
  - code: nam_xa_thoat_ngheo
    name: Báo cáo năm của xã về hộ thoát nghèo
    level: commune
    periodicity: year
    questions: [ho_thoat_ngheo]
"""


async def test_a_sum_over_a_list_of_levels_broken_down_as_tong_reads_it(session, tmp_path) -> None:
    """A sum target on the communes' own answers and the branches' together: each unit's line
    of its breakdown is what /tong says of that unit, and they add up to the target's figure
    (a list of levels read as one, not passed on as a level's name)."""
    from handlers import web_pages
    from storage.measures import progress as progress_service
    from storage.measures import totals

    cat = load_catalog(_config(tmp_path, forms=COMMUNE_OWN_SUM))
    assert cat.levels_of_indicator("ho_thoat_ngheo") == ["commune", "branch"]
    t = await small_tree(session)
    y = year_period(2026)
    await report(session, t.c1, "nam_xa_thoat_ngheo", y, {"ho_thoat_ngheo": 7}, catalog=cat)
    await report(session, t.c3, "nam_xa_thoat_ngheo", y, {"ho_thoat_ngheo": 4}, catalog=cat)
    for b, n in ((t.b1, 3), (t.b2, 2), (t.b3, 5)):
        await report(session, b, FORM, month(2026, 6), {"ho_thoat_ngheo": n}, catalog=cat)
    target = _target(reported_at=["commune", "branch"])
    today = date(2027, 1, 20)
    own = await progress_service.measure(session, cat, target, [t.province], today)
    assert own.achieved == 7 + 4 + 3 + 2 + 5
    page = await web_pages.target_breakdown(session, cat, target, t.province, t.province, today)
    assert page is not None
    tong = await totals.indicator_total(
        session, cat, "ho_thoat_ngheo", t.province, own.period, compare=False
    )
    lines = {r.unit.name: r.value for r in page.rows}
    assert lines == {r.unit.name: r.figure.value for r in tong.rows}
    # Khánh Sơn: C1's own 7 and its branches' 3 + 2, C2's branch 5; Khánh Vĩnh: C3's own 4;
    # the third district has units that should report and none did: no figure, not 0.
    assert lines == {t.d1.name: 7 + 3 + 2 + 5, t.d2.name: 4, t.d3.name: None}
    assert sum(v or 0 for v in lines.values()) == own.achieved == tong.figure.value
    # A group target on the two districts: a line for each, as /tong says of each.
    group = _target(reported_at=["commune", "branch"], units=["KH-KS", "KH-KV"])
    page = await web_pages.target_breakdown(session, cat, group, t.province, t.province, today)
    assert page is not None
    for d in (t.d1, t.d2):
        tong = await totals.indicator_total(session, cat, "ho_thoat_ngheo", d, own.period)
        assert next(r.value for r in page.rows if r.unit.name == d.name) == tong.figure.value


def test_same_level_twice_is_refused(tmp_path) -> None:
    twice = MULTI_LEVEL.replace("code: nam_co_so", "code: nam_co_so_2").replace(
        "[ung_dung_cntt, ho_dat, tong_ho]", "[giam_sat]"
    )
    with pytest.raises(ConfigError) as err:
        load_catalog(_config(tmp_path, forms=twice))
    assert "already asked in form 'sau_thang_co_so' at the same level" in str(err.value)


@pytest.mark.parametrize(
    ("today", "done", "status", "line"),
    [
        (
            date(2026, 3, 20),
            [],
            Status.NOT_YET,
            "0/3 chi hội đã thực hiện (3 chi hội chưa báo cáo).",
        ),
        # The deadline has passed but its quarter's reports are due on 10 April.
        (date(2026, 4, 2), ["b1", "b4"], Status.NOT_YET, "2/3 chi hội đã thực hiện (1 chi"),
        (date(2026, 4, 11), ["b1", "b4"], Status.OVERDUE, "2/3 chi hội đã thực hiện (1 chi"),
        (date(2026, 4, 11), ["b1", "b2", "b4"], Status.DONE, "3/3 chi hội đã thực hiện."),
        # Nobody concerned has reported at all: no data, never "quá hạn 0/3".
        (date(2026, 4, 11), [], Status.NO_DATA, "0/3 chi hội đã thực hiện (3 chi hội chưa"),
    ],
)
async def test_dated_task(session, catalog, today, done, status, line) -> None:
    t = await small_tree(session)
    for name in done:
        await report(session, getattr(t, name), "quy_chi_hoi", Q1, {"ung_dung_cntt": 1})
    # Every branch of C1 and C3 (B1, B2, B4) must do it by 31 March.
    task = _target(
        kind="task",
        indicator="ung_dung_cntt",
        level="branch",
        units=["C1", "C3"],
        target=None,
        deadline="2026-03-31",
    )
    p = await _one(session, catalog, task, today, t.province)
    assert p.status == status and p.counted == (len(done), 3)
    text = progress_text(catalog, "Tỉnh", [p], today)
    assert f"Hạn 31/03/2026: {line}" in text


async def test_task_done_late_said_no_later_or_not_reported(session, catalog) -> None:
    """A yes counts from the first period it is given in: after the deadline it is done
    late (not the same ✅); a later "không" does not undo it; a unit with no report is
    "chưa báo cáo", not a 0."""
    t = await small_tree(session)
    task = _target(
        kind="task",
        indicator="ung_dung_cntt",
        level="branch",
        units=["C1", "C3"],
        target=None,
        deadline="2026-03-31",
    )
    await report(session, t.b1, "quy_chi_hoi", Q1, {"ung_dung_cntt": 1})
    await report(session, t.b1, "quy_chi_hoi", quarter(2026, 2), {"ung_dung_cntt": 0})
    await report(session, t.b2, "quy_chi_hoi", Q1, {"ung_dung_cntt": 0})
    await report(session, t.b2, "quy_chi_hoi", quarter(2026, 2), {"ung_dung_cntt": 1})
    today = date(2026, 7, 11)
    p = await _one(session, catalog, task, today, t.province)
    # B1 yes in Q1 then no in Q2: done. B2 yes in Q2: done late. B4 nothing: not reported.
    assert p.counted == (2, 3) and p.late == 1 and p.silent == 1
    assert p.status == Status.OVERDUE
    text = progress_text(catalog, "Tỉnh", [p], today)
    assert "Hạn 31/03/2026: 2/3 chi hội đã thực hiện (1 sau hạn; 1 chi hội chưa báo cáo)." in text
    await report(session, t.b4, "quy_chi_hoi", quarter(2026, 2), {"ung_dung_cntt": 1})
    p = await _one(session, catalog, task, today, t.province)
    assert p.status == Status.DONE_LATE and p.late == 2
    text = progress_text(catalog, "Tỉnh", [p], today)
    assert "🟡 hoàn thành sau hạn" in text and "✅" not in text
    # A task of a named unit (no level): Xã Bốn, where nobody sent anything, is not "0/1".
    own = _target(
        kind="task", indicator="ung_dung_cntt", units=["C4"], target=None, deadline="2026-03-31"
    )
    p = await _one(session, catalog, own, today, t.province)
    assert p.status == Status.NO_DATA and p.silent == 1
    assert "chưa có báo cáo nào về việc này" in progress_text(catalog, "Xã", [p], today)


BOTH_VALUES = """
  - code: both
    label: Hai cách
    kind: rate
    numerator: pn_kt_ho_tro
    denominator: pn_khuyet_tat
    target: 80
    by_year: {2025: 85}
    source: thử
"""
CROSS_FILE = """
  - code: wrong_level
    label: Sai cấp
    kind: coverage
    indicator: hd_vhvn
    level: village
    target: 100
    source: thử
  - code: text_total
    label: Tổng chữ
    kind: sum
    indicator: ghi_chu
    target: 3
    source: thử
"""


def test_target_errors_name_file_line_and_field(tmp_path) -> None:
    with pytest.raises(ConfigError) as err:
        load_catalog(_config(tmp_path / "a", targets=BOTH_VALUES))
    [problem] = err.value.problems
    assert "targets.yaml:" in problem and "either 'target' or 'by_year'" in problem
    with pytest.raises(ConfigError) as err:
        load_catalog(_config(tmp_path / "b", targets=CROSS_FILE))
    first, second = err.value.problems
    assert "field 'level': unknown level 'village'" in first
    assert "'ghi_chu' is a text indicator and cannot be added up for a sum target" in second
    assert first.split(":")[1].isdigit()


def test_words_follow_the_level(catalog) -> None:
    from schedules.calendar import window
    from schedules.reminders import nudge_message, reminder_message
    from storage.plan import texts_vi as vi
    from storage.plan.catalog import Level, Reminder
    from storage.plan.periods import half

    branch_form = catalog.forms[FORM]
    commune_form = catalog.forms["sau_thang_co_so"]
    late = Reminder(at=2, tone="late")
    text = reminder_message(
        "Nguyễn Thị Hoa",
        commune_form,
        window(commune_form, half(2026, 1)),
        late,
        date(2026, 7, 20),
        catalog,
    ).text
    assert "mà cơ sở Hội mình chưa gửi" in text and "chi hội" not in text
    text = nudge_message("Lê Thị Lan", commune_form, window(commune_form, half(2026, 1)), catalog)
    assert "cán bộ Hội huyện nhắc" in text.text and "cơ sở Hội mình" in text.text
    text = reminder_message(
        "Lê Thị Lan", branch_form, window(branch_form, OCT_2026), late, date(2026, 11, 7), catalog
    ).text
    assert "mà chi hội mình chưa gửi" in text
    # A province with no district level, whose branches are called "tổ phụ nữ".
    two_tier = replace(
        catalog,
        levels=[
            catalog.levels[0],
            catalog.levels[2],
            Level(code="branch", name="Tổ phụ nữ", role="branch_leader"),
        ],
    )
    words = vi.level_words(two_tier, "commune")
    assert words["officer"] == "cán bộ Hội tỉnh" and words["level"] == "cơ sở Hội"
    assert vi.level_words(two_tier, "branch")["level"] == "tổ phụ nữ"
    digest = vi.DIGEST_COMMUNE.format(
        form="Báo cáo",
        period="tháng 10/2026",
        due="05/11/2026",
        unit="Xã A",
        missing=1,
        total=3,
        names="Tổ 1",
        **vi.level_words(two_tier, "branch"),
    )
    assert "Còn 1/3 tổ phụ nữ của Xã A chưa nộp" in digest


OCT_2026 = month(2026, 10)


async def test_targets_may_count_only_approved_reports(session, catalog) -> None:
    from storage.db.models import Person
    from storage.measures import report_approval
    from storage.plan.clock import vn_datetime

    t = await small_tree(session)
    at = vn_datetime(2026, 2, 10, 9)
    officer = Person(
        full_name="Cán bộ",
        phone="0900000001",
        role="commune_officer",
        unit_id=t.c1.id,
        created_at=at,
    )
    session.add(officer)
    await session.flush()
    first = await report(session, t.b1, FORM, JAN, {"ho_thoat_ngheo": 30})
    await report(session, t.b2, FORM, JAN, {"ho_thoat_ngheo": 20})
    await report_approval.approve(session, first, officer, at)
    await session.commit()
    today = date(2026, 7, 2)
    p = await _one(session, catalog, _target(), today, t.province)
    assert p.achieved == 50
    p = await _one(session, catalog, _target(approved_only=True), today, t.province)
    assert p.achieved == 30
    cov = _target(kind="coverage", level="branch", threshold=1, approved_only=True)
    p = await _one(session, catalog, cov, today, t.province)
    assert p.counted == (1, 5)


async def test_a_plan_the_project_does_not_ship(session) -> None:
    """Nam Định's 2024 plan, written from CONFIG.md alone, loads and gets a verdict each."""
    from storage.db.units import create_unit

    cat = load_catalog(Path(__file__).parent / "configs" / "nam_dinh")

    async def unit(code: str, level: str, parent):
        return await create_unit(session, code=code, name=code, level=level, parent=parent)

    nd = await unit("ND", "province", None)
    h1 = await unit("ND-H1", "district", nd)
    x1, x2 = await unit("X1", "commune", h1), await unit("X2", "commune", h1)
    b1, _b2 = await unit("B1", "branch", x1), await unit("B2", "branch", x2)
    await session.commit()
    q1 = quarter(2024, 1)
    feb = month(2024, 2)
    await report(session, nd, "thang_tinh", feb, {"co_website": 1, "mo_hinh_mang": 1}, catalog=cat)
    march = {"cuoc_thi_ntm": 1, "hoi_thi_cntt": 0}
    await report(session, nd, "thang_tinh", month(2024, 3), march, catalog=cat)
    await report(session, h1, "quy_huyen", q1, {"co_website": 0}, catalog=cat)
    x1_values = {"co_website": 1, "co_may_tinh": 1, "hd_cntt": 2, "ho_3sach": 96, "tong_ho": 100}
    await report(session, x1, "quy_co_so", q1, x1_values, catalog=cat)
    x2_values = {"co_website": 1, "co_may_tinh": 0, "ho_3sach": 50, "tong_ho": 100}
    await report(session, x2, "quy_co_so", q1, x2_values, catalog=cat)
    await report(session, b1, "quy_chi_hoi", q1, {"cht_tap_huan": 1}, catalog=cat)
    today = date(2024, 4, 15)
    items = await progress(session, cat, nd, today)
    by_code = {p.target.code: p for p in items}
    assert len(items) == len(cat.targets)
    # Website: the province's and both communes' own yes, the district's no: 3 of 4 units.
    assert by_code["website"].counted == (3, 4)
    assert by_code["website"].status == Status.ON_TRACK
    for code in ("may_tinh", "hd_cntt", "tap_huan"):  # due at the year's end
        assert by_code[code].counted == (1, 2) and by_code[code].status == Status.PENDING
    assert by_code["mo_hinh_mang"].status == Status.ACHIEVED
    assert by_code["xa_3sach"].status == Status.NO_DATA  # 2025's window has nothing yet
    assert by_code["de_xuat"].status == Status.NO_DATA
    # In March, after February's deadline: done, but late.
    assert by_code["cuoc_thi_ntm"].status == Status.DONE_LATE
    assert by_code["hoi_thi_cntt"].status == Status.OVERDUE  # "no" in March, due 5 April
    text = progress_text(cat, "Tỉnh Nam Định", items, today)
    assert (
        "9 chỉ tiêu: 2 đạt, 1 đúng tiến độ, 1 chậm tiến độ, 3 chưa đến hạn đánh giá, "
        "2 chưa có số liệu." in text
    )
    assert "(3/4 đơn vị đạt)" in text
    assert "(1/2 chi hội đạt; 1 chi hội chưa có số liệu)" in text  # B2 sent nothing


# ---- what is due, the end of a window, rounding, units without data (issue #20) ----------


async def test_a_yearly_target_fed_by_six_monthly_forms_expects_what_is_due(
    session, catalog
) -> None:
    """In December the second half's reports (open 16 December, due 15 January) are not
    due: what is expected is what the first half can show, not 97% of the year."""
    t = await small_tree(session)
    h1 = half(2026, 1)
    for c, n in ((t.c1, 1), (t.c2, 2), (t.c3, 1), (t.c4, 0)):
        await report(session, c, "sau_thang_co_so", h1, {"giam_sat": n})
    target = _target(kind="coverage", indicator="giam_sat", level="commune", period="yearly")
    p = await _one(session, catalog, target, date(2026, 12, 20), t.province)
    assert p.achieved == 75 and p.expected == pytest.approx(100 * 181 / 365)
    assert p.status == Status.ON_TRACK
    text = progress_text(catalog, "Tỉnh", [p], date(2026, 12, 20))
    assert "Cần 49,6% theo các báo cáo đã đến hạn (tính đến 30/06/2026, năm 2026)." in text
    # 31 December and 15 January: the same (the second half is due at the end of the 15th).
    for day in (date(2026, 12, 31), date(2027, 1, 15)):
        p = await _one(session, catalog, target, day, t.province)
        assert p.status == Status.ON_TRACK and p.period.key == "2026", day
    # 16 January: the year is over and all its reports due: a final "không đạt".
    p = await _one(session, catalog, target, date(2027, 1, 16), t.province)
    assert p.final and p.status == Status.MISSED and p.period.key == "2026"


async def test_end_of_window_targets_before_and_after_the_end(session, catalog) -> None:
    """Before the end a target judged at the end is not green beside 0%; after a term has
    closed it reads a final result, not "Cần 100% theo thời gian (nhiệm kỳ …)"."""
    t = await small_tree(session)
    await report(session, t.b1, FORM, month(2026, 3), {"hd_vhvn": 0})
    at_end = _target(
        kind="coverage", indicator="hd_vhvn", level="commune", period="term", expect="end"
    )
    p = await _one(session, catalog, at_end, date(2026, 11, 30), t.c1)
    assert p.counted == (0, 1) and p.status == Status.PENDING
    text = progress_text(catalog, "Xã Sơn Bình", [p], date(2026, 11, 30))
    assert "⏳ chưa đến hạn đánh giá" in text and "🟢" not in text
    linear = _target(kind="coverage", indicator="hd_vhvn", level="commune", period="term")
    await report(session, t.b1, FORM, month(2026, 12), {"hd_vhvn": 1})
    for target in (at_end, linear):
        p = await _one(session, catalog, target, date(2027, 2, 1), t.province)
        assert p.period.key == "NK2021-2026" and p.final, target.expect
        assert p.counted == (1, 4) and p.status == Status.MISSED
        text = progress_text(catalog, "Tỉnh", [p], date(2027, 2, 1))
        assert "Kết quả cuối cùng của nhiệm kỳ 2021–2026." in text
        assert "theo các báo cáo đã đến hạn" not in text and "❌ không đạt" in text


def test_the_verdict_agrees_with_the_figures_shown(catalog) -> None:
    """30.079/30.500 = 98,6% beside "Cần 98,6%" keeps pace; a rate shown as 85% meets 85%."""
    sum_target = _target(target=30500)
    expected = 30500 * 0.98630  # 98,63% of the goal, shown as 98,6%
    status = verdict(sum_target, 30079, 30500, expected, final=False)
    assert status == Status.ON_TRACK
    p = TargetProgress(sum_target, year_period(2026), [], 30500, 30079, expected, status)
    text = "\n".join(progress_lines(catalog, p))
    assert "30.079/30.500 hộ = 98,6% chỉ tiêu" in text and "Cần 98,6%" in text
    assert verdict(sum_target, 30040, 30500, expected, final=False) == Status.BEHIND  # 98,5%
    rate = _rate(target=85)
    assert verdict(rate, 84.96, 85, 85, final=True) == Status.ACHIEVED  # shown "Đạt 85%"
    assert verdict(rate, 84.94, 85, 85, final=True) == Status.MISSED  # shown "Đạt 84,9%"
    above = _rate(target=75, compare="above")
    assert verdict(above, 75.04, 75, 75, final=True) == Status.MISSED  # "75%" is not above 75%


async def test_coverage_says_how_many_units_have_no_data(session, catalog) -> None:
    t = await small_tree(session)
    await report(session, t.b1, "quy_chi_hoi", Q1, {"gioi_thieu_dang": 1})
    await report(session, t.b2, "quy_chi_hoi", Q1, {"gioi_thieu_dang": 0})
    target = _target(kind="coverage", indicator="gioi_thieu_dang", level="branch")
    p = await _one(session, catalog, target, date(2026, 5, 1), t.province)
    assert p.counted == (1, 5) and p.reported == 2 and p.silent == 3
    text = progress_text(catalog, "Tỉnh", [p], date(2026, 5, 1))
    assert "Đạt 20%, chỉ tiêu 100% (1/5 chi hội đạt; 3 chi hội chưa có số liệu)" in text


# ---- the language's remaining gaps, on Lào Cai's plan ------------------------------------

LAO_CAI = DEMO_CONFIG_DIR.parent / "lao_cai"


async def _lao_cai(session):
    """Lào Cai's configuration and a small tree: the province, two communes, three villages."""
    from storage.db.units import create_unit

    async def unit(code: str, level: str, parent, name: str):
        return await create_unit(session, code=code, name=name, level=level, parent=parent)

    lc = await unit("LC", "province", None, "Tỉnh Lào Cai")
    c1 = await unit("LC-01", "commune", lc, "Phường Lào Cai")
    c2 = await unit("LC-02", "commune", lc, "Phường Cam Đường")
    b1 = await unit("LC-01-01", "branch", c1, "Chi hội tổ dân phố 1")
    b2 = await unit("LC-01-02", "branch", c1, "Chi hội tổ dân phố 2")
    b3 = await unit("LC-02-01", "branch", c2, "Chi hội tổ dân phố 1")
    await session.commit()
    return load_catalog(LAO_CAI), lc, (c1, c2), (b1, b2, b3)


def _lc_target(cat: Catalog, code: str, **kw: object) -> Target:
    found = next(t for t in cat.targets if t.code == code)
    return Target.model_validate(found.model_dump() | kw)


async def test_a_rate_over_several_levels_own_answers(session) -> None:
    """ "100% cán bộ Hội": the provincial office's own figures and the communes' together."""
    cat, lc, (c1, c2), _ = await _lao_cai(session)
    year, h2 = year_period(2026), half(2026, 2)
    both = {"tong_can_bo": 20, "can_bo_hoc_tap": 20}
    await report(session, lc, "nam_tinh", year, both, catalog=cat)
    await report(
        session, c1, "sau_thang_co_so", h2, {"tong_can_bo": 10, "can_bo_hoc_tap": 5}, catalog=cat
    )
    target = _lc_target(cat, "can_bo_hoc_tap")
    assert target.reported_levels == ["province", "commune"]
    p = await _one(session, cat, target, date(2027, 1, 20), lc)
    # (20 + 5) / (20 + 10), on the province and 1 of 2 communes: 3 units should give both.
    assert p.ratio == (25, 30) and p.basis == (2, 3) and p.basis_level is None
    assert p.achieved == pytest.approx(25 / 30 * 100)
    text = progress_text(cat, "Tỉnh Lào Cai", [p], date(2027, 1, 20))
    assert "(25/30), tính trên 2/3 đơn vị đã báo cáo đủ" in text
    # One level only (the old reading): the communes' 5/10.
    p = await _one(
        session,
        cat,
        _lc_target(cat, "can_bo_hoc_tap", reported_at="commune"),
        date(2027, 1, 20),
        lc,
    )
    assert p.ratio == (5, 10) and p.basis == (1, 2)


async def test_an_open_ended_yearly_value(session) -> None:
    """ "90% hằng năm từ 2026 đến 2030 và các năm tiếp theo": every year from 2026 on."""
    cat, lc, _, (b1, _b2, _b3) = await _lao_cai(session)
    target = _lc_target(cat, "tap_hop")
    assert target.by_year == {"2025": 85, "2026..": 90}
    assert target.year_value(2024) == (85, 2025) and target.year_value(2031) == (90, 2031)
    await report(
        session,
        b1,
        "sau_thang_chi_hoi",
        half(2033, 1),
        {"tong_hoi_vien": 95, "pn_dia_ban": 100},
        catalog=cat,
    )
    p = await _one(session, cat, target, date(2033, 9, 1), lc)
    assert (p.period.key, p.goal, p.achieved, p.status) == ("2033", 90, 95, Status.ACHIEVED)
    # Overlapping years and a year inside an open range are refused.
    for by_year in ({"2025": 85, "2024..2026": 90}, {"2026..": 90, "2030": 95}):
        with pytest.raises(ValueError, match="by_year"):
            _lc_target(cat, "tap_hop", by_year=by_year)


async def test_a_filter_read_when_the_window_began(session) -> None:
    """ "Mỗi thôn còn hộ nghèo": a village that lifts its last poor household in the window
    counts as done (its poor households are read at the window's start), not as gone."""
    cat, lc, _, (b1, b2, b3) = await _lao_cai(session)
    h1, h2 = half(2026, 1), half(2026, 2)
    form = "sau_thang_chi_hoi"
    # B1: 1 poor household, helped out in H1; none left in H2. B2: never had any.
    await report(session, b1, form, h1, {"ho_ngheo": 1, "ho_thoat_ngheo": 1}, catalog=cat)
    await report(session, b1, form, h2, {"ho_ngheo": 0, "ho_thoat_ngheo": 0}, catalog=cat)
    await report(session, b2, form, h1, {"ho_ngheo": 0, "ho_thoat_ngheo": 0}, catalog=cat)
    # B3: 3 before the window (2025), still 3, none helped.
    await report(
        session, b3, form, half(2025, 2), {"ho_ngheo": 3, "ho_thoat_ngheo": 0}, catalog=cat
    )
    await report(session, b3, form, h2, {"ho_ngheo": 3, "ho_thoat_ngheo": 0}, catalog=cat)
    at_start = _lc_target(cat, "thoat_ngheo", period="2026")
    assert at_start.where is not None and at_start.where.at == "start"
    p = await _one(session, cat, at_start, date(2027, 2, 1), lc)
    assert p.counted == (1, 2)  # B1 done, B3 not; B2 never had any
    latest = _lc_target(
        cat, "thoat_ngheo", period="2026", where=at_start.where.model_dump() | {"at": "window"}
    )
    p = await _one(session, cat, latest, date(2027, 2, 1), lc)
    assert p.counted == (0, 1)  # read at the end, B1 (now 0) drops out


async def test_a_rating_below_the_threshold_is_decided_not_green(session) -> None:
    """A commune rated "hoàn thành" (not "tốt"): its 0% is a result, not "đúng tiến độ"."""
    cat, lc, (c1, c2), _ = await _lao_cai(session)
    await report(session, c1, "xep_loai_co_so", year_period(2026), {"xep_loai": 2}, catalog=cat)
    target = _lc_target(cat, "xep_loai")
    p = await _one(session, cat, target, date(2026, 12, 20), c1)
    assert p.counted == (0, 1) and p.final and p.status == Status.MISSED
    text = progress_text(cat, "Phường Lào Cai", [p], date(2026, 12, 20))
    assert "❌ không đạt" in text and "🟢" not in text
    assert "đã đủ số liệu của mọi đơn vị được tính" in text
    # From the province, Cam Đường is not rated yet: nothing decided before the due date.
    p = await _one(session, cat, target, date(2026, 12, 20), lc)
    assert p.counted == (0, 2) and p.silent == 1 and p.status == Status.PENDING


def test_exclusions_named_in_a_footnote(catalog) -> None:
    cat = load_catalog(DEMO_CONFIG_DIR.parent / "soc_trang")
    target = next(t for t in cat.targets if t.code == "tang_hv")
    p = TargetProgress(target, year_period(2026), [], 9000, 100, None, Status.PENDING)
    text = "\n".join(progress_lines(cat, p))
    assert (
        "Không tính: hội viên là đoàn viên công đoàn; hội viên trong lực lượng vũ trang; "
        "hội viên của các tổ chức thành viên." in text
    )


NEW_WORDS = """
  - code: bad_levels
    label: Sai cấp
    kind: rate
    numerator: pn_kt_ho_tro
    denominator: pn_khuyet_tat
    reported_at: [branch, village]
    target: 80
    source: thử
  - code: start_of_a_flow
    label: Lọc theo số đầu kỳ của một số cộng dồn
    kind: coverage
    indicator: hd_vhvn
    level: branch
    where: {indicator: ho_thoat_ngheo, compare: above, value: 0, at: start}
    target: 100
    source: thử
  - code: reported_at_on_coverage
    label: Sai loại
    kind: coverage
    indicator: hd_vhvn
    level: commune
    reported_at: commune
    target: 100
    source: thử
"""


def test_the_new_words_are_checked(tmp_path) -> None:
    with pytest.raises(ConfigError) as err:
        load_catalog(_config(tmp_path, targets=NEW_WORDS))
    text = "\n".join(err.value.problems)
    assert "'reported_at' is read by sum and rate targets" in text
    with pytest.raises(ConfigError) as err:
        load_catalog(
            _config(tmp_path / "b", targets=NEW_WORDS.partition("  - code: reported_at_on")[0])
        )
    text = "\n".join(err.value.problems)
    assert "field 'reported_at': unknown level 'village'" in text
    assert "'at: start' reads a stock; 'ho_thoat_ngheo' is not one" in text


def test_config_md_documents_every_word_the_checker_accepts() -> None:
    """Every window, expectation, comparison, pairing and filter the target language takes
    is named in demo/CONFIG.md, and every window form written there is read by the checker."""
    from typing import get_args

    from storage.plan.catalog import Aggregation, Compare, Condition, Expect
    from storage.plan.periods import from_key

    doc = (DEMO_CONFIG_DIR.parent / "CONFIG.md").read_text(encoding="utf-8")
    words = [e.value for e in (*Expect, *Compare, *Aggregation)]
    words += list(get_args(Target.model_fields["stocks"].annotation))
    words += list(get_args(Condition.model_fields["at"].annotation))
    words += ["term", "yearly", "by_year", "reported_at", "excludes", "where", "deadline"]
    for word in words:
        assert f"`{word}" in doc or f"{word}:" in doc, word
    windows = ['"2025"', '"2024-H1"', '"2024-Q1"', '"2024-02"', '"NK2021-2026"', '"2021..2025"']
    windows += ['"2024-01..2024-06"']
    terms = load_catalog(DEMO_CONFIG_DIR).terms
    for key in windows:
        assert f"`{key}`" in doc, key
        from_key(key.strip('"'), terms)  # the checker reads it
    assert '"2026.."' in doc  # the open range of by_year


async def test_last_years_verdict_is_said_apart_and_not_counted_this_year(session, catalog):
    """December: a yearly target whose only report is the year's (due 15 January) is shown
    on last year's window; its "không đạt" is last year's, named so, and this year's tally
    counts it as not yet due. January: last year's window, its report not due until the
    15th, is "not yet to be judged" with that date (never the next year's first due)."""
    t = await small_tree(session)
    y2025 = year_period(2025)
    for district in (t.d1, t.d2, t.d3):  # one draft each, two were needed: missed
        await report(session, district, "nam_huyen", y2025, {"phan_bien": 1})
    await report(session, t.province, "nam_tinh", y2025, {"phan_bien": 1})
    target = next(x for x in catalog.targets if x.code == "phan_bien_tinh_huyen")
    cat = replace(catalog, targets=[target])
    day = date(2026, 12, 6)
    items = await progress(session, cat, t.province, day)
    p = items[0]
    assert (p.period.key, p.status, p.previous_window) == ("2025", Status.MISSED, True)
    assert behind_count(items) == 0
    text = progress_text(cat, "Tỉnh", items, day)
    assert "1 chỉ tiêu: 1 chưa đến hạn đánh giá." in text, text
    assert "đang xem kết quả năm 2025: 1 không đạt." in text
    assert "❌ không đạt (năm 2025) " in text
    day = date(2027, 1, 2)
    items = await progress(session, cat, t.province, day)
    p = items[0]
    assert (p.period.key, p.status) == ("2026", Status.PENDING), text
    text = progress_text(cat, "Tỉnh", items, day)
    assert "15/01/2027" in text, text
    assert "chưa có số liệu" not in text.split("\n")[1], text
    assert "15/01/2028" not in text and "đang xem kết quả" not in text, text
