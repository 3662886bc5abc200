"""The `hoibot` command line: database, demo, imports, invitations, reports, chat and run."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress

from bot.config import get_settings
from bot.context import AppContext

app = typer.Typer(
    help="Reporting bot of the Vietnam Women's Union (Hội LHPN Việt Nam).", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.")
units_app = typer.Typer(help="Organisation units.")
people_app = typer.Typer(help="People and their roles.")
reports_app = typer.Typer(help="Past reports brought in from Excel.")
report_app = typer.Typer(help="Totals, progress and completeness, as the staff see them.")
reminders_app = typer.Typer(help="Reminders and digests on the reporting schedule.")
outbox_app = typer.Typer(help="The queue of messages the bot sends unasked.")
app.add_typer(db_app, name="db")
app.add_typer(units_app, name="units")
app.add_typer(people_app, name="people")
app.add_typer(reports_app, name="reports")
app.add_typer(report_app, name="report")
app.add_typer(reminders_app, name="reminders")
app.add_typer(outbox_app, name="outbox")
console = Console()
T = TypeVar("T")


def run_with_context(work: Callable[[AppContext], Awaitable[T]]) -> T:
    async def main() -> T:
        ctx = AppContext.create(get_settings())
        try:
            return await work(ctx)
        finally:
            await ctx.close()

    return asyncio.run(main())


def fail(message: str) -> None:
    console.print(f"[red]{message}[/red]")
    raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest version."""
    from storage.migrate import upgrade

    run_with_context(lambda ctx: upgrade(ctx.engine))
    console.print("Database is up to date.")


@app.command()
def demo(
    small: bool = typer.Option(False, help="A smaller tree and 6 months (for quick tries)."),
) -> None:
    """Build the Khánh Hòa demo province into an empty database."""
    from storage.db import transaction
    from storage.demo import build_demo
    from storage.migrate import upgrade

    async def work(ctx: AppContext) -> Any:
        await upgrade(ctx.engine)
        async with transaction(ctx.sessions) as session:
            return await build_demo(
                session,
                ctx.catalog,
                ctx.settings.hoibot_config_dir,
                ctx.clock.today(),
                **({"branches_per_commune": (2, 3), "months": 6} if small else {}),
            )

    try:
        summary = run_with_context(work)
    except RuntimeError as exc:
        fail(str(exc))
        return
    console.print(
        f"Demo province built: {summary.units} units, {summary.people} people, "
        f"{summary.submissions} reports, {summary.values} values."
    )
    for role, person in summary.sample_people.items():
        console.print(f"  {role:17} id {person.id:<5} {person.full_name} ({person.phone})")


def _import(kind: str, file: Path, dry_run: bool) -> None:
    from storage.db import transaction
    from storage.importing import ImportFailed, import_people, import_units, read_rows

    async def work(ctx: AppContext) -> Any:
        total = len(read_rows(file, {}))
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task(f"Importing {file.name}", total=total)

            def step(n: int) -> None:
                bar.update(task, completed=n)

            async with transaction(ctx.sessions) as session:
                if kind == "units":
                    return await import_units(
                        session, ctx.catalog, file, dry_run=dry_run, progress=step
                    )
                return await import_people(
                    session, ctx.catalog, file, now=ctx.clock.now(), dry_run=dry_run, progress=step
                )

    try:
        result = run_with_context(work)
    except ImportFailed as exc:
        _refused(exc.errors)
        return
    verb = "Would import" if dry_run else "Imported"
    console.print(
        f"{verb} {result.rows} rows: {result.created} new, {result.updated} updated"
        + (f", {result.moved} moved" if result.moved else "")
        + "."
    )


def _refused(errors: list[str]) -> None:
    for line in errors:
        typer.echo(line, err=True)  # one line each, unwrapped: the operator may grep them
    fail(f"Nothing was imported: {len(errors)} error(s).")


@units_app.command("import")
def units_import(
    file: Path = typer.Argument(
        ...,
        exists=True,
        help="CSV or XLSX: code, name, level, parent_code [, valid_from, member_count]",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check only; write nothing."),
) -> None:
    """Import or update units; a changed parent moves the unit (history is kept)."""
    _import("units", file, dry_run)


@people_app.command("import")
def people_import(
    file: Path = typer.Argument(
        ..., exists=True, help="CSV or XLSX: full_name, phone, role, unit_code [, channel]"
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check only; write nothing."),
) -> None:
    """Import people with their role and unit."""
    _import("people", file, dry_run)


@reports_app.command("import")
def reports_import(
    file: Path = typer.Argument(
        ...,
        exists=True,
        help="XLSX or CSV: one row per unit (code, or its names by level), one column per "
        "question (indicator code or label); a workbook from `hoibot report export` works",
    ),
    form: str = typer.Option(..., "--form", help="Form code (forms.yaml)"),
    period: str = typer.Option(
        None, help='e.g. "quý 3/2026", "tháng 10/2026"; or a "kỳ" column in the file'
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check only; write nothing."),
) -> None:
    """Import past reports; each one counts as sent, with an audit entry per value."""
    from handlers.reports_import import import_reports
    from storage.db import transaction
    from storage.importing import ImportFailed

    async def work(ctx: AppContext) -> Any:
        async with transaction(ctx.sessions) as session:
            return await import_reports(
                session,
                ctx.catalog,
                file,
                form,
                period,
                today=ctx.clock.today(),
                now=ctx.clock.now(),
                dry_run=dry_run,
            )

    try:
        result = run_with_context(work)
    except ImportFailed as exc:
        _refused(exc.errors)
        return
    for line in result.warnings:
        typer.echo(line, err=True)
    verb = "Would import" if dry_run else "Imported"
    typer.echo(
        f"{verb} {result.reports} reports, {result.values} values new or changed"
        + (f"; {result.skipped} subtotal rows passed over" if result.skipped else "")
        + "."
    )


@report_app.command("progress")
def report_progress(
    unit: str = typer.Option(None, help="Unit code (default: the province)"),
) -> None:
    """Progress against every target that applies to a unit."""
    from handlers import staff

    typer.echo(run_with_context(lambda ctx: staff.cli_progress(ctx, unit)))


@report_app.command("total")
def report_total(
    indicator: str = typer.Argument(..., help="Indicator code or words of its label"),
    period: str = typer.Option("năm nay", help='e.g. "tháng 11", "quý 3/2026", "nhiệm kỳ"'),
    unit: str = typer.Option(None, help="Unit code (default: the province)"),
) -> None:
    """Total of an indicator with the breakdown by the next level down."""
    from handlers import staff

    typer.echo(run_with_context(lambda ctx: staff.cli_total(ctx, indicator, period, unit)))


@report_app.command("missing")
def report_missing(
    period: str = typer.Option(None, help="Period (default: the latest one due)"),
    unit: str = typer.Option(None, help="Unit code (default: the province)"),
    form: str = typer.Option(None, help="Form code (default: the branch monthly form)"),
) -> None:
    """Who has and has not reported."""
    from handlers import staff

    typer.echo(run_with_context(lambda ctx: staff.cli_missing(ctx, period, unit, form)))


@report_app.command("export")
def report_export(
    out: Path = typer.Argument(..., help="The .xlsx file to write"),
    period: str = typer.Option("năm nay", help='e.g. "quý 3/2026", "năm 2026"'),
    unit: str = typer.Option(None, help="Unit code (default: the province)"),
) -> None:
    """The Excel workbook: a sheet per form with subtotals, and the targets."""
    from handlers import staff

    message = run_with_context(lambda ctx: staff.cli_export(ctx, out, period, unit))
    typer.echo(message)


@report_app.command("chart")
def report_chart(
    indicator: str = typer.Argument(..., help="Indicator code or words of its label"),
    out: Path = typer.Argument(..., help="The .png file to write"),
    period: str = typer.Option("năm nay", help='e.g. "nhiệm kỳ", "tháng 10"'),
    unit: str = typer.Option(None, help="Unit code (default: the province)"),
) -> None:
    """A PNG chart: the trend over periods, or the breakdown by child units."""
    from handlers import staff

    typer.echo(run_with_context(lambda ctx: staff.cli_chart(ctx, indicator, out, period, unit)))


def _moment(text: str | None) -> Any:
    from datetime import datetime

    from schedules.clock import VN

    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"Cannot read {text!r}: write it like 2026-11-23 08:00")
        raise
    return moment if moment.tzinfo else moment.replace(tzinfo=VN)


@reminders_app.command("preview")
def reminders_preview(
    at: str = typer.Option(None, help='Local time, e.g. "2026-11-23 08:00" (default: now)'),
    show: int = typer.Option(3, help="How many message texts to print"),
) -> None:
    """What would be queued at that moment, without queueing or sending anything."""
    from collections import Counter

    from schedules.reminders import plan

    async def work(ctx: AppContext) -> Any:
        async with ctx.sessions() as session:
            return await plan(session, ctx.catalog, _moment(at) or ctx.clock.now())

    planned = run_with_context(work)
    counts = Counter(
        (
            m.kind,
            ":".join(m.key.split(":")[2:4])
            if m.kind != "digest" or m.key.startswith("dig")
            else "weekly",
            m.key.split(":")[4] if m.key.startswith("rem") else "",
        )
        for m in planned.messages
    )
    if not counts:
        typer.echo("Nothing is due at that moment.")
    for (kind, what, step), n in sorted(counts.items()):
        typer.echo(f"{n:6d}  {kind:8} {what} {step}")
    for message in planned.messages[:show]:
        typer.echo("\n--- " + message.key + "\n" + message.payload["text"])


@reminders_app.command("queue")
def reminders_queue() -> None:
    """Plan and queue what is due now (the running bot does this every few minutes)."""
    from schedules.runner import plan_and_queue

    result = run_with_context(plan_and_queue)
    typer.echo(
        f"Queued {result.queued}; {result.already} were already queued; "
        f"{result.unreachable} people have no reachable account."
    )


@outbox_app.command("status")
def outbox_status() -> None:
    """Queued, sent, failed, blocked and capped counts per channel."""
    from schedules.outbox import status_counts

    async def work(ctx: AppContext) -> Any:
        async with ctx.sessions() as session:
            return await status_counts(session)

    counts = run_with_context(work)
    if not counts:
        typer.echo("The outbox is empty.")
    for channel, by_status in sorted(counts.items()):
        typer.echo(channel + ": " + ", ".join(f"{s} {n}" for s, n in by_status.items()))


@app.command()
def invite(
    person: str = typer.Option(None, "--person", help="Person id, phone or name"),
    unit: str = typer.Option(None, "--unit", help="Every person of this unit and below"),
    out: Path = typer.Option(None, "--out", help="Write the invitations to .xlsx or .csv"),
    days: int = typer.Option(None, help="Days the codes stay valid (default from settings)"),
) -> None:
    """Create invitation codes and Telegram links (single use, expiring)."""
    from storage.db import transaction
    from storage.invitations import create_invitation, pretty
    from storage.people import find_person, people_under
    from storage.units import unit_by_code

    if not person and not unit:
        fail("Give --person or --unit.")

    async def work(ctx: AppContext) -> list[list[str]]:
        async with transaction(ctx.sessions) as session:
            if person:
                found = await find_person(session, person)
                if len(found) != 1:
                    raise LookupError(f"{len(found)} people match {person!r}")
                people = found
            else:
                root = await unit_by_code(session, unit)
                if root is None:
                    raise LookupError(f"no unit {unit!r}")
                people = await people_under(session, root)
            rows = []
            from storage.models import OrgUnit

            for p in people:
                inv = await create_invitation(
                    session, p, ctx.clock.now(), days or ctx.settings.invitation_days
                )
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
            return rows

    from handlers import texts_vi as vi
    from schedules.clock import VN

    try:
        rows = run_with_context(work)
    except LookupError as exc:
        fail(str(exc))
        return
    if out:
        _write_table(out, vi.INVITE_HEADERS, rows)
        console.print(f"{len(rows)} invitations written to {out}.")
    else:
        for row in rows:
            typer.echo("  ".join(row))


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


@app.command()
def chat(
    as_: str = typer.Option(
        None,
        "--as",
        help="Person id, phone or name (default: a demo branch leader who has not reported yet)",
    ),
) -> None:
    """Talk to the bot in the terminal, as one person; no token needed."""
    run_with_context(lambda ctx: _terminal_chat(ctx, as_))


async def _terminal_chat(ctx: AppContext, ref: str | None) -> None:
    from bot.channels.terminal import TerminalChannel, chat_loop
    from handlers import texts_vi as vi
    from handlers.engine import Engine
    from schedules.periods import Periodicity, period_of
    from storage.db import transaction
    from storage.invitations import link_directly
    from storage.models import OrgUnit
    from storage.people import find_person, leader_yet_to_report

    async with transaction(ctx.sessions) as session:
        if ref:
            found = await find_person(session, ref)
        else:
            key = period_of(Periodicity.MONTH, ctx.clock.today()).key
            leader = await leader_yet_to_report(session, key)
            found = [leader] if leader else []
        if len(found) != 1:
            typer.echo(f"{len(found)} people match {ref!r}; give an id (see `hoibot demo`).")
            raise typer.Exit(1)
        person = found[0]
        user_id = f"person-{person.id}"
        await link_directly(session, person, "terminal", user_id, ctx.clock.now())
        unit = await session.get(OrgUnit, person.unit_id)
        typer.echo(
            vi.TERMINAL_WELCOME.format(
                name=person.full_name,
                role=vi.ROLE_NAMES.get(person.role, person.role),
                unit=unit.name if unit else "",
            )
        )
    await chat_loop(Engine(ctx), TerminalChannel(typer.echo), user_id)


@app.command()
def run() -> None:
    """Migrate, seed the demo if the database is empty, then run the configured channels
    (Telegram and/or Zalo by their tokens), or a terminal chat when no token is set."""
    from sqlalchemy import func, select

    from bot.app import run_bot
    from storage.db import transaction
    from storage.demo import build_demo
    from storage.migrate import upgrade
    from storage.models import OrgUnit

    async def prepare(ctx: AppContext) -> None:
        await upgrade(ctx.engine)
        async with transaction(ctx.sessions) as session:
            if not await session.scalar(select(func.count()).select_from(OrgUnit)):
                console.print("Empty database: building the Khánh Hòa demo province…")
                await build_demo(
                    session, ctx.catalog, ctx.settings.hoibot_config_dir, ctx.clock.today()
                )

    run_with_context(prepare)
    settings = get_settings()
    if settings.telegram_bot_token or settings.zalo_bot_token:
        import logging

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        logging.getLogger("aiogram.event").setLevel(logging.WARNING)
        with contextlib.suppress(KeyboardInterrupt):
            run_with_context(run_bot)
    else:
        console.print("No TELEGRAM_BOT_TOKEN or ZALO_BOT_TOKEN: starting a terminal chat.")
        run_with_context(lambda ctx: _terminal_chat(ctx, None))


if __name__ == "__main__":
    app()
