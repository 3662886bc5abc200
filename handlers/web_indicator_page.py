"""An indicator's page (bot/web): the /tong answer with a bar chart of its periods or of
its units below (drawn at the size shown, never a bar of 0 for a unit without a figure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import staff
from handlers.charts import short_label
from handlers.views import (
    row_name,
    row_note,
    total_lines,
    value_text,
)
from handlers.web_pages import ChildRow, Crumb, crumbs
from storage.db.models import OrgUnit
from storage.measures import rollup
from storage.plan import texts_vi as vi
from storage.plan.catalog import Aggregation, Catalog, IndicatorType
from storage.plan.periods import Period, from_key

# ---- an indicator -------------------------------------------------------------------------


@dataclass
class Bar:
    label: str
    text: str  # the figure written beside the bar
    width: float  # 0..100: percent of the chart's width, one scale for every bar


@dataclass
class Chart:
    """A horizontal bar chart drawn in the page (SVG) at the size it is shown, so its words
    are the page's own 13 px whatever the screen; its numbers are also in a table."""

    alt: str
    bars: list[Bar]
    head: list[str] = field(default_factory=list)  # the table's columns, when it has its own
    table: list[list[str]] = field(default_factory=list)


LABEL_CHARS = 30  # longer names are cut in the chart (the table beside has them whole)


def bar_chart(title: str, items: Sequence[tuple[str, float | None, str]]) -> Chart:
    """(label, value or None if not reported, text) → bars on one scale from 0; a unit
    without a figure gets no bar (never a bar of 0) and its text says so."""
    top = max((v for _, v, _ in items if v is not None and v > 0), default=0.0)
    bars = [
        Bar(
            label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…",
            text,
            0.0 if v is None or v <= 0 or not top else v / top * 100,
        )
        for label, v, text in items
    ]
    alt = vi.WEB_CHART_ALT.format(
        title=title, values="; ".join(f"{label}: {text}" for label, _, text in items)
    )
    return Chart(alt, bars)


@dataclass
class IndicatorPage:
    unit: OrgUnit
    crumbs: list[Crumb]
    code: str
    label: str
    period: Period
    head: list[str]
    rows: list[ChildRow]
    chart: Chart | None = None


async def indicator_page(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    unit: OrgUnit,
    scope: OrgUnit,
    period: Period,
    today: date | None = None,  # (given: a period within its due date says so, as /tong does)
) -> IndicatorPage:
    """The /tong answer as a page: headline, chart (its periods, or its units below), the
    breakdown by unit below, and the workbook."""
    indicator = catalog.indicators[code]
    found = await staff.total_of(session, catalog, indicator, unit, period, today)
    rows: list[ChildRow] = []
    if isinstance(found, str):  # a text or a rating: no total
        head = [found]
    else:
        head, _ = total_lines(catalog, found, await staff.unit_label(session, unit))
        for r in found.rows:
            share = found.share(r)
            rows.append(
                ChildRow(
                    Crumb(r.unit.id, row_name(r)),
                    r.figure.value if r.figure.reported else None,
                    value_text(found, r.figure, leaf=r.leaf or r.own, unit_word=True),
                    share=vi.format_percent(share) if share is not None else "",
                    detail=row_note(catalog, found, r) if r.figure.reported else "",
                    drill=not r.own and r.unit.level != catalog.leaf_level,
                )
            )
    chart = None
    if indicator.type not in (IndicatorType.TEXT, IndicatorType.YES_NO):
        chart = await _trend(session, catalog, code, unit, period)
        if chart is None and rows:
            title = vi.WEB_CHART_BY_UNIT.format(label=indicator.label, period=period.label)
            chart = bar_chart(title, [(r.unit.name, r.value, r.achieved) for r in rows])
    return IndicatorPage(
        unit,
        await crumbs(session, unit, scope),
        code,
        indicator.label,
        period,
        head,
        rows,
        chart,
    )


async def _trend(
    session: AsyncSession, catalog: Catalog, code: str, unit: OrgUnit, period: Period
) -> Chart | None:
    """The figure of each reporting period inside `period` (and, for a flow, the running
    total), when there are several; None otherwise."""
    indicator = catalog.indicators[code]
    by_period = await rollup.totals_by_period(session, catalog, code, unit, period)
    if len(by_period) < 2:
        return None
    periods = sorted((from_key(k, catalog.terms) for k in by_period), key=lambda p: p.start)
    word = f" {indicator.unit}" if indicator.unit else ""
    items = [
        (short_label(p), by_period[p.key], vi.format_number(by_period[p.key]) + word)
        for p in periods
    ]
    title = vi.WEB_CHART_BY_PERIOD.format(label=indicator.label, period=period.label)
    chart = bar_chart(title, items)
    flow = indicator.agg == Aggregation.SUM and indicator.type != IndicatorType.DERIVED
    value_head = vi.WEB_CHART_VALUE.format(unit=indicator.unit) if indicator.unit else ""
    chart.head = [vi.WEB_CHART_PERIOD, value_head or vi.WEB_CHART_VALUE_PLAIN]
    running = 0.0
    for p, (_, value, _) in zip(periods, items, strict=True):
        running += value or 0
        row = [p.label, vi.format_number(value)]
        chart.table.append([*row, vi.format_number(running)] if flow else row)
    if flow:
        chart.head.append(vi.WEB_CHART_RUNNING)
    return chart
