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
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import HandlerContext
from handlers.query import parse_query
from handlers.staff_chat import staff_only
from handlers.turn import Turn
from handlers.written_report_docx import (
    BODY_PT,
    SMALL_PT,
    Writer,
    fixed_layout,
    set_widths,
    write_cell,
)
from handlers.written_report_sections import (
    LENGTHS,
    office_section,
    reported_indicators,
    reporting_section,
    results_section,
    targets_section,
    texts_section,
    thi_dua_section,
)
from schedules.calendar import default_form, latest_due_period
from schedules.messages import Outbound
from schedules.thi_dua import Rankings
from storage.db.models import OrgUnit
from storage.measures import totals
from storage.plan import texts_vi as vi
from storage.plan.catalog import Catalog
from storage.plan.document_layout import Layout, load_layouts
from storage.plan.periods import Period, next_period

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


def _header(w: Writer, layout: Layout, fields: dict[str, str], today: date) -> None:
    """Decree 30's header: the organisation (left) and the national motto (right), each
    with its short rule; the number under the organisation, the place and date under the
    motto."""
    from docx.shared import Pt

    table = w.doc.add_table(rows=2, cols=2)
    table.autofit = False
    fixed_layout(table)
    left, right = table.cell(0, 0), table.cell(0, 1)
    org = [line.format(**fields) for line in layout.organisation]
    for i, line in enumerate(org):
        last = i == len(org) - 1
        write_cell(left, line, bold=last, align="center", size=12)
    write_cell(left, "―――――", align="center", size=8)
    write_cell(right, vi.DOC_MOTTO[0], bold=True, align="center", size=12)
    write_cell(right, vi.DOC_MOTTO[1], bold=True, align="center", size=BODY_PT)
    write_cell(right, "―――――――――", align="center", size=8)
    write_cell(table.cell(1, 0), layout.number.format(**fields), align="center", size=BODY_PT)
    write_cell(
        table.cell(1, 1),
        date_line(layout.place.format(**fields), today),
        italic=True,
        align="center",
        size=BODY_PT,
    )
    set_widths(table, [68, 97])
    w.paragraph()
    w.paragraph(layout.title.format(**fields), bold=True, align="center", size=14)
    title = w.paragraph(layout.subtitle.format(**fields), bold=True, align="center", size=14)
    title.paragraph_format.space_after = Pt(12)


def _footer(w: Writer, layout: Layout, fields: dict[str, str]) -> None:
    table = w.doc.add_table(rows=1, cols=2)
    table.autofit = False
    fixed_layout(table)
    left, right = table.cell(0, 0), table.cell(0, 1)
    write_cell(left, vi.DOC_RECIPIENTS, bold=True, italic=True, size=12)
    for line in layout.recipients:
        write_cell(left, f"- {line.format(**fields)}", size=SMALL_PT)
    for line in layout.signer:
        write_cell(right, line.format(**fields), bold=True, align="center", size=BODY_PT)
    set_widths(table, [80, 85])


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
            anything = await results_section(w, session, catalog, unit, period)
        elif name == "targets":
            await targets_section(w, session, catalog, unit, today)
        elif name == "reporting":
            await reporting_section(w, session, catalog, unit, period, today)
        elif name == "thi_dua":
            await thi_dua_section(w, session, catalog, rankings, unit, today, now, keep_apart)
        elif name == "texts":
            await texts_section(w, session, catalog, unit, period)
        elif name == "office":
            office_section(w, layout, fields)
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
