"""An operator's mistakes on the command line: one exact line, exit code 1, nothing written.

A small database is built once and copied for each test, so the tests stay quick.
"""

import hashlib
import shutil
import socket
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.config import DEMO_CONFIG_DIR, get_settings

NOW = "2026-11-27T09:00:00+07:00"


def _env(mp: pytest.MonkeyPatch, db: Path) -> None:
    mp.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    mp.setenv("HOIBOT_NOW", NOW)
    for name in ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN", "HOIBOT_CONFIG_DIR", "INVITATION_DAYS"):
        mp.delenv(name, raising=False)
    get_settings.cache_clear()


UNITS = """code,name,level,parent_code
KH,Tỉnh Khánh Hòa,province,
KH-KS,Huyện Khánh Sơn,district,KH
KH-KV,Huyện Khánh Vĩnh,district,KH
KH-KS-01,Thị trấn Tô Hạp,commune,KH-KS
KH-KS-01-1,Chi hội tổ dân phố 1,branch,KH-KS-01
KH-KS-01-2,Chi hội tổ dân phố 2,branch,KH-KS-01
"""
PEOPLE = """full_name,phone,role,unit_code
Cao Thị Lan,0905000001,district_officer,KH-KS
Mấu Thị Hoa,0905000002,commune_officer,KH-KS-01
Bo Bo Thị Hạnh,0905000003,branch_leader,KH-KS-01-1
Cao Thị Sen,0905000004,branch_leader,KH-KS-01-2
"""


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with a few units and people of the demo province: enough to be
    wrong about, quicker than the demo."""
    folder = tmp_path_factory.mktemp("small")
    db = folder / "small.db"
    (folder / "units.csv").write_text(UNITS, encoding="utf-8")
    (folder / "people.csv").write_text(PEOPLE, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        _env(mp, db)
        for args in (
            ["db", "upgrade"],
            ["units", "import", str(folder / "units.csv")],
            ["people", "import", str(folder / "people.csv")],
        ):
            done = CliRunner().invoke(app, args)
            assert done.exit_code == 0, done.output
    get_settings.cache_clear()
    return db


@dataclass
class Cli:
    db: Path
    folder: Path
    monkeypatch: pytest.MonkeyPatch

    def __call__(self, *args: str, input: str | None = None) -> Result:
        get_settings.cache_clear()
        return CliRunner().invoke(app, list(args), input=input)

    def fingerprint(self) -> str:
        if not self.db.exists():
            return "no database"
        with sqlite3.connect(self.db) as con:
            return hashlib.sha256("\n".join(con.iterdump()).encode()).hexdigest()

    def set(self, name: str, value: str) -> None:
        self.monkeypatch.setenv(name, value)


@pytest.fixture
def cli(small_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    db = tmp_path / "cli.db"
    shutil.copy(small_db, db)
    _env(monkeypatch, db)
    monkeypatch.chdir(tmp_path)
    yield Cli(db, tmp_path, monkeypatch)
    get_settings.cache_clear()


def fails(cli: Cli, args: list[str], lines: list[str], input: str | None = None) -> None:
    before = cli.fingerprint()
    result = cli(*args, input=input)
    assert (result.exit_code, result.output.splitlines()) == (1, lines)
    assert cli.fingerprint() == before


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- database --------------------------------------------------------------------------------


def test_unreadable_database_url(cli: Cli) -> None:
    cli.set("DATABASE_URL", "hoibot.db")
    fails(
        cli,
        ["report", "progress"],
        [
            "DATABASE_URL 'hoibot.db' cannot be used (Could not parse SQLAlchemy URL from "
            "given URL string): write sqlite+aiosqlite:///path/to/hoibot.db or "
            "postgresql://user@host:5432/name."
        ],
    )


def test_unreachable_database(cli: Cli) -> None:
    port = closed_port()
    cli.set("DATABASE_URL", f"postgresql://postgres:secret@127.0.0.1:{port}/hoibot")
    result = cli("report", "progress")
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith(f"Cannot open the database postgresql://postgres:***@127.0.0.1:{port}/")
    assert line.endswith("check DATABASE_URL and that the database server is running.")
    assert "secret" not in line


def test_database_in_a_missing_folder(cli: Cli) -> None:
    cli.set("DATABASE_URL", f"sqlite:///{cli.folder}/nowhere/x.db")
    fails(
        cli,
        ["invite", "--unit", "KH"],
        [
            f"Cannot open the database sqlite:///{cli.folder}/nowhere/x.db (the folder "
            f"{cli.folder}/nowhere does not exist): check DATABASE_URL and that its folder exists."
        ],
    )


def test_database_never_migrated(cli: Cli) -> None:
    cli.db.unlink()
    # A mistyped SQLite path: no command but `db upgrade` (and `demo`) creates the file.
    for args in (["report", "missing"], ["invite", "--unit", "KH"], ["outbox", "status"]):
        result = cli(*args)
        assert (result.exit_code, result.output) == (
            1,
            f"There is no database at {cli.db}: check DATABASE_URL (a mistyped path?); "
            "`hoibot db upgrade` creates a new one.\n",
        )
        assert not cli.db.exists()
    cli.db.touch()  # an empty file: a database without tables
    for args in (["report", "missing"], ["outbox", "status"]):
        result = cli(*args)
        assert (result.exit_code, result.output) == (
            1,
            "The database has no tables yet: run `hoibot db upgrade` first.\n",
        )
    upgraded = cli("db", "upgrade")
    assert upgraded.exit_code == 0
    fails(
        cli,
        ["report", "progress"],
        [
            "The database has no units yet: import them first with `hoibot units import "
            "FILE` (README: Installing for your province)."
        ],
    )


def test_bad_setting(cli: Cli) -> None:
    cli.set("INVITATION_DAYS", "0")
    fails(
        cli,
        ["invite", "--unit", "KH-KS"],
        ["Setting INVITATION_DAYS: Input should be greater than or equal to 1"],
    )


# ---- configuration -----------------------------------------------------------------------------


def test_missing_config_folder(cli: Cli) -> None:
    cli.set("HOIBOT_CONFIG_DIR", str(cli.folder / "cau_hinh"))
    fails(
        cli,
        ["report", "progress"],
        [
            f"{cli.folder / 'cau_hinh'}: the configuration folder does not exist; set "
            "HOIBOT_CONFIG_DIR to the folder that holds hierarchy.yaml, indicators.yaml, "
            "forms.yaml, targets.yaml",
            "1 problem in the configuration.",
        ],
    )


def test_config_problems_stop_every_command_with_the_same_lines(cli: Cli) -> None:
    folder = cli.folder / "config"
    shutil.copytree(DEMO_CONFIG_DIR, folder)
    path = folder / "targets.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("period: yearly", "period: yearley", 1), encoding="utf-8")
    checked = cli("config", "check", str(folder))
    assert checked.exit_code == 1 and len(checked.output.splitlines()) == 2
    cli.set("HOIBOT_CONFIG_DIR", str(folder))
    for args in (["report", "progress"], ["run"], ["chat"], ["reminders", "preview"]):
        fails(cli, args, checked.output.splitlines())


def test_target_naming_a_unit_not_in_the_database(cli: Cli) -> None:
    folder = cli.folder / "config"
    shutil.copytree(DEMO_CONFIG_DIR, folder)
    path = folder / "targets.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("units: [KH-KS, KH-KV]", "units: [KH-KS, KH-XX]"), encoding="utf-8"
    )
    line = text[: text.index("units: [KH-KS")].count("\n") + 1
    expected = [
        f"{path}:{line}: targets[5] field 'units.1': no unit 'KH-XX' in the database; write "
        "the code of an imported unit",
        "1 problem in the configuration.",
    ]
    url = f"sqlite+aiosqlite:///{cli.db}"
    fails(cli, ["config", "check", str(folder), "--database", url], expected)
    # Without --database, the DATABASE_URL of the environment (or .env) is checked.
    fails(cli, ["config", "check", str(folder)], expected)
    without = cli("config", "check", str(folder), "--no-database")
    assert without.exit_code == 0 and "target units not checked" in without.output
    cli.set("HOIBOT_CONFIG_DIR", str(folder))
    fails(cli, ["report", "progress"], expected)
    cli.monkeypatch.delenv("HOIBOT_CONFIG_DIR")
    good = cli("config", "check", "--database", url)
    assert good.exit_code == 0
    assert good.output.rstrip().endswith(
        "the units in the database fit it (levels, and units named by targets)."
    )


def test_units_at_a_level_the_hierarchy_no_longer_has(cli: Cli) -> None:
    folder = cli.folder / "config"
    shutil.copytree(DEMO_CONFIG_DIR, folder)
    # The level is renamed in every file, so the configuration is sound on its own; only the
    # units already in the database are at a level it no longer lists.
    for name in ("hierarchy.yaml", "forms.yaml", "targets.yaml"):
        file = folder / name
        text = file.read_text(encoding="utf-8")
        text = text.replace("code: district\n", "code: huyen\n")
        text = text.replace("level: district", "level: huyen").replace(", district", ", huyen")
        file.write_text(text, encoding="utf-8")
    path = folder / "hierarchy.yaml"
    line = path.read_text(encoding="utf-8").splitlines().index("levels:") + 1
    cli.set("HOIBOT_CONFIG_DIR", str(folder))
    fails(
        cli,
        ["report", "export", "kh.xlsx"],
        [
            f"{path}:{line}: levels: the database has 2 units at level 'district', which is not "
            "listed; add the level back (optional: true if some places have none)",
            "1 problem in the configuration.",
        ],
    )


# ---- files -----------------------------------------------------------------------------------


def test_import_file_that_is_not_text(cli: Cli) -> None:
    (cli.folder / "units.csv").write_bytes(b"\xff\xfe\x00\x00\x9c\x80binary")
    result = cli("units", "import", "units.csv")
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line == (
        "units.csv: neither a CSV file nor an Excel workbook (.xlsx); "
        "save it from Excel as .xlsx or as CSV UTF-8"
    )


def test_import_file_that_is_not_a_workbook(cli: Cli) -> None:
    (cli.folder / "people.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    before = cli.fingerprint()
    result = cli("people", "import", "people.xlsx")
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith("people.xlsx: neither a CSV file nor an Excel workbook")
    assert cli.fingerprint() == before


@pytest.mark.parametrize(
    "args",
    [
        ["report", "export", "thieu/kh.xlsx"],
        ["report", "chart", "thoát nghèo", "thieu/chart.png"],
        ["invite", "--unit", "KH-KS", "--out", "thieu/moi.xlsx"],
    ],
)
def test_output_in_a_missing_folder(cli: Cli, args: list[str]) -> None:
    out = Path(next(a for a in args if a.startswith("thieu/")))
    fails(cli, args, [f"{out}: the folder thieu does not exist; create it first."])


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["report", "export", "kh.pdf"], "kh.pdf: cannot write a .pdf file; name it with .xlsx."),
        (
            ["invite", "--unit", "KH-KS", "--out", "moi.txt"],
            "moi.txt: cannot write a .txt file; name it with .xlsx or .csv.",
        ),
    ],
)
def test_output_of_another_format_is_refused(cli: Cli, args: list[str], line: str) -> None:
    fails(cli, args, [line])
    assert not any(cli.folder.glob("kh.*")) and not any(cli.folder.glob("moi.*"))


# ---- reports ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["report", "total", "khong co gi"],
            "No indicator matches 'khong co gi': give its code or words of its label "
            "(see indicators.yaml).",
        ),
        (
            ["report", "total", "hội viên"],
            "'hội viên' matches several indicators: give one of hv_moi, hv_ra, tang_hv_thuan, "
            "tong_hoi_vien, ho_5k3s, hv_tuyen_truyen, gioi_thieu_dang.",
        ),
        (
            ["report", "total", "thoát nghèo", "--period", "quý 7"],
            "Cannot read the period 'quý 7' (a quarter is 1 to 4, or I to IV): write e.g. "
            '"tháng 11", "quý 3/2026", "6 tháng đầu năm", "năm 2026", "nhiệm kỳ".',
        ),
        (
            ["report", "missing", "--period", "hôm kia"],
            'Cannot read the period \'hôm kia\': write e.g. "tháng 11", "quý 3/2026", '
            '"6 tháng đầu năm", "năm 2026", "nhiệm kỳ".',
        ),
        (
            ["report", "chart", "thoát nghèo", "c.png", "--unit", "KH-ZZ"],
            "No unit 'KH-ZZ': give the code of a unit in the database.",
        ),
        (
            ["report", "missing", "--form", "thang"],
            "No form 'thang': give one of thang_chi_hoi, quy_chi_hoi, sau_thang_co_so, nam_huyen, "
            "nam_tinh.",
        ),
        (
            ["report", "total", "ghi_chu"],
            "'ghi_chu' is a text indicator: it has no total and no chart.",
        ),
        (
            ["report", "chart", "ghi_chu", "c.png"],
            "'ghi_chu' is a text indicator: it has no total and no chart.",
        ),
        (
            ["reminders", "preview", "--at", "25/11/2026"],
            "Cannot read the time '25/11/2026': write it like 2026-11-23 08:00.",
        ),
    ],
)
def test_unknown_indicator_period_unit_form(cli: Cli, args: list[str], line: str) -> None:
    fails(cli, args, [line])


def test_files_written_are_named_in_english_like_every_cli_message(cli: Cli) -> None:
    result = cli("report", "export", "kh.xlsx", "--period", "năm 2026")
    assert (result.exit_code, result.output.split(":")[0]) == (0, "Wrote kh.xlsx")
    assert Path("kh.xlsx").stat().st_size > 0


def test_debug_shows_the_traceback(cli: Cli) -> None:
    result = cli("--debug", "report", "total", "khong co gi")
    assert result.exit_code == 1
    assert type(result.exception).__name__ == "StaffError"


# ---- invitations -----------------------------------------------------------------------------


def test_invite_twice_keeps_unused_codes_unless_renewed(cli: Cli) -> None:
    cli.set("TELEGRAM_BOT_USERNAME", "HoiLHPN_BaoCao_bot")
    first = cli("invite", "--unit", "KH-KS", "--out", "moi.csv")
    assert first.exit_code == 0, first.output
    codes = Path("moi.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    n = len(codes)
    assert (
        n > 3
        and first.output == f"{n} invitations written to moi.csv: {n} new, 0 unused from before.\n"
    )
    again = cli("invite", "--unit", "KH-KS", "--out", "moi.xlsx")
    assert again.output.endswith(f": 0 new, {n} unused from before (--renew replaces them).\n")
    from openpyxl import load_workbook

    sheet = load_workbook("moi.xlsx").active
    assert [
        ",".join(str(c or "") for c in row) for row in sheet.iter_rows(min_row=2, values_only=True)
    ] == codes

    renewed = cli("invite", "--unit", "KH-KS", "--renew")
    assert renewed.output.splitlines()[-1] == f"{n} invitations: {n} new, 0 unused from before."
    old = {line.split(",")[3] for line in codes}
    new = {line.split("  ")[3] for line in renewed.output.splitlines()[:-1]}
    assert len(new) == n and not old & new
    from storage.db.invitations import pretty

    with sqlite3.connect(cli.db) as con:
        rows = con.execute("select code, expires_at from invitations").fetchall()
    expiry = {pretty(code): at for code, at in rows}
    # The replaced codes stop working at the renewal (HOIBOT_NOW's clock runs on, so "now" is
    # some seconds after 02:00 on 27/11); the new ones run their full 30 days.
    assert all(expiry[code] < "2026-11-28" for code in old)
    assert all(expiry[code] > "2026-12-20" for code in new)


@pytest.mark.parametrize("days", ["0", "-3"])
def test_invite_days_below_one_is_refused(cli: Cli, days: str) -> None:
    fails(
        cli,
        ["invite", "--unit", "KH-KS", "--days", days],
        [f"--days {days}: a code must stay valid at least 1 day."],
    )


def test_invite_nobody(cli: Cli) -> None:
    fails(cli, ["invite"], ["Give --person or --unit."])
    fails(
        cli,
        ["invite", "--person", "Không Có Ai"],
        [
            "Nobody matches 'Không Có Ai': give a person's id, phone or name (see "
            "`hoibot people list`)."
        ],
    )


# ---- first run ---------------------------------------------------------------------------------


def test_run_with_own_configuration_and_empty_database_says_what_to_do(cli: Cli) -> None:
    folder = cli.folder / "config"
    shutil.copytree(DEMO_CONFIG_DIR, folder)
    (folder / "units.csv").unlink()
    cli.db.unlink()
    cli.set("HOIBOT_CONFIG_DIR", str(folder))
    # With her own configuration, only `db upgrade` makes the database (a mistyped path must
    # not leave an empty one behind).
    fails(
        cli,
        ["run"],
        [
            f"There is no database at {cli.db}: check DATABASE_URL (a mistyped path?); "
            "`hoibot db upgrade` creates a new one."
        ],
    )
    assert cli("db", "upgrade").exit_code == 0
    result = cli("run")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("The database is empty and the configuration in")
    assert [
        line.split()[1:3] for line in lines if line.strip()[:2] in ("1.", "2.", "3.", "5.")
    ] == [
        ["hoibot", "config"],
        ["hoibot", "units"],
        ["hoibot", "people"],
        ["hoibot", "invite"],
    ]
    assert "hoibot invite --unit KH --out invitations.xlsx" in result.output
    with sqlite3.connect(cli.db) as con:
        assert con.execute("select count(*) from org_units").fetchone() == (0,)
    fails(
        cli,
        ["demo", "--small"],
        [
            f"The demo needs a shipped configuration, and HOIBOT_CONFIG_DIR is {folder}: unset "
            "it or name one with --province (and use a database of its own)."
        ],
    )


def test_run_with_the_demo_configuration_keeps_an_existing_database(cli: Cli) -> None:
    with sqlite3.connect(cli.db) as con:
        units = con.execute("select count(*) from org_units").fetchone()
    result = cli("run", input="/thoat\n")
    assert result.exit_code == 0, result.output
    assert "building the Khánh Hòa demo" not in result.output
    with sqlite3.connect(cli.db) as con:
        assert con.execute("select count(*) from org_units").fetchone() == units


def test_the_outside_testers_bad_input_is_clear_and_fails(cli: Cli) -> None:
    """The outside tester's inputs: each a clear message, no traceback, nothing written, and
    a failure code (the command did not do what was asked)."""
    (cli.folder / "p.csv").write_text(
        "full_name,phone,role,unit_code\nLê Thị Hoa,0912 000 111,chi hội trưởng,KH-NOPE\n"
        "Lê Thị Hồng,12,chi hội trưởng,B1\n",
        encoding="utf-8",
    )
    for args in (
        ["report", "total", "thoát nghèo", "--period", "quý 5"],
        ["report", "total", "xyz"],
        ["people", "show", "99999"],
        ["people", "erase", "99999"],
        ["people", "import", "p.csv", "--dry-run"],
        ["people", "import", "nonexist.xlsx"],
    ):
        before = cli.fingerprint()
        result = cli(*args)
        assert result.exit_code == 1, (args, result.output)
        assert "Traceback" not in result.output and result.output.strip(), args
        assert cli.fingerprint() == before
