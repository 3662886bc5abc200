"""The period's written report ("Báo cáo kết quả công tác Hội và phong trào phụ nữ …") as a
Word document in the layout of Decree 30/2020/NĐ-CP, drafted from the data for the office.

Every figure comes from the function the chat, the CLI and the pages use for it, so the
document agrees with them by construction: results from `totals.indicator_total` (what
`report total` shows), targets from `progress.progress` (`report progress`), reporting from
`rollup.completeness` (`report missing`), thi đua from the kept rankings (/xephang). A unit
that did not report has no figure ("chưa báo cáo"), never 0. The layout (header lines,
title, section order and headings) is the operator's: storage/plan/document_layout.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import HandlerContext
from handlers.query import parse_query
from handlers.staff_chat import staff_only
from handlers.turn import Turn
from handlers.views import change_lines, progress_summary, value_text
from schedules.calendar import default_form, latest_due_period
from schedules.messages import Outbound
from schedules.thi_dua import Rankings
from storage.db.models import OrgUnit
from storage.measures import progress as progress_service
from storage.measures import totals
from storage.measures.completeness import completeness
from storage.measures.figures import Figure, figures
from storage.measures.target_status import Status, TargetProgress
from storage.measures.thi_dua import Rule
from storage.measures.totals import Total
from storage.measures.unit_readings import Kind
from storage.measures.written_report import approved_count, text_answers
from storage.plan import texts_vi as vi
from storage.plan.catalog import Catalog, Form, IndicatorType
from storage.plan.document_layout import Layout, load_layouts
from storage.plan.periods import Period, next_period, period_of, previous_period
from storage.plan.text import fold

FONT = "Times New Roman"
BODY_PT = 13
TABLE_PT = 12
SMALL_PT = 11
NOTE_PT = 10
# A4 with Decree 30's margins: 30 mm left, 15 mm right, 20 mm top and bottom.
PAGE_MM = (210, 297)
MARGINS_MM = (20, 20, 30, 15)  # top, bottom, left, right
TEXT_WIDTH_MM = PAGE_MM[0] - MARGINS_MM[2] - MARGINS_MM[3]  # 165 mm: every table fits it
TOP_SHOWN = 5
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII"]
# Words that open a place name ("Tỉnh Khánh Hòa" is dated "Khánh Hòa, ngày …").
_PLACE_WORDS = re.compile(
    r"^(?:tỉnh|thành phố|thị xã|thị trấn|huyện|quận|xã|phường|đặc khu)\s+", re.IGNORECASE
)


@dataclass
class Drafted:
    """A drafted document, what it covers, and what the chat says with it."""

    data: bytes
    unit: OrgUnit
    period: Period
    filename: str
    caption: str


# ---- the words of the layout -------------------------------------------------------------


async def _ancestors(session: AsyncSession, unit: OrgUnit) -> list[OrgUnit]:
    chain = [unit]
    while chain[-1].parent_id is not None:
        parent = await session.get(OrgUnit, chain[-1].parent_id)
        if parent is None:
            break
        chain.append(parent)
    return chain


def _place(chain: list[OrgUnit]) -> str:
    """The place a unit dates its documents from: its own name without "Tỉnh", "Xã"…, or
    the nearest unit above named so (a branch dates from its commune)."""
    for u in chain:
        if _PLACE_WORDS.match(u.name):
            return _PLACE_WORDS.sub("", u.name).strip()
    return chain[0].name


def _fields(catalog: Catalog, chain: list[OrgUnit], period: Period) -> dict[str, str]:
    unit = chain[0]
    parent = chain[1].name if len(chain) > 1 else ""
    below = _levels_below(catalog, unit)
    return {
        "unit": unit.name,
        "UNIT": unit.name.upper(),
        "parent": parent,
        "PARENT": (parent or "Việt Nam").upper(),
        "place": _place(chain),
        "period": period.label,
        # (a term or a stretch of months has no "next" of the same kind: left blank)
        "next_period": next_period(period).label if period.kind in LENGTHS else "",
        "level": catalog.level_word(below[-1]) if below else vi.UNITS_WORD,
    }


def _levels_below(catalog: Catalog, unit: OrgUnit) -> list[str]:
    index = catalog.level_index(unit.level)
    return [lv.code for lv in catalog.levels[index + 1 :]]


def date_line(place: str, day: date) -> str:
    """Decree 30: a day below 10, and January and February, are written with a leading 0."""
    return vi.DOC_DATE.format(
        place=place,
        day=f"{day.day:02d}",
        month=f"{day.month:02d}" if day.month <= 2 else str(day.month),
        year=day.year,
    )


# ---- the document's pieces (python-docx) ------------------------------------------------


class Writer:
    """A python-docx document with the few styles the report uses."""

    def __init__(self) -> None:
        from docx import Document
        from docx.shared import Mm, Pt

        self.doc = Document()
        section = self.doc.sections[0]
        section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
        top, bottom, left, right = MARGINS_MM
        section.top_margin, section.bottom_margin = Mm(top), Mm(bottom)
        section.left_margin, section.right_margin = Mm(left), Mm(right)
        normal = self.doc.styles["Normal"]
        normal.font.name = FONT
        normal.font.size = Pt(BODY_PT)
        _east_asian_font(normal.element)
        fmt = normal.paragraph_format
        fmt.space_before, fmt.space_after = Pt(0), Pt(3)

    def paragraph(
        self,
        text: str = "",
        *,
        bold: bool = False,
        italic: bool = False,
        size: float | None = None,
        align: str = "justify",
        indent: bool = False,
        highlight: bool = False,
        before: float | None = None,
    ) -> Any:
        from docx.enum.text import WD_COLOR_INDEX
        from docx.shared import Mm, Pt

        p = self.doc.add_paragraph()
        p.alignment = _alignment(align)
        if indent:
            p.paragraph_format.first_line_indent = Mm(10)
        if before is not None:
            p.paragraph_format.space_before = Pt(before)
        if text:
            run = p.add_run(text)
            run.bold, run.italic = bold, italic
            if size:
                run.font.size = Pt(size)
            if highlight:
                run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        return p

    def heading(self, number: int, text: str) -> None:
        self.paragraph(f"{ROMAN[number - 1]}. {text.upper()}", bold=True, align="left", before=6)

    def subheading(self, text: str) -> None:
        self.paragraph(text, bold=True, italic=True, align="left", before=3)

    def table(self, headers: list[str], rows: list[list[str]], widths_mm: list[float]) -> Any:
        """A bordered table of fixed column widths adding up to the text width at most."""
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.shared import Mm

        assert sum(widths_mm) <= TEXT_WIDTH_MM + 0.01, widths_mm
        table = self.doc.add_table(rows=1, cols=len(headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        _fixed_layout(table)
        for j, width in enumerate(widths_mm):
            table.columns[j].width = Mm(width)
        # Row by row (python-docx's table.cell(i, j) walks the whole table each time).
        for j, (cell, text) in enumerate(zip(table.rows[0].cells, headers, strict=True)):
            cell.width = Mm(widths_mm[j])
            _cell(cell, text, bold=True, align="center", size=TABLE_PT)
        for row in rows:
            for j, (cell, text) in enumerate(zip(table.add_row().cells, row, strict=True)):
                cell.width = Mm(widths_mm[j])
                align = "left" if j == 1 else "center"
                _cell(cell, text, align=align, size=TABLE_PT, notes=j > 1)
        self.doc.add_paragraph()
        return table

    def save(self) -> bytes:
        buffer = BytesIO()
        self.doc.save(buffer)
        return buffer.getvalue()


def _alignment(name: str) -> Any:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    return {
        "left": WD_ALIGN_PARAGRAPH.LEFT,
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
        "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
    }[name]


def _east_asian_font(element: Any) -> None:
    """Word takes a run's font per script: Times New Roman for all of them."""
    from docx.oxml.ns import qn

    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)


def _fixed_layout(table: Any) -> None:
    from docx.oxml.ns import qn

    tbl_pr = table._tbl.tblPr
    layout = tbl_pr.makeelement(qn("w:tblLayout"), {qn("w:type"): "fixed"})
    tbl_pr.append(layout)


def _widths(table: Any, widths_mm: list[float]) -> None:
    from docx.shared import Mm

    for j, width in enumerate(widths_mm):
        table.columns[j].width = Mm(width)
        for cell in table.columns[j].cells:
            cell.width = Mm(width)


def _cell(
    cell: Any,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    align: str = "left",
    size: float = TABLE_PT,
    notes: bool = False,
) -> None:
    """A cell's text; each line of it a paragraph of its own (with `notes`, the lines after
    the first in smaller italics)."""
    from docx.shared import Pt

    lines = text.split("\n")
    fresh = len(cell.paragraphs) == 1 and not cell.paragraphs[0].text  # (a new cell's own)
    for i, line in enumerate(lines):
        p = cell.paragraphs[0] if i == 0 and fresh else cell.add_paragraph()
        p.alignment = _alignment(align)
        p.paragraph_format.space_after = Pt(0)
        run = p.add_run(line)
        run.bold, run.italic = bold, italic
        run.font.size = Pt(size)
        if notes and i > 0:  # what a figure rests on, under it: smaller
            run.italic, run.font.size = True, Pt(NOTE_PT)


def _header(w: Writer, layout: Layout, fields: dict[str, str], today: date) -> None:
    """Decree 30's header: the organisation (left) and the national motto (right), each
    with its short rule; the number under the organisation, the place and date under the
    motto."""
    from docx.shared import Pt

    table = w.doc.add_table(rows=2, cols=2)
    table.autofit = False
    _fixed_layout(table)
    left, right = table.cell(0, 0), table.cell(0, 1)
    org = [line.format(**fields) for line in layout.organisation]
    for i, line in enumerate(org):
        last = i == len(org) - 1
        _cell(left, line, bold=last, align="center", size=12)
    _cell(left, "―――――", align="center", size=8)
    _cell(right, vi.DOC_MOTTO[0], bold=True, align="center", size=12)
    _cell(right, vi.DOC_MOTTO[1], bold=True, align="center", size=BODY_PT)
    _cell(right, "―――――――――", align="center", size=8)
    _cell(table.cell(1, 0), layout.number.format(**fields), align="center", size=BODY_PT)
    _cell(
        table.cell(1, 1),
        date_line(layout.place.format(**fields), today),
        italic=True,
        align="center",
        size=BODY_PT,
    )
    _widths(table, [68, 97])
    w.paragraph()
    w.paragraph(layout.title.format(**fields), bold=True, align="center", size=14)
    title = w.paragraph(layout.subtitle.format(**fields), bold=True, align="center", size=14)
    title.paragraph_format.space_after = Pt(12)


# ---- 1. results per indicator ------------------------------------------------------------


LENGTHS = ["month", "quarter", "half", "year"]


def reported_indicators(catalog: Catalog, unit: OrgUnit, period: Period) -> list[str]:
    """The indicators with a total at this unit for a period of this length: numbers, yes/no
    and derived ones that it or units below it report in a form of this period or a shorter
    one (a monthly report leaves out what is asked once a year; texts and ratings have no
    total), in the catalogue's order."""
    index = catalog.level_index(unit.level)
    longest = LENGTHS.index(period.kind) if period.kind in LENGTHS else len(LENGTHS)

    def fits(code: str) -> bool:
        for part in catalog.components(code):
            for form_code in catalog.forms_of_indicator.get(part, []):
                form = catalog.forms[form_code]
                if (
                    catalog.level_index(form.level) >= index
                    and LENGTHS.index(form.periodicity) <= longest
                ):
                    return True
        return False

    return [
        code
        for code, indicator in catalog.indicators.items()
        if indicator.type not in (IndicatorType.TEXT, IndicatorType.CHOICE) and fits(code)
    ]


def figure_cell(total: Total, figure: Figure | None) -> str:
    """A figure with what it rests on when not every unit reported ("tính trên k/n")."""
    if figure is None:
        return vi.TOTAL_NOT_REPORTED
    text = value_text(total, figure, parts=False)
    if total.kind == Kind.YES_NO and figure.reported:  # "36/47 chi hội có", as /tong says
        text = vi.DOC_YES_COUNT.format(
            yes=figure.yes, reported=figure.reported, level=total.level_word
        )
    if figure.reported and figure.missing and total.kind != Kind.EACH:
        basis = vi.DOC_BASIS.format(
            reported=figure.reported, expected=figure.expected, level=total.level_word
        )
        text = f"{text}\n{basis}"
    return text


async def _results(
    w: Writer, session: AsyncSession, catalog: Catalog, unit: OrgUnit, period: Period
) -> bool:
    """The results table; whether any unit reported anything at all."""
    codes = reported_indicators(catalog, unit, period)
    if not codes:
        w.paragraph(vi.DOC_RESULTS_NONE.format(unit=unit.name), indent=True)
        return False
    previous, year_ago = previous_period(period), totals.a_year_before(period)
    rows, before_lines, year_lines = [], [], []
    anything = False
    for i, code in enumerate(codes, start=1):
        total = await totals.indicator_total(session, catalog, code, unit, period, year_ago=True)
        anything = anything or bool(total.figure.reported)
        # The earlier periods' own figures, as `report total` heads them for those periods
        # (`figures` is what `indicator_total` reads its headline with; the comparisons below
        # are over the units that reported in both).
        before, year = [
            (await figures(session, catalog, code, [unit.id], p, roots=[unit.id]))[unit.id]
            for p in (previous, year_ago)
        ]
        indicator = catalog.indicators[code]
        word = indicator.unit.strip()
        rows.append(
            [
                str(i),
                indicator.label,
                "" if word == "%" or total.kind == Kind.YES_NO else word,
                figure_cell(total, total.figure),
                figure_cell(total, before),
                figure_cell(total, year),
            ]
        )
        fields = {"label": indicator.label}
        before_lines += [
            vi.DOC_COMPARE_LINE.format(**fields, change=line)
            for line in change_lines(total, total.change)
        ]
        year_lines += [
            vi.DOC_COMPARE_LINE.format(**fields, change=line)
            for line in change_lines(total, total.year_change)
        ]
    headers = list(vi.DOC_RESULTS_HEADERS)
    headers[3] = headers[3].format(period=period.label[:1].upper() + period.label[1:])
    headers[4] = vi.DOC_PERIOD_IN_HEADER.format(title=headers[4], period=previous.label)
    headers[5] = vi.DOC_PERIOD_IN_HEADER.format(title=headers[5], period=year_ago.label)
    w.table(headers, rows, [10, 52, 19, 28, 28, 28])
    for title, lines in (
        (vi.DOC_COMPARE_PREVIOUS, before_lines),
        (vi.DOC_COMPARE_YEAR, year_lines),
    ):
        if lines:
            w.paragraph(title, italic=True, align="left")
            for line in lines:
                w.paragraph(line, size=TABLE_PT, align="left")
    return anything


# ---- 2. targets ---------------------------------------------------------------------------


def status_word(status: Status) -> str:
    """The verdict's words without its mark ("✅ đạt" → "đạt")."""
    return vi.STATUS[status].split(" ", 1)[-1]


def target_cells(catalog: Catalog, p: TargetProgress) -> list[str]:
    """Achieved, goal and expected as `report progress` words them."""
    t = p.target
    unit_word = catalog.indicators[t.indicator].unit if t.kind == "sum" and t.indicator else ""
    level = catalog.level_word(p.basis_level) if p.basis_level else vi.UNITS_WORD
    compare = vi.COMPARE_WORDS[t.compare.value]

    def amount(value: float | None) -> str:
        if value is None:
            return "–"
        if t.kind == "sum":
            return f"{vi.format_number(value)} {unit_word}".strip()
        return vi.format_percent(value)

    if t.kind == "task":
        done, units = p.counted or (0, 0)
        achieved = vi.DOC_TASK.format(done=done, units=units, level=level)
        deadline = t.deadline.strftime("%d/%m/%Y") if t.deadline else "–"
        return [achieved, deadline, "–"]
    if p.status == Status.NO_DATA or p.achieved is None:
        achieved = vi.WEB_NO_DATA
    else:
        achieved = amount(p.achieved)
        if t.kind == "coverage" and p.counted:
            achieved += "\n" + vi.DOC_COVERAGE.format(
                reached=p.counted[0], units=p.counted[1], level=level
            )
        if t.kind == "rate" and p.basis and p.basis[0] < p.basis[1]:
            achieved += "\n" + vi.DOC_BASIS.format(
                reported=p.basis[0], expected=p.basis[1], level=level
            )
    goal = f"{compare}{amount(p.goal) if t.kind == 'sum' else vi.format_number(p.goal) + '%'}"
    if p.expected is None or p.final:
        expected = "–"
    elif t.kind == "sum" and p.expected_percent is not None:
        # As `report progress` says it: the share of the goal expected by today.
        expected = f"{amount(round(p.expected))}\n({vi.format_percent(p.expected_percent)})"
    else:
        expected = amount(p.expected)
    return [achieved, goal, expected]


async def _targets(
    w: Writer, session: AsyncSession, catalog: Catalog, unit: OrgUnit, today: date
) -> None:
    items = await progress_service.progress(session, catalog, unit, today)
    if not items:
        w.paragraph(vi.DOC_TARGETS_NONE.format(unit=unit.name), indent=True)
        return
    summary = progress_summary(items)
    w.paragraph(
        vi.DOC_TARGETS_INTRO.format(today=today.strftime("%d/%m/%Y"), summary=summary),
        indent=True,
    )
    rows = []
    for i, p in enumerate(items, start=1):
        name = "\n".join(
            [
                p.target.label,
                vi.DOC_TARGET_PERIOD.format(period=p.period.label),
                vi.DOC_TARGET_SOURCE.format(source=p.target.source),
            ]
        )
        rows.append([str(i), name, *target_cells(catalog, p), status_word(p.status)])
    w.table(vi.DOC_TARGETS_HEADERS, rows, [10, 61, 26, 22, 22, 24])


# ---- 3. reporting -------------------------------------------------------------------------


def reporting_forms(catalog: Catalog, unit: OrgUnit, period: Period) -> list[Form]:
    """The forms the units below report for a period of this kind, the lowest level first
    (the branch form `report missing` reads first); the default form when none is."""
    index = catalog.level_index(unit.level)
    found = [
        f
        for f in catalog.forms.values()
        if f.filled_by is None
        and f.periodicity == period.kind
        and catalog.level_index(f.level) > index
    ]
    found.sort(key=lambda f: -catalog.level_index(f.level))
    return found or [default_form(catalog)]


async def _reporting(
    w: Writer, session: AsyncSession, catalog: Catalog, unit: OrgUnit, period: Period
) -> None:
    for form in reporting_forms(catalog, unit, period):
        asked = period_of(form.periodicity, period.end)
        done = await completeness(session, form, asked, unit)
        level = catalog.level_word(form.level)
        fields = {"form": form.name, "period": asked.label, "level": level}
        if not done.expected:
            w.paragraph(vi.DOC_NOBODY_EXPECTED.format(**fields), indent=True)
            continue
        w.paragraph(
            vi.DOC_REPORTING.format(
                **fields,
                submitted=done.submitted,
                expected=done.expected,
                percent=vi.format_percent(done.submitted / done.expected * 100),
                on_time=done.on_time,
                late=done.late,
                missing=len(done.missing),
            ),
            indent=True,
        )
        if done.submitted:
            approved = await approved_count(session, form.code, asked, unit)
            w.paragraph(
                vi.DOC_APPROVED.format(approved=approved, submitted=done.submitted), indent=True
            )
        if not done.missing:
            w.paragraph(vi.DOC_ALL_SENT.format(level=level), indent=True)
            continue
        if done.in_progress:
            w.paragraph(
                vi.DOC_REPORTING_IN_PROGRESS.format(n=done.in_progress, level=level), indent=True
            )
        w.paragraph(vi.DOC_MISSING_TITLE.format(level=level), indent=True)
        for parent, units in done.missing_by_parent().items():
            names = ", ".join(u.name for u in units)
            w.paragraph(vi.DOC_MISSING_GROUP.format(parent=parent, units=names), size=TABLE_PT)


# ---- 4. thi đua ---------------------------------------------------------------------------


async def _thi_dua(
    w: Writer,
    session: AsyncSession,
    catalog: Catalog,
    rankings: Rankings,
    unit: OrgUnit,
    today: date,
    now: datetime,
    keep_apart: bool,
) -> None:
    rule = catalog.thi_dua or Rule()
    ranked = await rankings.get(session, catalog, rule, unit, today, now, keep_apart=keep_apart)
    if not ranked.scores:
        w.paragraph(vi.DOC_THI_DUA_NO_UNITS.format(unit=unit.name), indent=True)
        return
    level = catalog.level_word(ranked.scores[0].unit.level)
    w.paragraph(
        vi.DOC_THI_DUA_INTRO.format(
            level=level, unit=unit.name, rule=rule.name, day=today.strftime("%d/%m/%Y")
        ),
        indent=True,
    )
    scored = [(s, s.points(rule)) for s in ranked.scores]
    known = [(s, pts) for s, pts in scored if pts is not None]
    if not known:
        w.paragraph(vi.XEPHANG_NOTHING, indent=True)
        return
    top = known[:TOP_SHOWN]
    bottom = known[TOP_SHOWN:][-TOP_SHOWN:]
    for title, part in ((vi.DOC_THI_DUA_TOP, top), (vi.DOC_THI_DUA_BOTTOM, bottom)):
        if part:
            w.paragraph(title, italic=True, align="left")
            rows = [[str(s.rank), s.unit.name, vi.format_number(pts, 1)] for s, pts in part]
            w.table(vi.DOC_THI_DUA_HEADERS, rows, [25, 110, 30])
    unscored = len(scored) - len(known)
    if unscored:
        w.paragraph(vi.DOC_THI_DUA_UNSCORED.format(n=unscored, level=level), indent=True)


# ---- 5. what leaders wrote ------------------------------------------------------------------


async def _texts(
    w: Writer, session: AsyncSession, catalog: Catalog, unit: OrgUnit, period: Period
) -> None:
    index = catalog.level_index(unit.level)
    codes = [
        code
        for code, ind in catalog.indicators.items()
        if ind.type == IndicatorType.TEXT
        and any(catalog.level_index(lv) >= index for lv in catalog.levels_of_indicator(code))
    ]
    if not codes:
        w.paragraph(vi.DOC_TEXTS_NO_QUESTION, indent=True)
        return
    found = await text_answers(session, codes, unit, period)
    for code in codes:
        indicator = catalog.indicators[code]
        levels = catalog.levels_of_indicator(code)
        level = catalog.level_word(levels[-1]) if levels else vi.UNITS_WORD
        answers = [a for a in found[code] if fold(a.text).strip(" .!") not in vi.DOC_EMPTY_ANSWERS]
        if len(codes) > 1 or answers:
            w.subheading(indicator.label)
        if not answers:
            w.paragraph(vi.DOC_TEXTS_NONE.format(level=level), indent=True)
            continue
        several = len({a.period_end for a in answers}) > 1
        for a in answers:
            when = ""
            if several:
                end = date.fromisoformat(a.period_end)
                asked = period_of(period_kind(catalog, code), end)
                when = vi.DOC_TEXT_WHEN.format(period=asked.label)
            w.paragraph(
                vi.DOC_TEXT_LINE.format(
                    unit=a.unit,
                    parent=vi.DOC_TEXT_PARENT.format(parent=a.parent) if a.parent else "",
                    when=when,
                    text=a.text,
                ),
                align="left",
            )


def period_kind(catalog: Catalog, code: str) -> str:
    form = catalog.forms[catalog.form_of_indicator[code]]
    return str(form.periodicity)


# ---- 6. for the office ----------------------------------------------------------------------


def _office(w: Writer, layout: Layout, fields: dict[str, str]) -> None:
    for i, heading in enumerate(layout.office_headings, start=1):
        w.subheading(f"{i}. {heading.format(**fields).strip()}")
        w.paragraph(vi.DOC_OFFICE_PLACEHOLDER, italic=True, highlight=True, indent=True)


def _footer(w: Writer, layout: Layout, fields: dict[str, str]) -> None:
    table = w.doc.add_table(rows=1, cols=2)
    table.autofit = False
    _fixed_layout(table)
    left, right = table.cell(0, 0), table.cell(0, 1)
    _cell(left, vi.DOC_RECIPIENTS, bold=True, italic=True, size=12)
    for line in layout.recipients:
        _cell(left, f"- {line.format(**fields)}", size=SMALL_PT)
    for line in layout.signer:
        _cell(right, line.format(**fields), bold=True, align="center", size=BODY_PT)
    _widths(table, [80, 85])


# ---- the whole --------------------------------------------------------------------------


async def build_document(
    session: AsyncSession,
    catalog: Catalog,
    rankings: Rankings,
    unit: OrgUnit,
    period: Period,
    today: date,
    now: datetime,
    *,
    config_dir: Path | None = None,
    keep_apart: bool = False,
) -> bytes:
    """The written report of `unit` for `period`, drafted on `today`, as .docx bytes. A thi
    đua ranking not kept yet is computed and kept in `session` (committed with the caller's
    work), or with `keep_apart` in a transaction of its own (a page, never committed)."""
    layouts = catalog.document or load_layouts(config_dir, [lv.code for lv in catalog.levels])
    layout = layouts.for_level(unit.level)
    chain = await _ancestors(session, unit)
    fields = _fields(catalog, chain, period)
    w = Writer()
    _header(w, layout, fields, today)
    notice = w.paragraph(
        vi.DOC_NO_DATA.format(level=fields["level"]), italic=True, highlight=True, indent=True
    )
    anything = None
    for number, name in enumerate(layout.sections, start=1):
        w.heading(number, layout.headings[name].format(**fields))
        if name == "results":
            anything = await _results(w, session, catalog, unit, period)
        elif name == "targets":
            await _targets(w, session, catalog, unit, today)
        elif name == "reporting":
            await _reporting(w, session, catalog, unit, period)
        elif name == "thi_dua":
            await _thi_dua(w, session, catalog, rankings, unit, today, now, keep_apart)
        elif name == "texts":
            await _texts(w, session, catalog, unit, period)
        elif name == "office":
            _office(w, layout, fields)
    if anything is None:  # (no results section: ask the totals whether anything came in)
        anything = any(
            [
                (
                    await totals.indicator_total(session, catalog, c, unit, period, compare=False)
                ).figure.reported
                for c in reported_indicators(catalog, unit, period)
            ]
        )
    if anything:  # the notice stands only when nothing at all was reported
        notice._element.getparent().remove(notice._element)
    w.paragraph()
    _footer(w, layout, fields)
    return w.save()


async def draft(
    session: AsyncSession,
    ctx: HandlerContext,
    unit: OrgUnit,
    period: Period,
    *,
    config_dir: Path | None = None,
    keep_apart: bool = False,
) -> Drafted:
    """The document with its file name and the caption the chat sends with it."""
    now = ctx.clock.now()
    data = await build_document(
        session, ctx.catalog, ctx.rankings, unit, period, ctx.clock.today(), now,
        config_dir=config_dir, keep_apart=keep_apart,
    )  # fmt: skip
    return Drafted(
        data,
        unit,
        period,
        vi.DOC_FILENAME.format(unit=unit.code, period=period.key),
        vi.DOC_CAPTION.format(period=period.label, unit=unit.name),
    )


def default_period(catalog: Catalog, today: date) -> Period:
    """The period a report is drafted for when none is named: the latest one due."""
    return latest_due_period(default_form(catalog), today)


async def cli_document(
    ctx: HandlerContext, out: Path, period_text: str | None, code: str | None, config_dir: Path
) -> str:
    """`hoibot report document`: writes the file; the caption for the command line."""
    from handlers import staff

    async with ctx.sessions() as session:
        today = ctx.clock.today()
        unit = await staff._cli_unit(session, ctx, code)
        period = staff.period_or_error(
            period_text, today, ctx.catalog, default_period(ctx.catalog, today)
        )
        found = await draft(session, ctx, unit, period, config_dir=config_dir)
        out.write_bytes(found.data)
        return f"the written report of {unit.name} for {period.label}"


# ---- the chat command -----------------------------------------------------------------------


@staff_only
async def baocaovanban(turn: Turn, args: str) -> None:
    """/baocaovanban [kỳ] [đơn vị]: the written report of her unit (or one below it) as a
    Word file, through the outbox (Telegram: a document; Zalo: a signed link)."""
    from handlers import staff

    assert turn.unit is not None
    query = parse_query(args)
    catalog = turn.ctx.catalog
    try:
        unit = await staff.unit_in_scope(turn.session, query.unit, turn.unit)
        period = staff.period_or_error(
            query.period or (query.words or None),
            turn.today,
            catalog,
            default_period(catalog, turn.today),
        )
    except staff.StaffError as exc:
        turn.say(str(exc))
        return
    found = await draft(turn.session, turn.ctx, unit, period)
    turn.replies.append(Outbound(found.caption, document=found.data, filename=found.filename))
