from datetime import UTC, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from storage.db.importing import ImportFailed, import_people, import_units
from storage.db.models import OrgUnit, Person, Role

NOW = datetime(2026, 11, 27, tzinfo=UTC)
UNITS = """code,name,level,parent_code
KH,Tỉnh Khánh Hòa,province,
KH-KS,Huyện Khánh Sơn,district,KH
KH-KS-01,Xã Sơn Bình,Cơ sở Hội,KH-KS
KH-KS-01-01,Chi hội thôn 1,branch,KH-KS-01
"""


async def count(session, model) -> int:
    return await session.scalar(select(func.count()).select_from(model))


async def test_units_from_csv_children_before_parents_is_fine(session, catalog, tmp_path):
    lines = UNITS.strip().splitlines()
    path = tmp_path / "units.csv"
    path.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n", encoding="utf-8")
    result = await import_units(session, catalog, path)
    await session.commit()
    assert (result.created, result.rows) == (4, 4)
    branch = await session.scalar(select(OrgUnit).where(OrgUnit.code == "KH-KS-01-01"))
    assert branch.level == "branch" and branch.depth == 3


async def test_errors_are_numbered_and_nothing_is_written(session, catalog, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(
        UNITS
        + "KH-KS-01,Trùng mã,commune,KH-KS\n"  # row 6: duplicate
        + "X1,Xã lạ,thành phố,KH\n"  # row 7: unknown level
        + "X2,Chi hội mồ côi,branch,KHONG\n"  # row 8: unknown parent
        + "X3,Huyện dưới xã,district,KH-KS-01\n",  # row 9: level below parent's
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as caught:
        await import_units(session, catalog, path)
    errors = caught.value.errors
    assert [e.split(":")[0] for e in errors] == [
        "units.csv row 6",
        "units.csv row 7",
        "units.csv row 8",
        "units.csv row 9",
    ]
    assert await count(session, OrgUnit) == 0


async def test_xlsx_dry_run_and_reparenting(sessions, catalog, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(UNITS + "KH-KV,Huyện Khánh Vĩnh,district,KH\n", encoding="utf-8")
    async with sessions() as session, session.begin():
        await import_units(session, catalog, path)
    wb = Workbook()
    ws = wb.active
    ws.append(["Mã", "Tên", "Cấp", "Mã cấp trên", "Từ ngày"])
    ws.append(["KH-KS-01", "Xã Sơn Bình", "commune", "KH-KV", "01/07/2025"])
    ws.append(["KH-KV-02", "Xã Khánh Bình", "commune", "KH-KV", ""])
    xlsx = tmp_path / "moves.xlsx"
    wb.save(xlsx)
    async with sessions() as session:
        dry = await import_units(session, catalog, xlsx, dry_run=True)
        assert (dry.created, dry.moved) == (1, 1)
    async with sessions() as session:
        assert await count(session, OrgUnit) == 5
    async with sessions() as session, session.begin():
        await import_units(session, catalog, xlsx)
    async with sessions() as session:
        commune = await session.scalar(select(OrgUnit).where(OrgUnit.code == "KH-KS-01"))
        kv = await session.scalar(select(OrgUnit).where(OrgUnit.code == "KH-KV"))
        branch = await session.scalar(select(OrgUnit).where(OrgUnit.code == "KH-KS-01-01"))
        assert commune.parent_id == kv.id
        assert branch.path.startswith(kv.path)
        assert await count(session, OrgUnit) == 6


async def test_people_import_with_vietnamese_roles(session, catalog, tmp_path):
    units = tmp_path / "units.csv"
    units.write_text(UNITS, encoding="utf-8")
    await import_units(session, catalog, units)
    people = tmp_path / "people.csv"
    people.write_text(
        "Họ tên,Số điện thoại,Vai trò,Mã đơn vị,Kênh\n"
        "Nguyễn Thị Lan,0901234567,Chi hội trưởng,KH-KS-01-01,Zalo\n"
        "Trần Thị Mai,,cán bộ cơ sở,KH-KS-01,\n",
        encoding="utf-8",
    )
    result = await import_people(session, catalog, people, now=NOW)
    assert result.created == 2
    lan = await session.scalar(select(Person).where(Person.full_name == "Nguyễn Thị Lan"))
    assert lan.role == Role.BRANCH_LEADER and lan.phone == "0901234567"
    assert lan.preferred_channel == "zalo"
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "full_name,role,unit_code,channel\nAi Đó,thủ quỹ,KH,\nBà Ba,cán bộ tỉnh,KH,Viber\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as caught:
        await import_people(session, catalog, bad, now=NOW)
    assert caught.value.errors == [
        "bad.csv row 2: unknown role 'thủ quỹ'; roles are branch_leader, commune_officer, "
        "district_officer, provincial_staff, admin (or in Vietnamese: chi hội trưởng, cán bộ "
        "cơ sở, cán bộ huyện, cán bộ tỉnh, quản trị)",
        "bad.csv row 3: channel must be empty, telegram or zalo",
    ]


def test_vietnamese_phone_numbers_are_one_number_however_written() -> None:
    from storage.db.people import normalize_phone

    written = ["0912 345 678", "+84 912 345 678", "84912345678", "0912.345.678", "(+84) 912345678"]
    assert {normalize_phone(w) for w in written} == {"0912345678"}
    assert normalize_phone("0258 3822 123") == "02583822123"  # a Khánh Hòa landline
    for wrong in ("12345", "0912 345", "số điện thoại", "0000000000"):
        assert normalize_phone(wrong) is None, wrong
