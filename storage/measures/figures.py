"""A figure over reporting units (a unit's subtree, a group, one unit): their readings
(`storage.measures.unit_readings`) added up as the indicator's kind says, with what it rests
on: k of the n units that should give it, a stock's periods, a flow's partial units, a
ratio's incomplete units and earlier pairs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from storage.measures.unit_readings import (
    Kind,
    Levels,
    MembersCache,
    Reading,
    UnitValue,
    kind_of,
    read,
)
from storage.plan.catalog import Catalog, IndicatorType
from storage.plan.expressions import evaluate_formula
from storage.plan.periods import (
    Period,
)


@dataclass
class Figure:
    """A figure over a unit's subtree (or one unit's own), with what it rests on."""

    value: float | None  # None: nothing reported (or no ratio); a yes/no: the units "yes"
    reported: int  # units that gave the figure (a ratio: every part in one period)
    expected: int  # units that should give it: active in the period, or reported anyway
    parts: dict[str, float] = field(default_factory=dict)  # a ratio's parts, summed
    yes: int = 0  # yes/no: units whose latest answer is yes
    ends: Counter[Period] = field(default_factory=Counter)  # stock: units by their figure's period
    partial: int = 0  # flow over several periods: units that gave fewer periods than others
    most_periods: int = 0  # … the most periods a unit gave
    incomplete: int = 0  # ratio: units that gave some parts but never all in one period
    earlier: Counter[Period] = field(default_factory=Counter)  # ratio: pairs of earlier periods
    pairs: Counter[Period] = field(default_factory=Counter)  # ratio: every unit by its pair's

    @property
    def missing(self) -> int:
        return self.expected - self.reported


def figure_of(catalog: Catalog, code: str, reading: Reading, unit_ids: Iterable[int]) -> Figure:
    """The figure over these reporting units (a root's members, or one unit)."""
    kind = kind_of(catalog, code)
    values, active = reading.values, reading.active
    given: list[UnitValue] = []
    expected = 0
    for u in unit_ids:
        found = values.get(u)
        if found is not None:
            given.append(found)
            expected += 1
        elif u in active:
            expected += 1
    counted = [v for v in given if v.complete]
    figure = Figure(None, len(counted), expected)
    if len(counted) < len(given):
        figure.incomplete = len(given) - len(counted)
    if not counted:
        return figure
    if reading.stock and kind in (Kind.SUM, Kind.YES_NO):
        figure.ends = Counter(reading.period_at(catalog, code, v.level, v.end) for v in counted)
    if not reading.stock and kind == Kind.SUM:
        figure.most_periods = max(v.periods for v in counted)
        figure.partial = sum(1 for v in counted if v.periods < figure.most_periods)
    if kind == Kind.YES_NO:
        figure.yes = sum(1 for v in counted if v.value)
        figure.value = float(figure.yes)
        return figure
    if kind == Kind.EACH:
        figure.value = counted[0].value if len(given) == 1 and expected == 1 else None
        return figure
    indicator = catalog.indicators[code]
    if indicator.type != IndicatorType.DERIVED:
        figure.value = sum(v.parts[code] for v in counted)
        return figure
    components = catalog.components(code)
    sums = {c: sum(v.parts.get(c, 0.0) for v in counted) for c in components}
    figure.value = evaluate_formula(indicator.formula or "", sums)
    if kind == Kind.RATIO:
        figure.parts = sums
        figure.earlier = Counter(
            reading.period_at(catalog, code, v.level, v.end) for v in counted if v.earlier
        )
        figure.pairs = Counter(reading.period_at(catalog, code, v.level, v.end) for v in counted)
    return figure


async def figures(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    inside: list[int],
    period: Period,
    *,
    roots: list[int] | None = None,
    reported_at: Levels = None,
    approved_only: bool = False,
    cache: MembersCache | None = None,
) -> dict[int, Figure]:
    """The figure of every root (`roots`, or every unit inside `inside`'s subtrees), read in
    a few queries: what the workbook puts in each row, a target's breakdown in each line.
    Pass the same `cache` for several indicators asked of the same levels (a form's)."""
    reading = await read(
        session,
        catalog,
        code,
        inside,
        period,
        roots=roots,
        reported_at=reported_at,
        approved_only=approved_only,
        cache=cache,
    )
    wanted = reading.members.keys() if roots is None else roots
    return {r: figure_of(catalog, code, reading, reading.members.get(r, set())) for r in wanted}
