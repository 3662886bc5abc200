"""An indicator's total as staff read it: the figure, what it rests on, and each unit below.

`indicator_total` is the one answer to "how many … in this unit and period" that /tong,
`hoibot report total`, the indicator page, a sum target's breakdown, the workbook and the Word
report show, so they agree by construction. It reads each reporting unit's own figure (the
units of the levels whose forms ask the indicator) and adds them up per unit above, so every
figure knows what it rests on:

- how many of the units that should report it did (k/n); a unit with no report has no value
  (shown as "chưa báo cáo"), never 0: a 0 is only ever a reported zero;
- a yes/no is counted as "k of n units yes", never added up;
- a ratio (a derived indicator with a division) is recomputed from its parts, over the units
  that gave every part in one period; a percentage reported as such is shown per unit, never
  added up;
- a stock (member count) takes each unit's latest report in the period, and says which period
  that is when it is not the same for every unit;
- the change from the previous period counts only the units that reported in both.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from sqlalchemy import Result, Select, and_, case, func, null, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.db.models import OrgUnit, Submission, SubmissionValue, UnitAncestor
from storage.db.units import active_on, children
from storage.measures.ratios import period_at
from storage.plan import texts_vi as vi
from storage.plan.catalog import Aggregation, Catalog, Indicator, IndicatorType
from storage.plan.expressions import evaluate_formula, has_division
from storage.plan.periods import (
    Period,
    Periodicity,
    month,
    next_period,
    period_of,
    periods_inside,
    previous_period,
    span,
)
from storage.plan.text import vi_sort_key


class Kind(StrEnum):
    SUM = "sum"  # counts and amounts, flows or stocks, and sums and differences of them
    YES_NO = "yes_no"  # k of n units answered yes
    RATIO = "ratio"  # a derived ratio, recomputed from its parts
    EACH = "each"  # a percentage reported as such: each unit's own, never added up


def kind_of(catalog: Catalog, code: str) -> Kind:
    indicator = catalog.indicators[code]
    if indicator.type == IndicatorType.YES_NO:
        return Kind.YES_NO
    if indicator.type == IndicatorType.DERIVED:
        return Kind.RATIO if has_division(indicator.formula or "") else Kind.SUM
    if indicator.unit.strip() == "%":
        return Kind.EACH
    return Kind.SUM


# A target's `reported_at`: one level, or several whose own answers are added up.
Levels = str | list[str] | None


def reporting_levels(catalog: Catalog, code: str, reported_at: Levels = None) -> list[str]:
    """The levels whose units give the figure themselves (top first): those asked every part
    of a ratio, those asked any part of anything else; only `reported_at`'s when given (a
    sum target's list of levels read as one: each unit's own answer, added up)."""
    if reported_at:
        wanted = {reported_at} if isinstance(reported_at, str) else set(reported_at)
        return [lv.code for lv in catalog.levels if lv.code in wanted]
    parts = [set(catalog.levels_of_indicator(c)) for c in catalog.components(code)]
    found = set.union(*parts) if parts else set()
    if kind_of(catalog, code) == Kind.RATIO and parts:
        both = set.intersection(*parts)
        found = both or found  # parts asked at different levels: paired over subtrees
    return [lv.code for lv in catalog.levels if lv.code in found]


@dataclass
class UnitValue:
    """One reporting unit's own figure in the period."""

    level: str
    value: float | None  # None: a ratio without a complete pair, or over a zero divisor
    parts: dict[str, float]  # each component's value (the indicator's own, when reported)
    end: date  # the end of the latest period its figure comes from
    periods: int = 1  # how many periods it gave (a flow over several periods)
    earlier: bool = False  # a ratio: its pair is from an earlier period than its latest report
    complete: bool = True  # a ratio: it gave every part in one period


@dataclass
class Figure:
    """A figure over a unit's subtree (or one unit's own), with what it rests on."""

    value: float | None  # None: nothing reported (or no ratio); a yes/no: the units "yes"
    reported: int  # units that gave the figure (a ratio: every part in one period)
    expected: int  # units that should give it: active in the period, or reported anyway
    parts: dict[str, float] = field(default_factory=dict)  # a ratio's parts, summed
    yes: int = 0  # yes/no: units whose latest answer is yes
    ends: Counter[Period] = field(default_factory=Counter)  # stock: units by their figure's period
    partial: int = 0  # flow over several periods: units that gave fewer periods than others
    most_periods: int = 0  # … the most periods a unit gave
    incomplete: int = 0  # ratio: units that gave some parts but never all in one period
    earlier: Counter[Period] = field(default_factory=Counter)  # ratio: pairs of earlier periods

    @property
    def missing(self) -> int:
        return self.expected - self.reported


@dataclass
class Row:
    unit: OrgUnit
    figure: Figure
    own: bool = False  # the unit's own answer, beside the subtrees of the units below it
    leaf: bool = False  # a reporting unit with nothing below that reports: its own figure


@dataclass
class Change:
    """The figure against the previous period, over the units that reported in both."""

    period: Period
    before: Figure | None  # None: nothing reported in the previous period
    now: Figure | None  # over the units in common (None when there are none)
    common: int  # units that reported in both periods
    all_common: bool  # every unit that reported in either reported in both


@dataclass
class Total:
    """`indicator_total`'s answer."""

    indicator: Indicator
    kind: Kind
    unit: OrgUnit
    period: Period
    level: str | None  # the level of the reporting units, when one
    figure: Figure
    rows: list[Row]
    stock: bool  # each unit's latest report counts (a member count), not the sum of periods
    level_word: str = vi.UNITS_WORD  # how the reporting units are named: "chi hội"
    change: Change | None = None
    until: Period | None = None  # a flow reported so far only up to this period
    year_change: Change | None = None  # against the same period a year before (`year_ago`)

    def share(self, row: Row) -> float | None:
        """A row's percent of the total (sums only: a share of a ratio means nothing)."""
        if self.kind != Kind.SUM or row.figure.value is None or not self.figure.value:
            return None
        if self.figure.value < 0 or row.figure.value < 0:
            return None
        return row.figure.value / self.figure.value * 100


# ---- reading each reporting unit's figure --------------------------------------------------


@dataclass
class Reading:
    """Each reporting unit's own figure, and which of them lie under each root."""

    values: dict[int, UnitValue]
    members: dict[int, set[int]]  # root → reporting units under it (itself included)
    active: set[int]  # reporting units active in the period
    levels: list[str]
    stock: bool = False  # every part is a stock: each unit's latest report counts
    periods: dict[tuple[str, date], Period] = field(default_factory=dict)  # (level, end) →
    level_of: dict[int, str] = field(default_factory=dict)  # reporting unit → its level

    def period_at(self, catalog: Catalog, code: str, level: str, end: date) -> Period:
        """`ratios.period_at`, kept: a province's units share a few periods."""
        key = (level, end)
        if key not in self.periods:
            self.periods[key] = period_at(catalog, code, level, end)
        return self.periods[key]


# (levels, inside, roots, period) → what `_members` read: the questions of one form share it.
MembersCache = dict[tuple, tuple[dict[int, set[int]], set[int], dict[int, str]]]


def _values_query(
    code: str,
    period: Period,
    inside: list[int],
    levels: list[str],
    approved_only: bool,
    *,
    with_empty: bool,
) -> Select:
    """(unit_id, end, v) of the submitted answers of one indicator inside the subtrees: from
    the units inside (the closure) to their answers, each an index lookup."""
    query = (
        select(
            SubmissionValue.unit_id.label("unit_id"),
            SubmissionValue.period_end.label("end"),
            SubmissionValue.value_num.label("v"),
        )
        .select_from(UnitAncestor)
        .join(
            SubmissionValue,
            and_(
                SubmissionValue.unit_id == UnitAncestor.unit_id,
                SubmissionValue.indicator_code == code,
                # The end inside the window too (implied by the start): the index on (code,
                # unit, end) then reads only the window's answers, not the unit's history.
                SubmissionValue.period_end.between(period.start, period.end),
                SubmissionValue.period_start >= period.start,
                SubmissionValue.submitted.is_(True),
            ),
        )
        .where(
            UnitAncestor.ancestor_id.in_(sorted(set(inside))),
            UnitAncestor.unit_id.in_(select(OrgUnit.id).where(OrgUnit.level.in_(levels))),
        )
    )
    if len(set(inside)) > 1:
        query = query.distinct()  # (a unit inside two of them is read once)
    if not with_empty:
        query = query.where(SubmissionValue.value_num.is_not(None))
    if approved_only:
        query = query.where(
            SubmissionValue.submission_id.in_(
                select(Submission.id).where(Submission.approved_at.is_not(None))
            )
        )
    return query


async def _rows(session: AsyncSession, query: Select) -> Result:
    """Plain rows through the session's connection: thousands of them, without the ORM's
    per-row work."""
    return await (await session.connection()).execute(query)


async def _per_unit(
    session: AsyncSession, rows: Select, *, latest: bool
) -> dict[int, tuple[int, float, float | None, date]]:
    """Per unit: (values given, their sum, the latest row's value, the latest row's end),
    grouped in the database (a province has thousands of units). The latest row's value is
    read only for a stock (`latest`): a flow needs no ranking."""
    if not latest:
        flows = rows.subquery()
        query = select(
            flows.c.unit_id,
            func.count(flows.c.v),
            func.sum(flows.c.v),
            null(),  # (a flow's value is its sum)
            func.max(flows.c.end),
        ).group_by(flows.c.unit_id)
    else:
        unit, end = rows.selected_columns.unit_id, rows.selected_columns.end
        ranked = rows.add_columns(
            func.row_number().over(partition_by=unit, order_by=end.desc()).label("r")
        ).subquery()
        query = select(
            ranked.c.unit_id,
            func.count(ranked.c.v),
            func.sum(ranked.c.v),
            func.max(case((ranked.c.r == 1, ranked.c.v))),
            func.max(case((ranked.c.r == 1, ranked.c.end))),
        ).group_by(ranked.c.unit_id)
    return {
        uid: (count, float(total or 0), None if last is None else float(last), last_end)
        for uid, count, total, last, last_end in await _rows(session, query)
    }


async def _members(
    session: AsyncSession,
    levels: list[str],
    inside: list[int],
    roots: list[int] | None,
    period: Period,
) -> tuple[dict[int, set[int]], set[int], dict[int, str]]:
    """Reporting units under each root (every unit inside when `roots` is None), which of
    them are active in the period, and their levels."""
    active = case((active_on(period.start, period.end), 1), else_=0)
    query = (
        select(UnitAncestor.ancestor_id, OrgUnit.id, OrgUnit.level, active)
        .join(OrgUnit, OrgUnit.id == UnitAncestor.unit_id)
        .where(OrgUnit.level.in_(levels))
    )
    if roots is not None:
        query = query.where(UnitAncestor.ancestor_id.in_(sorted(set(roots))))
    else:
        scope = aliased(UnitAncestor)
        query = query.join(
            scope,
            and_(scope.unit_id == UnitAncestor.ancestor_id, scope.ancestor_id.in_(inside)),
        ).distinct()
    members: dict[int, set[int]] = {}
    on: set[int] = set()
    level_of: dict[int, str] = {}
    for root, uid, level, is_active in await _rows(session, query):
        members.setdefault(root, set()).add(uid)
        level_of[uid] = level
        if is_active:
            on.add(uid)
    return members, on, level_of


async def read(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    inside: list[int],
    period: Period,
    *,
    roots: list[int] | None = None,
    reported_at: Levels = None,
    approved_only: bool = False,
    cache: MembersCache | None = None,
    units_of: Reading | None = None,
) -> Reading:
    """Each reporting unit's figure inside the subtrees of `inside`, and the reporting units
    under each root (`roots`, or every unit inside); with `units_of`, the units that reading
    found (the same units in another period)."""
    levels = reporting_levels(catalog, code, reported_at)
    if not levels:
        return Reading({}, {}, set(), levels)
    key = (tuple(levels), tuple(inside), None if roots is None else tuple(roots), period)
    if units_of is not None:
        members, active = units_of.members, units_of.active
        level_of = units_of.level_of
    elif cache is not None and key in cache:
        members, active, level_of = cache[key]
    else:
        members, active, level_of = await _members(session, levels, inside, roots, period)
        if cache is not None:
            cache[key] = (members, active, level_of)
    kind = kind_of(catalog, code)
    components = catalog.components(code)
    if kind == Kind.RATIO:
        values = await _ratio_values(
            session, catalog, code, components, period, inside, levels, approved_only, level_of
        )
    else:
        values = await _sum_values(
            session, catalog, code, components, period, inside, levels, approved_only, level_of
        )
    stock = all(catalog.indicators[c].agg == Aggregation.LAST for c in components)
    return Reading(values, members, active, levels, stock, level_of=level_of)


async def _sum_values(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    components: list[str],
    period: Period,
    inside: list[int],
    levels: list[str],
    approved_only: bool,
    level_of: dict[int, str],
) -> dict[int, UnitValue]:
    """A flow: the sum of the unit's periods; a stock: its latest report (a latest report that
    skipped the question counts with nothing, not with an older value)."""
    found: dict[int, UnitValue] = {}
    for part in components:
        stock = catalog.indicators[part].agg == Aggregation.LAST
        rows = _values_query(part, period, inside, levels, approved_only, with_empty=stock)
        for uid, (count, total, last, end) in (
            await _per_unit(session, rows, latest=stock)
        ).items():
            value = last if stock else total
            if value is None or uid not in level_of:
                continue
            unit = found.setdefault(uid, UnitValue(level_of[uid], None, {}, end, 0))
            unit.parts[part] = value
            unit.end = max(unit.end, end)
            unit.periods = max(unit.periods, 1 if stock else count)
    indicator = catalog.indicators[code]
    for unit in found.values():
        if indicator.type == IndicatorType.DERIVED:
            unit.value = evaluate_formula(indicator.formula or "", unit.parts)
        else:
            unit.value = unit.parts[code]
    return found


async def _ratio_values(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    components: list[str],
    period: Period,
    inside: list[int],
    levels: list[str],
    approved_only: bool,
    level_of: dict[int, str],
) -> dict[int, UnitValue]:
    """Each unit's parts from the periods in which it gave all of them: a stock's from the
    latest such period, a flow's summed over them. A unit that gave some parts but never all
    in one period has no ratio (it would be a numerator without its denominator)."""
    by_unit: dict[int, dict[date, dict[str, float]]] = {}
    for part in components:
        rows = _values_query(part, period, inside, levels, approved_only, with_empty=False)
        for uid, end, value in await _rows(session, rows):
            by_unit.setdefault(uid, {}).setdefault(end, {})[part] = float(value)
    formula = catalog.indicators[code].formula or ""
    found: dict[int, UnitValue] = {}
    for uid, periods in by_unit.items():
        if uid not in level_of:
            continue
        latest = max(periods)
        whole = sorted(end for end, parts in periods.items() if len(parts) == len(components))
        if not whole:
            found[uid] = UnitValue(level_of[uid], None, {}, latest, complete=False)
            continue
        parts: dict[str, float] = {}
        for part in components:
            if catalog.indicators[part].agg == Aggregation.LAST:
                parts[part] = periods[whole[-1]][part]
            else:
                parts[part] = sum(periods[end][part] for end in whole)
        value = evaluate_formula(formula, parts)
        found[uid] = UnitValue(
            level_of[uid], value, parts, whole[-1], len(whole), earlier=whole[-1] < latest
        )
    return found


# ---- adding up -----------------------------------------------------------------------------


def figure_of(catalog: Catalog, code: str, reading: Reading, unit_ids: Iterable[int]) -> Figure:
    """The figure over these reporting units (a root's members, or one unit)."""
    kind = kind_of(catalog, code)
    values, active = reading.values, reading.active
    given: list[UnitValue] = []
    expected = 0
    for u in unit_ids:
        found = values.get(u)
        if found is not None:
            given.append(found)
            expected += 1
        elif u in active:
            expected += 1
    counted = [v for v in given if v.complete]
    figure = Figure(None, len(counted), expected)
    if len(counted) < len(given):
        figure.incomplete = len(given) - len(counted)
    if not counted:
        return figure
    if reading.stock and kind in (Kind.SUM, Kind.YES_NO):
        figure.ends = Counter(reading.period_at(catalog, code, v.level, v.end) for v in counted)
    if not reading.stock and kind == Kind.SUM:
        figure.most_periods = max(v.periods for v in counted)
        figure.partial = sum(1 for v in counted if v.periods < figure.most_periods)
    if kind == Kind.YES_NO:
        figure.yes = sum(1 for v in counted if v.value)
        figure.value = float(figure.yes)
        return figure
    if kind == Kind.EACH:
        figure.value = counted[0].value if len(given) == 1 and expected == 1 else None
        return figure
    indicator = catalog.indicators[code]
    if indicator.type != IndicatorType.DERIVED:
        figure.value = sum(v.parts[code] for v in counted)
        return figure
    components = catalog.components(code)
    sums = {c: sum(v.parts.get(c, 0.0) for v in counted) for c in components}
    figure.value = evaluate_formula(indicator.formula or "", sums)
    if kind == Kind.RATIO:
        figure.parts = sums
        figure.earlier = Counter(
            reading.period_at(catalog, code, v.level, v.end) for v in counted if v.earlier
        )
    return figure


async def figures(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    inside: list[int],
    period: Period,
    *,
    roots: list[int] | None = None,
    reported_at: Levels = None,
    approved_only: bool = False,
    cache: MembersCache | None = None,
) -> dict[int, Figure]:
    """The figure of every root (`roots`, or every unit inside `inside`'s subtrees), read in
    a few queries: what the workbook puts in each row, a target's breakdown in each line.
    Pass the same `cache` for several indicators asked of the same levels (a form's)."""
    reading = await read(
        session,
        catalog,
        code,
        inside,
        period,
        roots=roots,
        reported_at=reported_at,
        approved_only=approved_only,
        cache=cache,
    )
    wanted = reading.members.keys() if roots is None else roots
    return {r: figure_of(catalog, code, reading, reading.members.get(r, set())) for r in wanted}


async def indicator_total(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    unit: OrgUnit,
    period: Period,
    *,
    compare: bool = True,
    year_ago: bool = False,
) -> Total:
    """An indicator's total over `unit`'s subtree in `period`, with what it rests on (k of
    the n units that should report it did), each unit below it (a unit that did not report
    has no value, shown as not reported, never as 0), and the change from the previous
    period over the units that reported in both (with `year_ago`, from the same period a
    year before too, likewise).

    The one function behind /tong, `hoibot report total`, the indicator page, the workbook
    and the Word report: call it rather than adding up `rollup` totals yourself."""
    # The units below as they stand now: a merged unit shows as its successor, which carries
    # its history (`storage.db.units.children`).
    kids = await children(session, unit, period.start, period.end)
    reading = await read(
        session, catalog, code, [unit.id], period, roots=[unit.id, *(k.id for k in kids)]
    )
    lowest = reading.levels[-1] if reading.levels else None
    rows: list[Row] = []
    if unit.level in reading.levels and unit.level != lowest:
        # It answers itself too (a province about its own office): its answer is a row.
        rows.append(Row(unit, figure_of(catalog, code, reading, {unit.id}), own=True))
    for kid in kids:
        members = reading.members.get(kid.id, set())
        if members:  # (nothing below it reports this indicator: no row)
            rows.append(
                Row(kid, figure_of(catalog, code, reading, members), leaf=kid.level == lowest)
            )
    total = _total(catalog, code, unit, period, reading, reading.members.get(unit.id, set()), rows)
    if compare and total.kind != Kind.EACH and total.figure.reported:
        total.change = await _change(session, catalog, code, unit, period, reading, total.stock)
    if year_ago and total.kind != Kind.EACH and total.figure.reported:
        total.year_change = await _change(
            session, catalog, code, unit, period, reading, total.stock, a_year_before(period)
        )
    return total


def a_year_before(period: Period) -> Period:
    """The same period a year before ("tháng 11/2025" for "tháng 11/2026")."""
    if period.kind in {k.value for k in Periodicity}:
        return period_of(period.kind, period.start.replace(year=period.start.year - 1))

    def back(day: date) -> date:  # (29 February a year before is the 28th)
        return day.replace(year=day.year - 1, day=min(day.day, 28 if day.month == 2 else 31))

    return Period(back(period.start), back(period.end), f"{period.key}-1y", "range")


async def group_total(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    unit: OrgUnit,
    parts: list[OrgUnit],
    period: Period,
    *,
    reported_at: Levels = None,
    approved_only: bool = False,
) -> Total:
    """`indicator_total` over the union of `parts`' subtrees, a row for each that has units
    reporting the indicator (a target on a group of districts, or a sum target's figure by
    unit below `unit`), without a change."""
    ids = [u.id for u in parts]
    reading = await read(
        session,
        catalog,
        code,
        ids,
        period,
        roots=ids,
        reported_at=reported_at,
        approved_only=approved_only,
    )
    lowest = reading.levels[-1] if reading.levels else None
    rows = [
        Row(
            u,
            figure_of(catalog, code, reading, reading.members.get(u.id, set())),
            leaf=u.level == lowest,
        )
        for u in parts
        if reading.members.get(u.id)  # (nothing under it reports this indicator: no row)
    ]
    everyone = set().union(*(reading.members.get(i, set()) for i in ids))
    return _total(catalog, code, unit, period, reading, everyone, rows)


def _total(
    catalog: Catalog,
    code: str,
    unit: OrgUnit,
    period: Period,
    reading: Reading,
    members: set[int],
    rows: list[Row],
) -> Total:
    components = catalog.components(code)
    total = Total(
        catalog.indicators[code],
        kind_of(catalog, code),
        unit,
        period,
        reading.levels[0] if len(reading.levels) == 1 else None,
        figure_of(catalog, code, reading, members),
        rows,
        stock=all(catalog.indicators[c].agg == Aggregation.LAST for c in components),
    )
    if total.level is not None:
        total.level_word = catalog.level_word(total.level)
    _sort(total)
    counted = [reading.values[u] for u in members if u in reading.values]
    if not total.stock and counted:
        last = max(counted, key=lambda v: v.end)
        if last.end < period.end:
            total.until = period_at(catalog, code, last.level, last.end)
    return total


def _sort(total: Total) -> None:
    """The unit's own answer first, then the largest first; then those with some figures but
    no value (a ratio without all its parts); no report last; by name."""

    def key(row: Row) -> tuple:
        f = row.figure
        if total.kind == Kind.YES_NO:
            size = f.yes / f.reported if f.reported else 0.0
        else:
            size = f.value or 0.0
        rank = 0 if f.value is not None else 1 if f.reported or f.incomplete else 2
        return (not row.own, rank, -size, vi_sort_key(row.unit.name))

    total.rows.sort(key=key)


async def _change(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    unit: OrgUnit,
    period: Period,
    now: Reading,
    stock: bool,
    earlier: Period | None = None,
) -> Change:
    """The previous period (or `earlier`) against this one over the units that reported in
    both; a flow over a period still being reported against the same stretch of the
    previous one (a year reported to June against last year's January to June)."""
    previous = earlier or previous_period(period)
    if not stock and now.values:
        latest = max(v.end for v in now.values.values())
        if latest < period.end:
            previous = same_stretch(period, previous, latest)
    # The same units (those under the unit now), in the previous period.
    before = await read(session, catalog, code, [unit.id], previous, units_of=now)
    members = now.members.get(unit.id, set())
    was = figure_of(catalog, code, before, members)
    if not was.reported:
        return Change(previous, None, None, 0, False)

    def counted(reading: Reading) -> set[int]:
        return {u for u, v in reading.values.items() if v.complete and u in members}

    common = counted(now) & counted(before)
    if not common:
        return Change(previous, was, None, 0, False)
    return Change(
        previous,
        figure_of(catalog, code, before, common),
        figure_of(catalog, code, now, common),
        len(common),
        common == counted(now) | counted(before),
    )


def same_stretch(period: Period, previous: Period, latest: date) -> Period:
    """The part of `previous` as long as `period` up to `latest` (whole months): named as a
    month, quarter, half-year or year when it is one."""
    months = (latest.year - period.start.year) * 12 + latest.month - period.start.month
    first = month(previous.start.year, previous.start.month)
    last = first
    for _ in range(months):
        last = next_period(last)
    if last.end >= previous.end:
        return previous
    for kind in Periodicity:
        whole = period_of(kind, first.start)
        if whole.start == first.start and whole.end == last.end:
            return whole
    return span(first, last)


async def bases(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    scopes: list[list[OrgUnit]],
    period: Period,
    *,
    levels: list[str] | None = None,
    approved_only: bool = False,
) -> list[tuple[int, int, str | None]]:
    """For each scope (a unit, or a group of units counted together): how many of the units
    that should report the indicator did, how many should, and their level when one: what a
    sum target's line rests on, read as `indicator_total` reads it. `levels`: only these
    levels' own answers (a target's `reported_at`), added up."""
    ids = sorted({u.id for scope in scopes for u in scope})
    reading = await read(
        session,
        catalog,
        code,
        ids,
        period,
        roots=ids,
        reported_at=levels,
        approved_only=approved_only,
    )
    one_level = reading.levels[0] if len(reading.levels) == 1 else None
    out = []
    for scope in scopes:
        members = set().union(*(reading.members.get(u.id, set()) for u in scope))
        figure = figure_of(catalog, code, reading, members)
        out.append((figure.reported, figure.expected, one_level))
    return out


def reporting_periodicity(catalog: Catalog, code: str) -> Periodicity | None:
    """The shortest period in which the indicator's reporting units give it (a month when
    a monthly form asks it): a trend's step."""
    levels = set(reporting_levels(catalog, code))
    kinds = {
        catalog.forms[f].periodicity
        for part in catalog.components(code)
        for f in catalog.forms_of_indicator.get(part, [])
        if catalog.forms[f].level in levels
    }
    order = list(Periodicity)
    found = sorted((Periodicity(k) for k in kinds), key=order.index)
    return found[0] if found else None


async def series(
    session: AsyncSession, catalog: Catalog, code: str, unit: OrgUnit, period: Period
) -> list[tuple[Period, Figure]]:
    """The indicator's figure over `unit`'s subtree in each reporting period inside `period`,
    oldest first, each with its own basis (k of the n units that should report it did): a
    trend compares like with like only where the same units reported, and says where not."""
    kind = reporting_periodicity(catalog, code)
    if kind is None:
        return []
    out = []
    for step in periods_inside(kind, period):
        reading = await read(session, catalog, code, [unit.id], step, roots=[unit.id])
        out.append((step, figure_of(catalog, code, reading, reading.members.get(unit.id, set()))))
    return out
