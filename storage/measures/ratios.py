"""Ratios over subtrees: the share of units that have a value or said yes
(coverage), and the ratio of two indicators' totals (rate), one scope or many at once.

Built on the totals of storage/measures/rollup.py; only submitted reports count.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, Subquery, and_, case, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import (
    OrgUnit,
    SubmissionValue,
    UnitAncestor,
    UnitStockTotal,
)
from storage.measures.rollup import (
    Roots,
    _approved,
    _count_by_root,
    _derive,
    _ids,
    _inside,
    _units_of_level,
    reported_totals_of,
    units_by_root,
)
from storage.plan.catalog import Aggregation, Catalog, Compare, Condition, IndicatorType
from storage.plan.expressions import formula_names
from storage.plan.periods import Period, period_of


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
    # `same_period`: every counted unit by its pair's period (the lines beside the rate add
    # up to `units`: the earlier periods' and the latest's).
    periods: Counter[Period] = field(default_factory=Counter)

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
    pair_end: dict[int, date] = {}  # `same_period`: unit → the end of its pair's period
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
                ends[uid] = pair_end[uid] = end
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
        pairs, only, ends = await _latest_pairs(
            session, numerator, denominator, level, ids, period, same_period=stocks == "same_period"
        )
        pair_end.update(ends)
        if len(only) > MANY:
            pairs, only = {}, None
            pair_end.clear()
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
            if uid in pair_end:
                result.periods[
                    period_at(catalog, [numerator, denominator], level, pair_end[uid])
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
) -> tuple[dict[int, tuple[float, float]], set[int], dict[int, date]]:
    """The two stocks of each unit of `level` inside the roots, from their latest reports
    in the period (kept): the pairs known, the units to read from the reports (a latest
    report without a value, or, for `same_period`, latest reports of different periods: the
    pair is then an earlier period's), and for `same_period` the end of each known pair's
    period. A unit with no report of one of them has no pair."""
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
        return {}, set(), {}

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
    ends: dict[int, date] = {}
    for uid, n_end, n_value, n_given, d_end, d_value, d_given in rows.all():
        if n_given and d_given and (n_end == d_end or not same_period):
            pairs[uid] = (n_value, d_value)
            if same_period:
                ends[uid] = n_end
        else:
            unsure.add(uid)
    return pairs, unsure, ends
