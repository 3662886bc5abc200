"""What the configuration says about the units already in the database (`hoibot config
check`, `hoibot run`): every unit's level is in hierarchy.yaml, every unit a target names
exists. The file checks that need no database are in storage/plan/catalog_checks.py.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import OrgUnit
from storage.plan.catalog import Catalog
from storage.plan.config_files import Docs, Locator, load_yaml_with_lines


async def check_against_database(
    session: AsyncSession, catalog: Catalog, folder: Path
) -> list[str]:
    """What the configuration says about the units in the database: every level of a unit is
    in hierarchy.yaml, and every unit a target (or `province`) names exists."""
    docs: Docs = {n: load_yaml_with_lines(folder / n) for n in ("hierarchy.yaml", "targets.yaml")}
    where = Locator(folder, docs)
    problems = []
    known = {level.code for level in catalog.levels}
    counts = await session.execute(select(OrgUnit.level, func.count()).group_by(OrgUnit.level))
    for level, n in sorted((row[0], row[1]) for row in counts):
        if level not in known:
            problems.append(
                f"{folder / 'hierarchy.yaml'}:{where.line('hierarchy.yaml', ('levels',))}: "
                f"levels: the database has {n} units at level '{level}', which is not listed; "
                "add the level back (optional: true if some places have none)"
            )
    return problems + await _check_target_units(session, catalog, folder, where)


async def _check_target_units(
    session: AsyncSession, catalog: Catalog, folder: Path, where: Locator
) -> list[str]:
    wanted = {code for t in catalog.targets for code in t.units}
    if catalog.province:
        wanted.add(catalog.province)
    if not wanted:
        return []
    found = set((await session.scalars(select(OrgUnit.code).where(OrgUnit.code.in_(wanted)))).all())
    if wanted <= found:
        return []
    name = "targets.yaml"
    problems = []
    if catalog.province and catalog.province not in found:
        problems.append(
            f"{folder / 'hierarchy.yaml'}:{where.line('hierarchy.yaml', ('province',))}: "
            f"province: no unit '{catalog.province}' in the database; import the units "
            "(hoibot units import) or write the province's unit code"
        )
    for i, target in enumerate(catalog.targets):
        for j, code in enumerate(target.units):
            if code not in found:
                problems.append(
                    f"{where(name, ('targets', i, 'units', j), f'units.{j}')} no unit '{code}' "
                    "in the database; write the code of an imported unit"
                )
    return problems
