"""`hoibot people` and `hoibot invite`: people, their roles, their invitations, and the
changes of a year (an edit, a departure, a handover), each one audited."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.cli.base import CliError, app, plural
from bot.cli.imports import import_file
from bot.cli.runner import is_demo_config, output_path, run_with_context
from bot.cli.who import day, invite_link, minute, one_person, operator, record, unit_or_error
from bot.config import DEMO_BOT_USERNAME, get_settings
from bot.context import AppContext
from storage.db.models import Invitation, OrgUnit, Person
from storage.db.people import PersonRow

group = typer.Typer(help="People and their roles.")

LIST_HEADERS = ["Id", "Name", "Role", "Unit", "Code", "Path", "Phone", "Joined", "Last wrote"]


def warn_without_username() -> None:
    if get_settings().telegram_bot_username:
        return
    if is_demo_config():
        typer.echo(
            f"Note: TELEGRAM_BOT_USERNAME is not set, so the links name the demo's bot "
            f"({DEMO_BOT_USERNAME}); set it in .env to your bot's username.",
            err=True,
        )
    else:
        typer.echo(
            "Note: TELEGRAM_BOT_USERNAME is not set, so no Telegram links are written (the "
            "codes work when typed to the bot); set it in .env to your bot's username "
            "(without @) to get links.",
            err=True,
        )


def invitation_cells(ctx: AppContext, inv: Invitation) -> list[str]:
    from storage.db.invitations import pretty

    return [pretty(inv.code), invite_link(ctx, inv.code), day(inv.expires_at)]


def path_text(row: PersonRow) -> str:
    return " › ".join(u.name for u in row.path)


def joined_text(row: PersonRow) -> str:
    if not row.joined:
        return "not joined"
    return ", ".join(f"{channel} {day(at)}" for channel, at in row.channels)


async def listing(
    ctx: AppContext,
    *,
    unit: str | None = None,
    role: str | None = None,
    not_joined: bool = False,
    include_inactive: bool = False,
) -> list[PersonRow]:
    """`hoibot people list`'s rows (what another command may wrap, e.g. to record who looked
    at personal data)."""
    from storage.db import people
    from storage.db.models import Role

    if role is not None and role not in Role.ALL:
        raise CliError(f"--role {role!r} is not a role: give one of {', '.join(Role.ALL)}.")
    async with ctx.sessions() as session:
        under = await unit_or_error(session, unit) if unit else None
        return await people.listing(
            session,
            under=under,
            role=role,
            not_joined=not_joined,
            include_inactive=include_inactive,
        )


def row_cells(row: PersonRow) -> list[str]:
    p = row.person
    return [
        str(p.id),
        p.full_name + ("" if p.active else " (deactivated)"),
        p.role,
        row.unit.name,
        row.unit.code,
        path_text(row),
        p.phone or "",
        joined_text(row),
        minute(row.last_seen),
    ]


@group.command("list")
def people_list(
    unit: str = typer.Option(None, "--unit", help="Only the people of this unit and below"),
    role: str = typer.Option(None, "--role", help="Only this role (e.g. branch_leader)"),
    not_joined: bool = typer.Option(
        False, "--not-joined", help="Only those who have not joined the bot yet"
    ),
    inactive: bool = typer.Option(False, "--inactive", help="Also the deactivated"),
    out: Path = typer.Option(None, "--out", help="Write the list to .xlsx or .csv"),
) -> None:
    """Who is in the system: id, name, role, unit and its path, phone, the channels she has
    joined and when she last wrote; unit by unit in Vietnamese order."""
    if out:
        output_path(out, (".xlsx", ".csv"))

    async def work(ctx: AppContext) -> list[PersonRow]:
        found = await listing(
            ctx, unit=unit, role=role, not_joined=not_joined, include_inactive=inactive
        )
        asked = [f"--unit {unit}" if unit else "", f"--role {role}" if role else ""]
        asked += ["--not-joined" if not_joined else "", "--inactive" if inactive else ""]
        shown = " ".join(a for a in asked if a) or "everyone"
        await record(ctx, "list", None, f"{shown}: {plural(len(found), 'person', 'people')}")
        return found

    rows = run_with_context(work)
    if out:
        write_table(out, LIST_HEADERS, [row_cells(r) for r in rows])
    else:
        for row in rows:
            cells = row_cells(row)
            where = f"{cells[3]} ({cells[4]})" + (f", {cells[5]}" if cells[5] else "")
            seen = f"; last wrote {cells[8]}" if cells[8] else ""
            typer.echo(
                f"#{cells[0]}  {cells[1]}  {cells[2]}  {where}  {cells[6] or 'no phone'}  "
                f"{cells[7]}{seen}"
            )
    joined = sum(1 for r in rows if r.joined)
    typer.echo(
        f"{plural(len(rows), 'person', 'people')}"
        + (f" written to {out}" if out else "")
        + ("" if not_joined else f": {joined} joined, {len(rows) - joined} not yet")
        + "."
    )


@group.command("show")
def people_show(ref: str = typer.Argument(..., help="Person id, phone or name")) -> None:
    """One person: her record, accounts, invitations and every change made to her."""
    from sqlalchemy import select

    from storage.db import people

    async def work(ctx: AppContext) -> list[str]:
        async with ctx.sessions() as session:
            person = await one_person(session, ref)
            unit = await session.get(OrgUnit, person.unit_id)
            assert unit is not None
            row = next(
                r
                for r in await people.listing(session, under=unit, include_inactive=True)
                if r.person.id == person.id
            )
            invitations = (
                await session.scalars(
                    select(Invitation)
                    .where(Invitation.person_id == person.id)
                    .order_by(Invitation.created_at)
                )
            ).all()
            lines = [
                f"#{person.id} {person.full_name}" + ("" if person.active else " (deactivated)"),
                f"  role: {person.role}",
                f"  unit: {unit.name} ({unit.code})" + (f", {path_text(row)}" if row.path else ""),
                f"  phone: {person.phone or 'none'}",
                f"  joined: {joined_text(row)}"
                + (f"; last wrote {minute(row.last_seen)}" if row.last_seen else ""),
            ]
            now = ctx.clock.now()
            for inv in invitations:
                code = invitation_cells(ctx, inv)
                state = (
                    f"used {day(inv.used_at)}"
                    if inv.used_at
                    else (f"valid until {code[2]}" if inv.expires_at > now else "ended")
                )
                lines.append(f"  invitation {code[0]}: {state}")
            changes = await people.changes_of(session, person)
            if changes:
                lines.append("  changes:")
            for change in changes:
                by = change.by_operator or f"#{change.by_person_id}"
                lines.append(
                    f"    {minute(change.changed_at)} {change.action} by {by}: "
                    f"{describe_change(change.before, change.after)}"
                    + (f" ({change.note})" if change.note else "")
                )
        await record(ctx, "show", person, "people show")
        return lines

    for line in run_with_context(work):
        typer.echo(line)


def describe_change(before: dict | None, after: dict | None) -> str:
    """ "phone – → 0912345678, unit C1 → C2"; a new person's fields when there was none."""

    def shown(value: object) -> str:
        if isinstance(value, list):
            return ", ".join(str(v) for v in value) or "–"
        return "–" if value is None else str(value)

    if before is None:
        return ", ".join(
            f"{k} {shown(v)}" for k, v in (after or {}).items() if v not in (None, [], True)
        )
    if after is None:
        return "removed"
    changed = [
        f"{k} {shown(before.get(k))} → {shown(after.get(k))}"
        for k in after
        if before.get(k) != after.get(k)
    ]
    return ", ".join(changed) or "no change"


@group.command("edit")
def people_edit(
    ref: str = typer.Argument(..., help="Person id, phone or name"),
    name: str = typer.Option(None, "--name", help="Her full name"),
    phone: str = typer.Option(None, "--phone", help='Her phone ("" to remove it)'),
    role: str = typer.Option(None, "--role", help="Her role (it must fit her unit's level)"),
    unit: str = typer.Option(None, "--unit", help="The code of her unit (moving ends her links)"),
) -> None:
    """Change a person's name, phone, role or unit (audited)."""
    from storage.db import people
    from storage.db.sessions import transaction

    if name is None and phone is None and role is None and unit is None:
        raise CliError("Give what to change: --name, --phone, --role or --unit.")

    async def work(ctx: AppContext) -> tuple[Person, dict]:
        async with transaction(ctx.sessions) as session:
            person = await one_person(session, ref, active_only=True)
            to = await unit_or_error(session, unit) if unit else None
            changed = await people.edit_person(
                session,
                ctx.catalog,
                person,
                by=operator(),
                now=ctx.clock.now(),
                name=name,
                phone=phone,
                role=role,
                unit=to,
            )
            return person, changed

    person, changed = run_with_context(work)
    if not changed:
        typer.echo(f"#{person.id} {person.full_name}: nothing changed.")
        return
    what = describe_change(
        {k: v[0] for k, v in changed.items()}, {k: v[1] for k, v in changed.items()}
    )
    typer.echo(f"Changed #{person.id} {person.full_name}: {what}.")


@group.command("deactivate")
def people_deactivate(
    ref: str = typer.Argument(..., help="Person id, phone or name"),
) -> None:
    """She no longer uses the bot: her chat accounts, unused invitations and tracker links
    end; what her unit reported stays, drafts included (audited)."""
    from storage.db import people
    from storage.db.sessions import transaction

    async def work(ctx: AppContext) -> tuple[Person, list[str]]:
        async with transaction(ctx.sessions) as session:
            person = await one_person(session, ref, active_only=True)
            before = await people.snapshot(session, person)
            await people.deactivate(session, person, by=operator(), now=ctx.clock.now())
            return person, before["channels"]

    person, channels = run_with_context(work)
    unlinked = f"her {' and '.join(channels)} account unlinked" if channels else "not joined"
    typer.echo(
        f"Deactivated #{person.id} {person.full_name} ({unlinked}); her unit's reports stay."
    )


@group.command("replace")
def people_replace(
    ref: str = typer.Argument(..., help="The person who steps down: id, phone or name"),
    name: str = typer.Option(..., "--name", help="Full name of the one who takes over"),
    phone: str = typer.Option(None, "--phone", help="Her phone"),
    days: int = typer.Option(None, "--days", help="Days her invitation stays valid"),
) -> None:
    """A handover in one step: the person steps down (deactivated), the new one takes her
    role and unit, and her invitation is printed to forward. The unit's reports and its
    unsent draft stay with the unit (audited)."""
    from storage.db import people
    from storage.db.invitations import invitation_for
    from storage.db.models import Submission, SubmissionStatus
    from storage.db.sessions import transaction

    valid_days = days if days is not None else get_settings().invitation_days
    if valid_days < 1:
        raise CliError(f"--days {valid_days}: a code must stay valid at least 1 day.")

    async def work(ctx: AppContext) -> tuple[Person, Person, OrgUnit, list[str], int]:
        from sqlalchemy import func, select

        async with transaction(ctx.sessions) as session:
            old = await one_person(session, ref, active_only=True)
            new = await people.replace(
                session,
                ctx.catalog,
                old,
                name=name,
                phone=phone,
                by=operator(),
                now=ctx.clock.now(),
            )
            inv, _ = await invitation_for(session, new, ctx.clock.now(), valid_days)
            unit = await session.get(OrgUnit, new.unit_id)
            assert unit is not None
            drafts = await session.scalar(
                select(func.count())
                .select_from(Submission)
                .where(Submission.unit_id == unit.id, Submission.status == SubmissionStatus.DRAFT)
            )
            return old, new, unit, invitation_cells(ctx, inv), int(drafts or 0)

    old, new, unit, code, drafts = run_with_context(work)
    warn_without_username()
    typer.echo(
        f"#{old.id} {old.full_name} stepped down; #{new.id} {new.full_name} is now "
        f"{new.role} of {unit.name} ({unit.code})."
    )
    typer.echo(
        f"Her invitation, to forward: {code[0]}"
        + (f"  {code[1]}" if code[1] else "")
        + f"  (valid until {code[2]})"
    )
    if drafts:
        typer.echo(
            "The unit's unsent draft waits for her: /baocao resumes it."
            if drafts == 1
            else f"The unit's {drafts} unsent drafts wait for her: /baocao resumes them."
        )


@group.command("import")
def people_import(
    file: Path = typer.Argument(
        ..., exists=True, help="CSV or XLSX: full_name, phone, role, unit_code [, channel]"
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check only; write nothing."),
) -> None:
    """Import people with their role and unit."""
    import_file("people", file, dry_run)


@app.command()
def invite(
    person: str = typer.Option(None, "--person", help="Person id, phone or name"),
    unit: str = typer.Option(None, "--unit", help="Every person of this unit and below"),
    out: Path = typer.Option(None, "--out", help="Write the invitations to .xlsx or .csv"),
    days: int = typer.Option(None, help="Days new codes stay valid (default from settings)"),
    renew: bool = typer.Option(
        False, "--renew", help="Replace unused codes with new ones (the old ones stop working)"
    ),
) -> None:
    """Invitation codes and Telegram links (single use, expiring).

    A person who has an unused code keeps it: running this again gives the same codes, unless
    --renew."""
    from storage.db.invitations import invitation_for
    from storage.db.people import people_under
    from storage.db.sessions import transaction
    from storage.plan import texts_vi as vi

    if not person and not unit:
        raise CliError("Give --person or --unit.")
    valid_days = days if days is not None else get_settings().invitation_days
    if valid_days < 1:
        raise CliError(f"--days {valid_days}: a code must stay valid at least 1 day.")
    if out:
        output_path(out, (".xlsx", ".csv"))

    async def work(ctx: AppContext) -> tuple[list[list[str]], int]:
        async with transaction(ctx.sessions) as session:
            if person:
                people = [await one_person(session, person, active_only=True)]
                if not people[0].active:
                    raise CliError(
                        f"#{people[0].id} {people[0].full_name} is deactivated: she cannot "
                        "join (`hoibot people replace` hands her unit to someone else)."
                    )
            else:
                people = await people_under(session, await unit_or_error(session, unit))
            rows, kept = [], 0
            for p in people:
                inv, new = await invitation_for(
                    session, p, ctx.clock.now(), valid_days, renew=renew
                )
                kept += not new
                where = await session.get(OrgUnit, p.unit_id)
                rows.append(
                    [
                        p.full_name,
                        vi.ROLE_NAMES.get(p.role, p.role),
                        where.name if where else "",
                        *invitation_cells(ctx, inv),
                    ]
                )
            return rows, kept

    rows, kept = run_with_context(work)
    warn_without_username()
    if out:
        write_table(out, vi.INVITE_HEADERS, rows)
    else:
        for row in rows:
            typer.echo("  ".join(cell for cell in row if cell))
    typer.echo(
        plural(len(rows), "invitation")
        + (f" written to {out}" if out else "")
        + f": {len(rows) - kept} new, {kept} unused from before"
        + (" (--renew replaces them)." if kept else ".")
    )


def write_table(path: Path, headers: list[str], rows: list[list[str]]) -> None:
    if path.suffix.lower() == ".csv":
        import csv

        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(headers)
            writer.writerows(rows)
        return
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    for i, header in enumerate(headers, start=1):
        longest = max([len(header), *(len(str(r[i - 1])) for r in rows[:200])])
        ws.column_dimensions[get_column_letter(i)].width = min(max(longest + 2, 8), 60)
    ws.freeze_panes = "A2"
    wb.save(path)
