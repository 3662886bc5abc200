"""Rollup queries: totals over subtrees and periods, and breakdowns (coverage and rates are
built on them in storage/measures/ratios.py; who has reported is in
storage/measures/completeness.py).

Plain async functions that handlers and the CLI call. Only submitted reports count. A period
range takes every report whose own period lies inside it. Stocks (aggregation `last`) take each
unit's latest report in the range; derived indicators are computed from their components'
totals, so "net growth" over a province is (Σ new) − (Σ left), never a sum of differences.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict, Unpack

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.db.models import (
    OrgUnit,
    Submission,
    SubmissionStatus,
    SubmissionValue,
    UnitAncestor,
    UnitPeriodTotal,
    UnitStockTotal,
)
from storage.db.units import counted_on
from storage.plan.catalog import Aggregation, Catalog, IndicatorType
from storage.plan.expressions import evaluate_formula, formula_names, has_division
from storage.plan.periods import Period


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


class Only(TypedDict, total=False):
    """Which answers a scope's reader takes (as `Roots`'s fields of the same names)."""

    reported_at: str | None
    approved_only: bool


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
    shows (`storage.db.units.counted_on`: a merged unit stands for its predecessors)."""
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
    **only: Unpack[Only],
) -> float | None:
    """The total, or None when it has no value (a ratio over a zero divisor)."""
    return (await totals_or_none(session, catalog, code, [units], period, **only))[0]


async def totals_or_none(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    scopes: list[list[OrgUnit]],
    period: Period,
    **only: Unpack[Only],
) -> list[float | None]:
    """`total_or_none` of each scope (a union of subtrees): the flows behind it in one query."""
    roots = Roots(ids=_ids(scopes), **only)
    totals = await reported_totals_of(session, catalog, catalog.components(code), roots, period)
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
    **only: Unpack[Only],
) -> bool:
    """Whether anything was reported for the indicator (or its components) in the scope."""
    return (await has_data_many(session, catalog, code, [units], period, **only))[0]


async def has_data_many(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    scopes: list[list[OrgUnit]],
    period: Period,
    **only: Unpack[Only],
) -> list[bool]:
    """`has_data` of each scope, in one query: an existence test per root unit."""
    components = catalog.components(code)
    found = await reported_by_root(session, components, _ids(scopes), period, **only)
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


LATEST_WINDOW = 2000  # reports changed last, country-wide, looked at before a full scan


async def latest_report_at(session: AsyncSession, unit: OrgUnit, now: datetime) -> datetime | None:
    """When the latest report sent from inside `unit` (itself included) arrived: what the
    figures shown for it are as of.

    A province holds tens of thousands of reports; rather than read them all, look first at
    the reports changed last anywhere (the index on `updated_at`): a report's `updated_at` is
    never before its `submitted_at`, so if the newest arrival X found among them is no older
    than the oldest change W in that window, any later arrival would have been in the window
    too, and X is the answer. Otherwise (a small unit, quiet lately) its own reports, few,
    are read in full."""
    sent = and_(Submission.status == SubmissionStatus.SUBMITTED, Submission.submitted_at <= now)
    window = (
        select(Submission.unit_id, Submission.submitted_at, Submission.updated_at)
        .where(sent, Submission.updated_at <= now)  # the index range starts at now
        .order_by(Submission.updated_at.desc())
        .limit(LATEST_WINDOW)
        .cte("recent")
    )
    found = (
        await session.execute(
            select(
                select(func.max(window.c.submitted_at))
                .join(UnitAncestor, UnitAncestor.unit_id == window.c.unit_id)
                .where(UnitAncestor.ancestor_id == unit.id)
                .scalar_subquery(),
                select(func.min(window.c.updated_at)).scalar_subquery(),
            )
        )
    ).one()
    newest, oldest_change = found
    if newest is not None and oldest_change is not None and newest >= oldest_change:
        return newest
    return await session.scalar(
        select(func.max(Submission.submitted_at))
        .join(UnitAncestor, UnitAncestor.unit_id == Submission.unit_id)
        .where(UnitAncestor.ancestor_id == unit.id, sent)
    )
