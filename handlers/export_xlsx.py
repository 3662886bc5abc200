"""The Excel workbook staff attach to their reports: one sheet per form, one for targets.

Every number comes from the rollup service, so the sheet agrees with /tong and /tiendo: a unit's
row is its total for the period, and each subtotal row is its parent's rollup, not a sum of the
rows above (which would be wrong for stocks such as the member count).
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import progress as progress_service
from storage import texts_vi as vi
from storage.catalog import Catalog, Form, IndicatorType
from storage.models import OrgUnit
from storage.periods import Period
from storage.rollup import Roots, reported_pairs, totals_by_root
from storage.text import vi_sort_key
from storage.units import active_on, subtree_filter

# Whole numbers without a decimal mark: "#,##0.##" would show "12." for 12.
INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.##"
PINK = "F8D7E3"
GREY = "F2F2F2"


async def build_workbook(
    session: AsyncSession, catalog: Catalog, scope: OrgUnit, period: Period, today: date
) -> bytes:
    from openpyxl import Workbook  # imported here: it is large and only exports need it

    # Write-only: rows stream out as they are made, several times faster for big sheets.
    wb = Workbook(write_only=True)
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
            await _form_sheet(wb, session, catalog, form, scope, period, units, by_id)
    await _targets_sheet(wb, session, catalog, scope, today)
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
    ws: Any,
    values: list[object],
    *,
    bold: bool = False,
    fill: str | None = None,
    numbers_from: int | None = None,
    wrap: bool = False,
) -> list[Any]:
    """A row of styled cells (write-only sheets take cells, not styles set afterwards)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    cells = []
    for i, value in enumerate(values):
        cell = WriteOnlyCell(ws, value=value)
        if bold:
            cell.font = Font(bold=True)
        if fill:
            cell.fill = PatternFill("solid", fgColor=fill)
        if wrap:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        if numbers_from is not None and i >= numbers_from:
            cell.number_format = number_format(value)
        cells.append(cell)
    return cells


async def _form_sheet(
    wb: Any,
    session: AsyncSession,
    catalog: Catalog,
    form: Form,
    scope: OrgUnit,
    period: Period,
    units: list[OrgUnit],
    by_id: dict[int, OrgUnit],
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
    )
    for i in range(1, len(header) + 1):
        ws.column_dimensions[get_column_letter(i)].width = (
            24 if i <= width else (14 if i == width + 1 else 16)
        )
    ws.freeze_panes = f"{get_column_letter(width + 2)}3"
    title = vi.EXPORT_TITLE.format(form=form.name, period=period.label, unit=scope.name)
    ws.append(_row(ws, [title], bold=True))
    ws.append(_row(ws, header, bold=True, fill=PINK, wrap=True))
    # One rollup per indicator gives the total of every unit in scope, at every level.
    totals = {
        code: await totals_by_root(session, catalog, code, Roots(within=scope.id), period)
        for code in codes
    }
    # A unit (or a subtotal) with no report of a question shows an empty cell, never 0.
    reported: set[tuple[int, str]] = set()
    for unit_id, code in await reported_pairs(session, codes, period, scope.id):
        if unit_id in by_id:
            reported.update((u.id, code) for u in _chain(by_id[unit_id], by_id, scope))
    rows = [u for u in units if u.level == form.level]
    rows.sort(key=lambda u: [vi_sort_key(a.name) for a in _chain(u, by_id, scope)])

    def values(unit_id: int) -> list[float | None]:
        return [totals[c].get(unit_id, 0.0) if (unit_id, c) in reported else None for c in codes]

    def subtotal(unit: OrgUnit, depth: int) -> None:
        label = (
            vi.EXPORT_GRAND_TOTAL
            if unit.id == scope.id
            else vi.EXPORT_SUBTOTAL.format(name=unit.name)
        )
        cells: list[object] = [None] * width + [unit.code] + values(unit.id)
        cells[min(depth, width - 1)] = label
        ws.append(_row(ws, cells, bold=True, fill=GREY, numbers_from=width + 1))

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
                ws,
                names + [None] * (width - len(names)) + [unit.code] + values(unit.id),
                numbers_from=width + 1,
            )
        )
    for depth in range(len(open_groups) - 1, -1, -1):
        subtotal(open_groups[depth], depth + 1)
    subtotal(scope, 0)


async def _targets_sheet(
    wb: Any, session: AsyncSession, catalog: Catalog, scope: OrgUnit, today: date
) -> None:
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(vi.EXPORT_TARGETS_SHEET)
    for i, width in enumerate((48, 10, 22, 24, 12, 12, 10, 12, 16, 30), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    ws.append(_row(ws, vi.EXPORT_TARGET_HEADERS, bold=True, fill=PINK, wrap=True))
    for p in await progress_service.progress(session, catalog, scope, today):
        t = p.target
        cells = _row(
            ws,
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
