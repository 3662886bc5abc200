"""Rollup queries: totals over subtrees and periods, breakdowns, coverage, rates, completeness.

Plain async functions that handlers and the CLI call. Only submitted reports count. A period
range takes every report whose own period lies inside it. Stocks (aggregation `last`) take each
unit's latest report in the range; derived indicators are computed from their components'
totals, so "net growth" over a province is (Σ new) − (Σ left), never a sum of differences.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from schedules.periods import Period
from storage.catalog import (
    Aggregation,
    Catalog,
    Form,
    IndicatorType,
    evaluate_formula,
    formula_names,
)
from storage.models import (
    OrgUnit,
    Submission,
    SubmissionStatus,
    SubmissionValue,
    UnitAncestor,
    UnitPeriodTotal,
)
from storage.text import vi_sort_key
from storage.units import active_on, subtree_filter


@dataclass(frozen=True)
class Roots:
    """Which subtrees to total: the units `ids`, or every unit of `level` inside `within`."""

    ids: tuple[int, ...] = ()
    level: str | None = None
    within: int | None = None  # a unit id


def _reported_rows(code: str, period: Period) -> Select:
    """(unit_id, period_end, value) of submitted values of one indicator inside the period."""
    return select(
        SubmissionValue.unit_id.label("unit_id"),
        SubmissionValue.period_end.label("period_end"),
        SubmissionValue.value_num.label("value"),
    ).where(
        SubmissionValue.indicator_code == code,
        SubmissionValue.submitted.is_(True),
        SubmissionValue.period_start >= period.start,
        SubmissionValue.period_end <= period.end,
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
            SubmissionValue.period_end <= period.end,
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
    if not raw and catalog.indicators[code].agg == Aggregation.SUM:
        return await _kept_totals(session, code, roots, period)
    rows = _reported_rows(code, period)
    # Only reports from inside the asked subtrees, before any ranking: a province's stock is
    # then read from its own few thousand reports, not the country's million.
    scope_ids = roots.ids or ((roots.within,) if roots.within is not None else ())
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


async def _kept_totals(
    session: AsyncSession, code: str, roots: Roots, period: Period
) -> dict[int, float]:
    """The same as the raw query for flow indicators, read from the incremental totals."""
    kept = UnitPeriodTotal
    query = (
        select(kept.ancestor_id, func.sum(kept.total))
        .where(
            kept.indicator_code == code,
            kept.period_start >= period.start,
            kept.period_end <= period.end,
        )
        .group_by(kept.ancestor_id)
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
    return {rid: float(total or 0) for rid, total in (await session.execute(query)).all()}


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
    """A derived indicator per key (unit or period) from its components' values per key."""
    keys = {k for values in parts.values() for k in values}
    return {
        k: evaluate_formula(formula, {c: values.get(k, 0.0) for c, values in parts.items()})
        for k in keys
    }


async def total(
    session: AsyncSession, catalog: Catalog, code: str, units: list[OrgUnit], period: Period
) -> float:
    """Total over the union of the units' subtrees (a province, or a group of districts)."""
    indicator = catalog.indicators[code]
    if indicator.type == IndicatorType.DERIVED:
        parts = {
            c: await total(session, catalog, c, units, period)
            for c in formula_names(indicator.formula or "")
        }
        return evaluate_formula(indicator.formula or "", parts)
    by_root = await _reported_totals(
        session, catalog, code, Roots(ids=tuple(u.id for u in units)), period
    )
    return sum(by_root.values())


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
    if indicator.agg == Aggregation.SUM:
        kept = UnitPeriodTotal
        found = await session.execute(
            select(kept.period_key, kept.total).where(
                kept.indicator_code == code,
                kept.ancestor_id == unit.id,
                kept.period_start >= period.start,
                kept.period_end <= period.end,
            )
        )
        return {key: float(v or 0) for key, v in found.all()}
    # Within one reporting period each unit has one report, so `last` and `sum` agree here.
    rows = (
        _reported_rows(code, period)
        .add_columns(Submission.period_key.label("key"))
        .join(Submission, Submission.id == SubmissionValue.submission_id)
        .subquery()
    )
    up = aliased(UnitAncestor)
    query = (
        select(rows.c.key, func.sum(rows.c.value))
        .join(up, and_(up.unit_id == rows.c.unit_id, up.ancestor_id == unit.id))
        .group_by(rows.c.key)
    )
    return {key: float(v or 0) for key, v in (await session.execute(query)).all()}


@dataclass
class Share:
    unit: OrgUnit
    value: float
    share: float | None  # percent of the parent's total


async def breakdown(
    session: AsyncSession, catalog: Catalog, code: str, parent: OrgUnit, period: Period
) -> list[Share]:
    """The parent's children with their totals, largest first; children with no report show 0."""
    kids = list(
        (
            await session.scalars(
                select(OrgUnit).where(
                    OrgUnit.parent_id == parent.id, active_on(period.start, period.end)
                )
            )
        ).all()
    )
    if not kids:
        return []
    values = await totals_by_root(
        session, catalog, code, Roots(ids=tuple(k.id for k in kids)), period
    )
    grand = sum(values.values())
    rows = [
        Share(k, values.get(k.id, 0.0), (values.get(k.id, 0.0) / grand * 100) if grand else None)
        for k in kids
    ]
    return sorted(rows, key=lambda r: (-r.value, vi_sort_key(r.unit.name)))


@dataclass
class Coverage:
    reached: int
    units: int

    @property
    def percent(self) -> float | None:
        return self.reached / self.units * 100 if self.units else None


async def coverage(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    level: str,
    threshold: float,
    scopes: list[OrgUnit],
    period: Period,
) -> Coverage:
    """How many units of `level` inside the scopes reached `threshold` in the period."""
    reached = 0
    units = 0
    for scope in scopes:
        expected = set(
            (
                await session.scalars(
                    select(OrgUnit.id).where(
                        OrgUnit.level == level,
                        subtree_filter(scope.path),
                        active_on(period.start, period.end),
                    )
                )
            ).all()
        )
        values = await totals_by_root(
            session, catalog, code, Roots(level=level, within=scope.id), period
        )
        units += len(expected)
        reached += sum(1 for uid, v in values.items() if uid in expected and v >= threshold)
    return Coverage(reached, units)


@dataclass
class Rate:
    numerator: float
    denominator: float

    @property
    def percent(self) -> float | None:
        return self.numerator / self.denominator * 100 if self.denominator else None


async def rate(
    session: AsyncSession,
    catalog: Catalog,
    numerator: str,
    denominator: str,
    units: list[OrgUnit],
    period: Period,
) -> Rate:
    """Ratio of sums over the scope, never the mean of the units' ratios."""
    return Rate(
        await total(session, catalog, numerator, units, period),
        await total(session, catalog, denominator, units, period),
    )


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
    """Who of the units that should report this form and period did, on time or late."""
    parent = aliased(OrgUnit)
    query = (
        select(
            OrgUnit.id, OrgUnit.code, OrgUnit.name, parent.name, Submission.status, Submission.late
        )
        .outerjoin(parent, parent.id == OrgUnit.parent_id)
        .outerjoin(
            Submission,
            and_(
                Submission.unit_id == OrgUnit.id,
                Submission.form_code == form.code,
                Submission.period_key == period.key,
            ),
        )
        .where(
            OrgUnit.level == form.level,
            subtree_filter(scope.path),
            active_on(period.start, period.end),
        )
    )
    result = Completeness(form, period)
    for unit_id, code, name, parent_name, status, late in (await session.execute(query)).all():
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
