"""`hoibot units`: the organisation units, and the changes of a year (a new name, a move to
another parent, a closing, a merge of two communes into one)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import typer

from bot.cli.base import CliError, plural
from bot.cli.imports import import_file
from bot.cli.runner import run_with_context
from bot.cli.who import operator, unit_or_error
from bot.context import AppContext
from storage.db.models import OrgUnit

group = typer.Typer(help="Organisation units.")


def day_option(text: str | None, today: date) -> date:
    from storage.plan.clock import read_day

    if text is None:
        return today
    found = read_day(text)
    if found is None:
        raise CliError(f"--on {text!r} is not a date: write it as 2026-07-01 or 01/07/2026.")
    return found


@group.command("import")
def units_import(
    file: Path = typer.Argument(
        ...,
        exists=True,
        help="CSV or XLSX: code, name, level, parent_code [, valid_from, member_count]",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check only; write nothing."),
) -> None:
    """Import or update units; a changed parent moves the unit (history is kept)."""
    import_file("units", file, dry_run)


@group.command("list")
def units_list(
    under: str = typer.Option(None, "--under", help="Only this unit and what lies below it"),
    closed: bool = typer.Option(False, "--closed", help="Also the closed and merged units"),
) -> None:
    """The tree of units: code, name, level, how many people and how many of them joined."""
    from sqlalchemy import select

    from storage.db.models import ChannelIdentity, Person
    from storage.db.people import JOIN_CHANNELS
    from storage.db.units import subtree_filter
    from storage.plan.text import vi_sort_key

    async def work(ctx: AppContext) -> list[str]:
        async with ctx.sessions() as session:
            root = await unit_or_error(session, under) if under else None
            query = select(OrgUnit)
            if root is not None:
                query = query.where(subtree_filter(root.path))
            units = list((await session.scalars(query)).all())
            people = select(Person.id, Person.unit_id).where(Person.active.is_(True))
            joined = set(
                (
                    await session.scalars(
                        select(ChannelIdentity.person_id).where(
                            ChannelIdentity.channel.in_(JOIN_CHANNELS)
                        )
                    )
                ).all()
            )
            total: Counter[int] = Counter()
            linked: Counter[int] = Counter()
            by_id = {u.id: u for u in units}
            for pid, uid in (await session.execute(people)).all():
                unit = by_id.get(uid)
                if unit is None:
                    continue
                for part in unit.path.strip("/").split("/"):
                    total[int(part)] += 1
                    linked[int(part)] += pid in joined
            kids: dict[int | None, list[OrgUnit]] = {}
            for u in units:
                parent = u.parent_id if u.parent_id in by_id else None
                kids.setdefault(parent, []).append(u)
            names = {u.id: u.code for u in units}
            lines: list[str] = []

            def walk(unit: OrgUnit, depth: int) -> None:
                if unit.valid_to is not None and not closed:
                    return
                state = ""
                if unit.merged_into_id is not None:
                    into = names.get(unit.merged_into_id, f"#{unit.merged_into_id}")
                    first = unit.valid_to + timedelta(days=1)  # type: ignore[operator]
                    state = f", merged into {into} from {first:%d/%m/%Y}"
                elif unit.valid_to is not None:
                    state = f", closed after {unit.valid_to:%d/%m/%Y}"
                lines.append(
                    f"{'  ' * depth}{unit.code}  {unit.name}  ({unit.level}{state})  "
                    f"{plural(total[unit.id], 'person', 'people')}, {linked[unit.id]} joined"
                )
                for child in sorted(kids.get(unit.id, []), key=lambda u: vi_sort_key(u.name)):
                    walk(child, depth + 1)

            for top in sorted(kids.get(None, []), key=lambda u: vi_sort_key(u.name)):
                walk(top, 0)
            shown = sum(1 for u in units if closed or u.valid_to is None)
            lines.append(f"{plural(shown, 'unit')}.")
            return lines

    for line in run_with_context(work):
        typer.echo(line)


@group.command("rename")
def units_rename(
    code: str = typer.Argument(..., help="The unit's code"),
    name: str = typer.Argument(..., help="Its new name"),
) -> None:
    """Give a unit a new name (its code, history and people stay)."""
    from storage.db.sessions import transaction
    from storage.db.units import rename_unit
    from storage.plan.text import tidy

    new = tidy(name)
    if not new:
        raise CliError('The new name is empty: write the unit\'s name, e.g. "Xã Sơn Bình".')

    async def work(ctx: AppContext) -> str:
        async with transaction(ctx.sessions) as session:
            unit = await unit_or_error(session, code)
            old = unit.name
            rename_unit(unit, new)
            return old

    old = run_with_context(work)
    typer.echo(f"Renamed {code}: {old} → {new}.")


@group.command("move")
def units_move(
    code: str = typer.Argument(..., help="The unit's code"),
    to: str = typer.Option(..., "--to", help="The code of its new parent"),
    on: str = typer.Option(None, "--on", help="From this day (default: today)"),
) -> None:
    """Move a unit (and everything below it) under another parent; its history goes with
    it, the old parent stays in its history."""
    from storage.db.sessions import transaction
    from storage.db.units import UnitError, allowed_parent_levels, move_unit

    async def work(ctx: AppContext) -> tuple[OrgUnit, OrgUnit]:
        since = day_option(on, ctx.clock.today())
        async with transaction(ctx.sessions) as session:
            unit = await unit_or_error(session, code)
            parent = await unit_or_error(session, to)
            if unit.valid_to is not None:
                raise UnitError("not_open", unit.code)
            allowed = allowed_parent_levels(ctx.catalog, unit.level)
            if parent.level not in allowed:
                raise UnitError("parent_level", unit.code, [parent.level, *allowed])
            if parent.path.startswith(unit.path):
                raise CliError(f"{to} is {code} itself or below it: a unit cannot go under itself.")
            if parent.id == unit.parent_id:
                raise CliError(f"{code} is under {to} already.")
            await move_unit(session, ctx.catalog, unit, parent, since)
            return unit, parent

    unit, parent = run_with_context(work)
    typer.echo(f"Moved {unit.code} {unit.name} under {parent.code} {parent.name}.")


@group.command("close")
def units_close(
    code: str = typer.Argument(..., help="The unit's code"),
    on: str = typer.Option(None, "--on", help="The first day it no longer exists (default: today)"),
) -> None:
    """Close a unit that no longer exists (its reports stay); refused while units below it
    or people in it are still active."""
    from sqlalchemy import func, select

    from storage.db.models import Person
    from storage.db.sessions import transaction
    from storage.db.units import close_unit

    async def work(ctx: AppContext) -> OrgUnit:
        since = day_option(on, ctx.clock.today())
        async with transaction(ctx.sessions) as session:
            unit = await unit_or_error(session, code)
            active = await session.scalar(
                select(func.count())
                .select_from(Person)
                .where(Person.unit_id == unit.id, Person.active.is_(True))
            )
            if active:
                raise CliError(
                    f"{code} still has {plural(int(active), 'active person', 'active people')}: "
                    "deactivate them or move them to another unit first (hoibot people)."
                )
            await close_unit(session, unit, since)
            return unit

    unit = run_with_context(work)
    assert unit.valid_to is not None
    typer.echo(f"Closed {unit.code} {unit.name}: its last day was {unit.valid_to:%d/%m/%Y}.")


@group.command("merge")
def units_merge(
    codes: list[str] = typer.Argument(..., help="The codes of the units that merge"),
    into: str = typer.Option(
        ..., "--into", help="The unit they become: an existing code, or a new one"
    ),
    name: str = typer.Option(None, "--name", help="The new unit's name (when --into is new)"),
    on: str = typer.Option(None, "--on", help="The first day of the merged unit (default: today)"),
) -> None:
    """Merge units (two communes become one, as in 2025). The units below them move to the
    merged unit, their people too; their reports and totals become its history, and from
    the merge on targets count the merged unit in their place."""
    from storage.db import people as people_service
    from storage.db.models import Person
    from storage.db.sessions import transaction
    from storage.db.units import children, create_unit, merge_units, unit_by_code
    from storage.plan.text import fold, tidy

    async def work(
        ctx: AppContext,
    ) -> tuple[OrgUnit, list[OrgUnit], list[OrgUnit], list[str], list[list[str]], date]:
        from sqlalchemy import select

        since = day_option(on, ctx.clock.today())
        async with transaction(ctx.sessions) as session:
            merged = [await unit_or_error(session, c) for c in dict.fromkeys(codes)]
            target = await unit_by_code(session, into)
            if target is None:
                if not name or not tidy(name):
                    raise CliError(
                        f"There is no unit {into!r} yet: give its name with --name to create "
                        "it, or the code of an existing unit."
                    )
                parents = {u.parent_id for u in merged}
                if len(parents) != 1:
                    raise CliError(
                        f"{', '.join(codes)} are under different parents: create {into} first "
                        "(hoibot units import) or merge into an existing unit."
                    )
                parent = await session.get(OrgUnit, parents.pop())
                target = await create_unit(
                    session,
                    code=into,
                    name=tidy(name),
                    level=merged[0].level,
                    parent=parent,
                    valid_from=since,
                    member_count=_sum_members(merged),
                )
            elif name:
                raise CliError(f"{into} exists already: leave out --name (or rename it).")
            moved = await merge_units(
                session, ctx.catalog, [u for u in merged if u.id != target.id], target, since
            )
            people = (
                await session.scalars(
                    select(Person).where(
                        Person.unit_id.in_([u.id for u in merged if u.id != target.id]),
                        Person.active.is_(True),
                    )
                )
            ).all()
            who = []
            for person in people:
                await people_service.edit_person(
                    session, ctx.catalog, person, by=operator(), now=ctx.clock.now(), unit=target
                )
                who.append(f"#{person.id} {person.full_name}")
            names: dict[str, list[str]] = {}
            for unit in await children(session, target, since):
                names.setdefault(fold(unit.name), []).append(unit.code)
            twins = [same for same in names.values() if len(same) > 1]
            gone = [u for u in merged if u.id != target.id]
            return target, gone, moved, who, twins, since

    target, merged, moved, who, twins, since = run_with_context(work)
    typer.echo(
        f"Merged {', '.join(u.code for u in merged)} into {target.code} {target.name} from "
        f"{since:%d/%m/%Y}: {plural(len(moved), 'unit')} below them moved to it; "
        "their reports count in its history."
    )
    if who:
        typer.echo(
            f"Their people now belong to {target.code}: {', '.join(who)} (deactivate whoever "
            "no longer serves: hoibot people deactivate)."
        )
    for pair in twins:
        typer.echo(
            f"Note: {' and '.join(pair)} now share a name under {target.code}: rename them "
            "(hoibot units rename CODE NAME) so that staff can tell them apart."
        )


def _sum_members(units: list[OrgUnit]) -> int | None:
    counts = [u.member_count for u in units]
    return sum(c for c in counts if c is not None) if any(c is not None for c in counts) else None
