"""A unit's tracker page (bot/web): its targets, the strip of its last reporting periods
(counts written out), and its own latest answers; one tap further, which units below sent a
period's report on time, late, or not yet."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import staff
from handlers.charts import short_label
from handlers.web_pages import Crumb, Tracker, crumbs, level_below_word, tracker
from schedules import thi_dua
from schedules.calendar import default_form, window
from storage.db.models import OrgUnit
from storage.db.units import children, is_within
from storage.measures.completeness import unit_values
from storage.measures.thi_dua import timeliness_by_root
from storage.plan import texts_vi as vi
from storage.plan.catalog import Catalog, Form, IndicatorType
from storage.plan.periods import Period, next_period
from storage.plan.text import vi_sort_key

STRIP_PERIODS = 12


# ---- a unit -------------------------------------------------------------------------------


@dataclass
class StripCell:
    """One reporting period of the strip: its counts written out (a phone has no hover)."""

    period: str
    key: str
    state: str  # on_time | late | missing | partial | none
    text: str  # "388 đúng hạn, 50 muộn, 22 chưa nộp", or one unit's "nộp muộn"
    on_time: int = 0
    late: int = 0
    missing: int = 0
    single: bool = True  # one unit's own report, not a count of units


@dataclass
class Answer:
    label: str
    value: str
    indicator: str | None


@dataclass
class AnswerBlock:
    form: str
    period: str
    answers: list[Answer]


@dataclass
class UnitPage:
    tracker: Tracker
    strip_form: str
    strip: list[StripCell]
    answers: list[AnswerBlock] = field(default_factory=list)
    parent: Crumb | None = None


async def unit_page(
    session: AsyncSession, catalog: Catalog, unit: OrgUnit, scope: OrgUnit, today: date
) -> UnitPage:
    page = await tracker(session, catalog, unit, scope, today)
    form = default_form(catalog)
    periods = thi_dua.due_periods(form, today, STRIP_PERIODS)
    counts = await timeliness_by_root(session, form, periods, [unit.id])
    # Newest first: the period a reader asks about is the last one due.
    strip = [_cell(p, counts.get((unit.id, p.key))) for p in reversed(periods)]
    blocks = []
    for own_form in catalog.forms_for_level(unit.level):
        period = staff.latest_due_period(own_form, today)
        values = (await unit_values(session, [unit.id], own_form.code, period)).get(unit.id)
        answers = [
            Answer(
                catalog.indicators[q.indicator].label,
                _answer_text(catalog, q.indicator, values.get(q.indicator))
                if values
                else vi.WEB_NO_REPORT,
                q.indicator,
            )
            for q in own_form.questions
        ]
        blocks.append(AnswerBlock(own_form.name, period.label, answers if values else []))
    parent = page.crumbs[-2] if len(page.crumbs) > 1 else None
    return UnitPage(page, form.name, strip, blocks, parent)


def _cell(period: Period, t: thi_dua.Timeliness | None) -> StripCell:
    label = short_label(period)
    if t is None or not t.expected:
        return StripCell(label, period.key, "none", vi.WEB_STRIP_NONE)
    if t.expected == 1:  # one unit's own report (a branch, or a commune of one branch)
        state = "on_time" if t.on_time else "late" if t.late else "missing"
        text = vi.WEB_STRIP_STATE[state]
        return StripCell(label, period.key, state, text, t.on_time, t.late, t.missing)
    state = (
        "on_time"
        if t.on_time == t.expected
        else "missing"
        if t.missing * 2 > t.expected
        else "partial"
    )
    text = vi.WEB_STRIP_COUNTS.format(on_time=t.on_time, late=t.late, missing=t.missing)
    return StripCell(label, period.key, state, text, t.on_time, t.late, t.missing, single=False)


# ---- who reported a period: the strip's one tap further ----------------------------------


@dataclass
class ReportingRow:
    unit: Crumb
    cell: StripCell
    drill: bool  # has units of its own that report


@dataclass
class ReportingPage:
    unit: OrgUnit
    crumbs: list[Crumb]
    form: str
    period: Period
    total: StripCell
    rows: list[ReportingRow]  # the units below with counts (they have units that report)
    missing: list[Crumb]  # the units below that report themselves, by state
    late: list[Crumb]
    on_time: list[Crumb]
    level_below: str
    note: str = ""  # a period not due yet: said so, nobody is late


async def reporting_page(
    session: AsyncSession,
    catalog: Catalog,
    unit: OrgUnit,
    scope: OrgUnit,
    key: str,
    today: date,
) -> ReportingPage | None:
    """Which units below `unit` sent the period's report on time, late, or not yet; None if
    the period is not one of the strip's. Two grouped queries whatever the size of the unit:
    a province lists its communes with their counts, a commune names its branches."""
    form = default_form(catalog)
    periods = thi_dua.due_periods(form, today, STRIP_PERIODS)
    period = next((p for p in periods if p.key == key), None)
    note = ""
    if period is None:  # a period begun whose reports are not due yet: said so, not "no page"
        period = next((p for p in _not_due(form, periods[-1], today) if p.key == key), None)
        if period is None:
            return None
        note = vi.WEB_REPORTING_NOT_DUE.format(
            period=period.label[:1].upper() + period.label[1:],
            due=window(form, period).due.strftime("%d/%m/%Y"),
        )
    form_depth = catalog.level_index(form.level)
    kids = [
        k
        for k in await children(session, unit, today)
        if is_within(k, scope) and catalog.level_index(k.level) <= form_depth
    ]
    counts = await timeliness_by_root(session, form, [period], [unit.id, *(k.id for k in kids)])
    rows: list[ReportingRow] = []
    by_state: dict[str, list[Crumb]] = {"missing": [], "late": [], "on_time": []}
    for k in kids:
        t = counts.get((k.id, period.key))
        if t is None or not t.expected:
            continue
        if k.level == form.level:
            cell = _cell(period, t)
            by_state[cell.state].append(Crumb(k.id, k.name))
        else:
            rows.append(ReportingRow(Crumb(k.id, k.name), _cell(period, t), True))
    rows.sort(key=lambda r: (-r.cell.missing, -r.cell.late, vi_sort_key(r.unit.name)))
    for names in by_state.values():
        names.sort(key=lambda c: vi_sort_key(c.name))
    return ReportingPage(
        unit,
        await crumbs(session, unit, scope),
        form.name,
        period,
        _cell(period, counts.get((unit.id, period.key))),
        rows,
        by_state["missing"],
        by_state["late"],
        by_state["on_time"],
        level_below_word(catalog, unit, kids),
        note,
    )


def _not_due(form: Form, latest_due: Period, today: date) -> list[Period]:
    """The form's periods after the latest due one that have begun by `today`."""
    out = []
    period = next_period(latest_due)
    while period.start <= today:
        out.append(period)
        period = next_period(period)
    return out


def _answer_text(catalog: Catalog, code: str, value: float | str | None) -> str:
    ind = catalog.indicators[code]
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if ind.type == IndicatorType.YES_NO:
        return vi.WEB_YES if value else vi.WEB_NO
    return f"{vi.format_number(value)} {ind.unit}"
