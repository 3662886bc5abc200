"""Thi đua rankings: the units below a unit, by the score of the operator's rule
(storage/thi_dua.py): timeliness over the last due periods, targets on track (the same
progress as /tiendo), growth of members. A part with no data is left out and the others are
scaled to 100, so "no data" never counts as a bad result.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from schedules.calendar import default_form, latest_due_period
from storage import progress as progress_service
from storage import rollup
from storage.catalog import Catalog, Form
from storage.models import OrgUnit
from storage.periods import Period, previous_period, year_period
from storage.thi_dua import PARTS, Rule, Timeliness, timeliness_by_root
from storage.units import active_on


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
            known = [p for p in items if p.status != progress_service.Status.NO_DATA]
            good = [p for p in known if p.status not in progress_service.BEHIND]
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


def _detached(unit: OrgUnit) -> OrgUnit:
    """A copy that outlives the session (only what a ranking shows is kept)."""
    return OrgUnit(
        id=unit.id,
        code=unit.code,
        name=unit.name,
        level=unit.level,
        parent_id=unit.parent_id,
        path=unit.path,
        depth=unit.depth,
    )


class RankingCache:
    """Rankings by unit and day, kept a few minutes: a ranking reads every unit's progress,
    which is too slow to repeat on every page view at national scale, and a leaderboard a
    few minutes old is fine (the page says when it was computed). Derived data only: losing
    it (a restart, another worker) costs a recomputation."""

    def __init__(self, seconds: float = 600, size: int = 512) -> None:
        self.seconds = seconds
        self.size = size
        self._kept: OrderedDict[tuple[int, date, str], Ranking] = OrderedDict()

    def clear(self) -> None:
        self._kept.clear()

    async def get(
        self,
        session: AsyncSession,
        catalog: Catalog,
        rule: Rule,
        parent: OrgUnit,
        today: date,
        now: datetime,
    ) -> Ranking:
        key = (parent.id, today, rule.model_dump_json())
        found = self._kept.get(key)
        if found and found.computed_at and (now - found.computed_at).total_seconds() < self.seconds:
            self._kept.move_to_end(key)
            return found
        found = await ranking(session, catalog, rule, parent, today)
        for s in found.scores:
            s.unit = _detached(s.unit)
        found.computed_at = now
        self._kept[key] = found
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)
        return found


@dataclass
class Improvement:
    unit: OrgUnit
    before: float
    now: float


async def most_improved(
    session: AsyncSession, catalog: Catalog, rule: Rule, parent: OrgUnit, today: date
) -> Improvement | None:
    """The unit below `parent` whose score rose most since `improvement_days` ago."""
    now = await ranking(session, catalog, rule, parent, today)
    units = [s.unit for s in now.scores]
    before = {
        s.unit.id: s.points(rule)
        for s in await scores(
            session, catalog, rule, units, today - timedelta(days=rule.improvement_days)
        )
    }
    best: Improvement | None = None
    for s in now.scores:
        points, earlier = s.points(rule), before.get(s.unit.id)
        if points is None or earlier is None or points <= earlier:
            continue
        if best is None or points - earlier > best.now - best.before:
            best = Improvement(s.unit, earlier, points)
    return best
