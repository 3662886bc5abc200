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

from handlers import texts_vi as vi
from schedules.periods import Period
from storage import progress as progress_service
from storage.catalog import Catalog, Form, IndicatorType
from storage.models import OrgUnit
from storage.rollup import Roots, totals_by_root
from storage.units import active_on, subtree_filter

NUMBER_FORMAT = "#,##0.##"
PINK = "F8D7E3"
GREY = "F2F2F2"


async def build_workbook(
    session: AsyncSession, catalog: Catalog, scope: OrgUnit, period: Period, today: date
) -> bytes:
    from openpyxl import Workbook  # imported here: it is large and only exports need it

    wb = Workbook()
    wb.remove(wb.active)
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
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold, header_fill = Font(bold=True), PatternFill("solid", fgColor=PINK)
    subtotal_fill = PatternFill("solid", fgColor=GREY)
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
    ws.append([vi.EXPORT_TITLE.format(form=form.name, period=period.label, unit=scope.name)])
    ws["A1"].font = Font(bold=True, size=13)
    header = (
        [lv.name for lv in levels]
        + [vi.EXPORT_CODE]
        + [
            f"{catalog.indicators[c].label} ({catalog.indicators[c].unit})".replace(" ()", "")
            for c in codes
        ]
    )
    ws.append(header)
    for cell in ws[2]:
        cell.font, cell.fill = bold, header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    # One rollup per indicator gives the total of every unit in scope, at every level.
    totals = {
        code: await totals_by_root(session, catalog, code, Roots(within=scope.id), period)
        for code in codes
    }
    rows = [u for u in units if u.level == form.level]
    rows.sort(key=lambda u: [a.name for a in _chain(u, by_id, scope)])
    width = len(levels)

    def values(unit_id: int) -> list[float]:
        return [totals[c].get(unit_id, 0.0) for c in codes]

    def subtotal(unit: OrgUnit, depth: int) -> None:
        label = (
            vi.EXPORT_GRAND_TOTAL
            if unit.id == scope.id
            else vi.EXPORT_SUBTOTAL.format(name=unit.name)
        )
        cells: list[object] = [None] * width + [unit.code] + values(unit.id)
        cells[min(depth, width - 1)] = label
        ws.append(cells)
        for cell in ws[ws.max_row]:
            cell.font, cell.fill = bold, subtotal_fill

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
        ws.append(names + [None] * (width - len(names)) + [unit.code] + values(unit.id))
    for depth in range(len(open_groups) - 1, -1, -1):
        subtotal(open_groups[depth], depth + 1)
    subtotal(scope, 0)
    for row in ws.iter_rows(min_row=3, min_col=width + 2):
        for cell in row:
            cell.number_format = NUMBER_FORMAT
    ws.freeze_panes = ws.cell(row=3, column=width + 2)
    for i in range(1, len(header) + 1):
        ws.column_dimensions[get_column_letter(i)].width = (
            24 if i <= width else (14 if i == width + 1 else 16)
        )
    ws.row_dimensions[2].height = 60


async def _targets_sheet(
    wb: Any, session: AsyncSession, catalog: Catalog, scope: OrgUnit, today: date
) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(vi.EXPORT_TARGETS_SHEET)
    ws.append(vi.EXPORT_TARGET_HEADERS)
    for cell in ws[1]:
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor=PINK)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for p in await progress_service.progress(session, catalog, scope, today):
        t = p.target
        ws.append(
            [
                t.label,
                vi.EXPORT_KINDS[t.kind],
                p.period.label,
                ", ".join(u.name for u in p.scope),
                t.target,
                p.achieved,
                None if p.percent is None else p.percent / 100,
                p.expected_percent / 100,
                vi.STATUS[p.status].split(" ", 1)[1],
                t.source,
            ]
        )
        row = ws.max_row
        ws.cell(row, 5).number_format = NUMBER_FORMAT
        ws.cell(row, 6).number_format = NUMBER_FORMAT
        ws.cell(row, 7).number_format = "0.0%"
        ws.cell(row, 8).number_format = "0.0%"
    ws.freeze_panes = "A2"
    for i, width in enumerate((48, 10, 22, 24, 12, 12, 10, 12, 16, 30), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
