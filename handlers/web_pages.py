"""What the tracker pages show (bot/web renders it): the same services as the chat answers.

Every function takes the viewer's scope and a unit already checked to lie inside it, reads
only, and returns plain data with the numbers formatted the way the chat formats them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import staff
from handlers.charts import short_label
from handlers.views import (
    progress_lines,
    progress_summary,
    rate_notes,
    row_name,
    row_note,
    total_lines,
    value_text,
)
from schedules import thi_dua
from schedules.calendar import default_form
from storage.db.models import OrgUnit
from storage.db.units import ancestors, children, is_within
from storage.measures import progress as progress_service
from storage.measures import rollup, target_scopes, totals
from storage.measures.completeness import unit_values
from storage.measures.target_status import BEHIND, Status, TargetProgress
from storage.measures.thi_dua import timeliness_by_root
from storage.plan import texts_vi as vi
from storage.plan.catalog import Aggregation, Catalog, IndicatorType, Target
from storage.plan.clock import VN
from storage.plan.periods import Period, from_key
from storage.plan.text import vi_sort_key
from storage.plan.thi_dua_rule import Rule

STRIP_PERIODS = 12


@dataclass
class Crumb:
    id: int
    name: str


@dataclass
class TargetRow:
    """One target as the page shows it: the chat's own lines for it (achieved / target /
    expected by now / source), its verdict as a coloured badge, and a bar."""

    code: str
    label: str
    lines: list[str]
    verdict: str
    status: str  # a Status value, for the colour
    period_key: str
    indicator: str | None = None  # the indicator page to open
    bar: float = 0.0  # 0..100, the bar's width


def verdict(status: str) -> str:
    """The chat's verdict words; the page shows the colour instead of the emoji (a phone or
    an intranet PC may have no emoji font)."""
    words = vi.STATUS.get(status, str(status))
    return words.split(" ", 1)[1] if not words[:1].isalnum() and " " in words else words


def target_row(catalog: Catalog, p: TargetProgress) -> TargetRow:
    t = p.target
    return TargetRow(
        code=t.code,
        label=t.label,
        lines=[line.strip() for line in progress_lines(catalog, p)[1:]],  # [0]: verdict, label
        verdict=verdict(p.status),
        status=str(p.status),
        period_key=p.period.key,
        indicator=t.indicator or t.numerator,
        bar=max(0.0, min(100.0, p.percent or 0.0)),
    )


def _basis(catalog: Catalog, p: TargetProgress) -> str:
    """What a unit's percentage rests on: units reached, or the two figures of a rate (and
    which of its units' pairs are from an earlier period)."""
    if p.counted:
        return f"{p.counted[0]}/{p.counted[1]}"
    if p.ratio:
        notes = [n.strip() for n in rate_notes(catalog, p)]
        return " ".join([f"{vi.format_number(p.ratio[0])}/{vi.format_number(p.ratio[1])}", *notes])
    return ""


async def crumbs(session: AsyncSession, unit: OrgUnit, scope: OrgUnit) -> list[Crumb]:
    """The way up from `unit` to the top of the viewer's scope (not above it)."""
    chain = [*await ancestors(session, unit), unit]
    return [Crumb(u.id, u.name) for u in chain if is_within(u, scope)]


async def full_name(session: AsyncSession, unit: OrgUnit) -> str:
    """The unit's name with its parent's: many branches share a name ("Chi hội thôn 1")."""
    parent = await session.get(OrgUnit, unit.parent_id) if unit.parent_id else None
    return vi.WEB_UNIT_IN.format(unit=unit.name, parent=parent.name) if parent else unit.name


@dataclass
class Tracker:
    unit: OrgUnit
    crumbs: list[Crumb]
    rows: list[TargetRow]
    children: list[Crumb]
    level_below: str
    today: date
    summary: str = ""  # the counts line of /tiendo: "20 chỉ tiêu: 10 chậm tiến độ, …"
    name: str = ""  # with its parent's name when no breadcrumb shows it


async def tracker(
    session: AsyncSession, catalog: Catalog, unit: OrgUnit, scope: OrgUnit, today: date
) -> Tracker:
    """Every target of the unit, behind first: the same list as /tiendo."""
    items = await progress_service.progress(session, catalog, unit, today)
    kids = await children(session, unit, today)
    trail = await crumbs(session, unit, scope)
    return Tracker(
        unit,
        trail,
        [target_row(catalog, p) for p in items],
        [Crumb(k.id, k.name) for k in kids],
        _level_below(catalog, unit, kids),
        today,
        progress_summary(items) if items else "",
        unit.name if len(trail) > 1 else await full_name(session, unit),
    )


def _level_below(catalog: Catalog, unit: OrgUnit, kids: list[OrgUnit]) -> str:
    """The level below as a word inside a sentence ("cơ sở Hội", as the chat writes it)."""
    return catalog.level_word(kids[0].level) if kids else ""


# ---- a target by child unit ---------------------------------------------------------------


@dataclass
class ChildRow:
    unit: Crumb
    value: float | None  # for sorting: the figure, or the percent of target
    achieved: str
    share: str = ""
    verdict: str = ""
    status: str = ""
    detail: str = ""
    drill: bool = False  # has units below


SORTS = ("tien_do", "ten", "so")
STATUS_ORDER = {str(s): 0 for s in BEHIND} | {
    Status.ON_TRACK: 1,
    Status.NOT_YET: 1,
    Status.PENDING: 1,
    Status.ACHIEVED: 2,
    Status.DONE: 2,
    Status.DONE_LATE: 2,
    Status.NO_DATA: 3,
}


@dataclass
class TargetBreakdown:
    unit: OrgUnit
    crumbs: list[Crumb]
    row: TargetRow
    rows: list[ChildRow]
    sort: str
    per_unit_verdict: bool  # percent targets are judged per unit; a sum has no per-unit share
    level_below: str
    period_label: str = ""  # the window every figure of the page is from


async def target_breakdown(
    session: AsyncSession,
    catalog: Catalog,
    target: Target,
    unit: OrgUnit,
    scope: OrgUnit,
    today: date,
    sort: str = "tien_do",
) -> TargetBreakdown | None:
    """The target measured on each unit below `unit`; None if it does not apply to `unit`."""
    where = await target_scopes.target_scope(session, catalog, target, unit)
    if where is None:
        return None
    own = await progress_service.measure(session, catalog, target, where, today)
    kids = [k for k in await children(session, unit, today) if is_within(k, scope)]
    rows: list[ChildRow] = []
    if target.kind == "sum":
        assert target.indicator
        # The named units of a group target, when the viewer sees them all; else the units
        # below (from inside one named unit, the others' figures are not hers to see). Each
        # unit's figure from the same function as /tong: one that did not report has none.
        named = where != [unit] and all(is_within(u, scope) for u in where)
        parts = where if named else kids
        total = await totals.group_total(
            session,
            catalog,
            target.indicator,
            unit,
            parts,
            own.period,
            # A list of levels passes as one here (reported to the lead, issue 26).
            reported_at=target.reported_at,  # type: ignore[arg-type]
            approved_only=target.approved_only,
        )
        for r in total.rows:
            share = total.share(r)
            rows.append(
                ChildRow(
                    Crumb(r.unit.id, r.unit.name),
                    r.figure.value if r.figure.reported else None,
                    value_text(total, r.figure, leaf=r.leaf, unit_word=True),
                    share=vi.format_percent(share) if share is not None else "",
                    detail=row_note(catalog, total, r) if r.figure.reported else "",
                    drill=r.unit.level != catalog.leaf_level and is_within(r.unit, scope),
                )
            )
    else:
        named_units = await target_scopes.named_units(session, target)
        applies = [(k, target_scopes.scope_of(catalog, target, k, named_units)) for k in kids]
        measured = [(k, kid_scope) for k, kid_scope in applies if kid_scope is not None]
        found = await progress_service.measure_many(
            session, catalog, target, [kid_scope for _, kid_scope in measured], today
        )
        for (k, _), p in zip(measured, found, strict=True):
            rows.append(
                ChildRow(
                    Crumb(k.id, k.name),
                    p.percent,
                    vi.format_percent(p.achieved),
                    verdict=verdict(p.status),
                    status=str(p.status),
                    detail=_basis(catalog, p),
                    drill=k.level != catalog.leaf_level,
                )
            )
    _sort_rows(rows, sort)
    return TargetBreakdown(
        unit,
        await crumbs(session, unit, scope),
        target_row(catalog, own),
        rows,
        sort if sort in SORTS else "tien_do",
        target.kind != "sum",
        _level_below(catalog, unit, kids),
        own.period.label,
    )


def _sort_rows(rows: list[ChildRow], sort: str) -> None:
    if sort == "ten":
        rows.sort(key=lambda r: r.unit.name)
    elif sort == "so":
        rows.sort(key=lambda r: (r.value is None, -(r.value or 0), r.unit.name))
    else:
        # Behind first, the furthest behind at the top; no data last (it is not "behind").
        rows.sort(
            key=lambda r: (
                r.status == Status.NO_DATA or (r.value is None and not r.status),
                STATUS_ORDER.get(r.status, 0),
                r.value or 0,
                r.unit.name,
            )
        )


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
    if period is None:
        return None
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
        _level_below(catalog, unit, kids),
    )


def _answer_text(catalog: Catalog, code: str, value: float | str | None) -> str:
    ind = catalog.indicators[code]
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if ind.type == IndicatorType.YES_NO:
        return vi.WEB_YES if value else vi.WEB_NO
    return f"{vi.format_number(value)} {ind.unit}"


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
) -> IndicatorPage:
    """The /tong answer as a page: headline, chart (its periods, or its units below), the
    breakdown by unit below, and the workbook."""
    indicator = catalog.indicators[code]
    found = await staff.total_of(session, catalog, indicator, unit, period)
    rows: list[ChildRow] = []
    if isinstance(found, str):  # a text or a rating: no total
        head = [found]
    else:
        head, _ = total_lines(catalog, found)
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


# ---- thi đua ------------------------------------------------------------------------------


@dataclass
class RankRow:
    rank: int | None
    unit: Crumb
    points: str
    parts: dict[str, str]
    drill: bool


@dataclass
class RankingPage:
    unit: OrgUnit
    crumbs: list[Crumb]
    rule: Rule
    rule_lines: list[str]
    periods: str
    rows: list[RankRow]
    level_below: str
    computed_at: str
    own: str = ""  # her unit's place among its siblings, as /xephang says it


def rule_lines(rule: Rule, form_name: str) -> list[str]:
    """The rule in words, as the page and /xephang show it."""
    w = rule.weights
    lines = []
    if w.timeliness:
        lines.append(
            vi.THIDUA_RULE_TIMELINESS.format(
                points=vi.format_number(w.timeliness),
                form=form_name[:1].lower() + form_name[1:],
                periods=rule.periods,
                late=vi.format_percent(rule.late_credit * 100),
            )
        )
    if w.targets:
        lines.append(vi.THIDUA_RULE_TARGETS.format(points=vi.format_number(w.targets)))
    if w.growth and rule.growth:
        lines.append(
            vi.THIDUA_RULE_GROWTH.format(
                points=vi.format_number(w.growth),
                full=vi.format_number(rule.growth.full_percent, 1),
            )
        )
    lines.append(vi.THIDUA_RULE_NO_DATA)
    return lines


def rank_row(catalog: Catalog, rule: Rule, s: thi_dua.Score) -> RankRow:
    points = s.points(rule)
    parts = {}
    for part in ("timeliness", "targets", "growth"):
        value = s.parts.get(part)
        parts[part] = "–" if value is None else vi.format_number(value * 100)
    return RankRow(
        s.rank or None,
        Crumb(s.unit.id, s.unit.name),
        vi.WEB_NO_DATA if points is None else vi.format_number(points, 1),
        parts,
        s.unit.level != catalog.leaf_level,
    )


async def ranking_page(
    session: AsyncSession,
    rankings: thi_dua.Rankings,
    catalog: Catalog,
    unit: OrgUnit,
    scope: OrgUnit,
    now: datetime,
) -> RankingPage:
    rule = catalog.thi_dua or Rule()
    today = now.astimezone(VN).date()
    # Kept apart: the page's own session is never committed (pages write nothing else).
    ranked = await rankings.get(session, catalog, rule, unit, today, now, keep_apart=True)
    form = thi_dua.rule_form(rule, catalog)
    first, last = ranked.periods[0], ranked.periods[-1]
    # A unit with none below to rank (a branch) gets its place among its siblings instead, as
    # /xephang gives it; not every page: the parent's ranking may have to be computed (for a
    # province, the whole country's), a cost only worth paying when the page has nothing else.
    own = None
    if not ranked.scores:
        own = await own_place(session, rankings, catalog, rule, unit, today, now, keep_apart=True)
    return RankingPage(
        unit,
        await crumbs(session, unit, scope),
        rule,
        rule_lines(rule, form.name),
        f"{first.label} – {last.label}" if first != last else first.label,
        [rank_row(catalog, rule, s) for s in ranked.scores],
        catalog.level_word(ranked.scores[0].unit.level) if ranked.scores else "",
        (ranked.computed_at or now).astimezone(VN).strftime("%H:%M %d/%m/%Y"),
        own or "",
    )


async def own_place(
    session: AsyncSession,
    rankings: thi_dua.Rankings,
    catalog: Catalog,
    rule: Rule,
    unit: OrgUnit,
    today: date,
    now: datetime,
    *,
    keep_apart: bool = False,
) -> str | None:
    """ "Chi hội thôn 1 đứng thứ 3/12 trong Xã Sơn Bình, với 71,5 điểm." (None at the top)."""
    if unit.parent_id is None:
        return None
    parent = await session.get(OrgUnit, unit.parent_id)
    assert parent is not None
    peers = await rankings.get(session, catalog, rule, parent, today, now, keep_apart=keep_apart)
    mine = peers.place_of(unit.id)
    points = mine.points(rule) if mine else None
    if mine is None or points is None:
        return vi.XEPHANG_OWN_NONE.format(unit=unit.name, parent=parent.name)
    return vi.XEPHANG_OWN.format(
        unit=unit.name,
        rank=mine.rank,
        total=len(peers.scores),
        parent=parent.name,
        points=vi.format_number(points, 1),
    )
