"""The Excel workbook staff attach to their reports: one sheet per form, one for targets.

Every number comes from the function behind /tong (storage/measures/totals.py), so the sheet agrees
with the chat and the pages: a unit's row is its figure for the period, each subtotal row is its
parent's figure, not a sum of the rows above (which would be wrong for stocks such as the member
count, and for yes/no answers, counted as "k/n có"); a unit without a report has empty cells,
never 0, and the last column says who reported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from schedules.calendar import window
from storage.db.models import OrgUnit, Submission, SubmissionStatus, UnitAncestor
from storage.db.units import active_on, subtree_filter
from storage.measures import progress as progress_service
from storage.measures.figures import figures
from storage.measures.unit_readings import Kind, MembersCache, kind_of
from storage.plan import texts_vi as vi
from storage.plan.catalog import Catalog, Form, IndicatorType
from storage.plan.periods import Period, next_period, period_of
from storage.plan.text import vi_sort_key

# Whole numbers without a decimal mark: "#,##0.##" would show "12." for 12.
INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.##"
PINK = "F8D7E3"
GREY = "F2F2F2"


async def build_workbook(
    session: AsyncSession, catalog: Catalog, scope: OrgUnit, period: Period, today: date
) -> bytes:
    # The figures are read here, on the event loop; the workbook is written from them in a
    # thread (`_write`): a province's sheet is seconds of CPU that would stall every chat.
    wb = _Book()
    scope_level = catalog.level_index(scope.level)
    units = list(
        (
            await session.scalars(
                select(OrgUnit).where(
                    subtree_filter(scope.path), active_on(period.start, period.end)
                )
            )
        ).all()
    )
    by_id = {u.id: u for u in units} | {scope.id: scope}
    for form in catalog.forms.values():
        if catalog.level_index(form.level) >= scope_level:
            await _form_sheet(wb, session, catalog, form, scope, period, units, by_id, today)
    await _targets_sheet(wb, session, catalog, scope, today)
    return await asyncio.to_thread(_write, wb)


@dataclass
class _Cell:
    value: object
    bold: bool = False
    fill: str | None = None
    wrap: bool = False
    number_format: str | None = None


@dataclass
class _Sheet:
    """A sheet as read: its rows of cells and its layout, written out later by `_write`."""

    title: str
    widths: dict[str, float] = field(default_factory=dict)
    freeze_panes: str | None = None
    rows: list[list[_Cell]] = field(default_factory=list)

    def append(self, cells: list[_Cell]) -> None:
        self.rows.append(cells)


@dataclass
class _Book:
    sheets: list[_Sheet] = field(default_factory=list)

    def create_sheet(self, title: str) -> _Sheet:
        self.sheets.append(_Sheet(title))
        return self.sheets[-1]


def _write(book: _Book) -> bytes:
    """The .xlsx file of the sheets (CPU only, no database: run in a thread)."""
    from openpyxl import Workbook  # imported here: it is large and only exports need it
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    fills: dict[str, PatternFill] = {}
    # Write-only: rows stream out as they are made, several times faster for big sheets.
    wb = Workbook(write_only=True)
    for sheet in book.sheets:
        ws = wb.create_sheet(sheet.title)
        for letter, width in sheet.widths.items():
            ws.column_dimensions[letter].width = width
        if sheet.freeze_panes:
            ws.freeze_panes = sheet.freeze_panes
        for row in sheet.rows:
            cells = []
            for spec in row:
                cell = WriteOnlyCell(ws, value=spec.value)
                if spec.bold:
                    cell.font = bold
                if spec.fill:
                    if spec.fill not in fills:
                        fills[spec.fill] = PatternFill("solid", fgColor=spec.fill)
                    cell.fill = fills[spec.fill]
                if spec.wrap:
                    cell.alignment = wrap
                if spec.number_format is not None:
                    cell.number_format = spec.number_format
                cells.append(cell)
            ws.append(cells)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _chain(unit: OrgUnit, by_id: dict[int, OrgUnit], top: OrgUnit) -> list[OrgUnit]:
    """`unit` and its ancestors up to `top`, top first."""
    chain = [unit]
    while chain[0].id != top.id and chain[0].parent_id in by_id:
        chain.insert(0, by_id[chain[0].parent_id])  # type: ignore[index]
    return chain


def number_format(value: object) -> str:
    if isinstance(value, float) and not value.is_integer():
        return DECIMAL_FORMAT
    return INTEGER_FORMAT


def _row(
    values: Sequence[object],
    *,
    bold: bool = False,
    fill: str | None = None,
    numbers_from: int | None = None,
    wrap: bool = False,
) -> list[_Cell]:
    """A row of styled cells (write-only sheets take cells, not styles set afterwards)."""
    return [
        _Cell(
            value,
            bold,
            fill,
            wrap,
            number_format(value) if numbers_from is not None and i >= numbers_from else None,
        )
        for i, value in enumerate(values)
    ]


async def _form_sheet(
    wb: _Book,
    session: AsyncSession,
    catalog: Catalog,
    form: Form,
    scope: OrgUnit,
    period: Period,
    units: list[OrgUnit],
    by_id: dict[int, OrgUnit],
    today: date,
) -> None:
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(form.name[:31])
    codes = [
        q.indicator
        for q in form.questions
        if catalog.indicators[q.indicator].type != IndicatorType.TEXT
    ]
    levels = [
        lv
        for lv in catalog.levels
        if catalog.level_index(scope.level)
        <= catalog.level_index(lv.code)
        <= catalog.level_index(form.level)
    ]
    present = sorted({u.level for u in units} | {scope.level}, key=catalog.level_index)
    levels = [lv for lv in levels if lv.code in present]
    width = len(levels)
    header = (
        [lv.name for lv in levels]
        + [vi.EXPORT_CODE]
        + [
            f"{catalog.indicators[c].label} ({catalog.indicators[c].unit})".replace(" ()", "")
            for c in codes
        ]
        + [vi.EXPORT_STATUS]
    )
    for i in range(1, len(header) + 1):
        ws.widths[get_column_letter(i)] = 24 if i <= width else (14 if i == width + 1 else 16)
    ws.freeze_panes = f"{get_column_letter(width + 2)}3"
    title = vi.EXPORT_TITLE.format(form=form.name, period=period.label, unit=scope.name)
    ws.append(_row([title], bold=True))
    ws.append(_row(header, bold=True, fill=PINK, wrap=True))
    # Every unit's figure of each question from the same function as /tong: a unit (or a
    # subtotal) with no report has an empty cell, never 0; a yes/no subtotal is "k/n có".
    # Each row holds the answers to this form: the units of its level (an indicator also
    # asked of other levels is counted in their own sheets).
    cache: MembersCache = {}
    found = {
        code: await figures(
            session, catalog, code, [scope.id], period, reported_at=form.level, cache=cache
        )
        for code in codes
    }
    kinds = {code: kind_of(catalog, code) for code in codes}
    rows = [u for u in units if u.level == form.level]
    rows.sort(key=lambda u: [vi_sort_key(a.name) for a in _chain(u, by_id, scope)])
    sent = await _reports_sent(session, form, period, scope)
    due = _periods_due(form, period, today)
    # Each unit above the form's level: how many of its units of that level reported, and
    # how many of those missed some of the periods due (as /tong says: TOTAL_PARTIAL).
    most = max([due, *sent.values()])
    counts: dict[int, list[int]] = {}
    for unit in rows:
        n = sent.get(unit.id, 0)
        for above in _chain(unit, by_id, scope)[:-1]:
            count = counts.setdefault(above.id, [0, 0, 0])
            count[0] += 1 if n else 0
            count[1] += 1
            count[2] += 1 if 0 < n < most else 0
    level_word = catalog.level_word(form.level)

    def cell(unit_id: int, code: str, leaf: bool) -> object:
        figure = found[code].get(unit_id)
        if figure is None or not figure.reported:
            return None
        if kinds[code] == Kind.YES_NO:
            if leaf:
                return vi.WEB_YES if figure.yes else vi.WEB_NO
            return vi.TOTAL_YES_COUNT.format(yes=figure.yes, reported=figure.reported)
        return figure.value

    def status(unit: OrgUnit) -> str:
        if unit.level == form.level:
            n = sent.get(unit.id, 0)
            if not n:
                return vi.TOTAL_NOT_REPORTED
            return vi.EXPORT_PERIODS.format(n=n, m=max(due, n)) if due > 1 else vi.EXPORT_SENT
        k, n, partial = counts.get(unit.id, [0, 0, 0])
        basis = vi.TOTAL_ROW_BASIS.format(reported=k, expected=n, level=level_word)
        if partial and most > 1:
            return vi.EXPORT_ROW_PARTIAL.format(
                basis=basis, n=partial, level=level_word, periods=most
            )
        return basis

    def values(unit: OrgUnit) -> list[object]:
        leaf = unit.level == form.level
        return [cell(unit.id, c, leaf) for c in codes] + [status(unit)]

    def subtotal(unit: OrgUnit, depth: int) -> None:
        label = (
            vi.EXPORT_GRAND_TOTAL
            if unit.id == scope.id
            else vi.EXPORT_SUBTOTAL.format(name=unit.name)
        )
        cells: list[object] = [None] * width + [unit.code] + values(unit)
        cells[min(depth, width - 1)] = label
        ws.append(_row(cells, bold=True, fill=GREY, numbers_from=width + 1))

    open_groups: list[OrgUnit] = []  # ancestors of the previous row, top first (scope excluded)
    for unit in rows:
        chain = _chain(unit, by_id, scope)
        ancestors = chain[1:-1] if chain[0].id == scope.id else chain[:-1]
        keep = 0
        while keep < min(len(open_groups), len(ancestors)) and (
            open_groups[keep].id == ancestors[keep].id
        ):
            keep += 1
        for depth in range(len(open_groups) - 1, keep - 1, -1):
            subtotal(open_groups[depth], depth + 1)
        open_groups = ancestors
        names = [a.name for a in chain]
        ws.append(
            _row(
                names + [None] * (width - len(names)) + [unit.code] + values(unit),
                numbers_from=width + 1,
            )
        )
    for depth in range(len(open_groups) - 1, -1, -1):
        subtotal(open_groups[depth], depth + 1)
    subtotal(scope, 0)


async def _reports_sent(
    session: AsyncSession, form: Form, period: Period, scope: OrgUnit
) -> dict[int, int]:
    """How many reports of the form each unit inside the scope sent in the period."""
    query = (
        select(Submission.unit_id, func.count())
        .where(
            Submission.form_code == form.code,
            Submission.status == SubmissionStatus.SUBMITTED,
            Submission.period_start >= period.start,
            Submission.period_end <= period.end,
            Submission.unit_id.in_(
                select(UnitAncestor.unit_id).where(UnitAncestor.ancestor_id == scope.id)
            ),
        )
        .group_by(Submission.unit_id)
    )
    return {uid: n for uid, n in await session.execute(query)}


def _periods_due(form: Form, period: Period, today: date) -> int:
    """How many of the form's periods inside `period` are due by today."""
    count, current = 0, period_of(form.periodicity, period.start)
    while current.end <= period.end:
        if window(form, current).due < today:
            count += 1
        current = next_period(current)
    return count


async def _targets_sheet(
    wb: _Book, session: AsyncSession, catalog: Catalog, scope: OrgUnit, today: date
) -> None:
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(vi.EXPORT_TARGETS_SHEET)
    for i, width in enumerate((48, 10, 22, 24, 12, 12, 10, 12, 16, 30), start=1):
        ws.widths[get_column_letter(i)] = width
    ws.freeze_panes = "A2"
    ws.append(_row(vi.EXPORT_TARGET_HEADERS, bold=True, fill=PINK, wrap=True))
    for p in await progress_service.progress(session, catalog, scope, today):
        t = p.target
        cells = _row(
            [
                t.label,
                vi.EXPORT_KINDS[t.kind],
                p.period.label,
                ", ".join(u.name for u in p.scope),
                p.goal,
                p.achieved,
                None if p.percent is None else p.percent / 100,
                None if p.expected_percent is None else p.expected_percent / 100,
                vi.STATUS[p.status].split(" ", 1)[1],
                t.source,
            ],
        )
        cells[4].number_format = number_format(t.target)
        cells[5].number_format = number_format(p.achieved)
        cells[6].number_format = cells[7].number_format = "0.0%"
        ws.append(cells)
