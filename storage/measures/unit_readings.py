"""Each reporting unit's own figure of an indicator in a period: the units of the levels whose
forms ask it, their answers read in a few queries whatever the province's size (a flow summed
over its periods, a stock's latest report, a ratio's parts from the periods that gave them
all), and which of them lie under each unit asked about. Also what kind of figure an
indicator gives (`Kind`): a sum, a yes/no, a ratio, a percentage each unit reports.

`storage.measures.figures` adds these readings up; `storage.measures.totals` answers staff."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from sqlalchemy import Result, Select, and_, case, func, null, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.db.models import OrgUnit, Submission, SubmissionValue, UnitAncestor
from storage.db.units import active_on
from storage.measures.ratios import period_at
from storage.plan.catalog import Aggregation, Catalog, IndicatorType
from storage.plan.expressions import evaluate_formula, has_division
from storage.plan.periods import (
    Period,
)


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
