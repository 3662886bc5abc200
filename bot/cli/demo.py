"""`hoibot demo`: a shipped province built into an empty database."""

from __future__ import annotations

from typing import Any

import typer

from bot.cli.base import CliError, app, console
from bot.cli.runner import is_demo_config, run_with_context, shipped_provinces, shown
from bot.config import get_settings
from bot.context import AppContext


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
    from storage.db.migrate import upgrade
    from storage.db.sessions import transaction
    from storage.plan.catalog_load import load_catalog
    from storage.plan.text import fold

    configured = get_settings().hoibot_config_dir
    folder = configured
    if province is not None:
        shipped = shipped_provinces()
        name = fold(province).replace("_", "-").replace(" ", "-")
        if name not in shipped:
            raise CliError(f"Unknown province {province!r}; shipped: {', '.join(shipped)}.")
        folder = shipped[name]
    elif not is_demo_config():
        raise CliError(
            f"The demo needs a shipped configuration, and HOIBOT_CONFIG_DIR is "
            f"{configured}: unset it or name one with --province "
            "(and use a database of its own)."
        )

    small_sizes: dict[str, Any] = {"branches_per_commune": (2, 3), "months": 6} if small else {}

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
                    **small_sizes,
                )
            except RuntimeError as exc:
                raise CliError(f"No demo built: {exc}.") from exc

    summary = run_with_context(work, schema=False, units=False, create=True)
    console.print(
        f"Demo province built from {shown(folder)}: {summary.units} units, "
        f"{summary.people} people, {summary.submissions} reports, {summary.values} values."
    )
    for role, person in summary.sample_people.items():
        console.print(f"  {role:17} id {person.id:<5} {person.full_name} ({person.phone})")
    if folder.resolve() == configured.resolve():
        console.print(f"Configuration in use: {shown(folder)} (HOIBOT_CONFIG_DIR).")
    else:
        console.print(
            f"The other commands and the bot read HOIBOT_CONFIG_DIR, now {shown(configured)}: "
            f"set HOIBOT_CONFIG_DIR={shown(folder)} (in .env or the environment) to use "
            "this province, e.g.\n"
            f"  HOIBOT_CONFIG_DIR={shown(folder)} hoibot report progress"
        )
