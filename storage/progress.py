"""Progress against the plan's targets, read against the time elapsed.

Sum and coverage targets accumulate over their period, so by a given day the expected share is
the share of the period gone by: at mid-term, 2,100 of 5,000 is behind; 2,600 is on track.
A rate is a level to hold, so its expected share is the whole target all along.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from schedules.periods import Period, from_key, term_period, year_period
from storage import rollup
from storage.catalog import Catalog, Target
from storage.models import OrgUnit
from storage.units import is_within


class Status(StrEnum):
    ACHIEVED = "achieved"
    ON_TRACK = "on_track"
    BEHIND = "behind"


@dataclass
class TargetProgress:
    target: Target
    period: Period
    scope: list[OrgUnit]
    achieved: float | None  # the sum, or the percentage for coverage and rate
    percent: float | None  # achieved / target × 100
    expected_percent: float
    status: Status
    detail: str = ""  # "12/15 cơ sở", "1.234/1.500 người"

    @property
    def group(self) -> bool:
        return len(self.scope) > 1


def target_period(target: Target, catalog: Catalog, today: date) -> Period:
    if target.period == "term":
        for term in catalog.terms:
            if term.start <= today <= term.end:
                return term_period(term)
        return term_period(max(catalog.terms, key=lambda t: t.end))
    if target.period == "yearly":
        return year_period(today.year)
    return from_key(target.period, catalog.terms)


def status_of(percent: float | None, expected: float) -> Status:
    if percent is not None and percent >= 100:
        return Status.ACHIEVED
    if percent is not None and percent >= expected:
        return Status.ON_TRACK
    return Status.BEHIND


async def target_scope(
    session: AsyncSession, catalog: Catalog, target: Target, unit: OrgUnit
) -> list[OrgUnit] | None:
    """The units a target is measured on when asked from `unit`, or None if it does not apply.

    A target naming units applies to those units and to anyone above them; one naming none is
    the province's. Percent targets (coverage, rate) apply at every level inside it, measured
    on the asker's own subtree; a coverage target only down to its level.
    """
    if target.units:
        named = list(
            (await session.scalars(select(OrgUnit).where(OrgUnit.code.in_(target.units)))).all()
        )
        if not named:
            return None
        if all(is_within(n, unit) for n in named):
            return named  # asked from above (or at) every named unit
        if not any(is_within(unit, n) for n in named):
            return None
        # Asked from inside one of the named units: the group's own figure for a sum,
        # the asker's subtree for a percentage.
        return named if target.kind == "sum" else [unit]
    if target.kind == "sum":
        return [unit] if unit.depth == 0 else None
    below_level = (
        target.kind == "coverage"
        and target.level
        and (catalog.level_index(unit.level) > catalog.level_index(target.level))
    )
    if below_level:
        return None
    return [unit]


async def measure(
    session: AsyncSession,
    catalog: Catalog,
    target: Target,
    scope: list[OrgUnit],
    today: date,
) -> TargetProgress:
    period = target_period(target, catalog, today)
    detail = ""
    if target.kind == "sum":
        assert target.indicator
        achieved: float | None = await rollup.total(
            session, catalog, target.indicator, scope, period
        )
        percent = (achieved or 0) / target.target * 100
        expected = period.elapsed_fraction(today) * 100
    elif target.kind == "coverage":
        assert target.indicator and target.level
        cov = await rollup.coverage(
            session, catalog, target.indicator, target.level, target.threshold, scope, period
        )
        achieved = cov.percent
        percent = None if achieved is None else achieved / target.target * 100
        expected = period.elapsed_fraction(today) * 100
        detail = f"{cov.reached}/{cov.units}"
    else:
        assert target.numerator and target.denominator
        r = await rollup.rate(session, catalog, target.numerator, target.denominator, scope, period)
        achieved = r.percent
        percent = None if achieved is None else achieved / target.target * 100
        expected = 100.0
        detail = f"{r.numerator:.0f}/{r.denominator:.0f}"
    return TargetProgress(
        target, period, scope, achieved, percent, expected, status_of(percent, expected), detail
    )


async def progress(
    session: AsyncSession, catalog: Catalog, unit: OrgUnit, today: date
) -> list[TargetProgress]:
    """Every target that applies to `unit`, behind-schedule ones first."""
    out = []
    for target in catalog.targets:
        scope = await target_scope(session, catalog, target, unit)
        if scope is None:
            continue
        out.append(await measure(session, catalog, target, scope, today))
    order = {Status.BEHIND: 0, Status.ON_TRACK: 1, Status.ACHIEVED: 2}
    return sorted(out, key=lambda p: (order[p.status], p.percent or 0))
