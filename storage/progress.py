"""Progress against the plan's targets, read against the time elapsed.

One function, `progress`, returns data; the chat, the CLI and the workbook render it.
How much is expected by today is set per target (`expect`): the share of the window gone by
(at mid-term, 2,100 of 5,000 is behind; 2,600 is on track), only at the window's end (a
year-end figure), by milestones, or the whole target all along (a rate to hold). A target
with nothing reported in its window has no verdict but "no data", never "behind".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import rollup
from storage.catalog import Catalog, Expect, Target
from storage.models import OrgUnit
from storage.periods import Period, from_key, period_of, term_period, year_period
from storage.units import is_within, successor


class Status(StrEnum):
    ACHIEVED = "achieved"
    ON_TRACK = "on_track"
    BEHIND = "behind"
    NO_DATA = "no_data"
    DONE = "done"  # a task
    NOT_YET = "not_yet"  # a task before its deadline
    OVERDUE = "overdue"  # a task past its deadline


BEHIND = frozenset({Status.BEHIND, Status.OVERDUE})


@dataclass
class TargetProgress:
    target: Target
    period: Period  # the window measured
    scope: list[OrgUnit]
    goal: float | None  # the value to reach in this window (by_year: that year's)
    achieved: float | None  # the sum, or the percentage for coverage and rate; None: no data
    expected: float | None  # the value expected by today (None: nothing is due yet)
    status: Status
    counted: tuple[int, int] | None = None  # coverage: reached/units; task: done/units
    basis: tuple[int, int] | None = None  # rate: units that gave both / units that should
    basis_level: str | None = None  # the level of the units in `counted` / `basis`, if one
    ratio: tuple[float, float] | None = None  # rate: numerator, denominator
    previous_year: bool = False  # last year's result, shown in January until its forms close
    due_year: int | None = None  # by_year: measured now against the value due in this year

    @property
    def group(self) -> bool:
        return len(self.scope) > 1

    @property
    def percent(self) -> float | None:
        """Share of the goal reached (a ceiling to stay under has none)."""
        if self.achieved is None or not self.goal or not self.target.compare.upward:
            return None
        return self.achieved / self.goal * 100

    @property
    def expected_percent(self) -> float | None:
        if self.expected is None or not self.goal or not self.target.compare.upward:
            return None
        return self.expected / self.goal * 100


def _current_term(catalog: Catalog, today: date) -> Period:
    for term in catalog.terms:
        if term.start <= today <= term.end:
            return term_period(term)
    return term_period(max(catalog.terms, key=lambda t: t.end))


# (window, goal, due year)
Window = tuple[Period, float, int | None]


def windows(target: Target, catalog: Catalog, today: date) -> list[Window]:
    """(window, goal, due year) to measure today: one, or in January also last year's.

    A by_year target measures the current year; in a year before a listed one it is held
    against the next listed value ("đến năm 2025"), and after the last listed year it shows
    that year's result."""
    if target.by_year:
        values = target.year_values()
        due: int | None = None
        if today.year in values:
            year = today.year
            goal = values[year]
        elif today.year < max(values):
            year = today.year
            due = min(y for y in values if y > today.year)
            goal = values[due]
        else:
            year = max(values)
            goal = values[year]
        found = [(year_period(year), goal, due)]
        if year == today.year and today.year - 1 in values:
            found.append((year_period(today.year - 1), values[today.year - 1], None))
        return found
    goal = target.target or 0.0
    if target.period == "term":
        return [(_current_term(catalog, today), goal, None)]
    if target.period == "yearly":
        return [(year_period(today.year), goal, None), (year_period(today.year - 1), goal, None)]
    return [(from_key(target.period, catalog.terms), goal, None)]


def previous_year_open(catalog: Catalog, target: Target, today: date) -> bool:
    """Whether a form feeding the target can still take last year's reports today."""
    year_end = date(today.year - 1, 12, 31)
    for code in target.indicators():
        for component in catalog.components(code):
            for form_code in catalog.forms_of_indicator.get(component, []):
                form = catalog.forms[form_code]
                last = period_of(form.periodicity, year_end)
                if today <= last.end + timedelta(days=form.schedule.closes_days_after_end):
                    return True
    return False


def target_period(target: Target, catalog: Catalog, today: date) -> Period:
    """The window measured today (for a yearly target, this year's)."""
    return windows(target, catalog, today)[0][0]


def expected_value(target: Target, period: Period, goal: float, today: date) -> float | None:
    """What should have been reached by the end of `today`; None when nothing is due yet."""
    how = target.expectation
    if how == Expect.HOLD:
        return goal
    if how == Expect.END:
        return goal if today >= period.end else None
    if how == Expect.MILESTONES:
        passed = [m.value for m in target.milestones if m.date <= today]
        return max(passed) if passed else None
    fraction = period.elapsed_fraction(today)
    return goal * fraction if fraction > 0 else None


def verdict(
    target: Target, achieved: float | None, goal: float, expected: float | None, today: date
) -> Status:
    if achieved is None:
        return Status.NO_DATA
    if target.compare.holds(achieved, goal):
        return Status.ACHIEVED
    if not target.compare.upward:
        return Status.BEHIND  # a ceiling crossed
    if expected is None:  # nothing is due yet
        return Status.ON_TRACK
    if expected >= goal:  # the whole goal is due and not met
        return Status.BEHIND
    return Status.ON_TRACK if achieved >= expected else Status.BEHIND


async def target_scope(
    session: AsyncSession, catalog: Catalog, target: Target, unit: OrgUnit
) -> list[OrgUnit] | None:
    """The units a target is measured on when asked from `unit`, or None if it does not apply.

    A target naming units applies to those units and to anyone above them; one naming none is
    the province's. Percent targets (coverage, rate) and tasks of a level apply at every level
    inside it, measured on the asker's own subtree; a coverage target only down to its level.
    """
    return scope_of(catalog, target, unit, await named_units(session, target))


async def named_units(session: AsyncSession, target: Target) -> list[OrgUnit]:
    """The units a target names (none: it names none, or they do not exist)."""
    return (await named_units_of(session, [target]))[target.code]


async def named_units_of(session: AsyncSession, targets: list[Target]) -> dict[str, list[OrgUnit]]:
    """`named_units` of each target (by code), in one query."""
    codes = {c for t in targets for c in t.units}
    found = (
        list((await session.scalars(select(OrgUnit).where(OrgUnit.code.in_(codes)))).all())
        if codes
        else []
    )
    # A unit merged into another is measured on its successor, which carries its history.
    stand_in = {u.id: await successor(session, u) for u in found if u.merged_into_id}
    out = {}
    for t in targets:
        named = [stand_in.get(u.id, u) for u in found if u.code in t.units]
        out[t.code] = list({u.id: u for u in named}.values())
    return out


def scope_of(
    catalog: Catalog, target: Target, unit: OrgUnit, named: list[OrgUnit]
) -> list[OrgUnit] | None:
    """`target_scope` with the named units already read (see there)."""
    if target.units:
        if not named:
            return None
        if all(is_within(n, unit) for n in named):
            return named  # asked from above (or at) every named unit
        if not any(is_within(unit, n) for n in named):
            return None
        # Asked from inside one of the named units: the group's own figure for a sum,
        # the asker's subtree for a percentage.
        return named if target.kind == "sum" else [unit]
    if target.kind == "sum" or (target.kind == "task" and not target.levels):
        return [unit] if unit.depth == 0 else None
    lowest = max((catalog.level_index(lv) for lv in target.levels), default=None)
    if lowest is not None and catalog.level_index(unit.level) > lowest:
        return None
    return [unit]


async def measure(
    session: AsyncSession,
    catalog: Catalog,
    target: Target,
    scope: list[OrgUnit],
    today: date,
    *,
    window: Window | None = None,
) -> TargetProgress:
    found = await measure_many(session, catalog, target, [scope], today, window=window)
    return found[0]


async def measure_many(
    session: AsyncSession,
    catalog: Catalog,
    target: Target,
    scopes: list[list[OrgUnit]],
    today: date,
    *,
    window: Window | None = None,
) -> list[TargetProgress]:
    """One target measured on each scope, with a few grouped queries for all of them (a
    breakdown by unit or a ranking measures a target over a hundred units)."""
    ask = Ask(target, scopes, today, window or windows(target, catalog, today)[0])
    return (await measure_targets(session, catalog, [ask]))[0]


@dataclass
class Ask:
    """A target to measure on some scopes, in one window, as of `today`."""

    target: Target
    scopes: list[list[OrgUnit]]
    today: date
    window: Window


# What the sums and coverages of many asks read, grouped:
# (period, reported_at, approved_only) → the (root, indicator) pairs with data, and the
# totals by indicator and root; (level, period) → units of the level under each root;
# (level, period, approved_only) → values by indicator and unit.
SumKey = tuple[Period, str | None, bool]
LevelKey = tuple[str, Period]
ValueKey = tuple[str, Period, bool]


@dataclass
class _Reads:
    reported: dict[SumKey, set[tuple[int, str]]] = field(default_factory=dict)
    totals: dict[SumKey, dict[str, dict[int, float]]] = field(default_factory=dict)
    units: dict[LevelKey, dict[int, set[int]]] = field(default_factory=dict)
    values: dict[ValueKey, dict[str, dict[int, float]]] = field(default_factory=dict)


def _ids(scopes: list[list[OrgUnit]]) -> set[int]:
    return {u.id for scope in scopes for u in scope}


async def _read(session: AsyncSession, catalog: Catalog, asks: list[Ask]) -> _Reads:
    """Everything the sums and coverages of the asks read, with one query per kind of read
    and period (and level), whatever the number of targets and scopes."""
    sums: dict[SumKey, tuple[set[str], set[int]]] = {}
    levels: dict[LevelKey, set[int]] = {}
    values: dict[ValueKey, tuple[set[str], set[int]]] = {}
    for ask in asks:
        t, period = ask.target, ask.window[0]
        if not ask.scopes:
            continue
        if t.kind == "sum":
            assert t.indicator
            codes, ids = sums.setdefault((period, t.reported_at, t.approved_only), (set(), set()))
            codes.update(catalog.components(t.indicator))
            ids.update(_ids(ask.scopes))
        elif t.kind == "coverage":
            assert t.indicator
            for lv in t.levels:
                levels.setdefault((lv, period), set()).update(_ids(ask.scopes))
                codes, ids = values.setdefault((lv, period, t.approved_only), (set(), set()))
                codes.update([t.indicator, *([t.where.indicator] if t.where else [])])
                ids.update(_ids(ask.scopes))
    reads = _Reads()
    for (period, reported_at, approved_only), (codes, ids) in sums.items():
        key = (period, reported_at, approved_only)
        ordered, roots = sorted(codes), tuple(sorted(ids))
        reads.reported[key] = await rollup.reported_by_root(
            session, ordered, roots, period, reported_at=reported_at, approved_only=approved_only
        )
        found = rollup.Roots(ids=roots, reported_at=reported_at, approved_only=approved_only)
        reads.totals[key] = await rollup.reported_totals_of(
            session, catalog, ordered, found, period
        )
    for (lv, period), ids in levels.items():
        reads.units[(lv, period)] = await rollup.units_by_root(session, lv, sorted(ids), period)
    for (lv, period, approved_only), (codes, ids) in values.items():
        reads.values[(lv, period, approved_only)] = await rollup.values_by_unit_many(
            session,
            catalog,
            sorted(codes),
            lv,
            tuple(sorted(ids)),
            period,
            approved_only=approved_only,
        )
    return reads


async def measure_targets(
    session: AsyncSession, catalog: Catalog, asks: list[Ask]
) -> list[list[TargetProgress]]:
    """Each ask's target measured on its scopes. The sums and coverages of all the asks are
    read together, a few grouped queries in all (a unit's tracker measures twenty targets);
    rates and tasks a few queries each."""
    reads = await _read(session, catalog, asks)
    return [await _measure(session, catalog, ask, reads) for ask in asks]


async def _measure(
    session: AsyncSession, catalog: Catalog, ask: Ask, reads: _Reads
) -> list[TargetProgress]:
    target, scopes, today = ask.target, ask.scopes, ask.today
    period, goal, due_year = ask.window
    if not scopes:
        return []
    if target.kind == "task":
        return await _tasks(session, catalog, target, scopes, period, today)
    expected = expected_value(target, period, goal, today)
    if due_year is not None:
        # Measured now against a value due at the end of a later year: nothing is due yet.
        expected = None
    outs = []
    for scope in scopes:
        out = TargetProgress(target, period, scope, goal, None, expected, Status.NO_DATA)
        out.due_year = due_year
        outs.append(out)
    if target.kind == "sum":
        assert target.indicator
        key = (period, target.reported_at, target.approved_only)
        reported, totals = reads.reported[key], reads.totals[key]
        components = catalog.components(target.indicator)
        for out, scope in zip(outs, scopes, strict=True):
            if any((u.id, c) in reported for u in scope for c in components):
                out.achieved = rollup.scope_total(catalog, target.indicator, totals, scope)
    elif target.kind == "coverage":
        assert target.indicator
        covs = rollup.coverage_of(
            target.indicator,
            target.levels,
            target.threshold,
            scopes,
            {lv: reads.units[(lv, period)] for lv in target.levels},
            {lv: reads.values[(lv, period, target.approved_only)] for lv in target.levels},
            target.threshold_compare,
            target.where,
        )
        for out, cov in zip(outs, covs, strict=True):
            out.counted = (cov.reached, cov.units)
            out.basis_level = target.levels[0] if len(target.levels) == 1 else None
            if cov.reported:
                out.achieved = cov.percent
    else:
        assert target.numerator and target.denominator
        rates = await rollup.rate_many(
            session,
            catalog,
            target.numerator,
            target.denominator,
            scopes,
            period,
            stocks=target.stocks,
            level=target.reported_at,
            approved_only=target.approved_only,
        )
        for out, r in zip(outs, rates, strict=True):
            out.basis = (r.units, r.expected)
            out.basis_level = r.level
            out.ratio = (r.numerator, r.denominator)
            out.achieved = r.percent if r.units else None
    for out in outs:
        out.status = verdict(target, out.achieved, goal, expected, today)
    return outs


async def _tasks(
    session: AsyncSession,
    catalog: Catalog,
    target: Target,
    scopes: list[list[OrgUnit]],
    period: Period,
    today: date,
) -> list[TargetProgress]:
    """A dated one-off yes/no: done by the units (or the scope itself), not yet, or overdue."""
    assert target.indicator and target.deadline
    counts: list[tuple[int, int]] = []
    if target.levels:
        covs = await rollup.coverage_many(
            session,
            catalog,
            target.indicator,
            target.levels,
            1,
            scopes,
            period,
            approved_only=target.approved_only,
        )
        counts = [(cov.reached, cov.units) for cov in covs]
    else:
        # Each unit by its own answer when its level is asked, grouped by that level.
        done: dict[int, bool] = {}
        by_level: dict[str | None, list[OrgUnit]] = {}
        for scope in scopes:
            for unit in scope:
                level = rollup.own_level(catalog, target.indicator, unit.level)
                by_level.setdefault(level, []).append(unit)
        for level, units in by_level.items():
            values = await rollup.totals_or_none(
                session,
                catalog,
                target.indicator,
                [[u] for u in units],
                period,
                reported_at=level,
                approved_only=target.approved_only,
            )
            done.update((u.id, bool(v)) for u, v in zip(units, values, strict=True))
        counts = [(sum(done[u.id] for u in scope), len(scope)) for scope in scopes]
    outs = []
    for scope, (done_count, units_count) in zip(scopes, counts, strict=True):
        if units_count and done_count == units_count:
            status = Status.DONE
        elif today > target.deadline:
            status = Status.OVERDUE
        else:
            status = Status.NOT_YET
        out = TargetProgress(target, period, scope, 100.0, None, None, status)
        out.counted = (done_count, units_count)
        out.basis_level = target.levels[0] if len(target.levels) == 1 else None
        out.achieved = done_count / units_count * 100 if units_count else None
        outs.append(out)
    return outs


async def progress(
    session: AsyncSession, catalog: Catalog, unit: OrgUnit, today: date
) -> list[TargetProgress]:
    """Every target that applies to `unit`, behind-schedule ones first, no data last.

    In January a yearly target also shows last year's result while last year's forms are
    still open."""
    return (await progress_many(session, catalog, [unit], today))[unit.id]


async def progress_many(
    session: AsyncSession, catalog: Catalog, units: list[OrgUnit], today: date
) -> dict[int, list[TargetProgress]]:
    """`progress` of each unit (by id), each target measured on all of them at once."""
    out: dict[int, list[TargetProgress]] = {u.id: [] for u in units}
    named = await named_units_of(session, catalog.targets)
    asks: list[Ask] = []
    places: list[tuple[list[OrgUnit], bool]] = []  # each ask's units, last year's or not
    for target in catalog.targets:
        applies = [(u, scope_of(catalog, target, u, named[target.code])) for u in units]
        measured = [(u, scope) for u, scope in applies if scope is not None]
        if not measured:
            continue
        scopes = [scope for _, scope in measured]
        found = windows(target, catalog, today)
        asks.append(Ask(target, scopes, today, found[0]))
        places.append(([u for u, _ in measured], False))
        if len(found) > 1 and previous_year_open(catalog, target, today):
            asks.append(Ask(target, scopes, found[1][0].end, found[1]))
            places.append(([u for u, _ in measured], True))
    measured_all = await measure_targets(session, catalog, asks)
    # Each unit's targets in the plan's order, last year's right after this year's.
    for found_items, (owners, last_year) in zip(measured_all, places, strict=True):
        for u, p in zip(owners, found_items, strict=True):
            p.previous_year = last_year
            out[u.id].append(p)
    order = {
        Status.OVERDUE: 0,
        Status.BEHIND: 0,
        Status.NOT_YET: 1,
        Status.ON_TRACK: 1,
        Status.ACHIEVED: 2,
        Status.DONE: 2,
        Status.NO_DATA: 3,
    }
    return {
        uid: sorted(items, key=lambda p: (order[p.status], p.percent or 0))
        for uid, items in out.items()
    }


def behind_count(items: list[TargetProgress]) -> int:
    return sum(1 for p in items if p.status in BEHIND)
