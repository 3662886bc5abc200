"""Thi đua rankings: the units below a unit, by the score of the operator's rule
(storage/measures/thi_dua.py): timeliness over the last due periods, targets on track (the same
progress as /tiendo), growth of members. A part with no data is left out and the others are
scaled to 100, so "no data" never counts as a bad result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schedules.calendar import default_form, latest_due_period
from storage.db.models import OrgUnit, Person
from storage.db.sessions import transaction
from storage.db.units import active_on, is_within, units_by_id
from storage.measures import progress as progress_service
from storage.measures import rollup
from storage.measures.target_scopes import named_units_of
from storage.measures.target_status import BEHIND, Status
from storage.measures.thi_dua import (
    PARTS,
    Timeliness,
    changed_since,
    drop_other_rules,
    keep_ranking,
    keep_ranking_day,
    kept_keys,
    kept_ranking,
    kept_ranking_day,
    prune_ranking_days,
    rule_key,
    timeliness_by_root,
)
from storage.plan.catalog import Catalog, Form
from storage.plan.clock import VN, Clock
from storage.plan.periods import Period, previous_period, year_period
from storage.plan.thi_dua_rule import Rule


def rule_form(rule: Rule, catalog: Catalog) -> Form:
    return catalog.forms[rule.form] if rule.form else default_form(catalog)


def due_periods(form: Form, today: date, count: int) -> list[Period]:
    """The last `count` periods of the form whose due date has passed, oldest first."""
    period = latest_due_period(form, today)
    out = [period]
    while len(out) < count:
        period = previous_period(period)
        out.append(period)
    return out[::-1]


# ---- scores -------------------------------------------------------------------------------


@dataclass
class Score:
    unit: OrgUnit
    parts: dict[str, float | None]  # part → 0..1, None: no data
    detail: dict[str, str] = field(default_factory=dict)
    rank: int = 0

    def points(self, rule: Rule) -> float | None:
        weights = rule.weights.model_dump()
        known = {p: v for p, v in self.parts.items() if v is not None and weights[p]}
        total_weight = sum(weights[p] for p in known)
        if not total_weight:
            return None
        return sum(weights[p] * v for p, v in known.items()) / total_weight * 100


@dataclass
class Ranking:
    rule: Rule
    parent_id: int
    periods: list[Period]
    scores: list[Score]  # best first; units with no score at all last
    computed_at: datetime | None = None

    def place_of(self, unit_id: int) -> Score | None:
        return next((s for s in self.scores if s.unit.id == unit_id), None)


async def scores(
    session: AsyncSession, catalog: Catalog, rule: Rule, units: list[OrgUnit], today: date
) -> list[Score]:
    """Each unit's parts of the score as of `today`."""
    form = rule_form(rule, catalog)
    periods = due_periods(form, today, rule.periods)
    ids = [u.id for u in units]
    weights = rule.weights
    timely = await timeliness_by_root(session, form, periods, ids) if weights.timeliness else {}
    growth: dict[int, float] = {}
    base: dict[int, float] = {}
    year = year_period(today.year)
    if weights.growth and rule.growth:
        roots = rollup.Roots(ids=tuple(ids))
        growth = await rollup.totals_by_root(session, catalog, rule.growth.indicator, roots, year)
        base = await rollup.totals_by_root(session, catalog, rule.growth.base, roots, year)
    progress = (
        await progress_service.progress_many(session, catalog, units, today)
        if weights.targets
        else {}
    )
    out = []
    for unit in units:
        parts: dict[str, float | None] = dict.fromkeys(PARTS)
        detail: dict[str, str] = {}
        if weights.timeliness:
            expected = on_time = late = 0
            for p in periods:
                t = timely.get((unit.id, p.key), Timeliness())
                expected, on_time, late = expected + t.expected, on_time + t.on_time, late + t.late
            if expected:
                parts["timeliness"] = (on_time + rule.late_credit * late) / expected
                detail["timeliness"] = f"{on_time}/{late}/{expected - on_time - late}"
        if weights.targets:
            items = progress[unit.id]
            known = [p for p in items if p.status != Status.NO_DATA]
            good = [p for p in known if p.status not in BEHIND]
            if known:
                parts["targets"] = len(good) / len(known)
                detail["targets"] = f"{len(good)}/{len(known)}"
        if weights.growth and rule.growth and base.get(unit.id):
            pct = growth.get(unit.id, 0.0) / base[unit.id] * 100
            parts["growth"] = max(0.0, min(1.0, pct / rule.growth.full_percent))
            detail["growth"] = f"{pct:.1f}"
        out.append(Score(unit, parts, detail))
    return out


async def ranking(
    session: AsyncSession, catalog: Catalog, rule: Rule, parent: OrgUnit, today: date
) -> Ranking:
    """The units just below `parent`, best score first (ties share a place)."""
    kids = list(
        (
            await session.scalars(
                select(OrgUnit)
                .where(OrgUnit.parent_id == parent.id, active_on(today))
                .order_by(OrgUnit.name)
            )
        ).all()
    )
    found = await scores(session, catalog, rule, kids, today)
    found.sort(key=lambda s: (-(s.points(rule) or -1), s.unit.name))
    place, previous = 0, None
    for i, s in enumerate(found, start=1):
        points = s.points(rule)
        if points is None:
            continue
        if previous is None or round(points, 1) != round(previous, 1):
            place = i
        s.rank, previous = place, points
    form = rule_form(rule, catalog)
    return Ranking(rule, parent.id, due_periods(form, today, rule.periods), found)


# ---- kept rankings ------------------------------------------------------------------------

# The longest a report's transaction may stay open after the time it records (a turn, an
# import): a ranking counts as holding the reports changed up to this long before it began.
IN_FLIGHT = timedelta(minutes=5)
# The points of each day are kept this much longer than "most improved" looks back (a clock
# set back by HOIBOT_NOW, a summary planned late still find theirs).
HISTORY_MARGIN_DAYS = 7


def history_days(rule: Rule) -> int:
    """How many days back the kept points of rankings are kept."""
    return rule.improvement_days + HISTORY_MARGIN_DAYS


def _unit_data(unit: OrgUnit) -> dict[str, Any]:
    return {
        "id": unit.id,
        "code": unit.code,
        "name": unit.name,
        "level": unit.level,
        "parent_id": unit.parent_id,
        "path": unit.path,
        "depth": unit.depth,
    }


def _score_data(s: Score) -> dict[str, Any]:
    return {"unit": _unit_data(s.unit), "parts": s.parts, "detail": s.detail, "rank": s.rank}


def _score(data: dict[str, Any]) -> Score:
    # A detached unit: only what a ranking shows, it outlives the session.
    return Score(OrgUnit(**data["unit"]), data["parts"], data["detail"], data["rank"])


async def _keep(
    session: AsyncSession, key: str, found: Ranking, today: date, now: datetime
) -> None:
    """Keeps a computed ranking as today's, and its points in the history of days."""
    as_of = now - IN_FLIGHT
    scores = [_score_data(s) for s in found.scores]
    await keep_ranking(session, found.parent_id, key, today, now, as_of, scores)
    points = {s.unit.id: s.points(found.rule) for s in found.scores}
    await keep_ranking_day(session, found.parent_id, key, today, as_of, points)


class Rankings:
    """Thi đua rankings kept in the database: computed ahead by the scheduler (`refresh`)
    after reports arrive, and by the first view of one not kept yet. A ranking reads every
    unit's progress, too slow for a page view at national scale; one a few minutes old is
    fine for a leaderboard (the page says when it was computed). Kept in the database, so a
    restart or another worker reuses it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def get(
        self,
        session: AsyncSession,
        catalog: Catalog,
        rule: Rule,
        parent: OrgUnit,
        today: date,
        now: datetime,
        *,
        keep_apart: bool = False,
    ) -> Ranking:
        """The kept ranking of today, or one computed now and kept: in `session` (committed
        with the caller's work), or with `keep_apart` in a transaction of its own (a page,
        whose session is never committed)."""
        key = rule_key(rule, catalog)
        kept = await kept_ranking(session, parent.id, key)
        if kept is not None and kept.day == today:
            form = rule_form(rule, catalog)
            return Ranking(
                rule,
                parent.id,
                due_periods(form, today, rule.periods),
                [_score(s) for s in kept.scores],
                kept.computed_at,
            )
        found = await ranking(session, catalog, rule, parent, today)
        found.computed_at = now
        if keep_apart:
            async with transaction(self.sessions) as own:
                await _keep(own, key, found, today, now)
        else:
            await _keep(session, key, found, today, now)
        return found


async def refresh(
    sessions: async_sessionmaker[AsyncSession],
    catalog: Catalog,
    clock: Clock,
    *,
    budget: timedelta = timedelta(minutes=1),
    also: Sequence[str] = (),
) -> int:
    """Recomputes the kept rankings that are out of date: kept for an earlier day, or with
    reports changed under their unit since; `also`: the rankings below the units of the
    active people of these roles (the weekly summary's most improved), kept or not. Oldest
    first, never kept ones before them, for at most `budget` (the rest waits for the next
    run, so a day of reports arriving never holds a core). Each one's points are kept as the
    day's (`kept_ranking_days`, for "most improved"); days older than `history_days` are
    dropped. Returns how many it recomputed."""
    rule = catalog.thi_dua or Rule()
    key = rule_key(rule, catalog)
    started = clock.now()
    today = started.astimezone(VN).date()
    async with transaction(sessions) as session:
        await drop_other_rules(session, key)
        await prune_ranking_days(session, today - timedelta(days=history_days(rule)))
        found_kept = await kept_keys(session, key)
        known = {pid for pid, _, _ in found_kept}
        never = [u for u in await _units_of(session, also) if u not in known] if also else []
    kept: list[tuple[int, date | None, datetime | None]] = [
        *((pid, None, None) for pid in never),
        *found_kept,
    ]
    if not kept:
        return 0
    async with sessions() as session:
        units = await units_by_id(session, [pid for pid, _, _ in kept])
        extra = await _group_roots(session, catalog, list(units.values()))
        roots = sorted({*units, *(r for rs in extra.values() for r in rs)})
        # Those of an earlier day are out of date anyway; the others, if reports changed.
        current = [as_of for _, day, as_of in kept if day == today and as_of is not None]
        changed = await changed_since(session, roots, min(current)) if current else {}
    done = 0
    for pid, day, as_of in kept:
        unit = units.get(pid)
        if unit is None:
            continue
        watched = [pid, *extra.get(pid, ())]
        stale = as_of is None or day != today or any(changed.get(r, as_of) > as_of for r in watched)
        if not stale:
            continue
        if clock.now() - started > budget:
            break
        now = clock.now()
        async with sessions() as session:
            found = await ranking(session, catalog, rule, unit, today)
        async with transaction(sessions) as session:
            await _keep(session, key, found, today, now)
        done += 1
    return done


async def _units_of(session: AsyncSession, roles: Sequence[str]) -> list[int]:
    """The units of the active people of these roles."""
    rows = await session.scalars(
        select(Person.unit_id)
        .where(Person.role.in_(roles), Person.active.is_(True), Person.unit_id.is_not(None))
        .distinct()
        .order_by(Person.unit_id)
    )
    return [u for u in rows.all() if u is not None]


async def _group_roots(
    session: AsyncSession, catalog: Catalog, parents: list[OrgUnit]
) -> dict[int, list[int]]:
    """Unit id → the other subtrees its ranking reads: a sum target naming several units
    scores a unit inside one of them by the group's figure, so reports anywhere in the group
    change it."""
    out: dict[int, list[int]] = {}
    groups = [t for t in catalog.targets if t.units and t.kind == "sum"]
    named_by_target = await named_units_of(session, groups)
    for target in groups:
        named = named_by_target[target.code]
        for parent in parents:
            if any(is_within(n, parent) or is_within(parent, n) for n in named):
                out.setdefault(parent.id, []).extend(n.id for n in named)
    return out


@dataclass
class Improvement:
    unit: OrgUnit
    before: float
    now: float


async def most_improved(
    session: AsyncSession, catalog: Catalog, rule: Rule, parent: OrgUnit, today: date
) -> Improvement | None:
    """The unit below `parent` whose score rose most since `improvement_days` ago. Today's
    scores are the kept ranking's when one of today is kept (the one /xephang and the pages
    show, recomputed by the scheduler after reports), computed otherwise. The earlier ones
    are the points kept that day (`kept_ranking_days`) with the same rule; a unit not in
    them (the day not kept, or kept with another rule or plan: its points do not compare;
    the unit ranked below another unit then) is scored as of that day (its reports as they
    stand now), unless it did not exist yet. A unit with no score at either end is not
    compared: it did not "improve from 0"."""
    key = rule_key(rule, catalog)
    kept = await kept_ranking(session, parent.id, key)
    if kept is not None and kept.day == today:
        now_scores = [_score(s) for s in kept.scores]
    else:
        now_scores = (await ranking(session, catalog, rule, parent, today)).scores
    scored = [s for s in now_scores if s.points(rule) is not None]
    then = today - timedelta(days=rule.improvement_days)
    before = await _points_on(
        session, catalog, rule, key, parent, [s.unit.id for s in scored], then
    )
    best: Improvement | None = None
    for s in scored:
        points, earlier = s.points(rule), before.get(s.unit.id)
        if points is None or earlier is None or points <= earlier:
            continue
        if best is None or points - earlier > best.now - best.before:
            best = Improvement(s.unit, earlier, points)
    return best


async def _points_on(
    session: AsyncSession,
    catalog: Catalog,
    rule: Rule,
    key: str,
    parent: OrgUnit,
    ids: list[int],
    day: date,
) -> dict[int, float | None]:
    """Unit id → its points on `day` (None: no score): kept that day below `parent`, or
    computed as of it for the units not kept then that existed then."""
    kept = await kept_ranking_day(session, parent.id, key, day) or {}
    out = {i: kept[i] for i in ids if i in kept}
    rest = [i for i in ids if i not in kept]
    units = [u for u in (await units_by_id(session, rest)).values() if u.valid_from <= day]
    if units:
        out.update(
            {s.unit.id: s.points(rule) for s in await scores(session, catalog, rule, units, day)}
        )
    return out
