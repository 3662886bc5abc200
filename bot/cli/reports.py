"""`hoibot reports`: past reports brought in from Excel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from bot.cli.base import plural
from bot.cli.imports import refused
from bot.cli.runner import run_with_context
from bot.context import AppContext
from storage.db.importing import ImportFailed

group = typer.Typer(help="Past reports brought in from Excel.")


@group.command("import")
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
    from storage.db.sessions import transaction

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
        refused(exc)
    for line in result.warnings:
        typer.echo(line, err=True)
    verb = "Would import" if dry_run else "Imported"
    typer.echo(
        f"{verb} {plural(result.reports, 'report')}, "
        f"{plural(result.values, 'value')} new or changed"
        + (
            f"; {plural(result.skipped, 'subtotal row')} passed over ({rows(result.subtotal_rows)})"
            if result.skipped
            else ""
        )
        + (
            f"; {plural(len(result.empty_rows), 'row')} with no figure, nothing stored "
            f"({rows(result.empty_rows)})"
            if result.empty_rows
            else ""
        )
        + "."
    )


def rows(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:10])
    return ("row " if len(numbers) == 1 else "rows ") + shown + (", …" if len(numbers) > 10 else "")
