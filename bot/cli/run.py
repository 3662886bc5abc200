"""`hoibot run` and `hoibot chat`: the bot itself, on its channels or in the terminal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import typer

from bot.cli.base import CliError, app, bad_url, console
from bot.cli.runner import is_demo_config, run_with_context, shown, with_settings
from bot.config import Settings, get_settings
from bot.context import AppContext

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from storage.db.models import Person


@app.command()
def chat(
    as_: str = typer.Option(
        None,
        "--as",
        help="Person id, phone or name (default: a demo branch leader who has not reported yet)",
    ),
) -> None:
    """Talk to the bot in the terminal, as one person; no token needed."""
    run_with_context(lambda ctx: terminal_chat(ctx, as_))


async def terminal_chat(ctx: AppContext, ref: str | None) -> None:
    from bot.channels.terminal import TerminalChannel, chat_loop
    from bot.cli.who import one_person
    from handlers.engine import Engine
    from schedules.calendar import open_windows
    from storage.db.invitations import link_directly
    from storage.db.models import OrgUnit
    from storage.db.people import leader_yet_to_report
    from storage.db.sessions import transaction
    from storage.plan import texts_vi as vi

    async with transaction(ctx.sessions) as session:
        if ref:
            person = await one_person(session, ref)
            if not person.active:
                raise CliError(
                    f"#{person.id} {person.full_name} is deactivated: chat as someone active."
                )
        else:
            # The reports /baocao would open today (not the calendar month: on 1-5 December
            # it is November's that is open).
            today = ctx.clock.today()
            leaf = ctx.catalog.forms_for_level(ctx.catalog.leaf_level)
            open_reports = [(f.code, w.period.key) for f in leaf for w in open_windows(f, today)]
            leader = await leader_yet_to_report(session, open_reports)
            if leader is None:
                raise CliError("Nobody to chat as: give --as with a person's id, phone or name.")
            person = leader
        user_id = f"person-{person.id}"
        await link_directly(session, person, "terminal", user_id, ctx.clock.now())
        unit = await session.get(OrgUnit, person.unit_id)
        if not ref:
            await _others_to_try(session, person)
        typer.echo(
            vi.TERMINAL_WELCOME.format(
                name=person.full_name,
                role=vi.ROLE_NAMES.get(person.role, person.role),
                unit=unit.name if unit else "",
            )
        )
    # Warnings meant for the operator's log ("/web asked but the pages are off") would land in
    # the middle of the conversation: only errors reach the terminal; the hint comes first.
    logging.basicConfig(level=logging.ERROR, format="[%(name)s] %(message)s")
    if not ctx.settings.public_base_url:
        typer.echo("(/web needs PUBLIC_BASE_URL; to see the pages here: hoibot web --as ID.)")
    await chat_loop(Engine(ctx), TerminalChannel(typer.echo), user_id)


async def _others_to_try(session: AsyncSession, person: Person) -> None:
    """One person of each other role, so `--as` means something to a newcomer."""
    from sqlalchemy import func, select

    from storage.db.models import OrgUnit, Person

    first = (
        select(Person.role, func.min(Person.id))
        .where(Person.active.is_(True), Person.role != person.role)
        .group_by(Person.role)
    )
    ids = [pid for _role, pid in (await session.execute(first)).all()]
    if not ids:
        return
    typer.echo("Chatting as someone else: hoibot chat --as ID (or a phone or a name), e.g.")
    rows = await session.execute(
        select(Person, OrgUnit.name)
        .join(OrgUnit, OrgUnit.id == Person.unit_id)
        .where(Person.id.in_(ids))
        .order_by(Person.id)
    )
    for other, unit_name in rows.all():
        typer.echo(f"  --as {other.id:<5} {other.full_name}, {other.role}, {unit_name}")


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
    from storage.db import aggregates
    from storage.db.migrate import upgrade
    from storage.db.models import OrgUnit
    from storage.db.sessions import transaction

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
            if not is_demo_config():
                return FIRST_STEPS.format(
                    folder=ctx.settings.hoibot_config_dir,
                    province=ctx.catalog.province or "<province code>",
                )
            console.print(
                "Empty database: building the demo province of "
                f"{shown(ctx.settings.hoibot_config_dir)}…"
            )
            await build_demo(
                session, ctx.catalog, ctx.settings.hoibot_config_dir, ctx.clock.today()
            )
            return None

    first_steps = run_with_context(prepare, schema=False, units=False, create=is_demo_config())
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
        run_with_context(lambda ctx: terminal_chat(ctx, None))


def _check_workers(settings: Settings) -> None:
    import sys

    from sqlalchemy.engine import make_url

    if not sys.platform.startswith("linux"):
        raise CliError("--workers above 1 needs Linux (SO_REUSEPORT): run one worker here.")
    try:
        backend = make_url(settings.database_url).get_backend_name()
    except Exception as exc:
        raise CliError(bad_url(settings.database_url, str(exc))) from exc
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
        with_settings(
            settings,
            lambda ctx: run_bot(ctx, handle_signals=True, worker_index=index),
            units=False,
        )


def _log_to_stderr(prefix: str) -> None:
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {prefix}%(name)s %(message)s")
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
