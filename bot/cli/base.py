"""The root `hoibot` command and its one error mechanism: an operator's mistake is one clear
line and exit 1, never a traceback (but with `--debug`)."""

from __future__ import annotations

import logging
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup
from typer.exceptions import TyperException


class CliError(Exception):
    """A mistake the operator can fix: its lines are printed without a traceback and the
    command exits with 1. Any command may raise it; `Commands` catches it for all of them."""

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


class Commands(TyperGroup):
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
            for line in explain(exc):
                typer.echo(line, err=True)
            raise typer.Exit(1) from None


_state: dict[str, bool] = {"debug": False}
app = typer.Typer(
    cls=Commands,
    help="Reporting bot of the Vietnam Women's Union (Hội LHPN Việt Nam).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()


@app.callback()
def main(
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback of an error."),
) -> None:
    _state["debug"] = debug


def explain(exc: Exception) -> list[str]:
    """The lines an operator reads for an error; unknown ones still get one line."""
    from pydantic import ValidationError

    from handlers.staff import StaffError
    from storage.catalog import ConfigError

    if isinstance(exc, CliError):
        return exc.lines
    if isinstance(exc, ConfigError):
        return [*exc.problems, f"{len(exc.problems)} problem(s) in the configuration."]
    if isinstance(exc, StaffError):
        return [staff_error(exc)]
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


def staff_error(exc: Any) -> str:
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


def bad_url(url: str, reason: str) -> str:
    return (
        f"DATABASE_URL {masked(url)} cannot be used ({reason.splitlines()[0]}): write "
        "sqlite+aiosqlite:///path/to/hoibot.db or postgresql://user@host:5432/name."
    )


def masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return repr(url)
