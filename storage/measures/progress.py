"""Progress against the plan's targets, read against what is due.

One function, `progress`, returns data; the chat, the CLI and the workbook render it.
What can be expected of a target by a date is what the reports due by that date can show:
the periods of its forms (of the levels it counts) whose due date has passed cover the window
up to some day, and `expect` says how much of the goal that part owes: the share of the
window it covers (`linear`: at mid-term, 2,100 of 5,000 is behind; 2,600 is on track), the
whole goal once the window's last reports are due (`end`), the latest milestone covered, or
the whole goal all along once anything is due (`hold`: a level to keep). Nothing due yet
expects nothing: a target is never behind for reports that are not due. Once a window is
over and its last reports are due, the verdict is final: reached or not. A target with
nothing reported in its window is "no data", never behind; the verdict is read on the
figures as they are shown (one decimal of a percentage).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import OrgUnit
from storage.db.units import is_within, successor
from storage.measures import ratios, rollup, target_reads
from storage.measures import totals as totals_service
from storage.plan.catalog import Catalog, Expect, Form, Target
from storage.plan.periods import (
    Period,
    from_key,
    periods_inside,
    term_period,
    year_period,
)


class Status(StrEnum):
    ACHIEVED = "achieved"
    ON_TRACK = "on_track"
    BEHIND = "behind"
    MISSED = "missed"  # the window is over and its reports due: not reached
    PENDING = "pending"  # not reached, and nothing is expected of it yet
    NO_DATA = "no_data"
    DONE = "done"  # a task
    DONE_LATE = "done_late"  # a task done, by some after its deadline
    NOT_YET = "not_yet"  # a task before its deadline (and its reports) are due
    OVERDUE = "overdue"  # a task past its deadline


BEHIND = frozenset({Status.BEHIND, Status.MISSED, Status.OVERDUE})
# How the summary counts the verdicts: every target listed falls in one group.
GROUPS: dict[str, tuple[Status, ...]] = {
    "achieved": (Status.ACHIEVED, Status.DONE, Status.DONE_LATE),
    "on_track": (Status.ON_TRACK,),
    "behind": (Status.BEHIND, Status.OVERDUE),
    "missed": (Status.MISSED,),
    "pending": (Status.PENDING, Status.NOT_YET),
    "no_data": (Status.NO_DATA,),
}


@dataclass(frozen=True)
class Cover:
    """What a target's forms due by a date can show of a window."""

    until: date | None  # the reports due cover the window up to this day (None: none due)
    complete: bool  # every report of the window is due
    next_due: date | None = None  # when the next report of the window falls due
    last_due: date | None = None  # when the window's last reports fall due
    closes: date | None = None  # the last day the window's last reports are taken
    some_due: bool = False  # some form's report of the window is due (others' not yet)


@dataclass(frozen=True)
class Window:
    """The window a target is measured in today, and the goal it is held against there."""

    period: Period
    goal: float
    due_year: int | None = None  # by_year: the year the goal is due (a later one: "đến 2030")
    # The window before today's, shown while today's has nothing due: today's window and
    # when its first report falls due.
    previous: bool = False
    successor: Period | None = None
    successor_due: date | None = None

    @property
    def judged(self) -> bool:
        """Whether the goal is due in this window (not in a later year)."""
        return self.due_year is None or self.due_year == self.period.start.year


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
    basis: tuple[int, int] | None = None  # rate: units that gave both / units that should;
    # sum: the reporting units that gave the figure / those that should (storage/measures/totals.py)
    basis_level: str | None = None  # the level of the units in `counted` / `basis`, if one
    ratio: tuple[float, float] | None = None  # rate: numerator, denominator
    rate: ratios.Rate | None = None  # rate: its pairs of earlier periods and split units
    reported: int | None = None  # coverage, task: units of `counted` that gave a value
    late: int = 0  # task: units that did it after the deadline
    previous_window: bool = False  # last year's (term's) result, while today's has none due
    due_year: int | None = None  # by_year: measured now against the value due in this year
    final: bool = False  # the window is over and all its reports are due
    cover: Cover | None = None
    today: date | None = None  # the day measured
    successor: Period | None = None  # previous_window: today's window…
    successor_due: date | None = None  # …and when its first report falls due

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

    @property
    def silent(self) -> int:
        """Coverage, task: units counted that gave no value (shown as such, never as 0)."""
        if self.counted is None or self.reported is None:
            return 0
        return self.counted[1] - self.reported


def _terms(catalog: Catalog) -> list[Period]:
    return sorted(term_period(t) for t in catalog.terms)


def _year_window(target: Target, year: int) -> Window | None:
    if target.by_year:
        found = target.year_value(year)
        return None if found is None else Window(year_period(year), found[0], found[1])
    return Window(year_period(year), target.target or 0.0)


def windows_of(target: Target, catalog: Catalog, today: date) -> list[Window]:
    """The window a target is measured in today, then, while none of its reports is due
    yet, the one before it: a scope with nothing reported in today's window is shown the
    one before instead (January: last year's result, being completed, then final).

    A yearly target (or a by_year one) measures the current year; after a by_year target's
    last listed year, that year's result stands. A term target measures the term containing
    today (the one before it while nothing of the new one is due; the last one once all
    have ended); a fixed period is itself."""
    if target.by_year or target.period == "yearly":
        current = _year_window(target, today.year)
        if current is None:  # after the last listed year
            last = _year_window(target, max(target.year_values()))
            return [last or Window(year_period(today.year), 0.0)]
        before = _year_window(target, today.year - 1)
        now = cover(catalog, target, current.period, today)
        if before is None or now.until is not None:
            return [current]
        earlier = Window(
            before.period, before.goal, before.due_year, True, current.period, now.next_due
        )
        return [current, earlier]
    goal = target.target or 0.0
    if target.period == "term":
        terms = _terms(catalog)
        running = [t for t in terms if t.start <= today <= t.end]
        if not running:
            ended = [t for t in terms if t.end < today]
            return [Window(ended[-1] if ended else terms[0], goal)]
        ended = [t for t in terms if t.end < running[0].start]
        found = cover(catalog, target, running[0], today)
        if not ended or found.until is not None:
            return [Window(running[0], goal)]
        return [
            Window(running[0], goal),
            Window(ended[-1], goal, None, True, running[0], found.next_due),
        ]
    return [Window(from_key(target.period, catalog.terms), goal)]


def target_period(target: Target, catalog: Catalog, today: date) -> Period:
    """The window measured today (before a scope's own choice of the one before it)."""
    return windows_of(target, catalog, today)[0].period


def target_forms(catalog: Catalog, target: Target) -> list[Form]:
    """The forms whose reports a target counts: those asking what it measures, at the
    levels it counts (a level's own answers, when it counts them)."""
    codes = [target.indicator, target.numerator, target.denominator]
    components = {c for code in codes if code for c in catalog.components(code)}
    levels: set[str] | None = None
    if target.reported_levels:
        levels = set(target.reported_levels)
    elif target.kind == "rate" and target.numerator and target.denominator:
        level = ratios.rate_level(catalog, target.numerator, target.denominator)
        levels = {level} if level else set()
    elif target.levels and target.indicator:
        own = [ratios.own_level(catalog, target.indicator, lv) for lv in target.levels]
        if all(own):
            levels = set(target.levels)
    forms = {
        f
        for code in components
        for f in catalog.forms_of_indicator.get(code, [])
        if levels is None or catalog.forms[f].level in levels
    }
    return [catalog.forms[f] for f in sorted(forms)]


def cover(catalog: Catalog, target: Target, window: Period, today: date) -> Cover:
    """How far into the window the target's reports due by the end of `today` reach: for each
    form, the end of its last period in the window whose due date has passed; the earliest
    over the forms (a part of the window is covered when every form's report of it is due).
    A due date is the last day to report on time: its reports are owed the day after."""
    untils: list[date | None] = []
    next_dues: list[date] = []
    last_dues: list[date] = []
    closes: list[date] = []
    some_due = False
    for form in target_forms(catalog, target):
        inside = periods_inside(form.periodicity, window)
        if not inside:
            continue  # this form's reports never fit inside the window
        due_days = timedelta(days=form.schedule.due_days_after_end)
        owed = [p for p in inside if p.end + due_days < today]
        some_due = some_due or bool(owed)
        last_dues.append(inside[-1].end + due_days)
        closes.append(inside[-1].end + timedelta(days=form.schedule.closes_days_after_end))
        if len(owed) == len(inside):
            untils.append(window.end)
        else:
            untils.append(owed[-1].end if owed else None)
            next_dues.append(inside[len(owed)].end + due_days)
    if not untils:
        return Cover(None, False)
    until = None if any(u is None for u in untils) else min(u for u in untils if u)
    return Cover(
        until,
        not next_dues,
        min(next_dues) if next_dues else None,
        max(last_dues),
        max(closes),
        some_due,
    )


def expected_value(target: Target, window: Window, covered: Cover) -> float | None:
    """What should have been reached by now, out of what the reports due can show; None when
    nothing is expected yet (no report of the window is due, or the goal is due later)."""
    if covered.until is None or not window.judged:
        return None
    how, goal = target.expectation, window.goal
    if how == Expect.HOLD:
        return goal
    if how == Expect.END:
        return goal if covered.complete else None
    if how == Expect.MILESTONES:
        passed = [m.value for m in target.milestones if m.date <= covered.until]
        return max(passed) if passed else None
    return goal * window.period.elapsed_fraction(covered.until)


def shown(target: Target, value: float) -> float:
    """A value as the views show it: a percentage to one decimal."""
    return round(value, 1) if target.is_percent else value


def _keeps_pace(target: Target, achieved: float, goal: float, expected: float) -> bool:
    """Whether the achieved value is at the expected one, as both are shown: a sum's linear
    expectation is shown as a share of the goal, so it is compared as shown there."""
    if target.is_percent:
        return round(achieved, 1) >= round(expected, 1)
    if target.expectation == Expect.LINEAR and goal:
        return round(achieved / goal * 100, 1) >= round(expected / goal * 100, 1)
    return achieved >= expected


def verdict(
    target: Target, achieved: float | None, goal: float, expected: float | None, final: bool
) -> Status:
    if achieved is None:
        return Status.NO_DATA
    holds = target.compare.holds(shown(target, achieved), goal)
    if final:
        return Status.ACHIEVED if holds else Status.MISSED
    if holds:
        return Status.ACHIEVED
    if not target.compare.upward:
        return Status.BEHIND  # a ceiling crossed
    if expected is None:  # nothing is due yet
        return Status.PENDING
    return Status.ON_TRACK if _keeps_pace(target, achieved, goal, expected) else Status.BEHIND


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
    found = [window] if window else windows_of(target, catalog, today)
    asks = [Ask(target, scopes, today, w) for w in found]
    return _choose(await measure_targets(session, catalog, asks))


def _choose(by_window: list[list[TargetProgress]]) -> list[TargetProgress]:
    """Each scope's measure in today's window, or in the one before it when today's has
    nothing reported for that scope (see `windows_of`)."""
    chosen = by_window[0]
    for earlier in by_window[1:]:
        chosen = [
            before if now.achieved is None and now.status == Status.NO_DATA else now
            for now, before in zip(chosen, earlier, strict=True)
        ]
    return chosen


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
# (level, period, approved_only) → values by indicator and unit; (level, period, indicator,
# approved_only) → each unit's stock at the window's start.
SumKey = tuple[Period, str | None, bool]
LevelKey = tuple[str, Period]
ValueKey = tuple[str, Period, bool]
StartKey = tuple[str, Period, str, bool]


@dataclass
class _Reads:
    reported: dict[SumKey, set[tuple[int, str]]] = field(default_factory=dict)
    totals: dict[SumKey, dict[str, dict[int, float]]] = field(default_factory=dict)
    units: dict[LevelKey, dict[int, set[int]]] = field(default_factory=dict)
    values: dict[ValueKey, dict[str, dict[int, float]]] = field(default_factory=dict)
    starts: dict[StartKey, dict[int, float]] = field(default_factory=dict)


def _ids(scopes: list[list[OrgUnit]]) -> set[int]:
    return {u.id for scope in scopes for u in scope}


def _sum_levels(target: Target) -> list[str | None]:
    """The levels whose own answers a sum adds up (None: every level)."""
    return list(target.reported_levels) or [None]


async def _read(session: AsyncSession, catalog: Catalog, asks: list[Ask]) -> _Reads:
    """Everything the sums and coverages of the asks read, with one query per kind of read
    and period (and level), whatever the number of targets and scopes."""
    sums: dict[SumKey, tuple[set[str], set[int]]] = {}
    levels: dict[LevelKey, set[int]] = {}
    values: dict[ValueKey, tuple[set[str], set[int]]] = {}
    starts: dict[StartKey, set[int]] = {}
    for ask in asks:
        t, period = ask.target, ask.window.period
        if not ask.scopes:
            continue
        if t.kind == "sum":
            assert t.indicator
            for level in _sum_levels(t):
                codes, ids = sums.setdefault((period, level, t.approved_only), (set(), set()))
                codes.update(catalog.components(t.indicator))
                ids.update(_ids(ask.scopes))
        elif t.kind == "coverage":
            assert t.indicator
            at_start = t.where is not None and t.where.at == "start"
            for lv in t.levels:
                levels.setdefault((lv, period), set()).update(_ids(ask.scopes))
                codes, ids = values.setdefault((lv, period, t.approved_only), (set(), set()))
                codes.add(t.indicator)
                if t.where and not at_start:
                    codes.add(t.where.indicator)
                ids.update(_ids(ask.scopes))
                if t.where and at_start:
                    start = (lv, period, t.where.indicator, t.approved_only)
                    starts.setdefault(start, set()).update(_ids(ask.scopes))
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
        reads.values[(lv, period, approved_only)] = await ratios.values_by_unit_many(
            session,
            catalog,
            sorted(codes),
            lv,
            tuple(sorted(ids)),
            period,
            approved_only=approved_only,
        )
    for (lv, period, code, approved_only), ids in starts.items():
        reads.starts[(lv, period, code, approved_only)] = await target_reads.stock_at_start(
            session, code, lv, sorted(ids), period, approved_only=approved_only
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
    target, scopes, today, window = ask.target, ask.scopes, ask.today, ask.window
    period, goal = window.period, window.goal
    if not scopes:
        return []
    covered = cover(catalog, target, period, today)
    final = window.judged and today > period.end and covered.complete
    if target.kind == "task":
        return await _tasks(session, catalog, target, scopes, window, covered, today)
    expected = expected_value(target, window, covered)
    outs = []
    for scope in scopes:
        out = TargetProgress(target, period, scope, goal, None, expected, Status.NO_DATA)
        out.due_year = window.due_year if not window.judged else None
        _situate(out, window, covered, today)
        out.final = final
        outs.append(out)
    if target.kind == "sum":
        assert target.indicator
        components = catalog.components(target.indicator)
        for level in _sum_levels(target):
            key = (period, level, target.approved_only)
            reported, totals = reads.reported[key], reads.totals[key]
            for out, scope in zip(outs, scopes, strict=True):
                if not any((u.id, c) in reported for u in scope for c in components):
                    continue
                value = rollup.scope_total(catalog, target.indicator, totals, scope)
                if value is not None:
                    out.achieved = (out.achieved or 0.0) + value
        # What the sum rests on: how many of the units that should report it did ("tính
        # trên k/n", as a rate says), from the same reading as /tong's.
        bases = await totals_service.bases(
            session,
            catalog,
            target.indicator,
            scopes,
            period,
            levels=list(target.reported_levels),
            approved_only=target.approved_only,
        )
        for out, (given, should, level) in zip(outs, bases, strict=True):
            out.basis, out.basis_level = (given, should), level
    elif target.kind == "coverage":
        assert target.indicator
        found = {lv: reads.values[(lv, period, target.approved_only)] for lv in target.levels}
        if target.where is not None and target.where.at == "start":
            where = target.where
            found = {
                lv: {
                    **values,
                    where.indicator: reads.starts[
                        (lv, period, where.indicator, target.approved_only)
                    ],
                }
                for lv, values in found.items()
            }
        covs = ratios.coverage_of(
            target.indicator,
            target.levels,
            target.threshold,
            scopes,
            {lv: reads.units[(lv, period)] for lv in target.levels},
            found,
            target.threshold_compare,
            target.where,
        )
        # A window that is one period of every form (a year, with yearly forms and ratings):
        # once every unit counted has given its value, the result is decided, due or not.
        single = window.judged and all(
            len(periods_inside(f.periodicity, period)) == 1 for f in target_forms(catalog, target)
        )
        for out, cov in zip(outs, covs, strict=True):
            out.counted = (cov.reached, cov.units)
            out.reported = cov.reported
            out.basis_level = target.levels[0] if len(target.levels) == 1 else None
            if cov.reported:
                out.achieved = cov.percent
            if single and cov.units and cov.reported == cov.units:
                out.final = True
    else:
        assert target.numerator and target.denominator
        levels: list[str | None] = list(target.reported_levels) or [None]
        for level in levels:
            rates = await ratios.rate_many(
                session,
                catalog,
                target.numerator,
                target.denominator,
                scopes,
                period,
                stocks=target.stocks,
                level=level,
                approved_only=target.approved_only,
            )
            for out, r in zip(outs, rates, strict=True):
                units, expected_units = out.basis or (0, 0)
                num, den = out.ratio or (0.0, 0.0)
                out.basis = (units + r.units, expected_units + r.expected)
                out.ratio = (num + r.numerator, den + r.denominator)
                out.basis_level = r.level if len(levels) == 1 else None
                # Which pairs are an earlier period's, which units gave the two figures in
                # different periods: said beside the rate (handlers/views.rate_notes).
                if out.rate is None:
                    out.rate = ratios.Rate(0.0, 0.0, level=out.basis_level)
                out.rate.earlier.update(r.earlier)
                out.rate.periods.update(r.periods)
                out.rate.split += r.split
        for out in outs:
            assert out.basis and out.ratio
            if out.basis[0] and out.ratio[1]:
                out.achieved = out.ratio[0] / out.ratio[1] * 100
    for out in outs:
        out.status = verdict(target, out.achieved, goal, expected, out.final)
    return outs


def _situate(out: TargetProgress, window: Window, covered: Cover, today: date) -> None:
    """Where in time a measure stands: the window shown and what is due of it."""
    out.previous_window, out.cover, out.today = window.previous, covered, today
    out.successor, out.successor_due = window.successor, window.successor_due


async def _tasks(
    session: AsyncSession,
    catalog: Catalog,
    target: Target,
    scopes: list[list[OrgUnit]],
    window: Window,
    covered: Cover,
    today: date,
) -> list[TargetProgress]:
    """A dated one-off yes/no, done by each unit concerned (the units of its levels in the
    scope, or the scope's units themselves): the first yes in the window counts, a later
    "no" does not undo it, and a yes first given in a period that starts after the deadline
    is done late. Not yet until the reports of the deadline are due; then overdue, unless
    nobody concerned has reported at all (no data, never overdue)."""
    assert target.indicator and target.deadline
    period = window.period
    ids = sorted(_ids(scopes))
    # (unit id → first yes) of each way the units answer; and the units each scope concerns.
    answers: dict[int, date | None] = {}
    concerned: list[list[int]] = [[] for _ in scopes]
    if target.levels:
        for lv in target.levels:
            under = await rollup.units_by_root(session, lv, ids, period)
            own = ratios.own_level(catalog, target.indicator, lv) is not None
            answers |= await target_reads.first_yes(
                session,
                target.indicator,
                target_reads.units_of_level_in(lv, ids),
                period,
                own=own,
                approved_only=target.approved_only,
            )
            for found, scope in zip(concerned, scopes, strict=True):
                found.extend(sorted(set().union(*(under.get(u.id, set()) for u in scope))))
    else:
        by_way: dict[bool, list[int]] = {True: [], False: []}
        for scope in scopes:
            for unit in scope:
                own = ratios.own_level(catalog, target.indicator, unit.level) is not None
                by_way[own].append(unit.id)
        for own, way in by_way.items():
            if way:
                answers |= await target_reads.first_yes(
                    session,
                    target.indicator,
                    sorted(set(way)),
                    period,
                    own=own,
                    approved_only=target.approved_only,
                )
        concerned = [[u.id for u in scope] for scope in scopes]
    deadline_owed = covered.until is not None and (
        covered.complete or covered.until >= target.deadline
    )
    outs = []
    for scope, units in zip(scopes, concerned, strict=True):
        said = [answers[u] for u in units if u in answers]
        done = [start for start in said if start is not None]
        late = sum(1 for start in done if start > target.deadline)
        if units and len(done) == len(units):
            status = Status.DONE_LATE if late else Status.DONE
        elif not deadline_owed:
            status = Status.NOT_YET
        elif not said:
            status = Status.NO_DATA
        else:
            status = Status.OVERDUE
        out = TargetProgress(target, period, scope, 100.0, None, None, status)
        out.counted, out.reported, out.late = (len(done), len(units)), len(said), late
        out.basis_level = target.levels[0] if len(target.levels) == 1 else None
        out.achieved = len(done) / len(units) * 100 if units and said else None
        _situate(out, window, covered, today)
        out.final = deadline_owed
        outs.append(out)
    return outs


async def progress(
    session: AsyncSession, catalog: Catalog, unit: OrgUnit, today: date
) -> list[TargetProgress]:
    """Every target that applies to `unit`, once each: behind ones first, no data last."""
    return (await progress_many(session, catalog, [unit], today))[unit.id]


ORDER = {
    Status.MISSED: 0,
    Status.OVERDUE: 0,
    Status.BEHIND: 0,
    Status.PENDING: 1,
    Status.NOT_YET: 1,
    Status.ON_TRACK: 1,
    Status.ACHIEVED: 2,
    Status.DONE: 2,
    Status.DONE_LATE: 2,
    Status.NO_DATA: 3,
}


async def progress_many(
    session: AsyncSession, catalog: Catalog, units: list[OrgUnit], today: date
) -> dict[int, list[TargetProgress]]:
    """`progress` of each unit (by id), each target measured on all of them at once."""
    out: dict[int, list[TargetProgress]] = {u.id: [] for u in units}
    named = await named_units_of(session, catalog.targets)
    asks: list[Ask] = []
    owners: list[tuple[list[OrgUnit], int]] = []  # each target's units and windows measured
    for target in catalog.targets:
        applies = [(u, scope_of(catalog, target, u, named[target.code])) for u in units]
        measured = [(u, scope) for u, scope in applies if scope is not None]
        if not measured:
            continue
        found = windows_of(target, catalog, today)
        asks.extend(Ask(target, [scope for _, scope in measured], today, w) for w in found)
        owners.append(([u for u, _ in measured], len(found)))
    results = iter(await measure_targets(session, catalog, asks))
    for asked, n in owners:
        chosen = _choose([next(results) for _ in range(n)])
        for u, p in zip(asked, chosen, strict=True):
            out[u.id].append(p)
    return {
        uid: sorted(items, key=lambda p: (ORDER[p.status], p.percent or 0))
        for uid, items in out.items()
    }


def behind_count(items: list[TargetProgress]) -> int:
    return sum(1 for p in items if p.status in BEHIND)


def summary_counts(items: list[TargetProgress]) -> dict[str, int]:
    """How many of the targets listed fall in each group of `GROUPS` (they add up to all)."""
    return {name: sum(1 for p in items if p.status in group) for name, group in GROUPS.items()}
