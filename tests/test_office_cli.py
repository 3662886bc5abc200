"""The operator's year at the command line: people (list, show, edit, deactivate, replace,
each change audited), units (list, rename, move, close, merge), on SQLite and PostgreSQL; and
the rough edges a new operator met (usage errors, config check and .env, a mistyped SQLite
path, a newer schema, invitations without a bot name, config errors that say what is right,
reports import that drops no row, the demo chat's default leader).

Tree (tests.builders.small_tree): KH ─ KH-KS ─ C1 Xã Sơn Bình (B1, B2), C2 Xã Sơn Hiệp (B3);
KH-KV ─ C3 (B4); KH-D3 ─ C4 (B5); people: Nguyễn Thị Lan (leader of B1), Trần Thị Mai (C1),
Lê Thị Hoa (KH-KS), Phạm Thị Hương (KH)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.config import DEMO_CONFIG_DIR, get_settings
from storage.db.invitations import link_directly
from storage.db.migrate import alembic_config
from storage.plan.periods import month
from tests.builders import report, small_tree_with_people

NOW = "2026-11-27T09:00:00+07:00"
FORM = "thang_chi_hoi"


async def _stamp(engine) -> None:  # type: ignore[no-untyped-def]
    """The test schema is made from the models: tell the CLI it is migrated."""
    from alembic import command

    def stamp(connection: object) -> None:
        cfg = alembic_config(str(engine.url))
        cfg.attributes["connection"] = connection
        command.stamp(cfg, "head")

    async with engine.begin() as conn:
        await conn.run_sync(stamp)


@pytest.fixture
async def office(ctx, db_url, tmp_path, monkeypatch):
    """The small tree and its people in a database the CLI reads (SQLite or PostgreSQL),
    with reports of Khánh Sơn's branches in 2026 and the leader of B1 joined on Telegram."""
    async with ctx.sessions() as session:
        found = await small_tree_with_people(session, ctx.clock.now())
        t = found.tree
        await report(session, t.b1, FORM, month(2026, 3), {"ho_thoat_ngheo": 2})
        await report(session, t.b2, FORM, month(2026, 4), {"ho_thoat_ngheo": 3})
        await report(session, t.b3, FORM, month(2026, 9), {"ho_thoat_ngheo": 4})
        await report(session, t.b1, FORM, month(2026, 11), {"hv_moi": 1}, status="draft")
        await link_directly(session, found.leader, "telegram", "u-lan", ctx.clock.now())
        await session.commit()
    await _stamp(ctx.engine)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("HOIBOT_NOW", NOW)
    for name in ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN", "HOIBOT_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "HoiKhanhHoa_bot")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield found
    get_settings.cache_clear()


def cli(*args: str, input: str | None = None) -> Result:
    get_settings.cache_clear()
    return CliRunner().invoke(app, list(args), input=input)


def ok(*args: str) -> list[str]:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def refused(args: list[str], lines: list[str]) -> None:
    result = cli(*args)
    assert (result.exit_code, result.output.splitlines()) == (1, lines)


# ---- people -------------------------------------------------------------------------------


def test_people_list_show_and_their_filters(office) -> None:
    found = office
    lines = ok("people", "list")
    # Unit by unit in Vietnamese order (the tree from the top), then by given name.
    assert [line.split("  ")[1] for line in lines[:-1]] == [
        "Phạm Thị Hương",
        "Lê Thị Hoa",
        "Trần Thị Mai",
        "Nguyễn Thị Lan",
    ]
    lan = next(line for line in lines if "Nguyễn Thị Lan" in line)
    assert lan.startswith(
        f"#{found.leader.id}  Nguyễn Thị Lan  branch_leader  Chi hội thôn 1 (B1), "
    )
    assert "Tỉnh Khánh Hòa › Huyện Khánh Sơn › Xã Sơn Bình" in lan
    assert "telegram 27/11/2026" in lan
    assert lines[-1] == "4 people: 1 joined, 3 not yet."
    assert ok("people", "list", "--unit", "C1", "--not-joined") == [
        next(line for line in lines if "Trần Thị Mai" in line),
        "1 person.",
    ]
    assert ok("people", "list", "--role", "branch_leader")[-1] == "1 person: 1 joined, 0 not yet."
    refused(
        ["people", "list", "--role", "chief"],
        [
            "--role 'chief' is not a role: give one of branch_leader, commune_officer, "
            "district_officer, provincial_staff, admin."
        ],
    )
    refused(
        ["people", "list", "--unit", "XX"],
        ["No unit 'XX': give the code of a unit (see `hoibot units list`)."],
    )
    assert (
        ok("people", "list", "--out", "nguoi.csv")[-1]
        == "4 people written to nguoi.csv: 1 joined, 3 not yet."
    )
    header = Path("nguoi.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == "Id,Name,Role,Unit,Code,Path,Phone,Joined,Last wrote"
    shown = ok("people", "show", str(found.leader.id))
    assert shown[:3] == [
        f"#{found.leader.id} Nguyễn Thị Lan",
        "  role: branch_leader",
        "  unit: Chi hội thôn 1 (B1), Tỉnh Khánh Hòa › Huyện Khánh Sơn › Xã Sơn Bình",
    ]
    result = cli("people", "show", "Thị")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "4 people match 'Thị': give one id."
    assert f"  #{found.leader.id} Nguyễn Thị Lan, branch_leader, Chi hội thôn 1" in result.output


def test_people_edit_and_its_audit(office) -> None:
    found = office
    mai = str(found.commune_officer.id)
    assert ok("people", "edit", mai, "--phone", "+84 912 345 678") == [
        f"Changed #{mai} Trần Thị Mai: phone – → 0912345678."
    ]
    assert ok("people", "edit", mai, "--phone", "0912345678") == [
        f"#{mai} Trần Thị Mai: nothing changed."
    ]
    refused(
        ["people", "edit", mai, "--phone", "0912"],
        [
            "'0912' is not a phone number: write a Vietnamese number such as 0912345678 or "
            "+84 912 345 678."
        ],
    )
    refused(
        ["people", "edit", str(found.leader.id), "--phone", "0912 345 678"],
        ["The phone 0912345678 is already Trần Thị Mai's (C1): one phone belongs to one person."],
    )
    refused(
        ["people", "edit", mai, "--role", "boss"],
        [
            "'boss' is not a role: give one of branch_leader, commune_officer, district_officer, "
            "provincial_staff, admin."
        ],
    )
    refused(
        ["people", "edit", mai, "--role", "branch_leader"],
        [
            "A branch_leader belongs to a branch; C1 is a commune: give a role that fits the "
            "unit, or another unit."
        ],
    )
    assert ok("people", "edit", mai, "--unit", "C2", "--name", "Trần Thị Mai Anh") == [
        f"Changed #{mai} Trần Thị Mai Anh: full_name Trần Thị Mai → Trần Thị Mai Anh, unit C1 → C2."
    ]
    refused(["people", "edit", mai], ["Give what to change: --name, --phone, --role or --unit."])
    shown = ok("people", "show", mai)
    changes = shown[shown.index("  changes:") + 1 :]
    assert [c.split(" by ")[0][-4:] for c in changes] == ["edit", "edit"]
    assert "phone – → 0912345678" in changes[0] and " by cli:" in changes[0]
    assert "full_name Trần Thị Mai → Trần Thị Mai Anh, unit C1 → C2" in changes[1]


def test_people_deactivate_and_replace_a_leader(office) -> None:
    found = office
    lan = str(found.leader.id)
    lines = ok("people", "replace", lan, "--name", "Trần Thị Mới", "--phone", "0987 654 321")
    assert lines[0].startswith(f"#{lan} Nguyễn Thị Lan stepped down; #")
    assert lines[0].endswith(" Trần Thị Mới is now branch_leader of Chi hội thôn 1 (B1).")
    assert lines[1].startswith("Her invitation, to forward: ")
    assert "https://t.me/HoiKhanhHoa_bot?start=" in lines[1]
    assert lines[1].endswith("(valid until 27/12/2026)")
    assert lines[2] == "The unit's unsent draft waits for her: /baocao resumes it."
    shown = ok("people", "show", lan)
    assert shown[0] == f"#{lan} Nguyễn Thị Lan (deactivated)"
    assert "  joined: not joined" in shown
    assert any(" replace by cli:" in line and "active True → False" in line for line in shown)
    assert any("channels telegram → –" in line for line in shown)
    refused(
        ["people", "replace", lan, "--name", "X Y"],
        ["Nguyễn Thị Lan is deactivated: nothing more can change for her."],
    )
    refused(
        ["people", "replace", "Trần Thị Mới", "--name", "Lê Thị Nụ", "--phone", "0987654321"],
        ["The phone 0987654321 is already Trần Thị Mới's (B1): one phone belongs to one person."],
    )
    refused(
        ["people", "replace", "Trần Thị Mới", "--name", "12345"],
        ["'12345' is not a person's name: write her full name, e.g. Nguyễn Thị Lan."],
    )
    new_id = lines[0].split("; #")[1].split()[0]
    assert ok("people", "deactivate", "Trần Thị Mới") == [
        f"Deactivated #{new_id} Trần Thị Mới (not joined); her unit's reports stay."
    ]
    assert ok("people", "list", "--unit", "B1")[-1] == "0 people: 0 joined, 0 not yet."
    assert ok("people", "list", "--unit", "B1", "--inactive")[-1] == (
        "2 people: 0 joined, 2 not yet."
    )
    refused(
        ["invite", "--person", new_id],
        [
            f"#{new_id} Trần Thị Mới is deactivated: she cannot join (`hoibot people replace` "
            "hands her unit to someone else)."
        ],
    )


# ---- units --------------------------------------------------------------------------------


def test_units_list_rename_move_and_close(office) -> None:
    lines = ok("units", "list", "--under", "KH-KS")
    assert lines == [
        "KH-KS  Huyện Khánh Sơn  (district)  3 people, 1 joined",
        "  C1  Xã Sơn Bình  (commune)  2 people, 1 joined",
        "    B1  Chi hội thôn 1  (branch)  1 person, 1 joined",
        "    B2  Chi hội thôn 2  (branch)  0 people, 0 joined",
        "  C2  Xã Sơn Hiệp  (commune)  0 people, 0 joined",
        "    B3  Chi hội thôn 3  (branch)  0 people, 0 joined",
        "6 units.",
    ]
    assert ok("units", "rename", "B2", "Chi hội thôn Hai") == [
        "Renamed B2: Chi hội thôn 2 → Chi hội thôn Hai."
    ]
    refused(
        ["units", "rename", "B2", " "],
        ['The new name is empty: write the unit\'s name, e.g. "Xã Sơn Bình".'],
    )
    refused(
        ["units", "move", "B2", "--to", "KH-KV"],
        ["B2 cannot go under a district: its parent must be a commune."],
    )
    refused(
        ["units", "move", "C1", "--to", "B1"],
        ["C1 cannot go under a branch: its parent must be a district or a province."],
    )
    refused(["units", "move", "B2", "--to", "C1"], ["B2 is under C1 already."])
    refused(
        ["units", "move", "B2", "--to", "C2", "--on", "31/13/2026"],
        ["--on '31/13/2026' is not a date: write it as 2026-07-01 or 01/07/2026."],
    )
    assert ok("units", "move", "B2", "--to", "C2", "--on", "01/12/2026") == [
        "Moved B2 Chi hội thôn Hai under C2 Xã Sơn Hiệp."
    ]
    # B2's April report moved with it: Sơn Hiệp's year now counts it.
    total = ok("report", "total", "thoat ngheo", "--period", "năm 2026", "--unit", "C2")
    assert total[0].endswith("Xã Sơn Hiệp, năm 2026: 7 hộ")
    refused(
        ["units", "close", "C1"],
        [
            "C1 still has 1 active person: deactivate them or move them to another unit first "
            "(hoibot people)."
        ],
    )
    refused(
        ["units", "close", "C2"],
        ["C2 still has 2 open units below it: move, merge or close them first."],
    )
    assert ok("units", "close", "B5", "--on", "2027-01-01") == [
        "Closed B5 Chi hội thôn 5: its last day was 31/12/2026."
    ]
    refused(["units", "close", "B5"], ["B5 is closed already."])
    assert "B5" not in "\n".join(ok("units", "list"))
    assert "B5  Chi hội thôn 5  (branch, closed after 31/12/2026)" in "\n".join(
        ok("units", "list", "--closed")
    )


def rows(lines: list[str]) -> list[str]:
    """A total's lines by unit ("1. Xã …"), after its headline (of several lines, #20)."""
    return [line for line in lines if line[:1].isdigit()]


def test_units_merge_carries_reports_and_totals(office) -> None:
    found = office
    before = ok("report", "total", "thoat ngheo", "--period", "năm 2026", "--unit", "KH-KS")
    assert before[0].endswith("Huyện Khánh Sơn, năm 2026: 9 hộ")
    assert rows(before) == ["1. Xã Sơn Bình: 5 (55,6%)", "2. Xã Sơn Hiệp: 4 (44,4%)"]
    province = ok("report", "total", "thoat ngheo", "--period", "năm 2026")[0]
    refused(
        ["units", "merge", "C1", "C2", "--into", "C9"],
        [
            "There is no unit 'C9' yet: give its name with --name to create it, or the code of an "
            "existing unit."
        ],
    )
    refused(
        ["units", "merge", "C1", "C3", "--into", "C9", "--name", "Xã Mới"],
        [
            "C1, C3 are under different parents: create C9 first (hoibot units import) or merge "
            "into an existing unit."
        ],
    )
    refused(
        ["units", "merge", "C1", "B4", "--into", "C2"],
        ["B4 is a branch and cannot be merged into a commune: only units of one level merge."],
    )
    lines = ok(
        "units",
        "merge",
        "C1",
        "C2",
        "--into",
        "C9",
        "--name",
        "Xã Sơn Bình Hiệp",
        "--on",
        "01/07/2026",
    )
    assert lines == [
        "Merged C1, C2 into C9 Xã Sơn Bình Hiệp from 01/07/2026: 3 units below them moved to "
        "it; their reports count in its history.",
        f"Their people now belong to C9: #{found.commune_officer.id} Trần Thị Mai (deactivate "
        "whoever no longer serves: hoibot people deactivate).",
    ]
    after = ok("report", "total", "thoat ngheo", "--period", "năm 2026", "--unit", "KH-KS")
    assert after[0] == before[0]
    assert rows(after) == ["1. Xã Sơn Bình Hiệp: 9 (100%)"]
    assert ok("report", "total", "thoat ngheo", "--period", "năm 2026")[0] == province
    merged = ok("report", "total", "thoat ngheo", "--period", "quý 2/2026", "--unit", "C9")
    assert merged[0].endswith("Xã Sơn Bình Hiệp, quý II/2026: 3 hộ")  # B2's April, before
    listed = "\n".join(ok("units", "list", "--under", "KH-KS", "--closed"))
    assert "  C9  Xã Sơn Bình Hiệp  (commune)  2 people, 1 joined" in listed
    assert "    C1  Xã Sơn Bình  (commune, merged into C9 from 01/07/2026)  0 people" in listed
    assert "    B3  Chi hội thôn 3  (branch)" in listed
    mai = ok("people", "show", str(found.commune_officer.id))
    assert "  unit: Xã Sơn Bình Hiệp (C9), Tỉnh Khánh Hòa › Huyện Khánh Sơn" in mai
    refused(["units", "merge", "C1", "C3", "--into", "C9"], ["C1 is closed already."])
    # Into an existing unit; branches that now share a name are pointed out.
    ok("units", "rename", "B4", "Chi hội thôn 1")
    assert ok("units", "merge", "C3", "--into", "C9", "--on", "2026-10-01") == [
        "Merged C3 into C9 Xã Sơn Bình Hiệp from 01/10/2026: 1 unit below them moved to it; "
        "their reports count in its history.",
        "Note: B1 and B4 now share a name under C9: rename them (hoibot units rename CODE "
        "NAME) so that staff can tell them apart.",
    ]


# ---- the rough edges ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["units", "lst"],
            "No such command 'lst'; did you mean 'list'? (hoibot units); see --help.",
        ),
        (
            ["report", "progress", "--bogus"],
            "No such option: --bogus (hoibot report progress); see --help.",
        ),
        (["--bogus"], "No such option: --bogus (hoibot); see --help."),
        (
            ["peple", "list"],
            "No such command 'peple'; did you mean 'people'? (hoibot); see --help.",
        ),
        (["units", "rename", "B1"], "Missing argument 'name' (hoibot units rename); see --help."),
    ],
)
def test_a_mistyped_command_line_is_one_line_and_exit_1(args: list[str], line: str) -> None:
    result = cli(*args)
    assert (result.exit_code, result.output.splitlines()) == (1, [line])


@pytest.fixture
def sqlite_office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A migrated SQLite database with the small tree, through the commands themselves."""
    db = tmp_path / "van_phong.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    monkeypatch.setenv("HOIBOT_NOW", NOW)
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "ZALO_BOT_TOKEN",
        "HOIBOT_CONFIG_DIR",
        "TELEGRAM_BOT_USERNAME",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    (tmp_path / "people.csv").write_text(PEOPLE, encoding="utf-8")
    ok("db", "upgrade")
    ok("units", "import", "units.csv")
    ok("people", "import", "people.csv")
    yield db
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
Mấu Thị Hoa,0905000002,commune_officer,KH-KS-01
Bo Bo Thị Hạnh,0905000003,branch_leader,KH-KS-01-1
Cao Thị Sen,0905000004,branch_leader,KH-KS-01-2
"""


def test_people_import_is_audited(sqlite_office: Path) -> None:
    shown = ok("people", "show", "0905000003")
    assert shown[-1].split(" by ")[0].endswith("import")
    assert (
        "full_name Bo Bo Thị Hạnh, phone 0905000003, role branch_leader, unit KH-KS-01-1"
        in shown[-1]
    )
    assert shown[-1].endswith("(people.csv)")


def test_config_check_reads_dotenv_and_refuses_an_empty_url(
    sqlite_office: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused(
        ["config", "check", "--database", ""],
        [
            "--database was given an empty URL (is the shell variable set? the shell does not "
            "read .env): leave --database out to check the DATABASE_URL of .env, or write the "
            "URL."
        ],
    )
    # DATABASE_URL only in .env, as README's step 1 writes it.
    monkeypatch.delenv("DATABASE_URL")
    Path(".env").write_text(f"DATABASE_URL=sqlite+aiosqlite:///{sqlite_office}\n", encoding="utf-8")
    [line] = ok("config", "check")
    assert line.endswith("the units in the database fit it (levels, and units named by targets).")
    assert ", 1 term;" in line and "1 terms" not in line
    Path(".env").write_text("DATABASE_URL=\n", encoding="utf-8")
    refused(
        ["config", "check"],
        [
            "DATABASE_URL is empty: set it in .env (or leave it out for ./hoibot.db), e.g. "
            "sqlite+aiosqlite:///path/to/hoibot.db or postgresql://user@host:5432/name."
        ],
    )
    Path(".env").unlink()
    [line] = ok("config", "check")
    assert line.endswith("(DATABASE_URL is not set; --database URL to check them).")


def test_a_mistyped_sqlite_path_creates_nothing(sqlite_office: Path, monkeypatch) -> None:
    wrong = sqlite_office.parent / "van_phog.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{wrong}")
    expected = [
        f"There is no database at {wrong}: check DATABASE_URL (a mistyped path?); "
        "`hoibot db upgrade` creates a new one."
    ]
    for args in (["people", "list"], ["units", "list"], ["report", "progress"], ["chat"]):
        refused(args, expected)
    # config check still checks the files, and says the database is not there.
    [line] = ok("config", "check", "--database", f"sqlite+aiosqlite:///{wrong}")
    assert line.endswith(
        f"there is no database at {wrong} yet (`hoibot db upgrade` creates it; check "
        "DATABASE_URL if it should be there)."
    )
    assert not wrong.exists()
    ok("db", "upgrade")
    assert wrong.exists()


def test_schema_older_or_newer_than_the_code(sqlite_office: Path) -> None:
    with sqlite3.connect(sqlite_office) as con:
        head = con.execute("select version_num from alembic_version").fetchone()[0]
        con.execute("update alembic_version set version_num = '9999'")
    refused(
        ["people", "list"],
        [
            f"The database is at version 9999, newer than this hoibot knows (its latest is "
            f"{head}): update hoibot (git pull, then make install), or check DATABASE_URL."
        ],
    )
    refused(
        ["db", "upgrade"],
        [
            f"The database is at version 9999, newer than this hoibot knows (its latest is "
            f"{head}): update hoibot (git pull, then make install), or check DATABASE_URL."
        ],
    )
    with sqlite3.connect(sqlite_office) as con:
        con.execute("update alembic_version set version_num = '0010'")
    refused(
        ["people", "list"],
        [
            f"The database is at version 0010, older than this hoibot needs ({head}): run "
            "`hoibot db upgrade` first."
        ],
    )


def test_invitations_without_a_bot_name(sqlite_office: Path, monkeypatch) -> None:
    # The demo configuration: the demo's bot name, with a note.
    result = cli("invite", "--person", "0905000003")
    assert result.exit_code == 0
    assert "https://t.me/HoiLHPN_BaoCao_bot?start=" in result.output
    assert (
        "Note: TELEGRAM_BOT_USERNAME is not set, so the links name the demo's bot" in result.output
    )
    # Her own configuration: codes only, never a link to someone else's bot.
    folder = sqlite_office.parent / "cau_hinh"
    shutil.copytree(DEMO_CONFIG_DIR, folder)
    (folder / "units.csv").unlink()
    monkeypatch.setenv("HOIBOT_CONFIG_DIR", str(folder))
    result = cli("invite", "--unit", "KH-KS", "--out", "moi.csv")
    assert result.exit_code == 0, result.output
    assert "t.me/" not in Path("moi.csv").read_text(encoding="utf-8-sig")
    assert "no Telegram links are written (the codes work when typed to the bot)" in result.output
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "@HoiKhanhHoa_bot")
    result = cli("invite", "--unit", "KH-KS")
    assert "https://t.me/HoiKhanhHoa_bot?start=" in result.output and "Note" not in result.output


def test_the_demo_chat_picks_a_leader_with_a_report_to_fill(
    sqlite_office: Path, monkeypatch
) -> None:
    # 3 December: November's report is the one /baocao opens; Bo Bo Thị Hạnh has sent it.
    monkeypatch.setenv("HOIBOT_NOW", "2026-12-03T09:00:00+07:00")
    with sqlite3.connect(sqlite_office) as con:
        unit = con.execute("select id from org_units where code = 'KH-KS-01-1'").fetchone()[0]
        con.execute(
            "insert into submissions (unit_id, form_code, period_key, period_start, period_end, "
            "status, created_at, updated_at, late, reopened) values (?, 'thang_chi_hoi', "
            "'2026-11', '2026-11-01', '2026-11-30', 'submitted', '2026-12-01 01:00:00', "
            "'2026-12-01 01:00:00', 0, 0)",
            (unit,),
        )
    result = cli("chat", input="/thoat\n")
    assert result.exit_code == 0, result.output
    assert "với tư cách Cao Thị Sen (chi hội trưởng, Chi hội tổ dân phố 2)" in result.output


def test_reports_import_drops_no_row_and_reads_short_labels(sqlite_office: Path) -> None:
    Path("bc.csv").write_text(
        "Mã đơn vị,hvm,tn,thv\nKH-KS-01-1,2,1,40\nKH-KS-01,5,3,90\nKH-KS-01-2,,,\n",
        encoding="utf-8",
    )
    refused(
        ["reports", "import", "bc.csv", "--form", FORM, "--period", "tháng 10/2026"],
        [
            "bc.csv row 3: KH-KS-01 is a commune; thang_chi_hoi is a branch's form: give one "
            "row per branch, and name a subtotal row 'Cộng …' to have it passed over",
            "Nothing was imported: 1 error.",
        ],
    )
    Path("bc.csv").write_text(
        "Cơ sở Hội,Mã đơn vị,hvm,tn,thv\n"
        ",KH-KS-01-1,2,1,40\n"
        "Cộng Thị trấn Tô Hạp,KH-KS-01,2,1,40\n"
        ",KH-KS-01-2,,,\n",
        encoding="utf-8",
    )
    assert ok("reports", "import", "bc.csv", "--form", FORM, "--period", "tháng 10/2026") == [
        "Imported 1 report, 3 values new or changed; 1 subtotal row passed over (row 3); "
        "1 row with no figure, nothing stored (row 4)."
    ]


# ---- configuration errors that say what would be right ------------------------------------


def config_check(folder: Path) -> tuple[int, list[str]]:
    result = cli("config", "check", str(folder), "--no-database")
    return result.exit_code, result.output.splitlines()


def test_config_errors_say_what_would_be_right(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    folder = tmp_path / "cau_hinh"
    shutil.copytree(DEMO_CONFIG_DIR, folder)
    targets = folder / "targets.yaml"
    original = targets.read_text(encoding="utf-8")
    # A date written day first is read as such.
    targets.write_text(
        original.replace("start: 2022-01-01", "start: 01/01/2022").replace(
            "end: 2026-12-31", "end: 31/12/2026"
        ),
        encoding="utf-8",
    )
    code, lines = config_check(folder)
    assert code == 0, lines
    text = original.replace("end: 2026-12-31", "end: 31/13/2026").replace(
        "    indicator: ho_thoat_ngheo\n", "    indicater: ho_thoat_ngheo\n", 1
    )
    targets.write_text(text, encoding="utf-8")
    end = text[: text.index("end: 31/13/2026")].count("\n") + 1
    misspelt = text[: text.index("indicater:")].count("\n") + 1
    code, lines = config_check(folder)
    assert code == 1
    assert (
        f"{targets}:{end}: terms[0] field 'end': '31/13/2026' is not a date; write a date as "
        "2026-06-30 (or 30/06/2026)" in lines
    )
    assert any(
        line.startswith(f"{targets}:{misspelt}: targets[")
        and line.endswith("field 'indicater': unknown field (did you mean 'indicator'?)")
        for line in lines
    ), lines
    # A key written twice is refused (the last would silently win).
    targets.write_text(original, encoding="utf-8")
    forms = folder / "forms.yaml"
    text = forms.read_text(encoding="utf-8")
    forms.write_text(
        text.replace("    level: branch\n", "    level: branch\n    level: commune\n", 1),
        encoding="utf-8",
    )
    line = text[: text.index("    level: branch\n")].count("\n") + 2
    code, lines = config_check(folder)
    assert (code, lines) == (
        1,
        [
            f"{forms}:{line}: not valid YAML (the key 'level' is written twice here (first on "
            f"line {line - 1}), and the second would replace the first; keep one)",
            "1 problem in the configuration.",
        ],
    )


def test_config_md_documents_every_field_the_checker_accepts() -> None:
    import re

    from storage.plan import catalog

    doc = (DEMO_CONFIG_DIR.parent / "CONFIG.md").read_text(encoding="utf-8")
    models = (
        catalog.Level,
        catalog.Indicator,
        catalog.Choice,
        catalog.Form,
        catalog.Question,
        catalog.Schedule,
        catalog.Reminder,
        catalog.Rule,
        catalog.OutlierCheck,
        catalog.Target,
        catalog.TermConfig,
        catalog.Milestone,
        catalog.Condition,
    )
    missing = [
        f"{model.__name__}.{name}"
        for model in models
        for name in model.model_fields
        if not re.search(r"(`(?:[a-z_]+\[\]\.)?|[{,] ?)" + name + r"(`|:|,|})", doc)
    ]
    assert missing == []


def test_hoibot_alone_shows_the_help_not_an_error() -> None:
    result = cli()
    assert "Usage: " in result.output and "see --help" not in result.output
    assert "units" in result.output and "people" in result.output
