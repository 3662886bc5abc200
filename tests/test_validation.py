"""The form's rules and the outlier check as a pure function, and their checks on load."""

from datetime import date
from pathlib import Path

import pytest

from storage.plan.catalog import Form, OutlierCheck
from storage.plan.catalog_load import load_catalog
from storage.plan.config_files import ConfigError
from storage.plan.periods import month
from storage.plan.validation import Figure, Members, check, outlier_reference, reads_members
from tests.test_catalog import copy_config

NOV = date(2026, 11, 1)
JAN = date(2026, 1, 1)


def monthly(catalog) -> Form:
    return catalog.forms["thang_chi_hoi"]


def rules_of(issues) -> list[tuple[str, str, str, int | None]]:
    return [(i.indicator, i.severity, i.kind, i.rule) for i in issues]


def test_between_answers_stop_and_skipped_without_data(catalog) -> None:
    form = monthly(catalog)
    issues = check(catalog, form, {"ld_tu_van_nghe": 10.0, "ld_chung_chi": 12.0}, {}, NOV)
    assert rules_of(issues) == [("ld_chung_chi", "stop", "rule", 0)]
    assert issues[0].figures == (
        Figure("ld_chung_chi", False, 12.0),
        Figure("ld_tu_van_nghe", False, 10.0),
    )
    assert "chứng chỉ" in issues[0].message
    assert check(catalog, form, {"ld_tu_van_nghe": 10.0, "ld_chung_chi": 10.0}, {}, NOV) == []
    # No data is not 0: a rule with an unanswered or skipped side is not checked.
    assert check(catalog, form, {"ld_chung_chi": 12.0}, {}, NOV) == []
    assert check(catalog, form, {"ld_chung_chi": 12.0, "ld_tu_van_nghe": None}, {}, NOV) == []
    # Checked as one answer is given: only the issues that read it.
    values = {"ld_tu_van_nghe": 10.0, "ld_chung_chi": 12.0, "hv_ra": 9.0}
    history = {"tong_hoi_vien": [(date(2026, 10, 31), 5.0)]}
    assert rules_of(check(catalog, form, values, history, NOV, only="hv_ra")) == [
        ("hv_ra", "stop", "rule", 1)
    ]
    assert rules_of(check(catalog, form, values, history, NOV, only="ld_tu_van_nghe")) == [
        ("ld_chung_chi", "stop", "rule", 0)
    ]


def test_against_previous_values_and_running_totals(catalog) -> None:
    form = monthly(catalog)
    october = date(2026, 10, 31)
    history = {"tong_hoi_vien": [(october, 170.0)], "pn_kt_ho_tro": [(october, 4.0)]}
    issues = check(catalog, form, {"hv_ra": 171.0, "pn_kt_ho_tro": 1.0}, history, NOV)
    assert rules_of(issues) == [("hv_ra", "stop", "rule", 1), ("pn_kt_ho_tro", "stop", "rule", 3)]
    assert issues[0].figures[1] == Figure("tong_hoi_vien", True, 170.0)
    # A running total starts again in January: December's figure is not compared.
    december = {"pn_kt_ho_tro": [(date(2025, 12, 31), 4.0)]}
    assert check(catalog, form, {"pn_kt_ho_tro": 1.0}, december, JAN) == []
    # The same rule on the previous value only (no "same_year") still reads last year's.
    assert check(catalog, form, {"hv_ra": 9.0}, {"tong_hoi_vien": [(date(2025, 12, 31), 5.0)]}, JAN)


def test_a_stock_that_moves_more_than_its_share_asks_to_confirm(catalog) -> None:
    form = monthly(catalog)
    history = {"tong_hoi_vien": [(date(2026, 10, 31), 170.0)]}
    [issue] = check(catalog, form, {"tong_hoi_vien": 120.0}, history, NOV)
    assert (issue.indicator, issue.severity, issue.kind, issue.rule) == (
        "tong_hoi_vien",
        "confirm",
        "rule",
        2,
    )
    assert check(catalog, form, {"tong_hoi_vien": 140.0}, history, NOV) == []  # within 20%
    assert check(catalog, form, {"tong_hoi_vien": 204.0}, history, NOV) == []
    assert len(check(catalog, form, {"tong_hoi_vien": 205.0}, history, NOV)) == 1


def test_member_count_and_outliers(catalog) -> None:
    form = monthly(catalog)
    registered = Members(100.0, "registered")
    [issue] = check(catalog, form, {"ho_thoat_ngheo": 300.0}, {}, NOV, members=registered)
    assert (issue.kind, issue.reference, issue.members) == ("members", 100.0, registered)
    earlier = [(date(2026, m, 28), float(m % 3)) for m in range(10, 0, -1)]
    [issue] = check(catalog, form, {"hv_moi": 30.0}, {"hv_moi": earlier}, NOV)
    assert (issue.kind, issue.severity, issue.reference) == ("outlier", "confirm", 1.0)
    assert check(catalog, form, {"hv_moi": 8.0}, {"hv_moi": earlier}, NOV) == []
    # The usual count of an even history is a whole number of people, never "290,5 người".
    even = [(date(2026, m, 28), 290.0 + m % 2) for m in range(10, 0, -1)]
    [issue] = check(catalog, form, {"hv_moi": 3.0}, {"hv_moi": even}, NOV)
    assert issue.kind == "outlier" and issue.reference is not None
    assert issue.reference == round(issue.reference)


def test_outlier_reference_median_mad_and_floors() -> None:
    form = Form.model_validate(
        {"code": "f", "name": "f", "level": "branch", "periodicity": "month", "questions": []}
    )
    # Small counts: the floor (3) keeps a spread; 10 from a usual 1 is fine, 15 is not.
    assert outlier_reference(form, 10, [1, 0, 2, 1, 1]) is None
    assert outlier_reference(form, 15, [1, 0, 2, 1, 1]) == 1
    # A stock: the floor is a share of the median (10% of 170 = 17): 120 is 2.9 spreads away.
    assert outlier_reference(form, 120, [170] * 12) is None
    assert outlier_reference(form, 100, [170] * 12) == 170
    # A spread history: MAD times 1.4826.
    wide = [10, 30, 50, 70, 90]
    assert outlier_reference(form, 140, wide) is None
    assert outlier_reference(form, 160, wide) == 50
    # Only the last `periods` count; too little history or switched off: no judgement.
    strict = form.model_copy(update={"outliers": OutlierCheck(periods=3, min_history=3)})
    assert outlier_reference(strict, 40, [1, 1, 1, 100, 100, 100]) == 1
    assert outlier_reference(strict, 40, [1, 1]) is None
    off = form.model_copy(update={"outliers": OutlierCheck(enabled=False)})
    assert outlier_reference(off, 400, [1, 1, 1]) is None


def _problems(folder: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_catalog(folder)
    return caught.value.problems


def _edit(tmp_path: Path, *changes: tuple[str, str]) -> tuple[Path, list[str]]:
    folder = copy_config(tmp_path)
    path = folder / "forms.yaml"
    text = path.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return path, text.splitlines()


def _line(lines: list[str], fragment: str) -> int:
    return next(n for n, line in enumerate(lines, 1) if fragment in line)


def test_rules_are_read_on_load_with_file_line_and_field(tmp_path: Path) -> None:
    path, lines = _edit(
        tmp_path,
        ("check: hv_ra <= previous(tong_hoi_vien)", "check: hv_ra <<= 3"),
        ("check: ld_chung_chi <= ld_tu_van_nghe", "check: __import__('os').system('x') < 1"),
        ("        max_share: 0.2\n", ""),
    )
    problems = _problems(path.parent)
    assert len(problems) == 3, problems
    assert (
        f"{path}:{_line(lines, '<<=')}: forms[0] field 'rules.1.check': Value error, check "
        "cannot be read: hv_ra <<= 3"
    ) in problems
    assert any(
        p.startswith(f"{path}:{_line(lines, '__import__')}: forms[0] field 'rules.0.check'")
        and "only previous(code) may be called in a check" in p
        for p in problems
    )
    assert any(
        p.startswith(f"{path}:{_line(lines, 'change: tong_hoi_vien')}: forms[0] field 'rules.2'")
        and "a 'change' rule needs 'max_share'" in p
        for p in problems
    )


def test_rules_name_questions_of_their_form_and_labels_are_unique(tmp_path: Path) -> None:
    path, lines = _edit(
        tmp_path,
        ("check: ld_chung_chi <= ld_tu_van_nghe", "check: ld_chung_chi <= pn_khuyet_tat"),
        ("check: hv_ra <= previous(tong_hoi_vien)", "check: previous(hv_ra) <= previous(hv_moi)"),
        ("short: tn}", "short: hvm}"),
    )
    problems = _problems(path.parent)
    assert len(problems) == 3, problems
    assert (
        f"{path}:{_line(lines, 'pn_khuyet_tat')}: forms[0] field 'rules.0.check': "
        "'pn_khuyet_tat' is not a question of this form"
    ) in problems
    assert any(
        p.startswith(f"{path}:{_line(lines, 'previous(hv_ra)')}: forms[0] field 'rules.1.check'")
        and "a check needs at least one answer of this report" in p
        for p in problems
    )
    assert (
        f"{path}:{_line(lines, 'short: hvm}') + 2}: forms[0] field 'questions.2.short': 'hvm' "
        "is already used for 'hv_moi'"
    ) in problems


async def test_the_reports_import_applies_the_same_rules(sessions, catalog, tmp_path) -> None:
    from openpyxl import Workbook

    from handlers.reports_import import import_reports
    from storage.db.importing import ImportFailed
    from storage.db.units import unit_by_code
    from storage.plan.periods import month
    from tests.builders import report
    from tests.test_reports_import import NOW, TODAY, units

    async with sessions() as session:
        await units(session, catalog, tmp_path)
        other = await unit_by_code(session, "KH-VN-02-02")
        assert other is not None
        await report(session, other, "thang_chi_hoi", month(2026, 9), {"tong_hoi_vien": 80})
    wb = Workbook()
    ws = wb.active
    ws.append(["code", "period", "hv_ra", "ld_tu_van_nghe", "ld_chung_chi", "tong_hoi_vien",
               "pn_kt_ho_tro"])  # fmt: skip
    ws.append(["KH-VN-02-01", "tháng 10/2026", 0, 2, 3, 90, 2])
    ws.append(["KH-VN-02-01", "tháng 9/2026", 0, 5, 1, 120, 4])
    ws.append(["KH-VN-02-02", "tháng 10/2026", 81, 0, 0, 0, ""])
    path = tmp_path / "rules.xlsx"
    wb.save(path)
    async with sessions() as session:
        with pytest.raises(ImportFailed) as caught:
            await import_reports(
                session, catalog, path, "thang_chi_hoi", None, today=TODAY, now=NOW
            )
    errors = caught.value.errors
    assert len(errors) == 3, errors
    # Between answers of a row; against the unit's earlier row in the same file (a running
    # total since January); against the unit's report already in the database.
    assert errors[0].startswith(
        "rules.xlsx row 2 column E: rule ld_chung_chi <= ld_tu_van_nghe is not met: "
        "ld_chung_chi (question 5) = 3, ld_tu_van_nghe (question 4) = 2 (Số chị em"
    )
    assert errors[1].startswith(
        "rules.xlsx row 2 column G: rule pn_kt_ho_tro >= previous(pn_kt_ho_tro) is not met: "
        "pn_kt_ho_tro (question 10) = 2, previous pn_kt_ho_tro (question 10) = 4"
    )
    assert errors[2].startswith(
        "rules.xlsx row 4 column C: rule hv_ra <= previous(tong_hoi_vien) is not met: "
        "hv_ra (question 2) = 81, previous tong_hoi_vien (question 9) = 80"
    )
    ws.cell(2, 5).value = 1
    ws.cell(2, 7).value = 5
    ws.cell(4, 3).value = 1
    ws.cell(4, 6).value = 79
    wb.save(path)
    async with sessions() as session, session.begin():
        done = await import_reports(
            session, catalog, path, "thang_chi_hoi", None, today=TODAY, now=NOW
        )
    assert done.reports == 3
    # What chat asks to confirm is a warning: members down from 120 to 90.
    assert done.warnings == [
        "warning: rules.xlsx row 2 column F: rule change of tong_hoi_vien within 20% is not "
        "met: tong_hoi_vien (question 9) = 90, previous tong_hoi_vien (question 9) = 120 "
        "(Tổng số hội viên thay đổi hơn 20% so với kỳ trước.)"
    ]


def test_the_member_total_she_answered_comes_before_any_other_count(catalog) -> None:
    """Her draft's own member total, else the latest reported or registered one (given)."""
    form = monthly(catalog)
    reported = Members(125.0, "earlier_report", month(2026, 10))
    # 120 households: within her October total of 125, though above the registered 114.
    assert check(catalog, form, {"ho_thoat_ngheo": 120.0}, {}, NOV, members=reported) == []
    [issue] = check(catalog, form, {"ho_thoat_ngheo": 130.0}, {}, NOV, members=reported)
    assert (issue.reference, issue.members) == (125.0, reported)
    # This report's own total is read first, whatever was reported or registered before.
    values = {"ho_thoat_ngheo": 130.0, "tong_hoi_vien": 140.0}
    assert check(catalog, form, values, {}, NOV, members=reported) == []
    values = {"ho_thoat_ngheo": 130.0, "tong_hoi_vien": 110.0}
    [issue] = check(catalog, form, values, {}, NOV, members=reported, only="ho_thoat_ngheo")
    assert issue.members == Members(110.0, "this_report")
    # A skipped total is no total: the count given is used.
    values = {"ho_thoat_ngheo": 130.0, "tong_hoi_vien": None}
    [issue] = check(catalog, form, values, {}, NOV, members=reported)
    assert issue.members == reported
    # A total of 0 counts no one (as 0 in the units file): the count given is used.
    values = {"ho_thoat_ngheo": 130.0, "tong_hoi_vien": 0.0}
    [issue] = check(catalog, form, values, {}, NOV, members=reported)
    assert issue.members == reported
    # Nothing known: no check, never "more than 0 members".
    assert check(catalog, form, {"ho_thoat_ngheo": 130.0}, {}, NOV) == []


def test_a_wrong_member_total_is_refused_on_load(tmp_path: Path) -> None:
    folder = copy_config(tmp_path)
    path = folder / "indicators.yaml"
    text = path.read_text(encoding="utf-8")
    # A flow (summed over months) marked as the total, and a second total.
    text = text.replace(
        "    unit: người\n    per_member: true\n",
        "    unit: người\n    per_member: true\n    member_total: true\n",
        1,
    )
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    first = lines.index("    member_total: true") + 1
    second = lines.index("    member_total: true", first) + 1
    problems = _problems(folder)
    assert problems == [
        f"{path}:{first}: indicators[0] field 'member_total': 'hv_moi' is added up over time "
        "(aggregation: sum); the member total is a stock: write aggregation: last",
        f"{path}:{second}: indicators[3] field 'member_total': 'hv_moi' is already the member "
        "total; mark one indicator only",
    ], problems
    # A yes/no answer is not a count of members.
    text = path.read_text(encoding="utf-8").replace("    member_total: true\n", "", 1)
    text = text.replace("    type: yes_no\n", "    type: yes_no\n    member_total: true\n", 1)
    text = text.replace(
        "    aggregation: last\n    member_total: true\n", "    aggregation: last\n"
    )
    path.write_text(text, encoding="utf-8")
    [problem] = _problems(folder)
    assert "field 'member_total':" in problem and "is a yes_no indicator; the member total" in (
        problem
    )


def test_a_member_count_is_read_only_when_a_per_member_answer_needs_it(catalog) -> None:
    form = monthly(catalog)
    assert not reads_members(catalog, form, {"hd_vhvn": 3.0})  # not per member
    assert reads_members(catalog, form, {"hd_vhvn": 3.0, "hv_moi": 2.0})
    assert not reads_members(catalog, form, {"hd_vhvn": 3.0, "hv_moi": 2.0}, only="hd_vhvn")
    assert reads_members(catalog, form, {"hv_moi": 2.0, "tong_hoi_vien": None})  # skipped
    assert not reads_members(catalog, form, {"hv_moi": 2.0, "tong_hoi_vien": 90.0})  # her own
