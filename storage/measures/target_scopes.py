"""The units a target is measured on when asked from a unit: the units it names (a merged unit
by its successor, which carries its history), the province for a sum naming none, or the
asker's own subtree for a percentage or a task of a level."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import OrgUnit
from storage.db.units import is_within, successor
from storage.plan.catalog import Catalog, Target


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
