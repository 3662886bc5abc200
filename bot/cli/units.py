"""`hoibot units`: the organisation units."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.cli.imports import import_file

group = typer.Typer(help="Organisation units.")


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
