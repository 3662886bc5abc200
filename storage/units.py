"""The organisation tree: creating, moving, merging and finding units.

Each unit stores its materialised path of ids ("/1/17/342/"): a subtree is every unit whose
path starts with the root's path, a range scan on one index on both databases, and "is X inside
Y" is a string prefix test. The closure table `unit_ancestors` holds every (ancestor, unit)
pair, so rollups group reports by many subtree roots at once with an equality join. Moving a
unit rewrites both for its subtree and records the old parent in `unit_parent_history`.
Reports stay attached to their unit, so after a move they roll up into the new parent, and
after a merge (old units closed and placed under the new one) the merged unit's subtree still
counts everything its predecessors reported.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage import aggregates
from storage.catalog import Catalog
from storage.models import OrgUnit, UnitAncestor, UnitParentHistory
from storage.text import fold, vi_sort_key


def subtree_filter(path: str, column: ColumnElement[str] | None = None) -> ColumnElement[bool]:
    """Rows whose path lies under `path` (inclusive), as an index range."""
    col = OrgUnit.path if column is None else column
    return and_(col >= path, col < path[:-1] + "0")


def active_on(day_from: date, day_to: date | None = None) -> ColumnElement[bool]:
    """Units that existed at some point between the two days."""
    day_to = day_to or day_from
    return and_(
        OrgUnit.valid_from <= day_to, (OrgUnit.valid_to.is_(None)) | (OrgUnit.valid_to >= day_from)
    )


async def create_unit(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    level: str,
    parent: OrgUnit | None,
    valid_from: date = date(2000, 1, 1),
    member_count: int | None = None,
) -> OrgUnit:
    unit = OrgUnit(
        code=code,
        name=name,
        name_folded=fold(name),
        level=level,
        parent_id=parent.id if parent else None,
        path="",
        depth=(parent.depth + 1) if parent else 0,
        valid_from=valid_from,
        member_count=member_count,
    )
    session.add(unit)
    await session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    await session.execute(
        insert(UnitAncestor).from_select(
            ["unit_id", "ancestor_id", "ancestor_level"],
            select(literal(unit.id), UnitAncestor.ancestor_id, UnitAncestor.ancestor_level).where(
                UnitAncestor.unit_id == (parent.id if parent else -1)
            ),
        )
    )
    session.add(UnitAncestor(unit_id=unit.id, ancestor_id=unit.id, ancestor_level=level))
    session.add(UnitParentHistory(unit_id=unit.id, parent_id=unit.parent_id, valid_from=valid_from))
    await session.flush()
    return unit


async def move_unit(
    session: AsyncSession, catalog: Catalog, unit: OrgUnit, new_parent: OrgUnit, on: date
) -> None:
    """Re-parent `unit` (and its subtree) from day `on`; the old parent stays in the history.
    The kept totals of the ancestors it leaves and joins are recomputed."""
    if new_parent.path.startswith(unit.path):
        raise ValueError("a unit cannot be moved under itself")
    old_chain = [int(i) for i in unit.path.strip("/").split("/")[:-1]]
    old_path = unit.path
    new_path = f"{new_parent.path}{unit.id}/"
    depth_change = new_parent.depth + 1 - unit.depth
    await session.execute(
        update(UnitParentHistory)
        .where(UnitParentHistory.unit_id == unit.id, UnitParentHistory.valid_to.is_(None))
        .values(valid_to=on)
    )
    session.add(UnitParentHistory(unit_id=unit.id, parent_id=new_parent.id, valid_from=on))
    await session.execute(
        update(OrgUnit)
        .where(subtree_filter(old_path))
        .values(
            path=func.replace(OrgUnit.path, old_path, new_path),
            depth=OrgUnit.depth + depth_change,
        )
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(OrgUnit).where(OrgUnit.id == unit.id).values(parent_id=new_parent.id)
    )
    # Closure: the subtree forgets its old outside ancestors and gains the new parent's.
    subtree = select(UnitAncestor.unit_id).where(UnitAncestor.ancestor_id == unit.id)
    await session.execute(
        delete(UnitAncestor).where(
            UnitAncestor.unit_id.in_(subtree), UnitAncestor.ancestor_id.not_in(subtree)
        )
    )
    above = aliased(UnitAncestor)
    below = aliased(UnitAncestor)
    await session.execute(
        insert(UnitAncestor).from_select(
            ["unit_id", "ancestor_id", "ancestor_level"],
            # Every new outside ancestor paired with every unit of the subtree.
            select(below.unit_id, above.ancestor_id, above.ancestor_level)
            .select_from(above)
            .join(below, true())
            .where(above.unit_id == new_parent.id, below.ancestor_id == unit.id),
        )
    )
    await session.flush()
    await session.refresh(unit)
    new_chain = [int(i) for i in new_parent.path.strip("/").split("/")]
    await aggregates.rebuild(session, catalog, set(old_chain) | set(new_chain))


async def merge_units(
    session: AsyncSession, catalog: Catalog, merged: list[OrgUnit], into: OrgUnit, on: date
) -> None:
    """Close `merged` units on the day before `on` and keep them under `into`, so their
    history rolls up into the unit that replaced them."""
    for unit in merged:
        await move_unit(session, catalog, unit, into, on)
        unit.valid_to = on - timedelta(days=1)
    await session.flush()


async def all_units(session: AsyncSession) -> list[OrgUnit]:
    return list((await session.scalars(select(OrgUnit))).all())


async def units_by_id(session: AsyncSession, ids: list[int]) -> dict[int, OrgUnit]:
    if not ids:
        return {}
    return {u.id: u for u in (await session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids))))}


async def unit_by_code(session: AsyncSession, code: str) -> OrgUnit | None:
    return await session.scalar(select(OrgUnit).where(OrgUnit.code == code))


async def children(session: AsyncSession, unit: OrgUnit, on: date | None = None) -> list[OrgUnit]:
    query = select(OrgUnit).where(OrgUnit.parent_id == unit.id)
    if on:
        query = query.where(active_on(on))
    return sorted((await session.scalars(query)).all(), key=lambda u: vi_sort_key(u.name))


async def ancestors(session: AsyncSession, unit: OrgUnit) -> list[OrgUnit]:
    """From the root down to `unit`'s parent."""
    ids = [int(p) for p in unit.path.strip("/").split("/")[:-1]]
    if not ids:
        return []
    rows = (await session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))).all()
    by_id = {u.id: u for u in rows}
    return [by_id[i] for i in ids if i in by_id]


async def find_units(
    session: AsyncSession, words: str, within: OrgUnit, limit: int = 10
) -> list[OrgUnit]:
    """Units inside `within` whose code is `words` or whose name contains all its words."""
    folded = fold(words)
    exact = await session.scalar(
        select(OrgUnit).where(OrgUnit.code == words.strip().upper(), subtree_filter(within.path))
    )
    if exact:
        return [exact]
    query = select(OrgUnit).where(subtree_filter(within.path))
    for word in folded.split():
        query = query.where(OrgUnit.name_folded.contains(word))
    rows = list((await session.scalars(query.order_by(OrgUnit.depth).limit(50))).all())
    # A name that matches whole is preferred to one that merely contains the words.
    whole = [u for u in rows if u.name_folded.endswith(folded) or u.name_folded == folded]
    return (whole or rows)[:limit]


def is_within(unit: OrgUnit, scope: OrgUnit) -> bool:
    return unit.path.startswith(scope.path)
