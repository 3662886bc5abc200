"""What the imports of units and people share: the progress bar and the refusal."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

from rich.progress import Progress

from bot.cli.base import CliError, console, plural
from bot.cli.runner import run_with_context
from bot.context import AppContext
from storage.db.importing import ImportFailed, UnreadableFile


def import_file(kind: str, file: Path, dry_run: bool) -> None:
    from bot.cli.who import operator
    from storage.db.importing import import_people, import_units, read_rows
    from storage.db.sessions import transaction

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
                    session,
                    ctx.catalog,
                    file,
                    now=ctx.clock.now(),
                    dry_run=dry_run,
                    progress=step,
                    by=operator(),
                )

    try:
        result = run_with_context(work, units=False)
    except ImportFailed as exc:
        refused(exc)
    verb = "Would import" if dry_run else "Imported"
    console.print(
        f"{verb} {plural(result.rows, 'row')}: {result.created} new, {result.updated} updated"
        + (f", {result.moved} moved" if result.moved else "")
        + "."
    )


def refused(exc: ImportFailed) -> NoReturn:
    if isinstance(exc, UnreadableFile):
        raise CliError(*exc.errors)  # the file as a whole: its one line says all
    raise CliError(*exc.errors, f"Nothing was imported: {plural(len(exc.errors), 'error')}.")
