"""The `hoibot` command line, one module per command group. `base` holds the root command and
the one error mechanism every command runs under; `runner` the database and configuration
checks every command starts with. Importing a module registers its commands."""

from bot.cli import config, db, outbox, people, reminders, report, reports, units
from bot.cli.base import CliError, app

app.add_typer(db.group, name="db")
app.add_typer(config.group, name="config")
app.add_typer(units.group, name="units")
app.add_typer(people.group, name="people")
app.add_typer(reports.group, name="reports")
app.add_typer(report.group, name="report")
app.add_typer(reminders.group, name="reminders")
app.add_typer(outbox.group, name="outbox")

# The top-level commands (demo, invite, chat, web, run) register themselves on `app`;
# personal_data's (export, erase, access-log, prune) on the `people` group.
from bot.cli import demo, personal_data, run, web  # noqa: E402

__all__ = ["CliError", "app", "demo", "personal_data", "run", "web"]
