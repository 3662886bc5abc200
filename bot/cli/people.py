"""`hoibot people` and `hoibot invite`: people, their roles and their invitations."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.cli.base import CliError, app
from bot.cli.imports import import_file
from bot.cli.runner import output_path, run_with_context
from bot.config import get_settings
from bot.context import AppContext

group = typer.Typer(help="People and their roles.")


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
    from storage import texts_vi as vi
    from storage.clock import VN
    from storage.db import transaction
    from storage.invitations import invitation_for, pretty
    from storage.models import OrgUnit
    from storage.people import find_person, people_under
    from storage.units import unit_by_code

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
                people = await find_person(session, person)
                if len(people) != 1:
                    raise CliError(
                        f"{len(people)} people match {person!r}: give an id, a phone or a "
                        "fuller name."
                    )
            else:
                root = await unit_by_code(session, unit)
                if root is None:
                    raise CliError(f"No unit {unit!r}: give the code of an imported unit.")
                people = await people_under(session, root)
            rows, kept = [], 0
            for p in people:
                inv, new = await invitation_for(
                    session, p, ctx.clock.now(), valid_days, renew=renew
                )
                kept += not new
                where = await session.get(OrgUnit, p.unit_id)
                link = f"https://t.me/{ctx.settings.telegram_bot_username}?start={inv.code}"
                rows.append(
                    [
                        p.full_name,
                        vi.ROLE_NAMES.get(p.role, p.role),
                        where.name if where else "",
                        pretty(inv.code),
                        link,
                        inv.expires_at.astimezone(VN).strftime("%d/%m/%Y"),
                    ]
                )
            return rows, kept

    rows, kept = run_with_context(work)
    if out:
        _write_table(out, vi.INVITE_HEADERS, rows)
    else:
        for row in rows:
            typer.echo("  ".join(row))
    typer.echo(
        f"{len(rows)} invitations"
        + (f" written to {out}" if out else "")
        + f": {len(rows) - kept} new, {kept} unused from before"
        + (" (--renew replaces them)." if kept else ".")
    )


def _write_table(path: Path, headers: list[str], rows: list[list[str]]) -> None:
    if path.suffix.lower() == ".csv":
        import csv

        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(headers)
            writer.writerows(rows)
        return
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    for column, width in zip("ABCDEF", (28, 18, 28, 16, 52, 12), strict=True):
        ws.column_dimensions[column].width = width
    ws.freeze_panes = "A2"
    wb.save(path)
