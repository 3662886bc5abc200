"""The organisation tree: creating, moving, merging and finding units.

Each unit stores its materialised path of ids ("/1/17/342/"): a subtree is every unit whose
path starts with the root's path, a range scan on one index on both databases, and "is X inside
Y" is a string prefix test. The closure table `unit_ancestors` holds every (ancestor, unit)
pair, so rollups group reports by many subtree roots at once with an equality join. Moving a
unit rewrites both for its subtree and records the old parent in `unit_parent_history`.
Reports stay attached to their unit, so after a move they roll up into the new parent.

A merge (`merge_units`, two communes become one, as in 2025) moves the open units below the old
ones under the new one, then closes the old ones and keeps them under it: the merged unit's
subtree counts everything its predecessors and their branches reported, before and after the
merge. A unit merged away is expected to report (and reminded) only in windows that end by its
last day; from the merge on, its successor is (`active_on`). Figures (a coverage, a breakdown)
are read on today's units, as after a move: the successor stands for its predecessors in any
window (`counted_on`, `children`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.db import aggregates
from storage.db.models import OrgUnit, UnitAncestor, UnitParentHistory
from storage.plan.catalog import Catalog
from storage.plan.text import fold, vi_sort_key


def subtree_filter(path: str, column: ColumnElement[str] | None = None) -> ColumnElement[bool]:
    """Rows whose path lies under `path` (inclusive), as an index range."""
    col = OrgUnit.path if column is None else column
    return and_(col >= path, col < path[:-1] + "0")


def active_on(
    day_from: date, day_to: date | None = None, unit: Any = OrgUnit
) -> ColumnElement[bool]:
    """Units that stand in the window (who is expected to report, and reminded): that existed
    at some point between the two days, but for a unit merged into another, which stands only
    in windows that end by its last day (after that its successor counts for it)."""
    day_to = day_to or day_from
    return and_(
        unit.valid_from <= day_to,
        (unit.valid_to.is_(None)) | (unit.valid_to >= day_from),
        (unit.merged_into_id.is_(None)) | (unit.valid_to >= day_to),
    )


def counted_on(day_from: date, day_to: date | None = None) -> ColumnElement[bool]:
    """Units whose figures a window shows (a coverage, a breakdown): those standing then,
    except that a unit merged into another is shown as its successor, which carries its
    history, in every window (also one before the merge: figures are read on today's units,
    as after a move)."""
    day_to = day_to or day_from
    before = aliased(OrgUnit)
    # Not correlated: read once (a hashed lookup), not once per unit of a national tree.
    successors = select(before.merged_into_id).where(
        before.merged_into_id.is_not(None), active_on(day_from, day_to, before)
    )
    return and_(
        OrgUnit.merged_into_id.is_(None),
        or_(active_on(day_from, day_to), OrgUnit.id.in_(successors)),
    )


def stands(unit: OrgUnit, day_from: date, day_to: date | None = None) -> bool:
    """`active_on` for a unit already read."""
    day_to = day_to or day_from
    if unit.valid_from > day_to or (unit.valid_to is not None and unit.valid_to < day_from):
        return False
    return unit.merged_into_id is None or (unit.valid_to is not None and unit.valid_to >= day_to)


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


class UnitError(ValueError):
    """A change to the tree that cannot be made; `reason` and `subject` let the command line
    say why (not_open, same_unit, level, inside, parent_level, has_units)."""

    def __init__(self, reason: str, subject: str = "", details: list[str] | None = None) -> None:
        super().__init__(f"{reason}: {subject}")
        self.reason, self.subject, self.details = reason, subject, details or []


def allowed_parent_levels(catalog: Catalog, level: str) -> list[str]:
    """The levels a unit of `level` may hang under: the one directly above, and above an
    optional one (a district level skipped where there is none)."""
    allowed: list[str] = []
    for above in reversed(catalog.levels[: catalog.level_index(level)]):
        allowed.append(above.code)
        if not above.optional:
            break
    return allowed


async def merge_units(
    session: AsyncSession, catalog: Catalog, merged: list[OrgUnit], into: OrgUnit, on: date
) -> list[OrgUnit]:
    """`merged` units become `into` from day `on`: the open units below them move under it,
    then they close on the day before and are kept under it (`merged_into_id`), so their
    history, their branches' included, rolls up into the unit that replaced them. Returns
    the units moved from below them."""
    for unit in merged:
        if unit.valid_to is not None:
            raise UnitError("not_open", unit.code)
        if unit.level != into.level:
            raise UnitError("level", unit.code, [unit.level, into.level])
        if unit.id == into.id or is_within(into, unit) or is_within(unit, into):
            raise UnitError("inside", unit.code)
    moved: list[OrgUnit] = []
    for unit in merged:
        below = await session.scalars(
            select(OrgUnit).where(OrgUnit.parent_id == unit.id, OrgUnit.valid_to.is_(None))
        )
        for child in below.all():
            await move_unit(session, catalog, child, into, on)
            moved.append(child)
        await move_unit(session, catalog, unit, into, on)
        unit.valid_to = on - timedelta(days=1)
        unit.merged_into_id = into.id
    await session.flush()
    return moved


async def close_unit(session: AsyncSession, unit: OrgUnit, on: date) -> None:
    """The unit ends on the day before `on`; refused while open units are below it."""
    if unit.valid_to is not None:
        raise UnitError("not_open", unit.code)
    open_below = await session.scalar(
        select(func.count())
        .select_from(OrgUnit)
        .where(subtree_filter(unit.path), OrgUnit.id != unit.id, OrgUnit.valid_to.is_(None))
    )
    if open_below:
        raise UnitError("has_units", unit.code, [str(open_below)])
    unit.valid_to = on - timedelta(days=1)
    await session.flush()


def rename_unit(unit: OrgUnit, name: str) -> None:
    unit.name, unit.name_folded = name, fold(name)


async def all_units(session: AsyncSession) -> list[OrgUnit]:
    return list((await session.scalars(select(OrgUnit))).all())


async def units_by_id(session: AsyncSession, ids: list[int]) -> dict[int, OrgUnit]:
    if not ids:
        return {}
    return {u.id: u for u in (await session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids))))}


async def unit_by_code(session: AsyncSession, code: str) -> OrgUnit | None:
    return await session.scalar(select(OrgUnit).where(OrgUnit.code == code))


async def children(
    session: AsyncSession, unit: OrgUnit, on: date | None = None, until: date | None = None
) -> list[OrgUnit]:
    """The units directly below `unit` (with `on`: those standing between `on` and `until`),
    in Vietnamese order. A unit merged into another is shown as its successor, which stands
    in any window where one of its predecessors does: a breakdown of a quarter before a merge
    shows the merged commune with all its branches' figures, not two halves of it."""
    kids = list((await session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id))).all())
    if on is not None:
        kids = [k for k in kids if k.merged_into_id is None]
        predecessors = await _predecessors(session, [k.id for k in kids])
        kids = [
            k
            for k in kids
            if stands(k, on, until) or any(stands(p, on, until) for p in predecessors[k.id])
        ]
    return sorted(kids, key=lambda u: vi_sort_key(u.name))


async def _predecessors(session: AsyncSession, ids: list[int]) -> dict[int, list[OrgUnit]]:
    """The units merged into each of `ids`, and into those, and so on."""
    out: dict[int, list[OrgUnit]] = {i: [] for i in ids}
    owner = {i: i for i in ids}
    frontier = ids
    while frontier:
        found = (
            await session.scalars(select(OrgUnit).where(OrgUnit.merged_into_id.in_(frontier)))
        ).all()
        frontier = []
        for unit in found:
            root = owner[unit.merged_into_id]  # type: ignore[index]
            out[root].append(unit)
            owner[unit.id] = root
            frontier.append(unit.id)
    return out


async def successor(session: AsyncSession, unit: OrgUnit) -> OrgUnit:
    """The unit that stands for `unit` now: itself, or the one it was merged into (in turn)."""
    seen = {unit.id}
    while unit.merged_into_id is not None and unit.merged_into_id not in seen:
        found = await session.get(OrgUnit, unit.merged_into_id)
        if found is None:
            break
        seen.add(found.id)
        unit = found
    return unit


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
    """Units inside `within` whose code is `words` or whose name contains all its words; else
    a unit named with one above it, in either order ("thôn 4 suối tân", "Xã Suối Tân, thôn 4"):
    a province has dozens of "Chi hội thôn 4", told apart only by their commune."""
    found = await _units_named(session, words, within, limit)
    if found:
        return found
    coded = await _unit_coded(session, words, within)
    if coded:
        return [coded]
    return (await _units_named_with_parent(session, words, within))[:limit]


async def _unit_coded(session: AsyncSession, words: str, within: OrgUnit) -> OrgUnit | None:
    """A unit named by its code with its name ("Chi hội thôn 1 KH-CL-02-01", "thôn 1 mã
    KH-CL-02-01"): two branches of a merged commune may share both name and parent, and the
    code is then all that tells them apart. The other words must fit the unit's name or its
    parent's, so a code typed by chance beside another unit's name finds nothing."""
    tokens = words.replace(",", " ").split()
    if len(tokens) < 2:
        return None
    spellings = {t: _code_spellings(t) for t in tokens}
    rows = (
        await session.scalars(
            select(OrgUnit).where(
                OrgUnit.code.in_(set().union(*spellings.values())), subtree_filter(within.path)
            )
        )
    ).all()
    for unit in rows:
        at = next(i for i, t in enumerate(tokens) if unit.code in spellings[t])
        rest = tokens[:at] + tokens[at + 1 :]
        if at > 0 and fold(tokens[at - 1]) == "ma":  # "mã KH-CL-02-01"
            rest = tokens[: at - 1] + tokens[at + 1 :]
        parent = await session.get(OrgUnit, unit.parent_id) if unit.parent_id else None
        names = unit.name_folded + " " + (parent.name_folded if parent else "")
        if all(word in names.split() for word in fold(" ".join(rest)).split()):
            return unit
    return None


async def _units_named_with_parent(
    session: AsyncSession, words: str, within: OrgUnit
) -> list[OrgUnit]:
    tokens = fold(words).replace(",", " ").split()
    found: dict[int, OrgUnit] = {}
    for cut in range(1, len(tokens)):
        for own, above in ((tokens[:cut], tokens[cut:]), (tokens[cut:], tokens[:cut])):
            for parent in await _units_named(session, " ".join(above), within, 10):
                for unit in await _units_named(session, " ".join(own), parent, 10):
                    if unit.id != parent.id:
                        found[unit.id] = unit
    return sorted(found.values(), key=lambda u: (u.depth, vi_sort_key(u.name), u.code))


async def parent_names(session: AsyncSession, units: list[OrgUnit]) -> list[str | None]:
    """The name of each unit's parent (None at the root): how a unit is told apart from its
    namesakes ("Chi hội thôn 4 (Xã Suối Tân)")."""
    parent_ids = {u.parent_id for u in units if u.parent_id is not None}
    rows = (await session.scalars(select(OrgUnit).where(OrgUnit.id.in_(parent_ids)))).all()
    names = {u.id: u.name for u in rows}
    return [names.get(u.parent_id) if u.parent_id is not None else None for u in units]


async def former_parent_names(session: AsyncSession, units: list[OrgUnit]) -> list[str | None]:
    """The name of the parent each unit had last before its present one (None if it never
    moved): after a merge, two "Chi hội thôn 1" of "Xã Cam Hải" are still known by the
    communes they came from."""
    rows = (
        await session.execute(
            select(UnitParentHistory.unit_id, OrgUnit.name)
            .join(OrgUnit, OrgUnit.id == UnitParentHistory.parent_id)
            .where(
                UnitParentHistory.unit_id.in_([u.id for u in units]),
                UnitParentHistory.valid_to.is_not(None),
            )
            .order_by(UnitParentHistory.valid_to, UnitParentHistory.id)
        )
    ).all()
    names = {unit_id: name for unit_id, name in rows}  # the latest wins
    return [names.get(u.id) for u in units]


def _code_spellings(typed: str) -> set[str]:
    """How a code typed on a phone may differ from the stored one only in case ("kh-ks",
    "b3b" for "B3b"), as exact values: the lookup stays on the code's index."""
    return {typed, typed.upper(), typed.lower(), typed.capitalize()}


async def _units_named(
    session: AsyncSession, words: str, within: OrgUnit, limit: int
) -> list[OrgUnit]:
    folded = fold(words)
    if not folded:
        return []
    exact = await session.scalar(
        select(OrgUnit).where(
            OrgUnit.code.in_(_code_spellings(words.strip())), subtree_filter(within.path)
        )
    )
    if exact:
        return [exact]
    query = select(OrgUnit).where(subtree_filter(within.path))
    for word in folded.split():
        query = query.where(OrgUnit.name_folded.contains(word))
    rows = list(
        (await session.scalars(query.order_by(OrgUnit.depth, OrgUnit.code).limit(50))).all()
    )
    # A name that matches whole is preferred to one that merely contains the words.
    whole = [u for u in rows if u.name_folded.endswith(folded) or u.name_folded == folded]
    return (whole or rows)[:limit]


def is_within(unit: OrgUnit, scope: OrgUnit) -> bool:
    return unit.path.startswith(scope.path)
