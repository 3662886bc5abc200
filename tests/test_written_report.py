"""The period's written report (`hoibot report document`, /baocaovanban, the tracker's link):
read back with python-docx, its figures are those `report total`, `report progress` and
`report missing` show for the same unit and period, on the Khánh Hòa demo and on Lào Cai (no
district level); a period with nothing reported says so and shows no 0; leaders' text answers
are gathered by unit; the layout file changes the document and its mistakes are named."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import DEMO_CONFIG_DIR, get_settings
from handlers.written_report import build_document, date_line
from handlers.written_report_docx import TEXT_WIDTH_MM
from handlers.written_report_sections import status_word
from schedules.messages import Outbound
from storage.measures.target_status import Status
from storage.measures.totals import a_year_before
from storage.plan import texts_vi as vi
from storage.plan.catalog_load import load_catalog
from storage.plan.config_files import ConfigError
from storage.plan.document_layout import load_layouts
from storage.plan.periods import Period, month, next_period, parse_period, previous_period
from tests.builders import report, small_tree_with_people
from tests.chat import ChatUser

NOW = "2026-12-05T09:00:00+07:00"
# The latest period each demo province has reports of: Lào Cai's branches report by half-year.
PERIODS = {"khanh_hoa": "tháng 11/2026", "lao_cai": "6 tháng đầu năm 2026"}
FORM = "thang_chi_hoi"


# ---- reading a document back ----------------------------------------------------------------


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[list[list[str]]] = field(default_factory=list)


@dataclass
class ReadBack:
    header: list[list[str]]
    top: list[str]  # paragraphs before the first section
    sections: list[Section]
    widths_ok: bool

    def section(self, number: str) -> Section:
        return next(s for s in self.sections if s.title.startswith(f"{number}. "))

    @property
    def text(self) -> str:
        parts = self.top + [s.title for s in self.sections]
        for s in self.sections:
            parts += s.paragraphs + [c for t in s.tables for row in t for c in row]
        return "\n".join(parts)


def read_back(data: bytes) -> ReadBack:
    import docx
    from docx.shared import Mm
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    doc = docx.Document(BytesIO(data))
    sec = doc.sections[0]
    assert round(sec.page_width.mm) == 210 and round(sec.page_height.mm) == 297  # A4
    assert doc.styles["Normal"].font.name == "Times New Roman"
    header: list[list[str]] = []
    top: list[str] = []
    sections: list[Section] = []
    widths_ok = True
    for child in doc.element.body.iterchildren():
        tag = child.tag.split("}")[1]
        if tag == "p":
            text = Paragraph(child, doc).text
            if re.match(r"^[IVX]+\. ", text):
                sections.append(Section(text))
            elif text and sections:
                sections[-1].paragraphs.append(text)
            elif text:
                top.append(text)
        elif tag == "tbl":
            table = Table(child, doc)
            rows = [[c.text for c in r.cells] for r in table.rows]
            width = sum(c.width or 0 for c in table.rows[0].cells)
            widths_ok = widths_ok and width <= Mm(TEXT_WIDTH_MM) + 1000
            if not header:
                header = rows
            elif sections:
                sections[-1].tables.append(rows)
    return ReadBack(header, top, sections, widths_ok)


# ---- the demo provinces, through the command line ------------------------------------------


def cli(*args: str) -> str:
    get_settings.cache_clear()
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module", params=["khanh_hoa", "lao_cai"])
def province(request, tmp_path_factory) -> Iterator[tuple[str, Path, Period]]:
    """A demo database of the province (SQLite), built once for the module's tests."""
    name = request.param
    folder = DEMO_CONFIG_DIR.parent / name
    tmp = tmp_path_factory.mktemp(name)
    patch = pytest.MonkeyPatch()
    patch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp / 'demo.db'}")
    patch.setenv("HOIBOT_NOW", NOW)
    patch.setenv("HOIBOT_CONFIG_DIR", str(folder))
    for env in ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN"):
        patch.delenv(env, raising=False)
    patch.chdir(tmp)
    cli("demo", "--province", name.replace("_", "-"))
    yield name, tmp, parse_period(PERIODS[name], date(2026, 12, 5))
    patch.undo()
    get_settings.cache_clear()


def document(tmp: Path, *args: str) -> ReadBack:
    out = tmp / "bao-cao.docx"
    said = cli("report", "document", str(out), *args)
    assert said.startswith(f"Wrote {out}")
    return read_back(out.read_bytes())


def first_line(cell: str) -> str:
    return cell.split("\n", maxsplit=1)[0]


def check_results(doc: ReadBack, period: Period, unit_args: list[str]) -> int:
    """Section I against `report total` for each indicator; how many had figures."""
    catalog = load_catalog(get_settings().hoibot_config_dir)
    by_label = {ind.label: code for code, ind in catalog.indicators.items()}
    [table] = doc.section("I").tables
    assert table[0][3].lower() == period.label.lower()
    assert previous_period(period).label in table[0][4]
    assert a_year_before(period).label in table[0][5]
    with_figures = 0
    for row in table[1:]:
        code, cell = by_label[row[1]], row[3]
        total = cli("report", "total", code, "--period", period.label, *unit_args)
        head = total.splitlines()[0]
        if first_line(cell) == vi.TOTAL_NOT_REPORTED:
            assert head.startswith("Chưa có báo cáo nào đã gửi"), (code, total)
            continue
        with_figures += 1
        # The figure as `report total` shows it, and what it rests on when not all reported.
        assert head.split(": ", 1)[1].startswith(first_line(cell)), (code, cell, head)
        basis = re.search(r"tính trên (\d+)/(\d+) (.+) đã báo cáo", cell)
        said = re.search(r"Tính trên (\d+)/(\d+) (.+?) đã báo cáo", total)
        if basis:
            assert said and basis.groups() == said.groups(), (code, cell, total)
        else:
            assert said is None or said.group(1) == said.group(2), (code, cell, total)
        # The comparison with last month, in the CLI's own words.
        change = next((line for line in total.splitlines() if line.startswith("So với")), None)
        if change:
            assert f"– {row[1]}: {change}" in doc.section("I").paragraphs, (code, change)
    # An earlier period's 0 is one the units reported, as `report total` says for it.
    earlier = [period.label, previous_period(period).label, a_year_before(period).label]
    for row in table[1:]:
        for column in (4, 5):
            if first_line(row[column]) == "0":
                args = ("--period", earlier[column - 3], *unit_args)
                total = cli("report", "total", by_label[row[1]], *args)
                assert total.splitlines()[0].split(": ", 1)[1].startswith("0"), (row, total)
    return with_figures


def check_targets(doc: ReadBack, unit_args: list[str]) -> None:
    shown = cli("report", "progress", *unit_args)
    section = doc.section("II")
    summary = next(line for line in shown.splitlines() if " chỉ tiêu: " in line)
    assert summary in section.paragraphs[0]
    [table] = section.tables
    words = {status_word(s): s for s in Status}
    assert len(table) - 1 == sum(1 for line in shown.splitlines() if line[:2] in _MARKS)
    for row in table[1:]:
        label = row[1].split("\n")[0]
        word, _, past = row[5].partition(" (")  # last year's verdict names its year
        status = words[word]
        head = f"{vi.STATUS[status]} ({past.rstrip(')')}) {label}" if past else ""
        head = head or f"{vi.STATUS[status]} {label}"
        assert head in shown, (label, row[5])
        achieved = first_line(row[2])
        if status not in (Status.NO_DATA, Status.DONE, Status.NOT_YET, Status.OVERDUE):
            block = shown.split(head, 1)[1].split("\n")[1]
            assert achieved.split(" ")[0] in block, (label, achieved, block)


_MARKS = {v[:2] for v in vi.STATUS.values()}


def check_reporting(doc: ReadBack, period: Period, unit_args: list[str]) -> None:
    shown = cli("report", "missing", "--period", period.label, *unit_args)
    section = doc.section("III")
    said = re.search(
        r"Đã nộp (\d+)/(\d+) \(([\d,]+%)\): đúng hạn (\d+), trễ hạn (\d+)\. Chưa nộp: (\d+)", shown
    )
    ours = re.search(
        r": (\d+)/(\d+) .+ đã nộp \(([\d,]+%)\), trong đó đúng hạn (\d+), trễ hạn (\d+); "
        r"chưa nộp: (\d+)",
        section.paragraphs[0],
    )
    assert said and ours and said.groups() == ours.groups(), (shown, section.paragraphs[0])
    groups = [line[2:] for line in shown.splitlines() if line.startswith("• ")]
    # The first form's (the branches'; the forms of levels above follow, as `--form` shows).
    first = []
    for p in section.paragraphs[1:]:
        if re.search(r": \d+/\d+ .+ đã nộp \(", p):
            break
        first.append(p)
    listed = [p[2:].rstrip(".") for p in first if p.startswith("– ")]
    assert listed == groups


def test_demo_document_agrees_with_the_cli(province) -> None:
    name, tmp, period = province
    doc = document(tmp, "--period", period.label)
    assert doc.widths_ok
    # Decree 30's header: the organisation, the national motto, number and date.
    org, motto = doc.header[0]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in motto and "Độc lập - Tự do - Hạnh phúc" in motto
    place = "Khánh Hòa" if name == "khanh_hoa" else "Lào Cai"
    assert f"HỘI LHPN TỈNH {place.upper()}" in org
    assert doc.header[1] == ["Số:        /BC-HPN", f"{place}, ngày 05 tháng 12 năm 2026"]
    assert doc.top[:2] == ["BÁO CÁO", f"Kết quả công tác Hội và phong trào phụ nữ {period.label}"]
    assert [s.title.split(". ")[0] for s in doc.sections] == ["I", "II", "III", "IV", "V", "VI"]
    assert vi.DOC_NO_DATA.split(":")[0].format(level="chi hội") not in doc.text
    assert check_results(doc, period, []) >= 3
    check_targets(doc, [])
    check_reporting(doc, period, [])
    # Thi đua: the units just below, by the level's own word, best first.
    thi_dua = doc.section("IV")
    level = "huyện" if name == "khanh_hoa" else "cơ sở hội"
    assert f"các {level} của tỉnh" in thi_dua.paragraphs[0].lower()
    ranks = [int(r[0]) for t in thi_dua.tables for r in t[1:]]
    assert ranks == sorted(ranks) and ranks[0] == 1
    office = doc.section("VI").paragraphs
    assert office.count(vi.DOC_OFFICE_PLACEHOLDER) == 2
    assert office[2].endswith(next_period(period).label)


def test_demo_document_of_a_commune(province) -> None:
    name, tmp, period = province
    code = "KH-KS-01" if name == "khanh_hoa" else "LC-01"
    doc = document(tmp, "--period", period.label, "--unit", code)
    assert doc.widths_ok
    check_results(doc, period, ["--unit", code])
    check_targets(doc, ["--unit", code])
    check_reporting(doc, period, ["--unit", code])


def test_a_period_with_no_data_says_so(province) -> None:
    name, tmp, _ = province
    doc = document(tmp, "--period", {"khanh_hoa": "tháng 1/2020"}.get(name, "năm 2020"))
    assert vi.DOC_NO_DATA.format(level="chi hội") in doc.top
    [table] = doc.section("I").tables
    for row in table[1:]:
        assert [first_line(c) for c in row[3:]] == [vi.TOTAL_NOT_REPORTED] * 3, row
    assert "Đã nộp 0/" not in doc.text and "0/" in doc.section("III").paragraphs[0]


def test_bad_input_is_one_line(province) -> None:
    _, tmp, _ = province
    for args, said in [
        (["x.pdf"], "cannot write a .pdf file"),
        (["nowhere/x.docx"], "does not exist"),
        (["x.docx", "--period", "tháng 13"], "Cannot read the period"),
        (["x.docx", "--unit", "ZZ"], "No unit 'ZZ'"),
    ]:
        get_settings.cache_clear()
        result = CliRunner().invoke(app, ["report", "document", *args])
        assert result.exit_code == 1 and said in result.output, result.output
        assert "Traceback" not in result.output


# ---- the small tree: text answers, chat, page, layout ---------------------------------------


@pytest.fixture
async def world(ctx):
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        t = people.tree
        nov = month(2026, 11)
        await report(session, t.b1, FORM, nov, {"hv_moi": 2, "ghi_chu": "Thiếu kinh phí"})
        await report(session, t.b2, FORM, nov, {"hv_moi": 0, "ghi_chu": "không"})
        await report(session, t.b3, FORM, nov, {"hv_moi": 1, "ghi_chu": "Đề nghị tập huấn"})
        await session.commit()
    return people


async def _build(ctx, unit, period=None, folder=None) -> ReadBack:  # type: ignore[no-untyped-def]
    catalog = ctx.catalog
    if folder is not None:
        catalog = load_catalog(folder)
    async with ctx.sessions() as session:
        data = await build_document(
            session,
            catalog,
            ctx.rankings,
            unit,
            period or month(2026, 11),
            ctx.clock.today(),
            ctx.clock.now(),
        )
    return read_back(data)


async def test_text_answers_are_gathered_by_unit_and_a_reported_zero_is_zero(ctx, world) -> None:
    t = world.tree
    doc = await _build(ctx, t.province)
    texts = doc.section("V").paragraphs
    assert "– Chi hội thôn 1 (Xã Sơn Bình): Thiếu kinh phí" in texts[1:]
    assert "– Chi hội thôn 3 (Xã Sơn Hiệp): Đề nghị tập huấn" in texts[1:]
    assert not any(p.rsplit(": ", 1)[-1] == "không" for p in texts)  # nothing to say: left out
    [table] = doc.section("I").tables
    row = next(r for r in table if r[1] == ctx.catalog.indicators["hv_moi"].label)
    assert row[3] == "3\n(tính trên 3/5 chi hội đã báo cáo)"
    # B2 reported 0 new members: a commune's own document shows its 0 as a reported 0.
    commune = await _build(ctx, t.c1)
    [table] = commune.section("I").tables
    row = next(r for r in table if r[1] == ctx.catalog.indicators["hv_moi"].label)
    assert first_line(row[3]) == "2"


async def test_by_chat_for_her_own_unit(ctx, world) -> None:
    from handlers.engine import Engine
    from tests.builders import linked

    async with ctx.sessions() as session:
        await linked(session, world.provincial, "telegram", "u-p", ctx.clock.now())
        await linked(session, world.leader, "telegram", "u-l", ctx.clock.now())
        await session.commit()
    engine = Engine(ctx)
    staff, leader = ChatUser(engine, "u-p"), ChatUser(engine, "u-l")
    await staff.send("/baocaovanban tháng 11")
    [message] = staff.last
    assert message.filename == "bao-cao-van-ban-KH-2026-11.docx"
    assert message.document and message.document[:2] == b"PK"
    assert "tháng 11/2026" in message.text
    assert read_back(message.document).top[1].endswith("tháng 11/2026")
    await staff.send("báo cáo văn bản tháng 11/2026 KH-KS")
    [message] = staff.last
    assert message.filename == "bao-cao-van-ban-KH-KS-2026-11.docx"
    await staff.send("/baocaovanban tháng 13")
    assert staff.last[0].document is None and staff.text == "Tháng phải từ 1 đến 12."
    await leader.send("báo cáo văn bản tháng 11")
    assert leader.last[0].document is None and leader.text == vi.STAFF_ONLY


def test_date_line_follows_decree_30() -> None:
    assert date_line("Lào Cai", date(2026, 2, 3)) == "Lào Cai, ngày 03 tháng 02 năm 2026"
    assert date_line("Lào Cai", date(2026, 12, 15)) == "Lào Cai, ngày 15 tháng 12 năm 2026"


@pytest.fixture
def own_config(tmp_path) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG_DIR, folder)
    return folder


async def test_the_layout_file_changes_the_document(ctx, world, own_config) -> None:
    (own_config / "document.yaml").write_text(
        "document:\n"
        "  title: BÁO CÁO NHANH\n"
        "  sections: [reporting, results, office]\n"
        "  headings:\n"
        "    reporting: Báo cáo của {level}\n"
        "  levels:\n"
        "    province:\n"
        "      organisation: [ĐOÀN CHỦ TỊCH, 'BAN THƯỜNG VỤ {UNIT}']\n",
        encoding="utf-8",
    )
    doc = await _build(ctx, world.tree.province, folder=own_config)
    assert doc.top[0] == "BÁO CÁO NHANH"
    assert [s.title for s in doc.sections][:2] == [
        "I. BÁO CÁO CỦA CHI HỘI",
        "II. KẾT QUẢ THỰC HIỆN CÁC CHỈ SỐ THÁNG 11/2026",
    ]
    assert len(doc.sections) == 3
    assert doc.header[0][0].startswith("ĐOÀN CHỦ TỊCH\nBAN THƯỜNG VỤ TỈNH KHÁNH HÒA")


def test_layout_mistakes_are_named(own_config) -> None:
    (own_config / "document.yaml").write_text(
        "document:\n"
        "  titel: BÁO CÁO\n"
        "  sections: [results, results, kết_luận]\n"
        "  subtitle: Báo cáo {periode}\n"
        "  levels:\n"
        "    town:\n"
        "      number: 5\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_catalog(own_config)
    problems = "\n".join(caught.value.problems)
    assert "document.yaml:2: titel: unknown key" in problems
    assert "document.yaml:3: sections.1: the section 'results' is listed twice" in problems
    assert "sections.2: no section 'kết_luận'" in problems
    assert "document.yaml:4: subtitle: unknown placeholder {periode}" in problems
    assert "levels.town: no such level in hierarchy.yaml" in problems
    assert "levels.town.number: expected a text" in problems
    result = CliRunner().invoke(app, ["config", "check", str(own_config)])
    assert result.exit_code == 1 and "titel: unknown key" in result.output


def test_shipped_layout_has_every_section() -> None:
    layouts = load_layouts(None)
    for level in ("province", "district", "commune", "branch"):
        layout = layouts.for_level(level)
        assert set(layout.headings) >= set(layout.sections)
    assert layouts.for_level("branch").signer == ["CHI HỘI TRƯỞNG"]


async def test_the_tracker_links_the_document(site) -> None:  # type: ignore[no-untyped-def]
    link = site.link(site.people.district_officer)
    status, html = await site.get(link)
    assert status == 200
    found = re.search(r'href="([^"]*bao-cao\.docx\?don_vi=\d+)"', html)
    assert found and "Tải báo cáo văn bản (Word)" in html
    async with site.http.get(link + found.group(1).split("/")[-1]) as r:
        assert r.status == 200 and "wordprocessingml" in r.content_type
        assert "bao-cao-van-ban-KH-KS-" in r.headers["Content-Disposition"]
        doc = read_back(await r.read())
    assert "HỘI LHPN HUYỆN KHÁNH SƠN" in doc.header[0][0]
    async with site.http.get(link + "bao-cao.docx?ky=2026-11") as r:
        assert r.status == 200
        assert read_back(await r.read()).top[1].endswith("tháng 11/2026")
    outside = site.people.tree.c3.id  # Khánh Vĩnh's commune: outside her district
    async with site.http.get(link + f"bao-cao.docx?don_vi={outside}") as r:
        assert r.status == 403
    assert not site.writes


async def test_on_zalo_the_document_is_a_signed_link(ctx, world, tmp_path) -> None:
    """Zalo cannot take a file: the outbox's message goes as a signed link to it, as a
    workbook does (bot/channels/zalo.py)."""
    from urllib.parse import parse_qs, unquote, urlparse

    from bot.channels.zalo import ZaloChannel
    from bot.files import FileLinks
    from handlers import written_report

    class Client:
        def __init__(self) -> None:
            self.sent: list[str] = []

        async def send_message(self, chat_id: str, text: str) -> None:
            self.sent.append(text)

    async with ctx.sessions() as session:
        found = await written_report.draft(session, ctx, world.tree.province, month(2026, 11))
    links = FileLinks(tmp_path / "files", "https://bot.example", b"secret", ctx.clock)
    client = Client()
    channel = ZaloChannel(client, links, 60)  # type: ignore[arg-type]
    await channel.send(
        "chat", Outbound(found.caption, document=found.data, filename=found.filename)
    )
    [text] = client.sent
    assert text.startswith(found.caption)
    url = urlparse(text.split("Tải về")[1].split(": ", 1)[1].strip())
    file_id, name = unquote(url.path).split("/files/")[1].split("/")
    query = parse_qs(url.query)
    path = links.check(file_id, name, query["exp"][0], query["sig"][0])
    assert name == "bao-cao-van-ban-KH-2026-11.docx" and path is not None
    assert path.read_bytes() == found.data


async def test_any_period_staff_can_name(ctx, world) -> None:
    """A term, a year, a quarter or a stretch of months: each drafts (a term has no "next"
    of its kind: the direction's heading goes without one)."""
    from storage.plan.periods import parse_period

    for words in ("nhiệm kỳ", "năm 2026", "quý 4/2026", "từ tháng 9 đến tháng 11"):
        period = parse_period(words, date(2026, 11, 27), ctx.catalog.terms)
        doc = await _build(ctx, world.tree.province, period)
        assert doc.top[1].endswith(period.label)
        assert doc.section("VI").paragraphs[2].startswith("2. Phương hướng")
