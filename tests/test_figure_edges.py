"""Figures at the edges (docs/findings-walk-2026-12-06.md, F3–F8): a number shown to staff is
right or says why it is not known; "no data" is never shown as 0 or as "behind". A period not
due yet is not "chưa nộp"; at the turn of the year /tong answers the year still being reported;
a comparison over months some units missed says its basis; a rate's period lines add up to the
units it rests on; a verdict agrees with its expectation line; the workbook's total row says
the same basis as /tong. On SQLite and PostgreSQL."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from handlers import staff
from handlers.engine import Engine
from handlers.export_xlsx import build_workbook
from handlers.views import progress_text, total_lines
from handlers.written_report import build_document
from storage.db.models import OrgUnit, Person, Role
from storage.measures.progress import progress
from storage.measures.totals import indicator_total
from storage.plan.clock import vn_datetime
from storage.plan.periods import half, month, quarter, year_period
from tests.builders import linked, report, small_tree
from tests.chat import ChatUser
from tests.test_totals import commune_of_six, nam_dinh
from tests.test_written_report import read_back

FORM, QUARTER_FORM, HALF_FORM = "thang_chi_hoi", "quy_chi_hoi", "sau_thang_co_so"


@pytest.fixture
async def staffed(ctx):
    """Xã Sơn Bình's six branches and Xã Sơn Hiệp's one (tests/test_totals.commune_of_six),
    with a provincial staff member in the chat."""
    async with ctx.sessions() as session:
        units = await commune_of_six(session)
        person = Person(
            full_name="Phạm Thị Hương",
            role=Role.PROVINCIAL_STAFF,
            unit_id=units["KH"].id,
            created_at=ctx.clock.now(),
        )
        session.add(person)
        await session.flush()
        await linked(session, person, "telegram", "u-staff", ctx.clock.now())
        await session.commit()
    return units, ChatUser(Engine(ctx), "u-staff")


# ---- F3: a period not due yet is not "chưa nộp" ---------------------------------------------


async def test_a_period_not_due_yet_is_not_missing(ctx, staffed) -> None:
    units, user = staffed
    ctx.clock.set(vn_datetime(2026, 12, 28, 9))  # December is due on 05/01/2027
    async with ctx.sessions() as session:
        await report(session, units["B1"], FORM, month(2026, 12), {"hv_moi": 1})
    await user.send("/chuanop tháng 12")
    assert "chưa đến hạn nộp (hạn 05/01/2027)" in user.text, user.text
    assert "đã nộp 1/7" in user.text
    assert "Chưa nộp" not in user.text and "Chi hội tổ dân phố 2" not in user.text
    assert "Nhắc" not in " ".join(user.buttons)  # no nudge for what is not owed yet
    cli = await staff.cli_missing(ctx, "tháng 12/2026", None, None)
    assert "chưa đến hạn nộp (hạn 05/01/2027)" in cli and "Chưa nộp" not in cli
    # The written report says the same and lists nobody as not having reported.
    async with ctx.sessions() as session:
        data = await build_document(
            session,
            ctx.catalog,
            ctx.rankings,
            units["KH"],
            month(2026, 12),
            ctx.clock.today(),
            ctx.clock.now(),
        )
    text = read_back(data).text
    assert "chưa đến hạn nộp (hạn 05/01/2027)" in text, text
    assert "chưa nộp" not in text.lower()
    # Once due, what is missing is missing.
    ctx.clock.set(vn_datetime(2027, 1, 6, 9))
    await user.send("/chuanop tháng 12/2026")
    assert "Đã nộp 1/7" in user.text and "Chưa nộp: 6." in user.text


# ---- F5: at the turn of the year, /tong answers the year still being reported -----------------


async def test_early_january_totals_the_year_being_completed(ctx, staffed) -> None:
    units, user = staffed
    async with ctx.sessions() as session:
        for i in range(1, 4):
            await report(session, units[f"B{i}"], FORM, month(2026, 11), {"hv_moi": 2})
        await report(session, units["B1"], FORM, month(2026, 12), {"hv_moi": 1})
    ctx.clock.set(vn_datetime(2027, 1, 2, 9))  # December's reports are due on 05/01/2027
    await user.send("/tong hội viên mới")
    assert "Hội viên mới kết nạp – Tỉnh Khánh Hòa, năm 2026: 7 người" in user.text, user.text
    assert "năm 2027" not in user.text.splitlines()[0]
    cli = await staff.cli_total(ctx, "hội viên mới", None, None)
    assert cli == user.text
    # /chuanop the same day is on the last period due: November.
    await user.send("/chuanop")
    assert "tháng 11/2026" in user.text.splitlines()[0]
    # Named, the new year is answered, and says what is due of it.
    await user.send("/tong hội viên mới năm 2027")
    assert "năm 2027" in user.text
    # Once January's report is in, the new year is the default (as the targets do).
    async with ctx.sessions() as session:
        await report(session, units["B2"], FORM, month(2027, 1), {"hv_moi": 4})
    ctx.clock.set(vn_datetime(2027, 2, 6, 9))
    await user.send("/tong hội viên mới")
    assert "Hội viên mới kết nạp – Tỉnh Khánh Hòa, năm 2027: 4 người" in user.text, user.text


# ---- F4: a comparison over months some units missed says so -----------------------------------


async def test_a_comparison_counts_only_units_with_every_month_in_both(ctx, staffed) -> None:
    units, user = staffed
    async with ctx.sessions() as session:
        for i in range(1, 4):
            for m in (4, 5, 6, 7, 8, 9):
                if (i, m) in ((1, 8), (2, 5)):  # B1 missed August, B2 missed May
                    continue
                new = i + (m >= 7)
                await report(session, units[f"B{i}"], FORM, month(2026, m), {"hv_moi": new})
    await user.send("/tong hội viên mới quý 3/2026 xã Sơn Bình")
    text = user.text
    # Q3: 2+2 (B1, two months) + 3·3 + 4·3 = 25; Q2: 1·3 + 2·2 + 3·3 = 16. Only B3 reported
    # every month of both quarters: 9 → 12, not 16 → 25.
    assert "quý III/2026: 25 người" in text, text
    assert "Trong đó 1 chi hội chưa báo cáo đủ 3 kỳ." in text
    assert (
        "So với quý II/2026, chỉ tính 1 chi hội báo cáo đủ cả hai kỳ: 9 → 12 (+3, +33,3%)." in text
    ), text
    cli = await staff.cli_total(ctx, "hội viên mới", "quý 3/2026", "C1")
    assert cli == text
    # One branch with a month missing in one of the periods: no comparison, and why.
    one = await staff.cli_total(ctx, "hội viên mới", "quý 3/2026", "C1-1")
    assert "Chưa so được với quý II/2026: không có chi hội nào báo cáo đủ cả hai kỳ." in one, one


# ---- F6: a rate's period lines add up to the units it rests on -------------------------------


async def test_a_rates_period_lines_account_for_every_unit(ctx, staffed) -> None:
    units, _ = staffed
    ctx.clock.set(vn_datetime(2026, 12, 6, 9))
    async with ctx.sessions() as session:
        # B1: September and Q3, then October (its pair is Q3's, an earlier period).
        await report(session, units["B1"], FORM, month(2026, 9), {"pn_kt_ho_tro": 5})
        await report(session, units["B1"], QUARTER_FORM, quarter(2026, 3), {"pn_khuyet_tat": 10})
        await report(session, units["B1"], FORM, month(2026, 10), {"pn_kt_ho_tro": 6})
        # B2: September and Q3, nothing later (its pair is its latest: Q3's).
        await report(session, units["B2"], FORM, month(2026, 9), {"pn_kt_ho_tro": 3})
        await report(session, units["B2"], QUARTER_FORM, quarter(2026, 3), {"pn_khuyet_tat": 5})
        # B3: June and Q2, then October.
        await report(session, units["B3"], FORM, month(2026, 6), {"pn_kt_ho_tro": 2})
        await report(session, units["B3"], QUARTER_FORM, quarter(2026, 2), {"pn_khuyet_tat": 4})
        await report(session, units["B3"], FORM, month(2026, 10), {"pn_kt_ho_tro": 3})
        items = await progress(session, ctx.catalog, units["C1"], ctx.clock.today())
    [p] = [i for i in items if i.target.code == "khuyet_tat"]
    text = progress_text(ctx.catalog, "Xã Sơn Bình", [p], ctx.clock.today())
    assert "tính trên 3/6 chi hội đã báo cáo đủ" in text, text
    assert "2 chi hội tính theo số quý III/2026" in text, text
    assert "1 chi hội tính theo số quý II/2026" in text, text


# ---- F7: a verdict and its expectation line agree ---------------------------------------------


async def test_a_target_with_some_reports_due_does_not_say_none_is_due(ctx, staffed) -> None:
    units, _ = staffed
    ctx.clock.set(vn_datetime(2026, 12, 6, 9))
    async with ctx.sessions() as session:
        # The communes' half-year form (due 15/07) carries the indicator; the yearly forms of
        # the district and the province (due 15/01 and 20/01/2027) too.
        await report(session, units["C1"], HALF_FORM, half(2026, 1), {"tt_bien_dao": 1})
        items = await progress(session, ctx.catalog, units["KH"], ctx.clock.today())
    [p] = [i for i in items if i.target.code == "tt_bien_dao"]
    text = progress_text(ctx.catalog, "Tỉnh Khánh Hòa", [p], ctx.clock.today())
    assert "Chưa có báo cáo nào của năm 2026 đến hạn" not in text, text
    # (the district's and the province's yearly reports are the last due: 20/01/2027)
    assert "Tính ở cuối kỳ (năm 2026): báo cáo cuối kỳ đến hạn ngày 20/01/2027." in text, text


# ---- F8: the workbook's total row says the basis /tong says ------------------------------------


async def test_the_workbook_total_row_says_who_missed_months(ctx, staffed) -> None:
    units, _ = staffed
    async with ctx.sessions() as session:
        for i in range(1, 7):
            for m in (7, 8, 9):
                if (i, m) != (2, 8):  # B2 missed August
                    await report(session, units[f"B{i}"], FORM, month(2026, m), {"hv_moi": 1})
        await report(session, units["B7"], FORM, month(2026, 9), {"hv_moi": 1})  # Sept only
    ctx.clock.set(vn_datetime(2026, 11, 6, 9))  # the three months are due
    total = await staff.cli_total(ctx, "hội viên mới", "quý 3/2026", None)
    assert "Trong đó 2 chi hội chưa báo cáo đủ 3 kỳ." in total, total
    async with ctx.sessions() as session:
        province = await session.get(OrgUnit, units["KH"].id)
        assert province is not None
        data = await build_workbook(
            session, ctx.catalog, province, quarter(2026, 3), ctx.clock.today()
        )
    sheet = load_workbook(BytesIO(data))["Báo cáo tháng của chi hội"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[1])
    by_code = {r[header.index("Mã đơn vị")]: r for r in rows[2:]}
    assert by_code["C1-2"][-1] == "đã báo cáo 2/3 kỳ"
    assert by_code["KH"][-1] == "7/7 chi hội đã báo cáo; 2 chi hội chưa báo cáo đủ 3 kỳ"
    assert by_code["C1"][-1] == "6/6 chi hội đã báo cáo; 1 chi hội chưa báo cáo đủ 3 kỳ"
    assert by_code["C2"][-1] == "1/1 chi hội đã báo cáo; 1 chi hội chưa báo cáo đủ 3 kỳ"


async def test_a_ratio_totals_period_lines_account_for_every_unit(ctx, tmp_path) -> None:
    """/tong of a ratio (a derived indicator): the same as a rate target's lines."""
    catalog = await nam_dinh(ctx, tmp_path)
    async with ctx.sessions() as session:
        t = await small_tree(session)
        q1, q2 = quarter(2024, 1), quarter(2024, 2)
        both = {"ho_3sach": 90, "tong_ho": 100}
        # C1: both figures in Q1, then only one in Q2 (its pair is Q1's, an earlier period);
        # C2 and C3: both in Q2 (their latest).
        await report(session, t.c1, "quy_co_so", q1, both, catalog=catalog)
        await report(session, t.c1, "quy_co_so", q2, {"ho_3sach": 95}, catalog=catalog)
        await report(session, t.c2, "quy_co_so", q2, both, catalog=catalog)
        await report(session, t.c3, "quy_co_so", q2, both, catalog=catalog)
        year = year_period(2024)
        total = await indicator_total(session, catalog, "ty_le_3sach", t.province, year)
    head, _ = total_lines(catalog, total)
    assert "Tính trên 3/4 cơ sở Hội có đủ các số trong cùng một kỳ." in head, head
    assert "1 cơ sở Hội tính theo số quý I/2024 (kỳ gần nhất có đủ các số)." in head, head
    assert "2 cơ sở Hội tính theo số quý II/2024 (kỳ gần nhất có đủ các số)." in head, head
