"""Totals that say what they rest on (#20): the CLI, the chat, the pages and the workbook show
the same figures from one function (storage/measures/totals.py), a unit without a report is "chưa
báo cáo" and never 0, a change compares only units that reported in both periods, yes/no answers
are counted and ratios recomputed from their parts. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from typer.testing import CliRunner

from bot.config import DEMO_CONFIG_DIR, get_settings
from handlers import staff, web_indicator_page, web_pages
from handlers.engine import Engine
from handlers.export_xlsx import build_workbook
from handlers.query import indicator_query
from handlers.views import progress_lines, total_lines
from storage.db.models import OrgUnit, Person, Role
from storage.db.units import create_unit
from storage.measures import progress, totals
from storage.plan.catalog import label_words
from storage.plan.catalog_load import load_catalog
from storage.plan.periods import month, quarter, year_period
from storage.plan.text import fold
from tests.builders import linked, report, small_tree
from tests.chat import ChatUser
from tests.test_shipped_provinces import SHIPPED

SEP, OCT, NOV = month(2026, 9), month(2026, 10), month(2026, 11)
FORM = "thang_chi_hoi"
NAM_DINH = Path(__file__).parent / "configs" / "nam_dinh"


async def stamp(engine) -> None:
    from alembic import command

    from storage.db.migrate import alembic_config

    def run(connection) -> None:  # type: ignore[no-untyped-def]
        cfg = alembic_config(str(engine.url))
        cfg.attributes["connection"] = connection
        command.stamp(cfg, "head")

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def commune_of_six(session) -> dict[str, OrgUnit]:
    """KH ─ Huyện Khánh Sơn ─ Xã Sơn Bình (six branches), Xã Sơn Hiệp (one branch); Huyện
    Khánh Vĩnh (nothing below it, as the plan names it)."""

    async def unit(code: str, name: str, level: str, parent: OrgUnit | None) -> OrgUnit:
        return await create_unit(
            session, code=code, name=name, level=level, parent=parent, member_count=100
        )

    units = {"KH": await unit("KH", "Tỉnh Khánh Hòa", "province", None)}
    units["KS"] = await unit("KH-KS", "Huyện Khánh Sơn", "district", units["KH"])
    units["KV"] = await unit("KH-KV", "Huyện Khánh Vĩnh", "district", units["KH"])  # no branch
    units["C1"] = await unit("C1", "Xã Sơn Bình", "commune", units["KS"])
    units["C2"] = await unit("C2", "Xã Sơn Hiệp", "commune", units["KS"])
    for i in range(1, 7):
        units[f"B{i}"] = await unit(f"C1-{i}", f"Chi hội tổ dân phố {i}", "branch", units["C1"])
    units["B7"] = await unit("C2-1", "Chi hội thôn Một", "branch", units["C2"])
    await session.commit()
    return units


@pytest.fixture
async def six(ctx):
    """October: all six branches of Xã Sơn Bình report 3 new members; November: five do
    (4, 0, 3, 3, 3; the second reported a real zero), the sixth has not. Xã Sơn Hiệp's one
    branch reported November only."""
    async with ctx.sessions() as session:
        units = await commune_of_six(session)
        for i in range(1, 7):
            await report(
                session, units[f"B{i}"], FORM, OCT, {"hv_moi": 3, "tong_hoi_vien": 100 + i}
            )
        for i, new in enumerate([4, 0, 3, 3, 3], start=1):
            await report(
                session, units[f"B{i}"], FORM, NOV, {"hv_moi": new, "tong_hoi_vien": 110 + i}
            )
        await report(session, units["B7"], FORM, NOV, {"hv_moi": 2, "tong_hoi_vien": 50})
        staff_person = Person(
            full_name="Phạm Thị Hương",
            role=Role.PROVINCIAL_STAFF,
            unit_id=units["KH"].id,
            created_at=ctx.clock.now(),
        )
        session.add(staff_person)
        await session.flush()
        await linked(session, staff_person, "telegram", "u-staff", ctx.clock.now())
        await session.commit()
    return units, ChatUser(Engine(ctx), "u-staff")


async def test_a_branch_without_a_report_is_not_zero_anywhere(
    ctx, six, db_url, engine, monkeypatch
) -> None:
    units, user = six
    expected = [
        "Hội viên mới kết nạp – Xã Sơn Bình, tháng 11/2026: 13 người",
        "Tính trên 5/6 chi hội đã báo cáo (1 chi hội chưa báo cáo).",
        # Like with like: the five that reported both months, 15 → 13 (not 18 → 13).
        "So với tháng 10/2026, chỉ tính 5 chi hội báo cáo cả hai kỳ: 15 → 13 (−2, −13,3%).",
        "1. Chi hội tổ dân phố 1: 4 (30,8%)",
        "5. Chi hội tổ dân phố 2: 0 (0%)",  # a reported zero stays a zero
        "6. Chi hội tổ dân phố 6: chưa báo cáo",
    ]
    # The CLI, through its wrapper and through the real command line.
    cli = await staff.cli_total(ctx, "hội viên mới", "tháng 11/2026", "C1")
    for line in expected:
        assert line in cli.splitlines(), (line, cli)
    assert cli.count("0 (0%)") == 1
    await stamp(engine)  # (the tables were made without migrations: say they are current)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("HOIBOT_NOW", "2026-11-27T09:00:00+07:00")
    get_settings.cache_clear()
    try:
        from bot.cli import app

        # In a thread: the command line runs its own event loop.
        run = await asyncio.to_thread(
            CliRunner().invoke,
            app,
            ["report", "total", "hội viên mới", "--period", "tháng 11/2026", "--unit", "C1"],
        )
    finally:
        get_settings.cache_clear()
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    assert run.exit_code == 0, run.output
    assert run.output.strip() == cli.strip()
    # The chat says the same, word for word.
    await user.send("/tong hội viên mới tháng 11/2026 xã Sơn Bình")
    assert user.text == cli
    async with ctx.sessions() as session:
        # The indicator page: the same headline, and the same cell for each unit.
        page = await web_indicator_page.indicator_page(
            session, ctx.catalog, "hv_moi", units["C1"], units["KH"], NOV, ctx.clock.today()
        )
        assert page.head == cli.splitlines()[:4]  # (with: November is within its due date)
        cells = {r.unit.name: r.achieved for r in page.rows}
        assert cells["Chi hội tổ dân phố 6"] == "chưa báo cáo"
        assert cells["Chi hội tổ dân phố 2"] == "0 người"
        assert [r.value for r in page.rows if r.unit.name.endswith("6")] == [None]
        # The workbook: an empty cell and "chưa báo cáo", a real 0, and the commune's 5/6.
        data = await build_workbook(session, ctx.catalog, units["C1"], NOV, ctx.clock.today())
    sheet = load_workbook(BytesIO(data))["Báo cáo tháng của chi hội"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[1])
    col = header.index("Hội viên mới kết nạp (người)")
    by_code = {r[header.index("Mã đơn vị")]: r for r in rows[2:]}
    assert by_code["C1-6"][col] is None and by_code["C1-6"][-1] == "chưa báo cáo"
    assert by_code["C1-2"][col] == 0 and by_code["C1-2"][-1] == "đã báo cáo"
    assert by_code["C1"][col] == 13 and by_code["C1"][-1] == "5/6 chi hội đã báo cáo"


async def test_the_province_says_which_units_rest_on_what(ctx, six) -> None:
    units, user = six
    await user.send("/tong hội viên mới tháng 11/2026")
    text = user.text.splitlines()
    assert "Hội viên mới kết nạp – Tỉnh Khánh Hòa, tháng 11/2026: 15 người" in text
    assert "Tính trên 6/7 chi hội đã báo cáo (1 chi hội chưa báo cáo)." in text
    # Xã Sơn Hiệp's branch reported November only: it is left out of the change, and said.
    assert "So với tháng 10/2026, chỉ tính 5 chi hội báo cáo cả hai kỳ" in user.text
    assert "1. Huyện Khánh Sơn: 15 (100%) – 6/7 chi hội đã báo cáo" in text
    await user.send("/tong hội viên mới tháng 11/2026 xã Sơn Hiệp")
    assert "Kỳ trước (tháng 10/2026) chưa có số liệu." in user.text
    # December: only branch 6, which did not report November: nothing to compare.
    async with ctx.sessions() as session:
        await report(session, units["B6"], FORM, month(2026, 12), {"hv_moi": 1})
    await user.send("/tong hội viên mới tháng 12/2026")
    assert "Chưa so được với tháng 11/2026: không có chi hội nào báo cáo cả hai kỳ." in user.text
    # Nothing at all reported in a period: said, with how many should have.
    await user.send("/tong hội viên mới tháng 8/2026 xã Sơn Bình")
    assert "Chưa có báo cáo nào đã gửi cho tháng 8/2026 (0/6 chi hội)." in user.text
    assert "6. Chi hội tổ dân phố 6: chưa báo cáo" in user.text


async def test_a_stock_says_which_period_each_figure_is_from(ctx, six) -> None:
    units, _ = six
    async with ctx.sessions() as session:
        total = await totals.indicator_total(
            session, ctx.catalog, "tong_hoi_vien", units["C1"], quarter(2026, 4)
        )
    head, rows = total_lines(ctx.catalog, total)
    # 111+112+113+114+115 (November) + 106 (branch 6's October, its latest).
    assert head[0] == "Tổng số hội viên hiện có – Xã Sơn Bình, quý IV/2026: 671 người"
    assert "Tính trên 6/6 chi hội đã báo cáo." in head
    assert (
        "Số lấy theo báo cáo gần nhất của mỗi chi hội: tháng 11/2026 (5 chi hội), "
        "tháng 10/2026 (1 chi hội)." in head
    )
    assert any(r.endswith("Chi hội tổ dân phố 6: 106 (15,8%) – số tháng 10/2026") for r in rows)
    # A flow over a year still being reported: says how far reports go, and compares the
    # same stretch of last year (none here: nothing reported in 2025).
    async with ctx.sessions() as session:
        year = await totals.indicator_total(
            session, ctx.catalog, "hv_moi", units["C1"], year_period(2026)
        )
    head, rows = total_lines(ctx.catalog, year)
    assert "Đã có báo cáo đến hết tháng 11/2026." in head
    assert "Trong đó 1 chi hội chưa báo cáo đủ 2 kỳ." in head
    assert any(r.endswith("Chi hội tổ dân phố 6: 3 (9,7%) – 1/2 kỳ") for r in rows)
    assert year.change is not None and year.change.period.label == "từ 01/01/2025 đến 30/11/2025"


async def test_a_rate_says_when_its_pair_is_from_an_earlier_period(ctx) -> None:
    """The rate of members reached (quarterly) over members (monthly): a branch whose
    figures are paired in an earlier quarter is named, and one that gave the two figures in
    different periods is left out and said to be, so the member page (latest figures) and
    the rate's pairs never disagree without saying why."""
    async with ctx.sessions() as session:
        units = await commune_of_six(session)
        for i in range(1, 5):  # both figures for the third quarter
            await report(session, units[f"B{i}"], FORM, month(2026, 9), {"tong_hoi_vien": 100})
            await report(
                session, units[f"B{i}"], "quy_chi_hoi", quarter(2026, 3), {"hv_tuyen_truyen": 90}
            )
        # Branch 5: both in the second quarter, then only its members in September.
        await report(session, units["B5"], FORM, month(2026, 6), {"tong_hoi_vien": 80})
        await report(session, units["B5"], "quy_chi_hoi", quarter(2026, 2), {"hv_tuyen_truyen": 40})
        await report(session, units["B5"], FORM, month(2026, 9), {"tong_hoi_vien": 120})
        # Branch 6: reached members in the second quarter, members only in September.
        await report(session, units["B6"], "quy_chi_hoi", quarter(2026, 2), {"hv_tuyen_truyen": 50})
        await report(session, units["B6"], FORM, month(2026, 9), {"tong_hoi_vien": 70})
        target = next(t for t in ctx.catalog.targets if t.code == "tuyen_truyen")
        p = await progress.measure(session, ctx.catalog, target, [units["C1"]], ctx.clock.today())
        assert p.ratio == (4 * 90 + 40, 4 * 100 + 80) and p.basis == (5, 6)
        lines = [line.strip() for line in progress_lines(ctx.catalog, p)]
        assert "1 chi hội tính theo số quý II/2026 (kỳ gần nhất có đủ các số)." in lines
        assert "1 chi hội chưa có đủ các số trong cùng một kỳ nên chưa tính." in lines
        # The member count page shows September's 120 for branch 5; the rate's breakdown
        # by commune says which of its pairs is the second quarter's.
        members = await totals.indicator_total(
            session, ctx.catalog, "tong_hoi_vien", units["C1"], year_period(2026)
        )
        assert members.figure.value == 4 * 100 + 120 + 70
        page = await web_pages.target_breakdown(
            session, ctx.catalog, target, units["KS"], units["KH"], ctx.clock.today()
        )
        assert page is not None
        row = next(r for r in page.rows if r.unit.name == "Xã Sơn Bình")
        assert row.detail.startswith("400/480") and "quý II/2026" in row.detail


async def nam_dinh(ctx, tmp_path: Path):
    """The plan written from CONFIG.md alone, with a percentage reported as such added."""
    folder = tmp_path / "nam_dinh"
    shutil.copytree(NAM_DINH, folder)
    with (folder / "indicators.yaml").open("a", encoding="utf-8") as f:
        f.write(
            "  - code: ty_le_sinh_hoat\n"
            "    label: Tỷ lệ hội viên tham gia sinh hoạt\n"
            "    question: Bao nhiêu phần trăm hội viên tham gia sinh hoạt?\n"
            "    type: amount\n"
            '    unit: "%"\n'
            "    aggregation: last\n"
        )
    forms = (folder / "forms.yaml").read_text(encoding="utf-8")
    forms = forms.replace(
        "questions: [co_website, co_may_tinh, hd_cntt, ho_3sach, tong_ho]",
        "questions: [co_website, co_may_tinh, hd_cntt, ho_3sach, tong_ho, ty_le_sinh_hoat]",
    )
    (folder / "forms.yaml").write_text(forms, encoding="utf-8")
    ctx.catalog = load_catalog(folder)
    return ctx.catalog


async def test_yes_no_is_counted_and_a_ratio_recomputed_never_added(ctx, tmp_path) -> None:
    catalog = await nam_dinh(ctx, tmp_path)
    q1 = quarter(2024, 1)
    async with ctx.sessions() as session:
        t = await small_tree(session)  # province; districts KS (C1, C2), KV (C3), D3 (C4)

        async def sent(unit, form, period, values) -> None:
            await report(session, unit, form, period, values, catalog=catalog)

        await sent(t.province, "thang_tinh", month(2024, 3), {"co_website": 1})
        await sent(t.d1, "quy_huyen", q1, {"co_website": 1})
        await sent(t.d2, "quy_huyen", q1, {"co_website": 0})
        base = {"co_may_tinh": 1, "hd_cntt": 1}
        await sent(
            t.c1,
            "quy_co_so",
            q1,
            {**base, "co_website": 1, "ho_3sach": 95, "tong_ho": 100, "ty_le_sinh_hoat": 85},
        )
        await sent(
            t.c2,
            "quy_co_so",
            q1,
            {**base, "co_website": 0, "ho_3sach": 90, "tong_ho": 100, "ty_le_sinh_hoat": 70},
        )
        await sent(t.c3, "quy_co_so", q1, {**base, "co_website": 1, "ho_3sach": 50})  # no tong_ho
        await session.commit()
        website = await staff.total_answer(
            session, catalog, catalog.indicators["co_website"], t.province, q1
        )
        ratio = await staff.total_answer(
            session, catalog, catalog.indicators["ty_le_3sach"], t.province, q1
        )
        each = await staff.total_answer(
            session, catalog, catalog.indicators["ty_le_sinh_hoat"], t.d1, q1
        )
        each_province = await staff.total_answer(
            session, catalog, catalog.indicators["ty_le_sinh_hoat"], t.province, q1
        )
        # The workbook's district subtotal of a yes/no is "k/n có" too.
        data = await build_workbook(session, catalog, t.province, q1, ctx.clock.today())
    lines = website.splitlines()
    # Province, KS, KV answered (yes, yes, no); communes C1 yes, C2 no, C3 yes; C4 and D3 not.
    assert lines[0] == (
        "Có website hoặc fanpage của Hội – Tỉnh Khánh Hòa, quý I/2024: 4/6 đơn vị có"
    )
    assert "Tính trên 6/8 đơn vị đã báo cáo (2 đơn vị chưa báo cáo)." in lines
    assert "1. Tỉnh Khánh Hòa (tự báo cáo): có – số tháng 3/2024" in lines, website
    assert "2. Huyện Khánh Sơn: 2/3 có" in lines
    assert "3. Huyện Khánh Vĩnh: 1/2 có" in lines
    assert "4. Huyện Ba: chưa báo cáo" in lines
    # The ratio of sums over the communes that gave both figures: (95 + 90) / 200.
    lines = ratio.splitlines()
    assert lines[0] == "Tỷ lệ hộ đạt tiêu chí 3 sạch – Tỉnh Khánh Hòa, quý I/2024: 92,5%"
    assert "Tính lại từ tổng các số thành phần (185/200), không cộng tỷ lệ từng đơn vị." in lines
    assert "Tính trên 2/4 cơ sở Hội có đủ các số trong cùng một kỳ." in lines
    assert "1 cơ sở Hội chưa có đủ các số trong cùng một kỳ nên chưa tính." in lines
    assert "1. Huyện Khánh Sơn: 92,5% (185/200)" in lines  # no share of a ratio
    assert "2. Huyện Khánh Vĩnh: chưa đủ số" in lines, ratio
    assert "3. Huyện Ba: chưa báo cáo" in lines
    # A percentage reported as such is each unit's own: listed, never added up.
    lines = each.splitlines()
    assert lines[0] == (
        "Tỷ lệ hội viên tham gia sinh hoạt – Huyện Khánh Sơn, quý I/2024: mỗi cơ sở Hội báo "
        "cáo tỷ lệ của mình, không cộng thành tổng."
    )
    assert "1. Xã Sơn Bình: 85%" in lines and "2. Xã Sơn Hiệp: 70%" in lines
    assert "155" not in each and "So với" not in each
    assert "1. Huyện Khánh Sơn: 2/2 cơ sở Hội đã báo cáo" in each_province.splitlines()
    sheet = load_workbook(BytesIO(data))["Báo cáo quý của Hội LHPN huyện"]
    rows = list(sheet.iter_rows(values_only=True))
    col = list(rows[1]).index("Có website hoặc fanpage của Hội")
    by_code = {r[list(rows[1]).index("Mã đơn vị")]: r for r in rows[2:]}
    assert by_code["KH-KS"][col] == "Có" and by_code["KH-KV"][col] == "Không"
    assert by_code["KH-D3"][col] is None
    assert by_code["KH"][col] == "1/2 có"  # the districts' own answers, not the communes'
    assert by_code["KH"][-1] == "2/3 huyện đã báo cáo"


async def test_a_unit_is_found_without_its_level_word(ctx, six) -> None:
    units, user = six
    await user.send("/tong hội viên mới tháng 11/2026 Sơn Bình")
    assert user.text.startswith("Hội viên mới kết nạp – Xã Sơn Bình, tháng 11/2026: 13 người")
    # The indicator is found; it is the unit that is not: say so, not "no such indicator".
    await user.send("/tong hội viên mới năm nay Lương Hòa")
    assert user.text == "Không tìm thấy đơn vị «Lương Hòa» trong phạm vi của chị."
    await user.send("/tong hội viên mới tháng 11/2026")
    assert "Tỉnh Khánh Hòa" in user.text
    await user.send("/tong lương hòa")
    assert user.text.startswith("Không tìm thấy chỉ số «lương hòa»")


async def test_the_cli_finds_an_indicator_by_a_short_label(ctx, six) -> None:
    out = await staff.cli_total(ctx, "thv", "tháng 11/2026", "C1")
    assert out.startswith("Tổng số hội viên hiện có – Xã Sơn Bình, tháng 11/2026: 565 người")
    # "ks" is a short label in two forms: both are offered, as for any ambiguous words.
    with pytest.raises(staff.StaffError) as caught:
        await staff.cli_total(ctx, "ks", "tháng 11/2026", "C1")
    assert caught.value.reason == "ambiguous_indicator"
    assert set(caught.value.choices) == {"ho_5k3s", "chi_hoi_5k3s_moi"}


async def test_a_sum_targets_line_says_how_many_units_it_rests_on(ctx, six) -> None:
    """ "Đạt 13/5.000 hộ" over 5 of 7 branches says so, as a rate's line does; the group
    target of two districts (one without branches) counts the branches under both."""
    units, user = six
    async with ctx.sessions() as session:
        for i in range(1, 6):
            await report(session, units[f"B{i}"], FORM, SEP, {"ho_thoat_ngheo": 2 + i})
        await session.commit()
    await user.send("/tiendo")
    lines = user.text.splitlines()
    line = next(x for x in lines if "/5.000 hộ" in x)
    assert line.strip() == (
        "Đạt 25/5.000 hộ = 0,5% chỉ tiêu, tính trên 5/7 chi hội đã báo cáo (2 chi hội chưa báo cáo)"
    ), user.text
    group = next(x for x in lines if "/1.000 hộ" in x)
    assert group.strip().endswith("tính trên 5/7 chi hội đã báo cáo (2 chi hội chưa báo cáo)")
    # Every branch reported: nothing to say.
    async with ctx.sessions() as session:
        await report(session, units["B6"], FORM, SEP, {"ho_thoat_ngheo": 1})
        await report(session, units["B7"], FORM, SEP, {"ho_thoat_ngheo": 0})
        await session.commit()
    await user.send("/tiendo")
    line = next(x for x in user.text.splitlines() if "/5.000 hộ" in x)
    assert line.strip() == "Đạt 26/5.000 hộ = 0,5% chỉ tiêu", user.text


async def test_a_trend_says_what_each_period_rests_on(ctx, six, monkeypatch) -> None:
    """Each period's figure carries its own basis: October over 6 of 6 branches, November
    over 5 of 6, September over none ("–", no bar), never a 0 for a period nobody sent."""
    from handlers import charts

    units, _ = six
    async with ctx.sessions() as session:
        await report(session, units["B1"], FORM, month(2026, 8), {"hv_moi": 2})
        await session.commit()
        steps = await totals.series(session, ctx.catalog, "hv_moi", units["C1"], year_period(2026))
        assert [p.key for p, _ in steps] == [f"2026-{m:02d}" for m in range(1, 13)]
        by_key = {p.key: f for p, f in steps}
        assert (by_key["2026-10"].value, by_key["2026-10"].reported) == (18, 6)
        assert (by_key["2026-11"].value, by_key["2026-11"].reported) == (13, 5)
        assert by_key["2026-09"].value is None and by_key["2026-09"].expected == 6
        drawn: dict[str, object] = {}

        def trend(title, labels, values, unit_word, target, notes=None) -> bytes:  # type: ignore[no-untyped-def]
            drawn.update(title=title, labels=labels, values=values, notes=notes)
            return b"png"

        monkeypatch.setattr(charts, "trend_png", trend)
        await charts.chart(
            session, ctx.catalog, ctx.catalog.indicators["hv_moi"], units["C1"], year_period(2026)
        )
    assert drawn["labels"] == ["8/26", "9/26", "10/26", "11/26"]
    assert drawn["values"] == [2, None, 18, 13]
    assert drawn["notes"] == ["1/6", "–", "", "5/6"]
    assert "chi hội đã báo cáo/phải báo cáo" in str(drawn["title"])


async def test_a_targets_breakdown_and_its_indicator_page_agree_and_name_the_period(
    site,
) -> None:
    """The sum target's page and the indicator page it links to: the same window named on
    both, the same figure for each unit below, and "chưa báo cáo" (never 0) for a unit
    with nothing reported under it."""
    import re

    link = site.link(site.people.provincial)
    status, html = await site.get(f"{link}chi-tieu/thoat_ngheo")
    assert status == 200
    found = re.search(r'href="/[^"]*/(chi-so/[^"]+)">Biểu đồ và bảng số liệu', html)
    assert found, html
    status, linked = await site.get(link + found.group(1).replace("&amp;", "&"))
    assert status == 200
    target, page = site.text(html), site.text(linked)
    assert "Theo từng đơn vị, nhiệm kỳ 2021–2026" in target
    assert "Theo từng đơn vị, nhiệm kỳ 2021–2026" in page
    assert "Tỉnh Khánh Hòa, nhiệm kỳ 2021–2026:" in page
    t = site.people.tree
    for d in (t.d1, t.d2, t.d3):
        cell = re.search(re.escape(d.name) + r" (chưa báo cáo|[\d.]+ hộ)", target)
        assert cell, (d.name, target)
        assert f"{d.name} {cell.group(1)}" in page
    assert f"{t.d3.name} chưa báo cáo" in target  # (nothing reported under it)


@pytest.mark.parametrize("folder", [*(DEMO_CONFIG_DIR.parent / n for n in SHIPPED), NAM_DINH])
def test_every_indicator_label_parses_as_itself(folder: Path) -> None:
    """Each indicator's label in each shipped province (and the plan written from CONFIG.md)
    typed whole after /tong or /bieudo, alone, with a period, with a unit after it, without
    diacritics or punctuation: the label is the indicator, the level words inside it ("Cơ
    sở Hội ứng dụng CNTT…", "… mạng xã hội", "Hợp tác xã …") are not read as a unit."""
    catalog = load_catalog(folder)
    with open(folder / "units.csv", encoding="utf-8") as rows:
        unit = next(r.split(",")[1] for r in rows if r.split(",")[2] == catalog.levels[1].code)
    for ind in catalog.indicators.values():
        bare = " ".join(label_words(ind.label))
        for typed, period, named in (
            (ind.label, None, None),
            (f"{ind.label} năm 2026", "năm 2026", None),
            (f"{ind.label} {unit}", None, unit),
            (f"{ind.label} năm 2026 {unit}", "năm 2026", unit),
            (f"{bare} nam 2026 {fold(unit)}", "nam 2026", fold(unit)),
        ):
            query = indicator_query(typed, catalog)
            assert ind in catalog.find_indicators(query.words), (typed, query)
            assert (query.period, query.unit) == (period and fold(period), named), (typed, query)


async def test_a_level_word_inside_an_indicators_name_is_not_a_unit(ctx, six) -> None:
    """ "phản biện xã hội": "xã …" there is the indicator's own word, not a commune; the
    period as the answers write it ("nhiệm kỳ 2021–2026", with its dash) is read back."""
    _, user = six
    await user.send("/tong dự thảo được phản biện xã hội năm 2026")
    # (27 November: the year's reports are due on 20 January.)
    assert user.text.startswith(
        "Chưa có báo cáo nào đã gửi cho năm 2026 (0/5 đơn vị): kỳ này đang trong hạn báo cáo "
        "(hạn 20/01/2027), chưa phải chậm nộp."
    )
    assert "1. Tỉnh Khánh Hòa (tự báo cáo): chưa báo cáo" in user.text
    await user.send("/tong dự thảo được phản biện xã hội năm 2026 xã Sơn Bình")
    assert user.text.startswith("Chưa có báo cáo nào đã gửi cho năm 2026 (0/1 đơn vị): kỳ")
    await user.send("/tong hội viên mới xã Lương Hòa")
    assert user.text == "Không tìm thấy đơn vị «xã Lương Hòa» trong phạm vi của chị."
    await user.send("/tong hội viên mới nhiệm kỳ 2021–2026 xã Sơn Bình")
    assert user.text.startswith("Hội viên mới kết nạp – Xã Sơn Bình, nhiệm kỳ 2021–2026")


async def test_a_quarter_still_being_reported_is_compared_year_on_year(ctx, six) -> None:
    """Quý IV reported to November: "cùng kỳ" is October–November of the year before (as a
    Vietnamese report means it), never the first two months of quý III, and says so."""
    units, _ = six
    async with ctx.sessions() as session:
        for i in range(1, 7):
            for m in (7, 8):  # quý III's first two months: 10 each, not the comparison
                await report(session, units[f"B{i}"], FORM, month(2026, m), {"hv_moi": 10})
            for m in (10, 11):  # the same stretch a year before: 1 each
                await report(session, units[f"B{i}"], FORM, month(2025, m), {"hv_moi": 1})
        total = await totals.indicator_total(
            session, ctx.catalog, "hv_moi", units["C1"], quarter(2026, 4)
        )
    assert total.change is not None
    assert total.change.period.label == "từ 01/10/2025 đến 30/11/2025"
    head, _ = total_lines(ctx.catalog, total)
    text = "\n".join(head)
    assert "cùng kỳ năm 2025 (từ 01/10/2025 đến 30/11/2025)" in text
    # Five branches gave both months both years: 2 each then, 15 + 13 now.
    assert "chỉ tính 5 chi hội báo cáo đủ cả hai kỳ: 10 → 28 (+18, +180%)" in text
    assert "cùng kỳ năm 2026" not in text


async def test_a_month_within_its_due_date_is_not_shown_as_late(ctx, six) -> None:
    """31 December: nobody has sent December (due 5 January). /tong says the month is still
    being reported, with its due date, as /chuanop does, not just "chưa báo cáo"; once the
    due date has passed it is the plain "nothing sent"."""
    from storage.plan.clock import vn_datetime

    units, user = six
    ctx.clock.set(vn_datetime(2026, 12, 31, 20))
    await user.send("/tong hội viên mới tháng 12/2026 xã Sơn Bình")
    assert (
        "Chưa có báo cáo nào đã gửi cho tháng 12/2026 (0/6 chi hội): kỳ này đang trong hạn "
        "báo cáo (hạn 05/01/2027), chưa phải chậm nộp." in user.text
    ), user.text
    cli = await staff.cli_total(ctx, "hội viên mới", "tháng 12/2026", "C1")
    assert "đang trong hạn báo cáo (hạn 05/01/2027)" in cli
    async with ctx.sessions() as session:
        await report(session, units["B1"], FORM, month(2026, 12), {"hv_moi": 2})
    await user.send("/tong hội viên mới tháng 12/2026 xã Sơn Bình")
    assert (
        "Kỳ này (tháng 12/2026) đang trong hạn báo cáo (hạn 05/01/2027): số liệu còn bổ sung."
        in (user.text)
    )
    ctx.clock.set(vn_datetime(2027, 1, 6, 9))
    await user.send("/tong hội viên mới tháng 12/2026 xã Sơn Bình")
    assert "đang trong hạn" not in user.text


async def test_a_term_total_says_how_much_of_the_term_has_no_report(ctx, six) -> None:
    """A term (or a year) total on a database that starts in October 2026: it says from when
    the data exists and how many due months before have no report, and "chưa báo cáo đủ"
    counts the months due (10 of 2026 by 27 November), not the most any branch gave (2)."""
    cli = await staff.cli_total(ctx, "hội viên mới", "năm 2026", "C1")
    assert "Trong đó 6 chi hội chưa báo cáo đủ 10 kỳ." in cli, cli
    assert (
        "Số liệu có từ tháng 10/2026: 9 kỳ đầu của năm 2026 chưa có báo cáo nào trong hệ thống"
        in cli
    )
    assert "– 2/10 kỳ" in cli
    cli = await staff.cli_total(ctx, "hội viên mới", "nhiệm kỳ", "C1")
    assert "kỳ đầu của nhiệm kỳ" in cli, cli


async def test_a_merged_commune_says_where_its_figures_are(ctx, six) -> None:
    """Xã Sơn Bình merged into a new commune on 01/12/2026: asked about November by its old
    name or code, the answer says it was merged, when, and where its branches' figures are
    (never a bare "no report")."""
    from datetime import date

    from storage.db.units import merge_units

    units, _ = six
    async with ctx.sessions() as session:
        c1 = await session.get(OrgUnit, units["C1"].id)
        c2 = await session.get(OrgUnit, units["C2"].id)
        ks = await session.get(OrgUnit, units["KS"].id)
        new = await create_unit(
            session,
            code="C9",
            name="Xã Sơn Bình mới",
            level="commune",
            parent=ks,
            valid_from=date(2026, 12, 1),
        )
        await merge_units(session, ctx.catalog, [c1, c2], new, date(2026, 12, 1))
        await session.commit()
    cli = await staff.cli_total(ctx, "hội viên mới", "tháng 11/2026", "C1")
    assert (
        "Xã Sơn Bình đã nhập vào Xã Sơn Bình mới từ 01/12/2026; số liệu của các chi hội cũ "
        "(kể cả trước ngày nhập) nằm ở Xã Sơn Bình mới." in cli
    ), cli
    # The new commune carries both old communes' branches: 13 + 2.
    cli = await staff.cli_total(ctx, "hội viên mới", "tháng 11/2026", "C9")
    assert "Xã Sơn Bình mới, tháng 11/2026: 15 người" in cli, cli
