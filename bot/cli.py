"""The `hoibot` command line: database, demo, imports, invitations, reports, chat and run."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress
from typer.core import TyperGroup
from typer.exceptions import TyperException

from bot.config import Settings, get_settings
from bot.context import AppContext
from storage.db import make_engine
from storage.importing import ImportFailed, UnreadableFile


class CliError(Exception):
    """A mistake the operator can fix: its lines are printed without a traceback and the
    command exits with 1. Any command may raise it; `_Commands` catches it for all of them."""

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


class _Commands(TyperGroup):
    """Runs every command (of this app and its sub-apps) under one error handler, so an
    operator's mistake is one clear line and an exit code, never a traceback (but `--debug`)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except typer.BadParameter as exc:  # a missing option, a file that is not there
            command = f" ({exc.ctx.command_path})" if exc.ctx else ""
            typer.echo(f"{exc.format_message()}{command}; see --help.", err=True)
            raise typer.Exit(1) from None
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except Exception as exc:
            if _state["debug"]:
                raise
            if logging.getLogger().handlers:  # the running bot keeps the traceback in its log
                logging.getLogger("hoibot").error("the command stopped", exc_info=exc)
            for line in _explain(exc):
                typer.echo(line, err=True)
            raise typer.Exit(1) from None


_state: dict[str, bool] = {"debug": False}
app = typer.Typer(
    cls=_Commands,
    help="Reporting bot of the Vietnam Women's Union (Hội LHPN Việt Nam).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.")
config_app = typer.Typer(help="The operator's configuration files.")
units_app = typer.Typer(help="Organisation units.")
people_app = typer.Typer(help="People and their roles.")
reports_app = typer.Typer(help="Past reports brought in from Excel.")
report_app = typer.Typer(help="Totals, progress and completeness, as the staff see them.")
reminders_app = typer.Typer(help="Reminders and digests on the reporting schedule.")
outbox_app = typer.Typer(help="The queue of messages the bot sends unasked.")
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")
app.add_typer(units_app, name="units")
app.add_typer(people_app, name="people")
app.add_typer(reports_app, name="reports")
app.add_typer(report_app, name="report")
app.add_typer(reminders_app, name="reminders")
app.add_typer(outbox_app, name="outbox")
console = Console()
T = TypeVar("T")


@app.callback()
def main(
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback of an error."),
) -> None:
    _state["debug"] = debug


def _explain(exc: Exception) -> list[str]:
    """The lines an operator reads for an error; unknown ones still get one line."""
    from pydantic import ValidationError

    from handlers.staff import StaffError
    from storage.catalog import ConfigError

    if isinstance(exc, CliError):
        return exc.lines
    if isinstance(exc, ConfigError):
        return [*exc.problems, f"{len(exc.problems)} problem(s) in the configuration."]
    if isinstance(exc, StaffError):
        return [_staff_error(exc)]
    if isinstance(exc, ValidationError):  # the settings, from the environment or .env
        return [
            f"Setting {'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        ]
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return [
        f"Unexpected error: {type(exc).__name__}"
        + (f": {first}" if first else "")
        + " (run again with --debug for the details)."
    ]


PERIOD_HINT = 'write e.g. "tháng 11", "quý 3/2026", "6 tháng đầu năm", "năm 2026", "nhiệm kỳ"'
PERIOD_DETAIL = {
    "bad_month": " (a month is 1 to 12)",
    "bad_quarter": " (a quarter is 1 to 4, or I to IV)",
    "bad_range": " (it ends before it starts)",
    "unknown_term": " (no such term under terms in targets.yaml)",
}


def _staff_error(exc: Any) -> str:
    s, choices = exc.subject, ", ".join(exc.choices)
    return {
        "unknown_unit": f"No unit {s!r}: give the code of a unit in the database.",
        "ambiguous_unit": f"{s!r} matches several units ({choices}): give one code.",
        "unknown_indicator": (
            f"No indicator matches {s!r}: give its code or words of its label "
            "(see indicators.yaml)."
        ),
        "ambiguous_indicator": f"{s!r} matches several indicators: give one of {choices}.",
        "unknown_form": f"No form {s!r}: give one of {choices}.",
        "text": f"{s!r} is a text indicator: it has no total and no chart.",
        "choice": f"{s!r} is a choice (a rating): it is counted by threshold in a coverage "
        "target, not totalled.",
    }.get(
        exc.reason,
        f"Cannot read the period {s!r}{PERIOD_DETAIL.get(exc.reason, '')}: {PERIOD_HINT}.",
    )


def _bad_url(url: str, reason: str) -> str:
    return (
        f"DATABASE_URL {_masked(url)} cannot be used ({reason.splitlines()[0]}): write "
        "sqlite+aiosqlite:///path/to/hoibot.db or postgresql://user@host:5432/name."
    )


def _masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return repr(url)


async def _open(ctx: AppContext, schema: bool, units: bool) -> None:
    """Stops with one line when the database cannot be reached or is not migrated, and with
    the configuration's problems when its targets name units the database lacks."""
    from sqlalchemy import func, select

    from storage.catalog import ConfigError
    from storage.catalog_checks import check_against_database
    from storage.migrate import revisions
    from storage.models import OrgUnit

    url = ctx.engine.url
    sqlite = url.get_backend_name() == "sqlite"
    where = "its folder exists" if sqlite else "the database server is running"
    cannot = f"Cannot open the database {_masked(ctx.settings.database_url)}"
    folder = Path(url.database or "").parent
    if sqlite and url.database not in (None, "", ":memory:") and not folder.is_dir():
        raise CliError(
            f"{cannot} (the folder {folder} does not exist): check DATABASE_URL and that {where}."
        )
    try:
        current, head = await revisions(ctx.engine)
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise CliError(
            f"{cannot} ({reason[0] if reason else type(exc).__name__}): check DATABASE_URL "
            f"and that {where}."
        ) from exc
    if not schema:
        return
    if current is None:
        raise CliError("The database has no tables yet: run `hoibot db upgrade` first.")
    if current != head:
        raise CliError(
            f"The database is at version {current}, this hoibot needs {head}: "
            "run `hoibot db upgrade` first."
        )
    if units:
        async with ctx.sessions() as session:
            if not await session.scalar(select(func.count()).select_from(OrgUnit)):
                raise CliError(
                    "The database has no units yet: import them first with "
                    "`hoibot units import FILE` (README: Installing for your province)."
                )
            problems = await check_against_database(
                session, ctx.catalog, ctx.settings.hoibot_config_dir
            )
            if problems:
                raise ConfigError(problems)


def run_with_context(
    work: Callable[[AppContext], Awaitable[T]], *, schema: bool = True, units: bool = True
) -> T:
    """Runs `work` with the settings, database and checked configuration. `schema=False` for
    the commands that migrate the database themselves; `units=False` for those that work
    without units (or bring them in, so targets may name units not imported yet)."""

    return _with_settings(get_settings(), work, schema=schema, units=units)


def _with_settings(
    settings: Settings,
    work: Callable[[AppContext], Awaitable[T]],
    *,
    schema: bool = True,
    units: bool = False,
) -> T:
    async def main() -> T:
        try:
            engine = make_engine(settings.database_url)
        except Exception as exc:  # an unknown scheme or a driver that is not installed
            raise CliError(_bad_url(settings.database_url, str(exc))) from exc
        try:
            ctx = AppContext.create(settings, engine=engine)
        except BaseException:
            await engine.dispose()
            raise
        try:
            await _open(ctx, schema, units)
            return await work(ctx)
        finally:
            await ctx.close()

    return asyncio.run(main())


def output_path(path: Path, suffixes: tuple[str, ...]) -> Path:
    """A file a command will write: refused before any work when it could not be."""
    if path.suffix.lower() not in suffixes:
        raise CliError(
            f"{path}: cannot write a {path.suffix or 'suffix-less'} file; "
            f"name it with {' or '.join(suffixes)}."
        )
    if not path.parent.is_dir():
        raise CliError(f"{path}: the folder {path.parent} does not exist; create it first.")
    return path


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest version."""
    from storage import aggregates
    from storage.migrate import upgrade

    async def work(ctx: AppContext) -> bool:
        await upgrade(ctx.engine)
        # Kept stocks came with 0009 after the reports: filled once, with the configuration
        # that says which indicators are stocks (a migration does not have it).
        async with ctx.sessions() as session, session.begin():
            return await aggregates.fill_stocks_if_empty(session, ctx.catalog)

    if run_with_context(work, schema=False):
        console.print("Kept stock values filled from the reports.")
    console.print("Database is up to date.")


@db_app.command("rebuild-totals")
def db_rebuild_totals() -> None:
    """Recompute the kept totals of flows and stocks from the reports (after a change of
    the configuration's indicators, or to check them)."""
    from storage import aggregates

    async def work(ctx: AppContext) -> None:
        async with ctx.sessions() as session, session.begin():
            await aggregates.rebuild(session, ctx.catalog)
            await aggregates.analyze(session)

    run_with_context(work, units=False)
    console.print("Kept totals rebuilt from the reports.")


@config_app.command("check")
def config_check(
    folder: Path = typer.Argument(
        None, help="The folder of YAML files (default: HOIBOT_CONFIG_DIR)"
    ),
    database: str = typer.Option(
        None, "--database", help="Also check the units of this database (a URL) against it"
    ),
) -> None:
    """Check the configuration files and report every problem, one line each."""
    from storage.catalog import ConfigError, load_catalog
    from storage.catalog_checks import check_against_database

    folder = folder or get_settings().hoibot_config_dir
    catalog = load_catalog(folder)  # its ConfigError is printed by _Commands, exit 1
    note = "target units not checked against a database (--database URL to check them)"
    if database:

        async def units(ctx: AppContext) -> list[str]:
            async with ctx.sessions() as session:
                return await check_against_database(session, catalog, folder)

        settings = get_settings().model_copy(
            update={"database_url": database, "hoibot_config_dir": folder}
        )
        problems = _with_settings(settings, units)
        if problems:
            raise ConfigError(problems)
        note = "the units in the database fit it (levels, and units named by targets)"
    console.print(
        f"Configuration in {folder} is OK: {len(catalog.levels)} levels, "
        f"{len(catalog.indicators)} indicators, {len(catalog.forms)} forms, "
        f"{len(catalog.targets)} targets, {len(catalog.terms)} terms; {note}.",
        soft_wrap=True,
    )


def _shipped_provinces() -> dict[str, Path]:
    """The provinces shipped under demo/, by the name `hoibot demo --province` takes."""
    from bot.config import DEMO_CONFIG_DIR

    return {
        p.name.replace("_", "-"): p
        for p in sorted(DEMO_CONFIG_DIR.parent.iterdir())
        if (p / "units.csv").exists()
    }


def _shown(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    return str(path)


@app.command()
def demo(
    province: str | None = typer.Option(
        None,
        help="A shipped province: khanh-hoa, lao-cai or soc-trang "
        "(default: the one in HOIBOT_CONFIG_DIR, Khánh Hòa unless set).",
    ),
    small: bool = typer.Option(False, help="A smaller tree and 6 months (for quick tries)."),
) -> None:
    """Build a demo province (its units, people and synthetic reports) into an empty database."""
    from schedules.demo import build_demo
    from storage.catalog import load_catalog
    from storage.db import transaction
    from storage.migrate import upgrade
    from storage.text import fold

    configured = get_settings().hoibot_config_dir
    folder = configured
    if province is not None:
        shipped = _shipped_provinces()
        name = fold(province).replace("_", "-").replace(" ", "-")
        if name not in shipped:
            raise CliError(f"Unknown province {province!r}; shipped: {', '.join(shipped)}.")
        folder = shipped[name]
    elif not _is_demo_config():
        raise CliError(
            f"The demo needs a shipped configuration, and HOIBOT_CONFIG_DIR is "
            f"{configured}: unset it or name one with --province "
            "(and use a database of its own)."
        )

    async def work(ctx: AppContext) -> Any:
        catalog = ctx.catalog if folder == configured else load_catalog(folder)
        await upgrade(ctx.engine)
        async with transaction(ctx.sessions) as session:
            try:
                return await build_demo(
                    session,
                    catalog,
                    folder,
                    ctx.clock.today(),
                    **({"branches_per_commune": (2, 3), "months": 6} if small else {}),
                )
            except RuntimeError as exc:
                raise CliError(f"No demo built: {exc}.") from exc

    summary = run_with_context(work, schema=False, units=False)
    console.print(
        f"Demo province built from {_shown(folder)}: {summary.units} units, "
        f"{summary.people} people, {summary.submissions} reports, {summary.values} values."
    )
    for role, person in summary.sample_people.items():
        console.print(f"  {role:17} id {person.id:<5} {person.full_name} ({person.phone})")
    if folder.resolve() == configured.resolve():
        console.print(f"Configuration in use: {_shown(folder)} (HOIBOT_CONFIG_DIR).")
    else:
        console.print(
            f"The other commands and the bot read HOIBOT_CONFIG_DIR, now {_shown(configured)}: "
            f"set HOIBOT_CONFIG_DIR={_shown(folder)} (in .env or the environment) to use "
            "this province, e.g.\n"
            f"  HOIBOT_CONFIG_DIR={_shown(folder)} hoibot report progress"
        )


def _is_demo_config() -> bool:
    """Whether HOIBOT_CONFIG_DIR is one of the shipped provinces (a demo may be built)."""
    configured = get_settings().hoibot_config_dir.resolve()
    return any(configured == p.resolve() for p in _shipped_provinces().values())


def _import(kind: str, file: Path, dry_run: bool) -> None:
    from storage.db import transaction
    from storage.importing import import_people, import_units, read_rows

    async def work(ctx: AppContext) -> Any:
        # A file that cannot be read (binary, damaged workbook, .xls) is refused here, as
        # UnreadableFile: the reader catches what the libraries raise.
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
        result = run_with_context(work, units=False)
    except ImportFailed as exc:
        _refused(exc)
    verb = "Would import" if dry_run else "Imported"
    console.print(
        f"{verb} {result.rows} rows: {result.created} new, {result.updated} updated"
        + (f", {result.moved} moved" if result.moved else "")
        + "."
    )


def _refused(exc: ImportFailed) -> NoReturn:
    if isinstance(exc, UnreadableFile):
        raise CliError(*exc.errors)  # the file as a whole: its one line says all
    raise CliError(*exc.errors, f"Nothing was imported: {len(exc.errors)} error(s).")


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
        _refused(exc)
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

    output_path(out, (".xlsx",))
    caption = run_with_context(lambda ctx: staff.cli_export(ctx, out, period, unit))
    typer.echo(f"Wrote {out}: {caption}")


@report_app.command("chart")
def report_chart(
    indicator: str = typer.Argument(..., help="Indicator code or words of its label"),
    out: Path = typer.Argument(..., help="The .png file to write"),
    period: str = typer.Option("năm nay", help='e.g. "nhiệm kỳ", "tháng 10"'),
    unit: str = typer.Option(None, help="Unit code (default: the province)"),
) -> None:
    """A PNG chart: the trend over periods, or the breakdown by child units."""
    from handlers import staff

    output_path(out, (".png",))
    title = run_with_context(lambda ctx: staff.cli_chart(ctx, indicator, out, period, unit))
    typer.echo(f"Wrote {out}: {title}")


def _moment(text: str | None) -> Any:
    from datetime import datetime

    from storage.clock import VN

    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"Cannot read the time {text!r}: write it like 2026-11-23 08:00.") from None
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
    from bot.scheduler import plan_and_queue

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

    counts = run_with_context(work, units=False)
    if not counts:
        typer.echo("The outbox is empty.")
    for channel, by_status in sorted(counts.items()):
        typer.echo(channel + ": " + ", ".join(f"{s} {n}" for s, n in by_status.items()))


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
    from handlers.engine import Engine
    from storage import texts_vi as vi
    from storage.db import transaction
    from storage.invitations import link_directly
    from storage.models import OrgUnit
    from storage.people import find_person, leader_yet_to_report
    from storage.periods import Periodicity, period_of

    async with transaction(ctx.sessions) as session:
        if ref:
            found = await find_person(session, ref)
        else:
            key = period_of(Periodicity.MONTH, ctx.clock.today()).key
            leader = await leader_yet_to_report(session, key)
            found = [leader] if leader else []
        if len(found) != 1:
            raise CliError(
                f"{len(found)} people match {ref!r}: give an id, a phone or a fuller name."
                if ref
                else "Nobody to chat as: give --as with a person's id, phone or name."
            )
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


FIRST_STEPS = """The database is empty and the configuration in {folder} is your own, so there
is nothing to run yet. Bring your province in, in this order:
  1. hoibot config check                  fix what it reports in the YAML files
  2. hoibot units import units.xlsx       the province, districts, communes and branches
  3. hoibot people import people.xlsx     the people, their roles and units
  4. hoibot reports import FILE --form CODE --period "quý 3/2026"
                                          past reports, if you have them (optional)
  5. hoibot invite --unit {province} --out invitations.xlsx
                                          the codes people use to join the bot
then run `hoibot run` again. (The Khánh Hòa demo is built only with the demo configuration.)"""


@app.command()
def web(
    as_: str = typer.Option(..., "--as", help="Person id, phone or name: whose link to print"),
) -> None:
    """Serve the tracker pages only and print a person's link (PUBLIC_BASE_URL, or
    http://localhost:WEB_PORT when it is not set); Ctrl-C stops."""
    from bot.app import WebServer
    from bot.web.routes import register
    from storage.people import find_person

    settings = get_settings()
    if not settings.public_base_url:
        settings.public_base_url = f"http://localhost:{settings.web_port}"

    async def work(ctx: AppContext) -> None:
        assert ctx.web_links is not None
        async with ctx.sessions() as session:
            found = await find_person(session, as_)
        if len(found) != 1:
            raise CliError(
                f"{len(found)} people match {as_!r}: give an id, a phone or a fuller name."
            )
        server = WebServer()
        register(server.app, ctx)
        await server.start(settings.web_host, settings.web_port)
        console.print(f"{found[0].full_name}: {ctx.web_links.url(found[0])}")
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    with contextlib.suppress(KeyboardInterrupt):
        run_with_context(work)


@app.command()
def run(
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        help="Worker processes sharing the web port and the PostgreSQL database (Linux).",
    ),
    worker_index: int | None = typer.Option(None, "--worker-index", hidden=True),
) -> None:
    """Migrate, check, then run the channels that have a token (or a terminal chat).

    With a shipped demo configuration, an empty database first gets its demo province; with
    your own configuration, an empty database gets the list of first steps instead."""
    from sqlalchemy import func, select

    from schedules.demo import build_demo
    from storage import aggregates
    from storage.db import transaction
    from storage.migrate import upgrade
    from storage.models import OrgUnit

    settings = get_settings()
    if worker_index is not None:  # started by the parent below, which did the checks
        _run_worker(settings, workers, worker_index)
        return
    if workers > 1:
        _check_workers(settings)

    async def prepare(ctx: AppContext) -> str | None:
        """None when there is something to run, else the first steps to take."""
        await upgrade(ctx.engine)
        async with transaction(ctx.sessions) as session:
            # As `hoibot db upgrade`: reports sent before the kept stocks existed fill them.
            await aggregates.fill_stocks_if_empty(session, ctx.catalog)
        async with transaction(ctx.sessions) as session:
            if await session.scalar(select(func.count()).select_from(OrgUnit)):
                return None
            if not _is_demo_config():
                return FIRST_STEPS.format(
                    folder=ctx.settings.hoibot_config_dir,
                    province=ctx.catalog.province or "<province code>",
                )
            console.print(
                "Empty database: building the demo province of "
                f"{_shown(ctx.settings.hoibot_config_dir)}…"
            )
            await build_demo(
                session, ctx.catalog, ctx.settings.hoibot_config_dir, ctx.clock.today()
            )
            return None

    first_steps = run_with_context(prepare, schema=False, units=False)
    if first_steps:
        typer.echo(first_steps)
        return
    if settings.telegram_bot_token or settings.zalo_bot_token:
        _log_to_stderr("")
        if workers > 1:
            from bot.workers import supervise

            raise typer.Exit(asyncio.run(supervise(workers)))
        from bot.app import run_bot  # slow to import: only once the checks have passed

        with contextlib.suppress(KeyboardInterrupt):
            run_with_context(lambda ctx: run_bot(ctx, handle_signals=True))
    else:
        console.print("No TELEGRAM_BOT_TOKEN or ZALO_BOT_TOKEN: starting a terminal chat.")
        run_with_context(lambda ctx: _terminal_chat(ctx, None))


def _check_workers(settings: Settings) -> None:
    import sys

    from sqlalchemy.engine import make_url

    if not sys.platform.startswith("linux"):
        raise CliError("--workers above 1 needs Linux (SO_REUSEPORT): run one worker here.")
    try:
        backend = make_url(settings.database_url).get_backend_name()
    except Exception as exc:
        raise CliError(_bad_url(settings.database_url, str(exc))) from exc
    if backend != "postgresql":
        raise CliError(
            "--workers above 1 needs PostgreSQL (SQLite takes one writer at a time): set "
            "DATABASE_URL to postgresql://... or run one worker."
        )
    if not (settings.telegram_bot_token or settings.zalo_bot_token):
        raise CliError("--workers above 1 needs TELEGRAM_BOT_TOKEN or ZALO_BOT_TOKEN.")


def _run_worker(settings: Settings, workers: int, index: int) -> None:
    """One of `workers` children of `hoibot run --workers`: the parent migrated and checked."""
    from bot.app import run_bot

    # Telegram's and Zalo's overall pace is per bot, not per process: each takes its share.
    for name in ("telegram_rate_per_second", "zalo_rate_per_second"):
        rate = getattr(settings, name)
        if rate is not None:
            setattr(settings, name, rate / workers)
    _log_to_stderr(f"w{index} ")
    with contextlib.suppress(KeyboardInterrupt):
        _with_settings(
            settings,
            lambda ctx: run_bot(ctx, handle_signals=True, worker_index=index),
            units=False,
        )


def _log_to_stderr(prefix: str) -> None:
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {prefix}%(name)s %(message)s")
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)


if __name__ == "__main__":
    app()
