"""Rollup queries: totals over subtrees and periods, breakdowns, coverage, rates, completeness.

Plain async functions that handlers and the CLI call. Only submitted reports count. A period
range takes every report whose own period lies inside it. Stocks (aggregation `last`) take each
unit's latest report in the range; derived indicators are computed from their components'
totals, so "net growth" over a province is (Σ new) − (Σ left), never a sum of differences.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, Subquery, and_, case, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.catalog import (
    Aggregation,
    Catalog,
    Compare,
    Condition,
    Form,
    IndicatorType,
    evaluate_formula,
    formula_names,
    has_division,
)
from storage.db import among, is_postgres
from storage.models import (
    OrgUnit,
    Submission,
    SubmissionStatus,
    SubmissionValue,
    UnitAncestor,
    UnitPeriodTotal,
    UnitStockTotal,
)
from storage.periods import Period, period_of
from storage.text import vi_sort_key
from storage.units import active_on, counted_on, subtree_filter


@dataclass(frozen=True)
class Roots:
    """Which subtrees to total: the units `ids`, or every unit of `level` inside `within`."""

    ids: tuple[int, ...] = ()
    level: str | None = None
    within: int | None = None  # a unit id
    # Only answers given by units of this level (an indicator asked at several levels); with
    # `level` the same, each unit's own answer.
    reported_at: str | None = None
    approved_only: bool = False  # only reports approved by the level above
    # Only reports from inside any of these subtrees (many scopes measured at once).
    inside: tuple[int, ...] = ()


def _reported_rows(code: str, period: Period) -> Select:
    """(unit_id, period_end, value) of submitted values of one indicator inside the period.

    Here and below the end is bounded on both sides (its lower bound is implied by the
    start's): the index on (indicator, unit, end) then reads only the period's answers."""
    return select(
        SubmissionValue.unit_id.label("unit_id"),
        SubmissionValue.period_end.label("period_end"),
        SubmissionValue.value_num.label("value"),
    ).where(
        SubmissionValue.indicator_code == code,
        SubmissionValue.submitted.is_(True),
        SubmissionValue.period_start >= period.start,
        SubmissionValue.period_end.between(period.start, period.end),
    )


async def reported_pairs(
    session: AsyncSession, codes: list[str], period: Period, within: int
) -> set[tuple[int, str]]:
    """(unit id, indicator) of every sent value inside the period under a unit: a unit that
    is not here has no data, which is shown as such, never as 0."""
    inside = select(UnitAncestor.unit_id).where(UnitAncestor.ancestor_id == within)
    query = (
        select(SubmissionValue.unit_id, SubmissionValue.indicator_code)
        .distinct()
        .where(
            SubmissionValue.indicator_code.in_(codes),
            SubmissionValue.submitted.is_(True),
            SubmissionValue.value_num.is_not(None),
            SubmissionValue.period_start >= period.start,
            SubmissionValue.period_end.between(period.start, period.end),
            SubmissionValue.unit_id.in_(inside),
        )
    )
    return {(unit_id, code) for unit_id, code in (await session.execute(query)).all()}


async def _reported_totals(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    roots: Roots,
    period: Period,
    *,
    raw: bool = False,
) -> dict[int, float]:
    # The kept totals sum every unit's reports, approved or not: a filter on the reporting
    # level or on approval is served by the raw reports below.
    indicator = catalog.indicators[code]
    kept = not raw and roots.reported_at is None and not roots.approved_only
    if kept and (indicator.agg == Aggregation.SUM or indicator.type != IndicatorType.TEXT):
        return await _kept_totals(session, code, roots, period, indicator.agg)
    rows = _reported_rows(code, period)
    if roots.approved_only:
        rows = rows.where(SubmissionValue.submission_id.in_(_approved()))
    if roots.reported_at is not None:
        rows = rows.where(SubmissionValue.unit_id.in_(_units_of_level(roots.reported_at)))
    # Only reports from inside the asked subtrees, before any ranking: a province's stock is
    # then read from its own few thousand reports, not the country's million.
    scope_ids = roots.ids or ((roots.within,) if roots.within is not None else roots.inside)
    if scope_ids:
        inside = select(UnitAncestor.unit_id).where(UnitAncestor.ancestor_id.in_(scope_ids))
        rows = rows.where(SubmissionValue.unit_id.in_(inside))
    if catalog.indicators[code].agg == Aggregation.LAST:
        ranked = rows.add_columns(
            func.row_number()
            .over(partition_by=SubmissionValue.unit_id, order_by=SubmissionValue.period_end.desc())
            .label("rank")
        ).subquery()
        source = select(ranked.c.unit_id, ranked.c.value).where(ranked.c.rank == 1).subquery()
    else:
        source = rows.subquery()
    # From each report up to the ancestors it is grouped by: equality lookups only.
    up = aliased(UnitAncestor)
    query = (
        select(up.ancestor_id, func.sum(source.c.value))
        .select_from(source)
        .join(up, up.unit_id == source.c.unit_id)
        .group_by(up.ancestor_id)
    )
    if roots.ids:
        query = query.where(up.ancestor_id.in_(roots.ids))
    if roots.level:
        query = query.where(up.ancestor_level == roots.level)
    if roots.within is not None:
        scope = aliased(UnitAncestor)
        query = query.join(
            scope, and_(scope.unit_id == source.c.unit_id, scope.ancestor_id == roots.within)
        )
    return {rid: float(total or 0) for rid, total in (await session.execute(query)).all()}


def _approved() -> Select:
    return select(Submission.id).where(Submission.approved_at.is_not(None))


def _units_of_level(level: str) -> Select:
    return select(OrgUnit.id).where(OrgUnit.level == level)


async def _kept_totals(
    session: AsyncSession, code: str, roots: Roots, period: Period, agg: Aggregation
) -> dict[int, float]:
    """The same as the raw query, read from the incremental totals: a flow's per period, a
    stock's of the reports that are their unit's latest at the range's end."""
    kept: type[UnitPeriodTotal] | type[UnitStockTotal] = (
        UnitStockTotal if agg == Aggregation.LAST else UnitPeriodTotal
    )
    query = (
        select(kept.ancestor_id, func.sum(kept.total))
        .where(
            kept.indicator_code == code,
            kept.period_start >= period.start,
            kept.period_end <= period.end,
        )
        .group_by(kept.ancestor_id)
    )
    if kept is UnitStockTotal:
        query = query.where(UnitStockTotal.until > period.end)
    if roots.ids:
        query = query.where(kept.ancestor_id.in_(roots.ids))
    if roots.level:
        query = query.where(kept.ancestor_level == roots.level)
    if roots.within is not None:
        scope = aliased(UnitAncestor)
        query = query.join(
            scope, and_(scope.unit_id == kept.ancestor_id, scope.ancestor_id == roots.within)
        )
    if roots.inside:
        query = query.where(kept.ancestor_id.in_(_inside(roots.inside, roots.level)))
    return {rid: float(total or 0) for rid, total in (await session.execute(query)).all()}


def _inside(root_ids: tuple[int, ...] | list[int], level: str | None = None) -> Select:
    """The units inside any of the roots; of one level only, when given (a province's 97
    communes to look up, not its 3,000 units)."""
    query = select(UnitAncestor.unit_id).where(UnitAncestor.ancestor_id.in_(root_ids))
    if level is not None:
        query = query.join(OrgUnit, OrgUnit.id == UnitAncestor.unit_id).where(
            OrgUnit.level == level
        )
    return query


async def units_by_root(
    session: AsyncSession, level: str, root_ids: list[int], period: Period
) -> dict[int, set[int]]:
    """The units of `level` inside each root (the root included) whose figures the period
    shows (`storage.units.counted_on`: a merged unit stands for its predecessors)."""
    query = (
        select(UnitAncestor.ancestor_id, OrgUnit.id)
        .join(UnitAncestor, UnitAncestor.unit_id == OrgUnit.id)
        .where(
            UnitAncestor.ancestor_id.in_(root_ids),
            OrgUnit.level == level,
            counted_on(period.start, period.end),
        )
    )
    out: dict[int, set[int]] = defaultdict(set)
    for root, uid in (await session.execute(query)).all():
        out[root].add(uid)
    return out


async def _count_by_root(
    session: AsyncSession, level: str, root_ids: list[int], period: Period
) -> dict[int, int]:
    """How many units `units_by_root` finds in each root (counted in the database)."""
    query = (
        select(UnitAncestor.ancestor_id, func.count())
        .join(OrgUnit, OrgUnit.id == UnitAncestor.unit_id)
        .where(
            UnitAncestor.ancestor_id.in_(root_ids),
            OrgUnit.level == level,
            counted_on(period.start, period.end),
        )
        .group_by(UnitAncestor.ancestor_id)
    )
    return {root: count for root, count in (await session.execute(query)).all()}


async def totals_by_root(
    session: AsyncSession, catalog: Catalog, code: str, roots: Roots, period: Period
) -> dict[int, float]:
    """Total of an indicator under each root unit; roots with nothing reported are absent."""
    indicator = catalog.indicators[code]
    if indicator.type != IndicatorType.DERIVED:
        return await _reported_totals(session, catalog, code, roots, period)
    parts = {
        c: await _reported_totals(session, catalog, c, roots, period)
        for c in formula_names(indicator.formula or "")
    }
    return _derive(indicator.formula or "", parts)


def _derive(formula: str, parts: dict[str, dict]) -> dict:
    """A derived indicator per key (unit or period) from its components' values per key.

    A missing component counts as 0 in a sum or difference; a ratio needs every component
    (a unit that gave no divisor has no ratio), and a zero divisor gives no value."""
    keys = {k for values in parts.values() for k in values}
    if has_division(formula):
        keys = {k for k in keys if all(k in values for values in parts.values())}
    out = {}
    for k in keys:
        value = evaluate_formula(formula, {c: values.get(k, 0.0) for c, values in parts.items()})
        if value is not None:
            out[k] = value
    return out


async def total(
    session: AsyncSession, catalog: Catalog, code: str, units: list[OrgUnit], period: Period
) -> float:
    """Total over the union of the units' subtrees (a province, or a group of districts)."""
    value = await total_or_none(session, catalog, code, units, period)
    return value or 0.0


async def total_or_none(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    units: list[OrgUnit],
    period: Period,
    *,
    reported_at: str | None = None,
    approved_only: bool = False,
) -> float | None:
    """The total, or None when it has no value (a ratio over a zero divisor)."""
    found = await totals_or_none(
        session,
        catalog,
        code,
        [units],
        period,
        reported_at=reported_at,
        approved_only=approved_only,
    )
    return found[0]


async def totals_or_none(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    scopes: list[list[OrgUnit]],
    period: Period,
    *,
    reported_at: str | None = None,
    approved_only: bool = False,
) -> list[float | None]:
    """`total_or_none` of each scope (a union of subtrees): the flows behind it in one query."""
    totals = await reported_totals_of(
        session,
        catalog,
        catalog.components(code),
        Roots(ids=_ids(scopes), reported_at=reported_at, approved_only=approved_only),
        period,
    )
    return [scope_total(catalog, code, totals, scope) for scope in scopes]


def scope_total(
    catalog: Catalog, code: str, totals: dict[str, dict[int, float]], scope: list[OrgUnit]
) -> float | None:
    """The total over the union of the scope's subtrees from the totals by root of the
    reported indicators behind `code`; None when a derived one has no value."""
    indicator = catalog.indicators[code]
    if indicator.type == IndicatorType.DERIVED:
        formula = indicator.formula or ""
        values = {c: scope_total(catalog, c, totals, scope) for c in formula_names(formula)}
        known = {c: v for c, v in values.items() if v is not None}
        if len(known) < len(values):
            return None
        return evaluate_formula(formula, known)
    by_root = totals[code]
    return sum(by_root.get(uid, 0.0) for uid in {u.id for u in scope})


def _ids(scopes: list[list[OrgUnit]]) -> tuple[int, ...]:
    return tuple(sorted({u.id for scope in scopes for u in scope}))


async def has_data(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    units: list[OrgUnit],
    period: Period,
    *,
    reported_at: str | None = None,
    approved_only: bool = False,
) -> bool:
    """Whether anything was reported for the indicator (or its components) in the scope."""
    found = await has_data_many(
        session,
        catalog,
        code,
        [units],
        period,
        reported_at=reported_at,
        approved_only=approved_only,
    )
    return found[0]


async def has_data_many(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    scopes: list[list[OrgUnit]],
    period: Period,
    *,
    reported_at: str | None = None,
    approved_only: bool = False,
) -> list[bool]:
    """`has_data` of each scope, in one query: an existence test per root unit."""
    components = catalog.components(code)
    found = await reported_by_root(
        session,
        components,
        _ids(scopes),
        period,
        reported_at=reported_at,
        approved_only=approved_only,
    )
    return [any((u.id, c) in found for u in scope for c in components) for scope in scopes]


async def reported_by_root(
    session: AsyncSession,
    codes: list[str],
    root_ids: tuple[int, ...],
    period: Period,
    *,
    reported_at: str | None = None,
    approved_only: bool = False,
) -> set[tuple[int, str]]:
    """(root id, indicator) for each root with a sent number of the indicator under it in
    the period: one query for many indicators, an existence test per root and indicator."""
    if not codes or not root_ids:
        return set()
    root = aliased(OrgUnit)
    tests = []
    for code in codes:
        reported = (
            select(SubmissionValue.id)
            .join(UnitAncestor, UnitAncestor.unit_id == SubmissionValue.unit_id)
            .where(
                UnitAncestor.ancestor_id == root.id,
                SubmissionValue.indicator_code == code,
                SubmissionValue.submitted.is_(True),
                SubmissionValue.value_num.is_not(None),
                SubmissionValue.period_start >= period.start,
                SubmissionValue.period_end.between(period.start, period.end),
            )
        )
        if reported_at is not None:
            reported = reported.where(SubmissionValue.unit_id.in_(_units_of_level(reported_at)))
        if approved_only:
            reported = reported.where(SubmissionValue.submission_id.in_(_approved()))
        tests.append(reported.exists())
    rows = await session.execute(select(root.id, *tests).where(root.id.in_(root_ids)))
    return {
        (rid, code)
        for rid, *flags in rows.all()
        for code, flag in zip(codes, flags, strict=True)
        if flag
    }


async def flow_totals(
    session: AsyncSession, codes: list[str], roots: Roots, period: Period
) -> dict[str, dict[int, float]]:
    """Indicator → root → total, for several flow indicators (aggregation `sum`) in one
    query: what `totals_by_root` gives for each (the kept totals when they serve, else the
    reports). Roots with nothing reported are absent."""
    if not codes:
        return {}
    out: dict[str, dict[int, float]] = {code: {} for code in codes}
    if roots.reported_at is None and not roots.approved_only:
        kept = UnitPeriodTotal
        query = (
            select(kept.indicator_code, kept.ancestor_id, func.sum(kept.total))
            .where(
                kept.indicator_code.in_(codes),
                kept.period_start >= period.start,
                kept.period_end <= period.end,
            )
            .group_by(kept.indicator_code, kept.ancestor_id)
        )
        if roots.ids:
            query = query.where(kept.ancestor_id.in_(roots.ids))
        if roots.level:
            query = query.where(kept.ancestor_level == roots.level)
        if roots.within is not None:
            scope = aliased(UnitAncestor)
            query = query.join(
                scope, and_(scope.unit_id == kept.ancestor_id, scope.ancestor_id == roots.within)
            )
        if roots.inside:
            query = query.where(kept.ancestor_id.in_(_inside(roots.inside, roots.level)))
    else:
        rows = select(
            SubmissionValue.indicator_code.label("code"),
            SubmissionValue.unit_id.label("unit_id"),
            SubmissionValue.value_num.label("value"),
        ).where(
            SubmissionValue.indicator_code.in_(codes),
            SubmissionValue.submitted.is_(True),
            SubmissionValue.period_start >= period.start,
            SubmissionValue.period_end.between(period.start, period.end),
        )
        if roots.approved_only:
            rows = rows.where(SubmissionValue.submission_id.in_(_approved()))
        if roots.reported_at is not None:
            rows = rows.where(SubmissionValue.unit_id.in_(_units_of_level(roots.reported_at)))
        scope_ids = roots.ids or ((roots.within,) if roots.within is not None else roots.inside)
        if scope_ids:
            inside = select(UnitAncestor.unit_id).where(UnitAncestor.ancestor_id.in_(scope_ids))
            rows = rows.where(SubmissionValue.unit_id.in_(inside))
        source = rows.subquery()
        up = aliased(UnitAncestor)
        query = (
            select(source.c.code, up.ancestor_id, func.sum(source.c.value))
            .select_from(source)
            .join(up, up.unit_id == source.c.unit_id)
            .group_by(source.c.code, up.ancestor_id)
        )
        if roots.ids:
            query = query.where(up.ancestor_id.in_(roots.ids))
        if roots.level:
            query = query.where(up.ancestor_level == roots.level)
        if roots.within is not None:
            scope = aliased(UnitAncestor)
            query = query.join(
                scope, and_(scope.unit_id == source.c.unit_id, scope.ancestor_id == roots.within)
            )
    for code, rid, total in (await session.execute(query)).all():
        out[code][rid] = float(total or 0)
    return out


async def reported_totals_of(
    session: AsyncSession, catalog: Catalog, codes: list[str], roots: Roots, period: Period
) -> dict[str, dict[int, float]]:
    """`totals_by_root` of several reported indicators: the flows in one query, the stocks
    one by one."""
    flows = [c for c in codes if catalog.indicators[c].agg == Aggregation.SUM]
    out = await flow_totals(session, flows, roots, period)
    for code in codes:
        if code not in out:
            out[code] = await _reported_totals(session, catalog, code, roots, period)
    return out


async def totals_by_period(
    session: AsyncSession, catalog: Catalog, code: str, unit: OrgUnit, period: Period
) -> dict[str, float]:
    """The subtree's total for each reporting period inside `period` (key → value)."""
    indicator = catalog.indicators[code]
    if indicator.type == IndicatorType.DERIVED:
        parts = {
            c: await totals_by_period(session, catalog, c, unit, period)
            for c in formula_names(indicator.formula or "")
        }
        return _derive(indicator.formula or "", parts)
    # Within one reporting period each unit has one report, so `last` and `sum` agree here:
    # a stock's kept rows of a period are summed whatever their `until`.
    kept: type[UnitPeriodTotal] | type[UnitStockTotal] = (
        UnitStockTotal if indicator.agg == Aggregation.LAST else UnitPeriodTotal
    )
    found = await session.execute(
        select(kept.period_key, func.sum(kept.total))
        .where(
            kept.indicator_code == code,
            kept.ancestor_id == unit.id,
            kept.period_start >= period.start,
            kept.period_end <= period.end,
        )
        .group_by(kept.period_key)
    )
    return {key: float(v or 0) for key, v in found.all()}


@dataclass
class Coverage:
    reached: int
    units: int
    reported: int = 0  # units that gave a value at all

    @property
    def percent(self) -> float | None:
        return self.reached / self.units * 100 if self.units else None


def own_level(catalog: Catalog, code: str, level: str) -> str | None:
    """`level` when units of that level answer the indicator themselves (then their own
    answer is theirs, not their subtree's total), else None."""
    components = catalog.components(code)
    if all(level in catalog.levels_of_indicator(c) for c in components):
        return level
    return None


async def values_by_unit_many(
    session: AsyncSession,
    catalog: Catalog,
    codes: list[str],
    level: str,
    root_ids: tuple[int, ...],
    period: Period,
    *,
    approved_only: bool = False,
) -> dict[str, dict[int, float]]:
    """Each unit of `level` inside any of the roots with its value of each indicator (code →
    unit → value): its own answer when that level is asked the indicator, else its subtree's
    total; units with nothing reported are absent. The flows that read the same way are read
    in one query."""
    by_own: dict[str | None, list[str]] = defaultdict(list)
    for code in dict.fromkeys(codes):
        by_own[own_level(catalog, code, level)].append(code)
    out: dict[str, dict[int, float]] = {}
    for own, group in by_own.items():
        roots = Roots(level=level, inside=root_ids, reported_at=own, approved_only=approved_only)
        reported: list[str] = []
        for code in group:
            indicator = catalog.indicators[code]
            names = (
                formula_names(indicator.formula or "")
                if indicator.type == IndicatorType.DERIVED
                else [code]
            )
            reported += [c for c in names if c not in reported]
        values = await reported_totals_of(session, catalog, reported, roots, period)
        for code in group:
            indicator = catalog.indicators[code]
            if indicator.type != IndicatorType.DERIVED:
                out[code] = values[code]
            else:
                formula = indicator.formula or ""
                out[code] = _derive(formula, {c: values[c] for c in formula_names(formula)})
    return out


async def coverage(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    level: str | list[str],
    threshold: float,
    scopes: list[OrgUnit],
    period: Period,
    *,
    compare: Compare = Compare.AT_LEAST,
    where: Condition | None = None,
    approved_only: bool = False,
) -> Coverage:
    """How many units of the level(s) inside the scopes reached `threshold` in the period.

    With `where`, only the units whose value of another indicator meets the condition are
    counted (a unit that gave no value for it is left out)."""
    found = await coverage_many(
        session,
        catalog,
        code,
        level,
        threshold,
        [scopes],
        period,
        compare=compare,
        where=where,
        approved_only=approved_only,
    )
    return found[0]


async def coverage_many(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    level: str | list[str],
    threshold: float,
    scopes: list[list[OrgUnit]],
    period: Period,
    *,
    compare: Compare = Compare.AT_LEAST,
    where: Condition | None = None,
    approved_only: bool = False,
) -> list[Coverage]:
    """`coverage` of each scope: the values are read once for all of them."""
    ids = _ids(scopes)
    levels = [level] if isinstance(level, str) else level
    units, values = {}, {}
    for lv in levels:
        units[lv] = await units_by_root(session, lv, list(ids), period)
        codes = [code] if where is None else [code, where.indicator]
        values[lv] = await values_by_unit_many(
            session, catalog, codes, lv, ids, period, approved_only=approved_only
        )
    return coverage_of(code, levels, threshold, scopes, units, values, compare, where)


def coverage_of(
    code: str,
    levels: list[str],
    threshold: float,
    scopes: list[list[OrgUnit]],
    units: dict[str, dict[int, set[int]]],
    values: dict[str, dict[str, dict[int, float]]],
    compare: Compare = Compare.AT_LEAST,
    where: Condition | None = None,
) -> list[Coverage]:
    """`coverage_many` from what it reads: per level, the units of that level under each
    root (`units_by_root`) and each indicator's value per unit (`values_by_unit_many`)."""
    results = [Coverage(0, 0) for _ in scopes]
    for lv in levels:
        condition = values[lv][where.indicator] if where is not None else None
        found = values[lv][code]
        for result, scope in zip(results, scopes, strict=True):
            for unit in scope:
                expected = units[lv].get(unit.id, set())
                if where is not None and condition is not None:
                    expected = {
                        uid
                        for uid in expected
                        if uid in condition and where.compare.holds(condition[uid], where.value)
                    }
                result.units += len(expected)
                result.reported += sum(1 for uid in expected if uid in found)
                result.reached += sum(
                    1 for uid in expected if uid in found and compare.holds(found[uid], threshold)
                )
    return results


@dataclass
class Rate:
    numerator: float
    denominator: float
    units: int = 0  # units the figure rests on: they gave both figures
    expected: int = 0  # units that should give them
    level: str | None = None  # the level of those units
    # Pairing by period (`same_period`): units whose pair is from an earlier period than
    # their latest report of either figure (by that period), and units that gave both
    # figures but never in the same period (not counted). Said beside the rate, so a page of
    # the numerator's latest figures and the rate's pairs never disagree without saying why.
    earlier: Counter[Period] = field(default_factory=Counter)
    split: int = 0

    @property
    def percent(self) -> float | None:
        return self.numerator / self.denominator * 100 if self.denominator else None


ORDER = ["month", "quarter", "half", "year"]


def period_at(catalog: Catalog, codes: str | list[str], level: str, end: date) -> Period:
    """The reporting period ending on `end` of the forms that ask `codes` (or their parts)
    of units of `level`: the longest of those that end there (a quarter, not its last
    month, when a monthly and a quarterly figure are paired)."""
    kinds = {
        catalog.forms[form_code].periodicity
        for code in ([codes] if isinstance(codes, str) else codes)
        for part in catalog.components(code)
        for form_code in catalog.forms_of_indicator.get(part, [])
        if catalog.forms[form_code].level == level
    }
    found = [period_of(k, end) for k in sorted(kinds, key=ORDER.index)]
    ending = [p for p in found if p.end == end]
    return (ending or found or [period_of("month", end)])[-1]


def rate_level(catalog: Catalog, numerator: str, denominator: str) -> str | None:
    """The level that answers both figures (the lowest, if several do)."""
    both = set(catalog.levels_of_indicator(numerator)) & set(
        catalog.levels_of_indicator(denominator)
    )
    return next((lv.code for lv in reversed(catalog.levels) if lv.code in both), None)


async def rate(
    session: AsyncSession,
    catalog: Catalog,
    numerator: str,
    denominator: str,
    units: list[OrgUnit],
    period: Period,
    *,
    stocks: str = "same_period",
    level: str | None = None,
    approved_only: bool = False,
) -> Rate:
    """Ratio of sums over the units that gave both figures, never the mean of their ratios.

    `same_period`: a unit counts with the periods in which it gave both (a stock takes the
    latest such period, a flow their sum). `latest`: each figure independently over the
    window (a stock its latest value, a flow its sum), when the unit gave both at all."""
    found = await rate_many(
        session,
        catalog,
        numerator,
        denominator,
        [units],
        period,
        stocks=stocks,
        level=level,
        approved_only=approved_only,
    )
    return found[0]


async def rate_many(
    session: AsyncSession,
    catalog: Catalog,
    numerator: str,
    denominator: str,
    scopes: list[list[OrgUnit]],
    period: Period,
    *,
    stocks: str = "same_period",
    level: str | None = None,
    approved_only: bool = False,
    raw: bool = False,  # read only from the reports (the tests compare)
) -> list[Rate]:
    """`rate` of each scope: each unit's figures are read once for all of them."""
    level = level or rate_level(catalog, numerator, denominator)
    results = [Rate(0.0, 0.0, level=level) for _ in scopes]
    if level is None:
        return results
    ids = _ids(scopes)
    inside = _inside(ids)
    only: set[int] | None = None  # the units whose figures are read from the reports

    def values(code: str) -> Select:
        query = select(
            SubmissionValue.unit_id.label("unit_id"),
            SubmissionValue.period_end.label("end"),
            SubmissionValue.value_num.label("v"),
        ).where(
            SubmissionValue.indicator_code == code,
            SubmissionValue.submitted.is_(True),
            SubmissionValue.value_num.is_not(None),
            SubmissionValue.period_start >= period.start,
            SubmissionValue.period_end.between(period.start, period.end),
            SubmissionValue.unit_id.in_(inside),
            SubmissionValue.unit_id.in_(_units_of_level(level)),
        )
        if approved_only:
            query = query.where(SubmissionValue.submission_id.in_(_approved()))
        if only is not None:
            query = query.where(SubmissionValue.unit_id.in_(sorted(only)))
        return query

    def per_unit(rows: Select, *columns: str) -> Select:
        """Per unit: the sum of each column over its rows, its value in the latest row, and
        the latest row's end."""
        unit, end = rows.selected_columns.unit_id, rows.selected_columns.end
        ranked = rows.add_columns(
            func.row_number().over(partition_by=unit, order_by=end.desc()).label("r")
        ).subquery()
        sums = [func.sum(ranked.c[c]) for c in columns]
        lasts = [func.max(case((ranked.c.r == 1, ranked.c[c]))) for c in columns]
        latest = func.max(ranked.c.end)
        return select(ranked.c.unit_id, *sums, *lasts, latest).group_by(ranked.c.unit_id)

    # Each figure per unit as (sum over its periods, latest value); a flow takes the sum, a
    # stock the latest. The database does the grouping: a province has thousands of units.
    is_last = [catalog.indicators[c].agg == Aggregation.LAST for c in (numerator, denominator)]

    earlier: dict[int, date] = {}  # unit → the end of its pair's (earlier) period
    split: set[int] = set()

    async def reported_pairs() -> dict[int, tuple[float, float]]:
        """Each unit's (numerator, denominator), from the reports."""
        out: dict[int, tuple[float, float]] = {}
        if stocks == "same_period":
            n, d = values(numerator).subquery("n"), values(denominator).subquery("d")
            joined = select(n.c.unit_id, n.c.end, n.c.v.label("nv"), d.c.v.label("dv")).join(
                d, and_(d.c.unit_id == n.c.unit_id, d.c.end == n.c.end)
            )
            ends: dict[int, date] = {}
            for uid, n_sum, d_sum, n_last, d_last, end in await session.execute(
                per_unit(joined, "nv", "dv")
            ):
                out[uid] = (n_last if is_last[0] else n_sum, d_last if is_last[1] else d_sum)
                ends[uid] = end
            # Each unit's latest report of either figure, and whether it gave both at all.
            either = union_all(
                values(numerator).add_columns(literal(0).label("which")),
                values(denominator).add_columns(literal(1).label("which")),
            ).subquery()
            for uid, latest, low, high in await session.execute(
                select(
                    either.c.unit_id,
                    func.max(either.c.end),
                    func.min(either.c.which),
                    func.max(either.c.which),
                ).group_by(either.c.unit_id)
            ):
                if uid not in out and low != high:
                    split.add(uid)
                elif uid in out and ends[uid] < latest:
                    earlier[uid] = ends[uid]
        else:
            found = []
            for code, last in zip((numerator, denominator), is_last, strict=True):
                rows = await session.execute(per_unit(values(code), "v"))
                found.append({uid: (v_last if last else v_sum) for uid, v_sum, v_last, _ in rows})
            for uid in found[0].keys() & found[1].keys():
                out[uid] = (found[0][uid], found[1][uid])
        return out

    pairs: dict[int, tuple[float, float]] = {}
    kept = all(is_last) and not approved_only and not raw
    if kept and _kept_alone(catalog, level, numerator, denominator):
        # Two stocks: most units' pair is their latest report of each, read from the kept
        # stocks; only the units that need an earlier period are read from the reports (all
        # of them from the reports when there are many). Flows need every period a unit
        # gave both, and approval is not kept: those rates are read from the reports.
        pairs, only = await _latest_pairs(
            session, numerator, denominator, level, ids, period, same_period=stocks == "same_period"
        )
        if len(only) > MANY:
            pairs, only = {}, None
    if only is None or only:  # some pairs, or all, are read from the reports
        pairs.update(await reported_pairs())
    # Which of the units with figures lie under each root (any date: a unit that reported
    # counts, as in one scope's query); and how many of the level should report (active ones).
    under: dict[int, set[int]] = defaultdict(set)
    if pairs:  # (when no unit gave both, where they lie does not matter)
        for root, uid in await session.execute(
            select(UnitAncestor.ancestor_id, UnitAncestor.unit_id).where(
                UnitAncestor.ancestor_id.in_(ids), UnitAncestor.unit_id.in_(_units_of_level(level))
            )
        ):
            under[root].add(uid)
    active = await _count_by_root(session, level, list(ids), period)
    for result, scope in zip(results, scopes, strict=True):
        members = set().union(*(under.get(u.id, set()) for u in scope))
        for uid in members & pairs.keys():
            num, den = pairs[uid]
            result.units += 1
            result.numerator += float(num)
            result.denominator += float(den)
            if uid in earlier:
                result.earlier[
                    period_at(catalog, [numerator, denominator], level, earlier[uid])
                ] += 1
        result.split = len(members & split)
        for unit in scope:
            result.expected += active.get(unit.id, 0)
    return results


# Units listed by id in one query at most (the databases cap the parameters of a statement).
MANY = 1000


def _kept_alone(catalog: Catalog, level: str, *codes: str) -> bool:
    """Whether the kept stocks of a unit of `level` are its own answers: no level below
    it is asked these indicators (their answers would be summed into its kept rows)."""
    index = catalog.level_index(level)
    return all(
        catalog.level_index(lv) <= index
        for code in codes
        for lv in catalog.levels_of_indicator(code)
    )


async def _latest_pairs(
    session: AsyncSession,
    numerator: str,
    denominator: str,
    level: str,
    root_ids: tuple[int, ...],
    period: Period,
    *,
    same_period: bool,
) -> tuple[dict[int, tuple[float, float]], set[int]]:
    """The two stocks of each unit of `level` inside the roots, from their latest reports
    in the period (kept): the pairs known, and the units to read from the reports (a latest
    report without a value, or, for `same_period`, latest reports of different periods: the
    pair is then an earlier period's). A unit with no report of one of them has no pair."""
    kept = UnitStockTotal
    in_range = (
        kept.period_start >= period.start,
        kept.period_end <= period.end,
        kept.until > period.end,
    )
    # The roots' own rows first: when nothing below them reported one of the figures (a form
    # not sent yet), no unit needs to be looked up.
    found = await session.scalars(
        select(kept.indicator_code)
        .distinct()
        .where(
            kept.indicator_code.in_((numerator, denominator)),
            kept.ancestor_id.in_(root_ids),
            *in_range,
        )
    )
    if len(set(found.all())) < 2:
        return {}, set()

    def latest(code: str, name: str) -> Subquery:
        return (
            select(
                kept.ancestor_id.label("uid"),
                kept.period_end.label("end"),
                kept.total.label("value"),
                kept.given.label("given"),
            )
            .where(
                kept.indicator_code == code,
                kept.ancestor_level == level,
                kept.ancestor_id.in_(_inside(root_ids)),
                *in_range,
            )
            .subquery(name)
        )

    # Joined in the database: only units with both figures come back (often none, when one
    # figure is asked in a form not sent yet).
    n, d = latest(numerator, "n"), latest(denominator, "d")
    rows = await session.execute(
        select(n.c.uid, n.c.end, n.c.value, n.c.given, d.c.end, d.c.value, d.c.given).join(
            d, d.c.uid == n.c.uid
        )
    )
    pairs: dict[int, tuple[float, float]] = {}
    unsure: set[int] = set()
    for uid, n_end, n_value, n_given, d_end, d_value, d_given in rows.all():
        if n_given and d_given and (n_end == d_end or not same_period):
            pairs[uid] = (n_value, d_value)
        else:
            unsure.add(uid)
    return pairs, unsure


# ---- completeness -------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitRef:
    """Just enough of a unit to name it (cheaper than loading thousands of ORM objects)."""

    id: int
    code: str
    name: str


@dataclass
class Completeness:
    form: Form
    period: Period
    expected: int = 0
    on_time: int = 0
    late: int = 0
    in_progress: int = 0  # drafts started but not sent
    missing: list[tuple[UnitRef, str]] = field(default_factory=list)  # (unit, parent's name)

    @property
    def submitted(self) -> int:
        return self.on_time + self.late

    def missing_by_parent(self) -> dict[str, list[UnitRef]]:
        grouped: dict[str, list[UnitRef]] = defaultdict(list)
        for unit, parent in self.missing:
            grouped[parent].append(unit)
        return dict(sorted(grouped.items(), key=lambda item: vi_sort_key(item[0])))


async def completeness(
    session: AsyncSession, form: Form, period: Period, scope: OrgUnit
) -> Completeness:
    """Who of the units that should report this form and period did, on time or late.

    The units first (their path's index), then their reports by id: a join let PostgreSQL
    read every report of the period in the country and hash it (95,000 rows for a province's
    3,000 units, most of the 100 ms it took nationally)."""
    parent = aliased(OrgUnit)
    connection = await session.connection()  # plain rows: the ORM's row loading was most of it
    units = (
        await connection.execute(
            select(OrgUnit.id, OrgUnit.code, OrgUnit.name, parent.name)
            .outerjoin(parent, parent.id == OrgUnit.parent_id)
            .where(
                OrgUnit.level == form.level,
                subtree_filter(scope.path),
                active_on(period.start, period.end),
            )
        )
    ).all()
    ids = [row[0] for row in units]
    reports: dict[int, tuple[str, bool]] = {}
    # PostgreSQL takes the ids as one array; SQLite as parameters, up to its limit.
    step = max(len(ids), 1) if is_postgres(session) else 30_000
    for start in range(0, len(ids), step):
        rows = await connection.execute(
            select(Submission.unit_id, Submission.status, Submission.late).where(
                Submission.form_code == form.code,
                Submission.period_key == period.key,
                among(session, Submission.unit_id, ids[start : start + step]),
            )
        )
        reports.update((uid, (status, late)) for uid, status, late in rows.all())
    found = [
        (unit_id, code, name, parent_name, *reports.get(unit_id, (None, None)))
        for unit_id, code, name, parent_name in units
    ]
    result = Completeness(form, period)
    for unit_id, code, name, parent_name, status, late in found:
        result.expected += 1
        if status == SubmissionStatus.SUBMITTED:
            if late:
                result.late += 1
            else:
                result.on_time += 1
        else:
            if status == SubmissionStatus.DRAFT:
                result.in_progress += 1
            result.missing.append((UnitRef(unit_id, code, name), parent_name or "–"))
    result.missing.sort(key=lambda m: (vi_sort_key(m[1]), vi_sort_key(m[0].name)))
    return result


async def unit_values(
    session: AsyncSession, unit_ids: list[int], form_code: str, period: Period
) -> dict[int, dict[str, float | str | None]]:
    """Submitted values of one form per unit, for units that report it themselves."""
    query = (
        select(
            Submission.unit_id,
            SubmissionValue.indicator_code,
            SubmissionValue.value_num,
            SubmissionValue.value_text,
        )
        .join(SubmissionValue, SubmissionValue.submission_id == Submission.id)
        .where(
            Submission.form_code == form_code,
            Submission.period_key == period.key,
            Submission.status == SubmissionStatus.SUBMITTED,
            Submission.unit_id.in_(unit_ids),
        )
    )
    out: dict[int, dict[str, float | str | None]] = defaultdict(dict)
    for unit_id, code, num, text in (await session.execute(query)).all():
        out[unit_id][code] = num if text is None else text
    return dict(out)
