"""Progress against the plan's targets, read against what is due.

One function, `progress`, returns data; the chat, the CLI and the workbook render it. Every
target that applies to a unit is measured in its window (storage.measures.target_windows) on
its scope (storage.measures.target_scopes) and judged (storage.measures.target_status). The
sums and coverages of many targets over many scopes are read together, a few grouped queries
in all (`measure_targets`); rates and tasks a few queries each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import OrgUnit
from storage.measures import ratios, rollup, target_reads
from storage.measures import totals as totals_service
from storage.measures.target_scopes import named_units_of, scope_of
from storage.measures.target_status import Status, TargetProgress, current_status, verdict
from storage.measures.target_windows import (
    Cover,
    Window,
    cover,
    expected_value,
    target_forms,
    windows_of,
)
from storage.plan.catalog import Catalog, Target
from storage.plan.periods import (
    Period,
    periods_inside,
)


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
    for p in chosen:
        # The window before today's with none of its own reports due yet either (January:
        # last year's yearly report is due on the 15th): not to be judged yet, not "no data".
        due = p.cover is not None and (p.cover.until is not None or p.cover.some_due)
        if p.previous_window and p.status == Status.NO_DATA and not due:
            p.status = Status.PENDING
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
        uid: sorted(items, key=lambda p: (ORDER[current_status(p)], p.percent or 0))
        for uid, items in out.items()
    }
