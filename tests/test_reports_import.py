"""Past reports from Excel: a workbook from `hoibot report export` comes back unchanged
(export → import into a fresh database → export), on SQLite and PostgreSQL; office workbooks
by code or names; numbered errors and nothing written; audit entries and kept totals."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from handlers.export_xlsx import build_workbook
from handlers.reports_import import import_reports
from storage.db import aggregates
from storage.db.importing import ImportFailed, import_units
from storage.db.models import AuditEntry, Base, OrgUnit, Submission, UnitPeriodTotal
from storage.db.units import unit_by_code
from storage.measures.rollup import Roots, totals_by_root
from storage.plan.catalog import Catalog
from storage.plan.clock import vn_datetime
from storage.plan.periods import month, quarter
from tests.builders import report

TODAY = date(2026, 11, 27)
NOW = vn_datetime(2026, 11, 27, 9, 0)
UNITS = """code,name,level,parent_code,member_count
KH,Tỉnh Khánh Hòa,province,,
KH-VN,Huyện Vạn Ninh,district,KH,
KH-DK,Huyện Diên Khánh,district,KH,
KH-VN-02,Xã Vĩnh Phước,commune,KH-VN,
KH-VN-01,Xã Vạn Thạnh,commune,KH-VN,
KH-DK-01,Xã Đông,commune,KH-DK,
KH-DK-02,Xã Diên An,commune,KH-DK,
KH-VN-02-01,Chi hội thôn 10,branch,KH-VN-02,120
KH-VN-02-02,Chi hội thôn 2,branch,KH-VN-02,80
KH-VN-01-01,Chi hội Ấp Bắc,branch,KH-VN-01,60
KH-DK-01-01,Chi hội Đồng Trăng,branch,KH-DK-01,90
KH-DK-02-01,Chi hội Đá Bàn,branch,KH-DK-02,70
KH-DK-02-02,Chi hội Dốc Lết,branch,KH-DK-02,50
"""
MONTHLY = {  # October 2026; KH-DK-02-02 did not report
    "KH-VN-02-01": dict(hv_moi=3, hv_ra=1, ho_thoat_ngheo=2, ld_tu_van_nghe=5, ld_chung_chi=1,
                        ld_viec_lam=0, ho_5k3s=4, hd_vhvn=2, tong_hoi_vien=121, pn_kt_ho_tro=3),
    "KH-VN-02-02": dict(hv_moi=0, hv_ra=0, ho_thoat_ngheo=0, ld_tu_van_nghe=0, ld_chung_chi=0,
                        ld_viec_lam=0, ho_5k3s=0, hd_vhvn=1, tong_hoi_vien=80),
    "KH-VN-01-01": dict(hv_moi=1500, hv_ra=2, ho_thoat_ngheo=1, ld_tu_van_nghe=3, ld_chung_chi=2,
                        ld_viec_lam=1, ho_5k3s=2, hd_vhvn=3, tong_hoi_vien=1559),
    "KH-DK-01-01": dict(hv_moi=2, hv_ra=0, ho_thoat_ngheo=3, ld_tu_van_nghe=1, ld_chung_chi=0,
                        ld_viec_lam=2, ho_5k3s=5, hd_vhvn=1, tong_hoi_vien=92, pn_kt_ho_tro=1),
    "KH-DK-02-01": dict(hv_moi=1, hv_ra=1, ho_thoat_ngheo=0, ld_tu_van_nghe=2, ld_chung_chi=1,
                        ld_viec_lam=1, ho_5k3s=1, hd_vhvn=0, tong_hoi_vien=70),
}  # fmt: skip
QUARTERLY = {  # Q3 2026
    "KH-VN-02-01": dict(pn_khuyet_tat=4, hv_tuyen_truyen=100, gioi_thieu_dang=1, ung_dung_cntt=1),
    "KH-VN-01-01": dict(pn_khuyet_tat=2, hv_tuyen_truyen=55, gioi_thieu_dang=0, ung_dung_cntt=0),
    "KH-DK-02-02": dict(pn_khuyet_tat=0, hv_tuyen_truyen=40, gioi_thieu_dang=2, ung_dung_cntt=1),
}  # fmt: skip


async def empty(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())


async def units(session: AsyncSession, catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text(UNITS, encoding="utf-8")
    await import_units(session, catalog, path)
    await session.commit()


async def export(session: AsyncSession, catalog: Catalog, period) -> bytes:
    scope = await unit_by_code(session, "KH")
    assert scope is not None
    return await build_workbook(session, catalog, scope, period, TODAY)


def cells(data: bytes) -> dict[str, list[list[tuple[object, str]]]]:
    book = load_workbook(BytesIO(data))
    return {
        ws.title: [[(c.value, c.number_format) for c in row] for row in ws.iter_rows()]
        for ws in book.worksheets
    }


@pytest.mark.parametrize(
    ("form", "period", "data"),
    [("thang_chi_hoi", month(2026, 10), MONTHLY), ("quy_chi_hoi", quarter(2026, 3), QUARTERLY)],
)
async def test_an_exported_workbook_imports_back_unchanged(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    catalog: Catalog,
    tmp_path: Path,
    form: str,
    period,
    data: dict,
) -> None:
    async with sessions() as session:
        await units(session, catalog, tmp_path)
        for code, values in data.items():
            unit = await unit_by_code(session, code)
            await report(session, unit, form, period, values)
        first = await export(session, catalog, period)
    book = tmp_path / "export.xlsx"
    book.write_bytes(first)

    await empty(engine)
    async with sessions() as session:
        await units(session, catalog, tmp_path)
        result = await import_reports(
            session, catalog, book, form, period.label, today=TODAY, now=NOW
        )
        await session.commit()
        assert (result.reports, result.values) == (
            len(data),
            sum(len(v) for v in data.values()),
        )
        # Subtotals (districts, communes) and the grand total are passed over, not read.
        assert result.skipped == 7
        second = await export(session, catalog, period)
    assert cells(second) == cells(first)

    sheet = cells(first)[catalog.forms[form].name[:31]]
    rows = [[v for v, _ in row] for row in sheet]
    codes = [r[4] for r in rows[2:]]
    # Vietnamese order: Diên Khánh before Vạn Ninh; Đông after Diên An, Đá after Dốc; Vạn
    # before Vĩnh;
    # "thôn 2" before "thôn 10".
    assert codes == [
        "KH-DK-02-02", "KH-DK-02-01", "KH-DK-02", "KH-DK-01-01", "KH-DK-01", "KH-DK",
        "KH-VN-01-01", "KH-VN-01", "KH-VN-02-02", "KH-VN-02-01", "KH-VN-02", "KH-VN", "KH",
    ]  # fmt: skip
    # A unit that did not report has empty cells, never 0; whole numbers have no decimal mark.
    silent = next(r for r in rows if r[4] not in data and r[3] and r[4].count("-") == 3)
    assert silent[5:-1] == [None] * len(silent[5:-1])
    assert silent[-1] == "chưa báo cáo"  # the last column says who reported
    assert rows[1][-1] == "Tình trạng báo cáo"
    assert {f for row in sheet[2:] for _, f in row[5:]} == {"#,##0"}


async def test_office_workbook_by_names_with_errors_then_audit_and_totals(
    sessions: async_sessionmaker[AsyncSession], catalog: Catalog, tmp_path: Path
) -> None:
    async with sessions() as session:
        await units(session, catalog, tmp_path)
    wb = Workbook()
    ws = wb.active
    ws.append(["BÁO CÁO THÁNG 10"])
    ws.append(
        ["Cơ sở Hội", "Chi hội", "Hội viên mới kết nạp", "HV_RA", "ho thoat ngheo x", "Ghi chú"]
    )
    ws.append(["Xã Vĩnh Phước", "Chi hội thôn 10", "1.500", 2, "abc", ""])
    ws.append(["Xã Vĩnh Phước", "Chi hội thôn 99", 1, 2, 3, ""])
    ws.append(["", "", 1.5, -1, "", ""])
    path = tmp_path / "office.xlsx"
    wb.save(path)
    async with sessions() as session:
        with pytest.raises(ImportFailed) as caught:
            await import_reports(
                session, catalog, path, "thang_chi_hoi", "tháng 10/2026", today=TODAY, now=NOW
            )
    assert caught.value.errors == [
        "office.xlsx column E: 'ho thoat ngheo x' is not known; did you mean 'ho_thoat_ngheo'?"
    ]
    ws.cell(2, 5).value = "Hộ phụ nữ nghèo, cận nghèo được giúp thoát nghèo (hộ)"
    wb.save(path)
    async with sessions() as session:
        with pytest.raises(ImportFailed) as caught:
            await import_reports(
                session, catalog, path, "thang_chi_hoi", "tháng 10/2026", today=TODAY, now=NOW
            )
        assert caught.value.errors == [
            "office.xlsx row 3 column E: 'abc' is not a number",
            "office.xlsx row 4: no unit is named 'Xã Vĩnh Phước / Chi hội thôn 99'",
            "office.xlsx row 5: the unit is not named (no code, no name)",
        ]
        assert await session.scalar(select(func.count()).select_from(Submission)) == 0
    ws.delete_rows(4, 2)
    ws.cell(3, 5).value = "3 hộ"
    wb.save(path)
    async with sessions() as session, session.begin():
        dry = await import_reports(
            session, catalog, path, "thang_chi_hoi", "tháng 10/2026", today=TODAY, now=NOW,
            dry_run=True,
        )  # fmt: skip
        assert (dry.reports, dry.values) == (1, 3)
        # The chat's plausibility check, as a warning: more than the branch's 120 members.
        assert dry.warnings == [
            "warning: office.xlsx row 3 column C: 1500 is more than the 120 members of "
            "KH-VN-02-01 (registered in the units file); check it"
        ]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Submission)) == 0
    async with sessions() as session, session.begin():
        await import_reports(
            session, catalog, path, "thang_chi_hoi", "tháng 10/2026", today=TODAY, now=NOW
        )
    ws.cell(3, 3).value = 15
    wb.save(path)
    async with sessions() as session, session.begin():
        again = await import_reports(
            session, catalog, path, "thang_chi_hoi", "tháng 10/2026", today=TODAY, now=NOW
        )
        assert (again.reports, again.values) == (1, 1)
    async with sessions() as session:
        audit = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.indicator_code, AuditEntry.old_value,
                       AuditEntry.new_value).order_by(AuditEntry.id)
            )
        ).all()  # fmt: skip
        assert audit == [
            ("import", "hv_moi", None, "1500"),
            ("import", "hv_ra", None, "2"),
            ("import", "ho_thoat_ngheo", None, "3"),
            ("submit", None, None, None),
            ("import", "hv_moi", "1500", "15"),
        ]
        province = await unit_by_code(session, "KH")
        kept = await totals_by_root(
            session, catalog, "hv_moi", Roots(ids=(province.id,)), month(2026, 10)
        )
        assert kept == {province.id: 15.0}
        # The kept totals agree with a rebuild from the reports themselves.
        before = sorted(
            (
                await session.execute(
                    select(
                        UnitPeriodTotal.ancestor_id,
                        UnitPeriodTotal.indicator_code,
                        UnitPeriodTotal.total,
                    )
                )
            ).all()
        )  # noqa: E501
        await aggregates.rebuild(session, catalog)
        after = sorted(
            (
                await session.execute(
                    select(
                        UnitPeriodTotal.ancestor_id,
                        UnitPeriodTotal.indicator_code,
                        UnitPeriodTotal.total,
                    )
                )
            ).all()
        )  # noqa: E501
        assert before == after and len(before) > 0
        assert await session.scalar(select(func.count()).select_from(OrgUnit)) == 13


async def test_a_member_count_warning_says_where_the_count_was_read(
    sessions: async_sessionmaker[AsyncSession], catalog: Catalog, tmp_path: Path
) -> None:
    """The count a per-member figure is held against: the row's own member total, else the
    unit's latest earlier report of it (stored, or an earlier row of the file), else the
    units file; each warning names its source (tester's finding 9)."""
    async with sessions() as session:
        await units(session, catalog, tmp_path)
    async with sessions() as session:
        thon10 = await unit_by_code(session, "KH-VN-02-01")  # 120 in the units file
        assert thon10 is not None
        await report(session, thon10, "thang_chi_hoi", month(2026, 8), {"tong_hoi_vien": 130})
        # A draft is not a report: its total is not read.
        await report(
            session, thon10, "thang_chi_hoi", month(2026, 9), {"tong_hoi_vien": 90},
            status="draft",
        )  # fmt: skip
    wb = Workbook()
    ws = wb.active
    ws.append(["code", "period", "hv_moi", "tong_hoi_vien"])
    ws.append(["KH-VN-02-01", "tháng 9/2026", 135, None])  # August's 130 (stored)
    ws.append(["KH-VN-02-01", "tháng 10/2026", 130, 140])  # its own 140: nothing to say
    ws.append(["KH-VN-02-01", "tháng 11/2026", 145, None])  # October's 140 (on row 3)
    ws.append(["KH-VN-02-02", "tháng 10/2026", 90, None])  # the units file's 80
    ws.append(["KH-VN-01-01", "tháng 10/2026", 64, 62])  # its own 62, not the file's 60
    path = tmp_path / "members.xlsx"
    wb.save(path)
    async with sessions() as session, session.begin():
        result = await import_reports(
            session, catalog, path, "thang_chi_hoi", None, today=TODAY, now=NOW, dry_run=True
        )
    assert sorted(result.warnings) == [
        "warning: members.xlsx row 2 column C: 135 is more than the 130 members of "
        "KH-VN-02-01 (reported for tháng 8/2026); check it",
        "warning: members.xlsx row 4 column C: 145 is more than the 140 members of "
        "KH-VN-02-01 (reported for tháng 10/2026); check it",
        "warning: members.xlsx row 5 column C: 90 is more than the 80 members of "
        "KH-VN-02-02 (registered in the units file); check it",
        "warning: members.xlsx row 6 column C: 64 is more than the 62 members of "
        "KH-VN-01-01 (its tong_hoi_vien on this row); check it",
    ]
