"""`hoibot report`: totals, progress, completeness, workbooks and charts, as staff see them."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.cli.runner import output_path, run_with_context

group = typer.Typer(help="Totals, progress and completeness, as the staff see them.")


@group.command("progress")
def report_progress(
    unit: str = typer.Option(None, help="Unit code (default: the province)"),
) -> None:
    """Progress against every target that applies to a unit."""
    from handlers import staff

    typer.echo(run_with_context(lambda ctx: staff.cli_progress(ctx, unit)))


@group.command("total")
def report_total(
    indicator: str = typer.Argument(..., help="Indicator code or words of its label"),
    period: str = typer.Option(
        None,
        help='e.g. "tháng 11", "quý 3/2026", "nhiệm kỳ" (default: this year; early in January, '
        "while none of its reports is due, last year)",
    ),
    unit: str = typer.Option(None, help="Unit code (default: the province)"),
) -> None:
    """Total of an indicator with the breakdown by the next level down."""
    from handlers import staff

    typer.echo(run_with_context(lambda ctx: staff.cli_total(ctx, indicator, period, unit)))


@group.command("missing")
def report_missing(
    period: str = typer.Option(None, help="Period (default: the latest one due)"),
    unit: str = typer.Option(None, help="Unit code (default: the province)"),
    form: str = typer.Option(None, help="Form code (default: the branch monthly form)"),
) -> None:
    """Who has and has not reported."""
    from handlers import staff

    typer.echo(run_with_context(lambda ctx: staff.cli_missing(ctx, period, unit, form)))


@group.command("export")
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


@group.command("chart")
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


@group.command("document")
def report_document(
    out: Path = typer.Argument(..., help="The .docx file to write"),
    period: str = typer.Option(
        None, help='e.g. "tháng 11/2026", "quý 4" (default: the latest due)'
    ),
    unit: str = typer.Option(None, help="Unit code (default: the province)"),
) -> None:
    """The period's written report (Word, Decree 30 layout), drafted from the data."""
    from bot.config import get_settings
    from handlers import written_report

    output_path(out, (".docx",))
    folder = get_settings().hoibot_config_dir
    what = run_with_context(lambda ctx: written_report.cli_document(ctx, out, period, unit, folder))
    typer.echo(f"Wrote {out}: {what}")
