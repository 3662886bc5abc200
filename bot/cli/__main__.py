"""`python -m bot.cli`: the command line (the workers of `hoibot run --workers` start so)."""

from bot.cli import app

app()
