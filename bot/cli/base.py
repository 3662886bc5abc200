"""The root `hoibot` command and its one error mechanism: an operator's mistake is one clear
line and exit 1, never a traceback (but with `--debug`); an error nobody foresaw (a bug, a
crash) exits 1 too."""

from __future__ import annotations

import logging
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup
from typer.exceptions import TyperException


class CliError(Exception):
    """A mistake the operator can fix: its lines are printed without a traceback and the
    command exits with BAD_INPUT. Any command may raise it; `Commands` catches it for all."""

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


# Bad input gets one clear line, never a traceback, and a failure code, so scripts and
# supervisors see that the command did not do what was asked; the unforeseen exits alike.
BAD_INPUT = 1
UNEXPECTED = 1

# click's UsageError (typer may bundle its own click): the base of BadParameter either way.
UsageError: type[Exception] = typer.BadParameter.__mro__[1]


def usage_line(exc: Any) -> str:
    """A mistyped command line as one line: what is wrong, where, and where to look."""
    message = exc.format_message().strip().rstrip(".").replace(". Did you mean", "; did you mean")
    ctx = getattr(exc, "ctx", None)
    # The command as the operator typed it ("hoibot units"), whatever the program's name.
    path = ctx.command_path.split(" ")[1:] if ctx is not None else []
    return f"{message} ({' '.join(['hoibot', *path])}); see --help."


def _asked_for_help(exc: Exception) -> bool:
    """`hoibot` alone shows the help (click raises it as a usage error): not a mistake."""
    return type(exc).__name__ == "NoArgsIsHelpError"


class Commands(TyperGroup):
    """Runs every command (of this app and its sub-apps) under one error handler, so an
    operator's mistake is one clear line and exit BAD_INPUT, never a traceback (but
    `--debug`). A mistyped command line (an unknown command or option, a missing argument) is
    one line and BAD_INPUT too, never click's usage box; only an unexpected error exits 1."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except UsageError as exc:  # an option of the root command itself
            if _asked_for_help(exc):
                raise
            typer.echo(usage_line(exc), err=True)
            raise typer.Exit(BAD_INPUT) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:  # an unknown command or option, a missing argument
            if _asked_for_help(exc):
                raise
            typer.echo(usage_line(exc), err=True)
            raise typer.Exit(BAD_INPUT) from None
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except Exception as exc:
            if _state["debug"]:
                raise
            if logging.getLogger().handlers:  # the running bot keeps the traceback in its log
                logging.getLogger("hoibot").error("the command stopped", exc_info=exc)
            lines, foreseen = explain(exc)
            for line in lines:
                typer.echo(line, err=True)
            raise typer.Exit(BAD_INPUT if foreseen else UNEXPECTED) from None


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


def explain(exc: Exception) -> tuple[list[str], bool]:
    """The lines an operator reads for an error, and whether it was foreseen (her input or
    set-up, which she can fix); an unforeseen one still gets one line."""
    from pydantic import ValidationError

    from handlers.staff import StaffError
    from storage.db.people import PeopleError
    from storage.db.units import UnitError
    from storage.plan.config_files import ConfigError

    if isinstance(exc, CliError):
        return exc.lines, True
    if isinstance(exc, ConfigError):
        return [
            *exc.problems,
            f"{plural(len(exc.problems), 'problem')} in the configuration.",
        ], True
    if isinstance(exc, StaffError):
        return [staff_error(exc)], True
    if isinstance(exc, PeopleError):
        return [people_error(exc)], True
    if isinstance(exc, UnitError):
        return [unit_error(exc)], True
    if isinstance(exc, ValidationError):  # the settings, from the environment or .env
        return [
            f"Setting {'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        ], True
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return [
        f"Unexpected error: {type(exc).__name__}"
        + (f": {first}" if first else "")
        + " (run again with --debug for the details)."
    ], False


def plural(n: int, one: str, many: str | None = None) -> str:
    """ "1 problem", "2 problems"; `many` for the irregular ("1 person", "3 people")."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


PHONE_HINT = "write a Vietnamese number such as 0912345678 or +84 912 345 678"


def people_error(exc: Any) -> str:
    s, details, reason = exc.subject, exc.details, exc.reason
    if reason == "bad_phone":
        return f"{s!r} is not a phone number: {PHONE_HINT}."
    if reason == "phone_taken":
        owner, unit = (details + ["someone", "?"])[:2]
        return f"The phone {s} is already {owner}'s ({unit}): one phone belongs to one person."
    if reason == "unknown_role":
        return f"{s!r} is not a role: give one of {', '.join(details)}."
    if reason == "role_misfit":
        why = details[0] if details else f"the role {s} does not fit the unit"
        return f"{why[:1].upper()}{why[1:]}: give a role that fits the unit, or another unit."
    if reason == "no_name":
        return f"{s!r} is not a person's name: write her full name, e.g. Nguyễn Thị Lan."
    if reason == "inactive":
        return f"{s} is deactivated: nothing more can change for her."
    return str(exc)


def unit_error(exc: Any) -> str:
    s, details, reason = exc.subject, exc.details, exc.reason
    if reason == "not_open":
        return f"{s} is closed already."
    if reason == "inside":
        return f"{s} cannot be merged with a unit above or below it, nor into itself."
    if reason == "level":
        return (
            f"{s} is a {details[0]} and cannot be merged into a {details[1]}: only units of one "
            "level merge."
        )
    if reason == "has_units":
        n = int(details[0])
        return f"{s} still has {plural(n, 'open unit')} below it: move, merge or close them first."
    if reason == "parent_level":
        return (
            f"{s} cannot go under a {details[0]}: its parent must be a "
            f"{' or a '.join(details[1:])}."
        )
    return str(exc)


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
