"""`hoibot units import` and `hoibot people import` through the command line: each refusal
gives its exact line and exit code 1, and leaves the database as it was."""

from __future__ import annotations

import shutil
import sqlite3
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from bot.cli import app
from bot.config import get_settings

UNITS = """code,name,level,parent_code
KH,Tỉnh Khánh Hòa,province,
KH-KS,Huyện Khánh Sơn,district,KH
KH-KV,Huyện Khánh Vĩnh,district,KH
KH-KS-01,Xã Sơn Bình,commune,KH-KS
KH-KS-01-01,Chi hội thôn 1,branch,KH-KS-01
"""
PEOPLE = """full_name,phone,role,unit_code
Nguyễn Thị Lan,0912 345 678,chi hội trưởng,KH-KS-01-01
Trần Thị Mai,,cán bộ cơ sở,KH-KS-01
"""
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    # Blank lines are what the transient progress bar leaves behind.
    return result.exit_code, "\n".join(x for x in result.output.splitlines() if x.strip())


def snapshot(db: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with a small tree and two people, built once for the module."""
    folder = tmp_path_factory.mktemp("imports")
    db = folder / "template.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db}")
        mp.delenv("HOIBOT_CONFIG_DIR", raising=False)
        get_settings.cache_clear()
        (folder / "units.csv").write_text(UNITS, encoding="utf-8")
        (folder / "people.csv").write_text(PEOPLE, encoding="utf-8")
        for args in (
            ["db", "upgrade"],
            ["units", "import", str(folder / "units.csv")],
            ["people", "import", str(folder / "people.csv")],
        ):
            code, out = invoke(*args)
            assert code == 0, out
    get_settings.cache_clear()
    return db


@pytest.fixture
def db(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "cli.db"
    shutil.copy(template, path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("HOIBOT_NOW", "2026-11-27T09:00:00+07:00")
    monkeypatch.delenv("HOIBOT_CONFIG_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def refused(db: Path, kind: str, file: Path, *lines: str) -> None:
    """The import is refused with exactly these lines, exit code 1, nothing written."""
    before = snapshot(db)
    for args in ([kind, "import", str(file)], [kind, "import", "--dry-run", str(file)]):
        code, out = invoke(*args)
        assert code == 1, out
        assert out.splitlines() == [
            *lines,
            f"Nothing was imported: {len(lines)} error{'' if len(lines) == 1 else 's'}.",
        ]
    assert snapshot(db) == before


def unreadable(db: Path, kind: str, file: Path, line: str) -> None:
    """A file that cannot be read as a whole: its one line, exit code 1, nothing written."""
    before = snapshot(db)
    for args in ([kind, "import", str(file)], [kind, "import", "--dry-run", str(file)]):
        code, out = invoke(*args)
        assert code == 1, out
        assert out.splitlines() == [line]
    assert snapshot(db) == before


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding, newline="")
    return path


# ---- units --------------------------------------------------------------------------------


def test_a_units_level_cannot_change(db: Path, tmp_path: Path) -> None:
    file = write(
        tmp_path / "units.csv", "code,name,level,parent_code\nKH-KS-01,Xã Sơn Bình,branch,KH-KS\n"
    )
    refused(
        db,
        "units",
        file,
        "units.csv row 2: KH-KS-01 is a commune; a unit's level cannot change to branch "
        "(a new unit needs a new code)",
    )


def test_a_parent_must_be_the_level_directly_above(db: Path, tmp_path: Path) -> None:
    file = write(
        tmp_path / "units.csv",
        "code,name,level,parent_code\n"
        "KH-X1,Chi hội lạc chỗ,branch,KH\n"
        "KH-X2,Xã dưới tỉnh,commune,KH\n"
        "KH-X3,Chi hội dưới huyện,chi hội,KH-KV\n",
    )
    refused(
        db,
        "units",
        file,
        "units.csv row 2: a branch must be under a commune; KH is a province",
        # The province has districts, so a commune cannot skip them.
        "units.csv row 3: a commune must be under a district; KH is a province",
        "units.csv row 4: a branch must be under a commune; KH-KV is a district",
    )


def test_a_province_without_districts_skips_that_level(db: Path, tmp_path: Path) -> None:
    file = write(
        tmp_path / "units.csv",
        "code,name,level,parent_code\n"
        "LC,Tỉnh Lào Cai,province,\n"
        "LC-01,Phường Cam Đường,commune,LC\n"
        "LC-01-01,Chi hội tổ 1,branch,LC-01\n",
    )
    code, out = invoke("units", "import", str(file))
    assert code == 0, out
    assert out.strip() == "Imported 3 rows: 3 new, 0 updated."


def test_a_cycle_is_refused(db: Path, tmp_path: Path) -> None:
    file = write(
        tmp_path / "units.csv",
        "code,name,level,parent_code\n"
        "KH-KS,Huyện Khánh Sơn,district,KH-KV\n"
        "KH-KV,Huyện Khánh Vĩnh,district,KH-KS\n",
    )
    refused(
        db,
        "units",
        file,
        "units.csv row 2: KH-KS would be under itself, a cycle: KH-KS under KH-KV under KH-KS",
        "units.csv row 3: KH-KV would be under itself, a cycle: KH-KV under KH-KS under KH-KV",
    )
    # Moving a district under its own commune is a cycle through the database's tree.
    file = write(
        tmp_path / "move.csv",
        "code,name,level,parent_code\nKH-KS,Huyện Khánh Sơn,district,KH-KS-01\n",
    )
    refused(
        db,
        "units",
        file,
        "move.csv row 2: KH-KS would be under itself, a cycle: KH-KS under KH-KS-01 under KH-KS",
    )


def test_misspelt_and_missing_columns_are_named(db: Path, tmp_path: Path) -> None:
    file = write(tmp_path / "units.csv", "code,name,levle,parnt_code\nX,Y,branch,KH\n")
    refused(
        db,
        "units",
        file,
        "units.csv: column 'levle' is not known; did you mean 'level'?",
        "units.csv: column 'parnt_code' is not known; did you mean 'parent_code'?",
    )
    file = write(tmp_path / "units.csv", "Mã,Tên,Cấp\nX,Y,branch\n")
    refused(
        db,
        "units",
        file,
        "units.csv: column 'parent_code' is missing (the header row has: Mã, Tên, Cấp)",
    )


# ---- people -------------------------------------------------------------------------------


def test_phone_numbers_are_normalised_and_not_shared(db: Path, tmp_path: Path) -> None:
    file = write(
        tmp_path / "people.csv",
        "full_name,phone,role,unit_code\n"
        "Lê Thị Hoa,+84 912 345 678,chi hội trưởng,KH-KS-01-01\n"
        "Phạm Thị Hồng,84 987 654 321,chi hội trưởng,KH-KS-01-01\n"
        "Võ Thị Cúc,0987654321,chi hội trưởng,KH-KS-01-01\n"
        "Đỗ Thị Nga,12345,chi hội trưởng,KH-KS-01-01\n",
    )
    refused(
        db,
        "people",
        file,
        "people.csv row 2: phone 0912345678 is already used by Nguyễn Thị Lan (KH-KS-01-01)",
        "people.csv row 4: phone 0987654321 is already on row 3",
        "people.csv row 5: '12345' is not a phone number; write a Vietnamese number such as "
        "0912345678 or +84 912 345 678",
    )
    # The same person written with another form of her number is updated, not duplicated.
    file = write(
        tmp_path / "people.csv",
        "full_name,phone,role,unit_code\nNguyễn Thị Lan,84912345678,chi hội trưởng,KH-KS-01-01\n",
    )
    code, out = invoke("people", "import", str(file))
    assert (code, out.strip()) == (0, "Imported 1 row: 0 new, 1 updated.")
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT phone FROM people ORDER BY id").fetchall() == [
            ("0912345678",),
            (None,),
        ]


def test_units_named_not_coded(db: Path, tmp_path: Path) -> None:
    """An office's own sheet names units (a tester's finding N11): an unambiguous name is
    taken (diacritics and case aside, with its commune's name or without); an ambiguous or
    unknown one is refused with the closest codes and their names."""
    units = write(
        tmp_path / "units.csv",
        "code,name,level,parent_code\nKH-KV-01,Xã Khánh Bình,commune,KH-KV\n"
        "KH-KV-01-01,Chi hội thôn 1,branch,KH-KV-01\nKH-KV-01-05,Chi hội tổ dân phố 5,branch,"
        "KH-KV-01\n",
    )
    assert invoke("units", "import", str(units))[0] == 0
    file = write(
        tmp_path / "people.csv",
        "họ tên,số điện thoại,chức vụ,đơn vị\n"
        "Lê Thị Hoa,0912 000 111,chi hội trưởng,Chi hội thôn 1\n"
        "Lê Thị Hồng,0912 000 222,chi hội trưởng,chi hoi thon 3\n",
    )
    refused(
        db,
        "people",
        file,
        "people.csv row 2: unit 'Chi hội thôn 1' fits several units (KH-KS-01-01: Chi hội "
        "thôn 1, Xã Sơn Bình; KH-KV-01-01: Chi hội thôn 1, Xã Khánh Bình): give its code",
        "people.csv row 3: unknown unit 'chi hoi thon 3' (did you mean KH-KS-01-01: Chi hội "
        "thôn 1, Xã Sơn Bình; KH-KV-01-01: Chi hội thôn 1, Xã Khánh Bình?)",
    )
    file = write(
        tmp_path / "people.csv",
        "họ tên,số điện thoại,chức vụ,đơn vị\n"
        "Lê Thị Hoa,0912 000 111,chi hội trưởng,Chi hội tổ dân phố 5 xã Khánh Bình\n"
        'Lê Thị Hồng,0912 000 222,chi hội trưởng,"xa son binh, CHI HOI THON 1"\n',
    )
    code, out = invoke("people", "import", str(file))
    assert (code, out.strip()) == (0, "Imported 2 rows: 2 new, 0 updated."), out
    with sqlite3.connect(db) as conn:
        assert conn.execute(
            "SELECT o.code FROM people p JOIN org_units o ON o.id = p.unit_id "
            "WHERE p.full_name LIKE 'Lê Thị%' ORDER BY p.id"
        ).fetchall() == [("KH-KV-01-05",), ("KH-KS-01-01",)]


def test_a_role_must_fit_its_units_level(db: Path, tmp_path: Path) -> None:
    file = write(
        tmp_path / "people.csv",
        "Họ tên;Vai trò;Mã đơn vị\n"
        "Bùi Thị Thu;cán bộ tỉnh;KH-KS-01-01\n"
        "Hồ Thị Xuân;cán bộ huyện;KH-KS-01\n",
    )
    refused(
        db,
        "people",
        file,
        "people.csv row 2: a provincial_staff belongs to a province; KH-KS-01-01 is a branch",
        "people.csv row 3: a district_officer belongs to a district; KH-KS-01 is a commune",
    )


def test_a_district_officer_where_there_are_no_districts(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'lc.db'}")
    monkeypatch.delenv("HOIBOT_CONFIG_DIR", raising=False)
    get_settings.cache_clear()
    units = write(
        tmp_path / "units.csv",
        "code,name,level,parent_code\nLC,Tỉnh Lào Cai,province,\nLC-01,Phường Cam Đường,"
        "commune,LC\n",
    )
    assert invoke("db", "upgrade")[0] == 0
    assert invoke("units", "import", str(units))[0] == 0
    people = write(
        tmp_path / "people.csv", "full_name,role,unit_code\nLò Thị Dung,district_officer,LC\n"
    )
    refused(
        tmp_path / "lc.db",
        "people",
        people,
        "people.csv row 2: a district_officer belongs to a district, and this province has no "
        "district units",
    )
    get_settings.cache_clear()


# ---- what Excel writes --------------------------------------------------------------------

NEW_UNITS = [
    ["Mã", "Tên", "Cấp", "Mã cấp trên"],
    ["KH-KS-02", "Xã Ba Cụm Bắc", "Cơ sở Hội", "KH-KS"],
    ["KH-KS-02-01", "Chi hội thôn Tà Lương", "Chi hội", "KH-KS-02"],
]


def _cp1258(text: str) -> bytes:
    """What Vietnamese Windows writes: letters with their own mark precomposed, tones as
    combining marks after them."""
    out = b""
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            tones = "".join(m for m in parts[1:] if m in "\u0300\u0301\u0303\u0309\u0323")
            base = unicodedata.normalize("NFC", "".join(m for m in parts if m not in tones))
            out += (base + tones).encode("cp1258")
    return out


@pytest.mark.parametrize(
    "shape",
    ["semicolons with BOM", "windows-1258", "utf-16 tabs", "utf-16 no BOM", "xlsx"],
)
def test_files_as_excel_writes_them(db: Path, tmp_path: Path, shape: str) -> None:
    file = tmp_path / "units.csv"
    if shape == "semicolons with BOM":
        text = "\n".join(";".join(r) for r in NEW_UNITS) + "\n"
        file.write_bytes(b"\xef\xbb\xbf" + text.encode())
    elif shape == "windows-1258":
        file.write_bytes(_cp1258("\r\n".join(",".join(r) for r in NEW_UNITS) + "\r\n"))
    elif shape.startswith("utf-16"):
        text = "\r\n".join("\t".join(r) for r in NEW_UNITS) + "\r\n"
        file = tmp_path / "units.txt"
        file.write_bytes(text.encode("utf-16" if "BOM" not in shape else "utf-16-le"))
    else:
        wb = Workbook()
        for r in NEW_UNITS:
            wb.active.append(r)
        file = tmp_path / "units.xlsx"
        wb.save(file)
    code, out = invoke("units", "import", str(file))
    assert (code, out.strip()) == (0, "Imported 2 rows: 2 new, 0 updated."), out
    with sqlite3.connect(db) as conn:
        names = conn.execute("SELECT name FROM org_units WHERE code LIKE 'KH-KS-02%' ORDER BY code")
        assert [n for (n,) in names] == ["Xã Ba Cụm Bắc", "Chi hội thôn Tà Lương"]


def test_a_file_that_is_neither_text_nor_a_workbook(db: Path, tmp_path: Path) -> None:
    png = tmp_path / "chart.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    message = (
        "neither a CSV file nor an Excel workbook (.xlsx); save it from Excel as .xlsx or as "
        "CSV UTF-8"
    )
    unreadable(db, "units", png, f"chart.png: {message}")
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    unreadable(
        db,
        "people",
        xls,
        "old.xls: an old Excel 97-2003 workbook (.xls) cannot be read; save it as .xlsx or as "
        "CSV UTF-8",
    )
    zipped = tmp_path / "units.xlsx"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    unreadable(db, "units", zipped, f"units.xlsx: {message}")


def test_dry_run_writes_nothing(db: Path, tmp_path: Path) -> None:
    file = write(tmp_path / "units.csv", "\n".join(",".join(r) for r in NEW_UNITS) + "\n")
    before = snapshot(db)
    code, out = invoke("units", "import", "--dry-run", str(file))
    assert (code, out.strip()) == (0, "Would import 2 rows: 2 new, 0 updated.")
    assert snapshot(db) == before


# ---- past reports -------------------------------------------------------------------------


def test_reports_import_refusals_and_success(db: Path, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Mã đơn vị", "Kỳ", "hv_moi", "Hội viên ra khỏi tổ chức", "Tổng số hội viên hiện có"])
    ws.append(["KH-KS-01-01", "tháng 10/2026", 3, "1.500", 120])
    ws.append(["KH-KS-01-01", "tháng 13/2026", 1, 0, 120])
    ws.append(["KH-KS-01-09", "tháng 9/2026", 1, 0, 120])
    ws.append(["KH-KS-01-01", "quý 3/2026", 1, 0, 120])
    ws.append(["KH-KS-01-01", "Tháng 10 / 2026", 1, 0, 120])
    path = tmp_path / "cu.xlsx"
    wb.save(path)
    before = snapshot(db)
    for extra in ([], ["--dry-run"]):
        code, out = invoke("reports", "import", *extra, "--form", "thang_chi_hoi", str(path))
        assert code == 1
        assert out.splitlines() == [
            "cu.xlsx row 3 column B: cannot read the period 'tháng 13/2026' (write it like "
            '"quý 3/2026" or "tháng 10/2026")',
            "cu.xlsx row 4: no unit has the code 'KH-KS-01-09'",
            "cu.xlsx row 5 column B: form thang_chi_hoi is reported by month; 'quý 3/2026' is a "
            "quarter",
            "cu.xlsx row 6: KH-KS-01-01, tháng 10/2026 is already on row 2",
            "Nothing was imported: 4 errors.",
        ]
    code, out = invoke(
        "reports", "import", "--form", "thang", "--period", "tháng 10/2026", str(path)
    )
    assert (code, out.splitlines()) == (
        1,
        [
            "unknown form 'thang' (forms: thang_chi_hoi, quy_chi_hoi, sau_thang_co_so, "
            "nam_huyen, nam_tinh)",
            "Nothing was imported: 1 error.",
        ],
    )
    assert snapshot(db) == before
    ws.delete_rows(3, 4)
    wb.save(path)
    code, out = invoke("reports", "import", "--form", "thang_chi_hoi", str(path))
    # 1.500 members left of the 120 the row itself reports: imported, with a warning.
    assert (code, out.splitlines()) == (
        0,
        [
            "warning: cu.xlsx row 2 column D: 1500 is more than the 120 members of KH-KS-01-01 "
            "(its tong_hoi_vien on this row); check it",
            "Imported 1 report, 3 values new or changed.",
        ],
    )
    with sqlite3.connect(db) as conn:
        audit = conn.execute("SELECT action, indicator_code, new_value FROM audit_entries")
        assert sorted(audit.fetchall(), key=repr) == [
            ("import", "hv_moi", "3"),
            ("import", "hv_ra", "1500"),
            ("import", "tong_hoi_vien", "120"),
            ("submit", None, None),
        ]
    # The import kept the totals: a rebuild from the reports finds them as they are.
    kept = {t: rows for t, rows in snapshot(db).items() if t.startswith("unit_") and "total" in t}
    assert kept["unit_stock_totals"] and kept["unit_period_totals"]
    assert invoke("db", "rebuild-totals") == (0, "Kept totals rebuilt from the reports.")
    assert {t: snapshot(db)[t] for t in kept} == kept
