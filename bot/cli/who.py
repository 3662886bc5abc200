"""Who a command names or is done by: the operator (as the audit names her), one person by
id, phone or name, her invitation link, and the record of an operator's look at people's
data. Shared by the people, imports and personal-data commands."""

from __future__ import annotations

import getpass
from datetime import datetime

from bot.cli.base import CliError, plural
from bot.cli.runner import is_demo_config
from bot.config import DEMO_BOT_USERNAME
from bot.context import AppContext
from storage.db.models import OrgUnit, Person
from storage.db.people import Actor
from storage.plan.clock import VN


def operator() -> Actor:
    """Who changes people at the command line, as the audit names her: her login."""
    try:
        login = getpass.getuser()
    except Exception:  # no login name (a container without one)
        login = "?"
    return Actor(operator=f"cli:{login}")


def day(moment: datetime | None) -> str:
    return moment.astimezone(VN).strftime("%d/%m/%Y") if moment else ""


def minute(moment: datetime | None) -> str:
    return moment.astimezone(VN).strftime("%d/%m/%Y %H:%M") if moment else ""


async def one_person(session: object, ref: str, *, active_only: bool = False) -> Person:
    """The one person `ref` (id, phone or words of the name) names, else a CliError that
    shows who matched, with ids, so the operator can pick one."""
    from storage.db.people import find_person

    found = await find_person(session, ref)  # type: ignore[arg-type]
    if not found and not active_only:  # a name of someone deactivated (people show)
        found = await find_person(session, ref, include_inactive=True)  # type: ignore[arg-type]
    if len(found) > 1 and sum(p.active for p in found) == 1:
        found = [p for p in found if p.active]  # a phone kept by her deactivated predecessor
    if active_only:
        found = [p for p in found if p.active] or found
    if len(found) == 1:
        return found[0]
    if not found:
        raise CliError(
            f"Nobody matches {ref!r}: give a person's id, phone or name (see `hoibot people list`)."
        )
    units = {
        u.id: u
        for u in [await session.get(OrgUnit, p.unit_id) for p in found[:10]]  # type: ignore[attr-defined]
        if u is not None
    }
    shown = [
        f"  #{p.id} {p.full_name}, {p.role}, {units[p.unit_id].name if p.unit_id in units else '?'}"
        + ("" if p.active else " (deactivated)")
        for p in found[:10]
    ]
    more = [f"  … and {len(found) - 10} more"] if len(found) > 10 else []
    raise CliError(
        f"{plural(len(found), 'person', 'people')} match {ref!r}: give one id.", *shown, *more
    )


async def unit_or_error(session: object, code: str) -> OrgUnit:
    from storage.db.units import unit_by_code

    unit = await unit_by_code(session, code)  # type: ignore[arg-type]
    if unit is None:
        raise CliError(f"No unit {code!r}: give the code of a unit (see `hoibot units list`).")
    return unit


def invite_link(ctx: AppContext, code: str) -> str:
    """The Telegram link of a code; the demo's bot name stands in for the demo only."""
    link = ctx.invite_link(code)
    if link is None and is_demo_config():
        link = f"https://t.me/{DEMO_BOT_USERNAME}?start={code}"
    return link or ""


async def record(ctx: AppContext, action: str, subject: Person | None, detail: str) -> None:
    """An operator's look at people's data, in the access log (its own transaction, so a
    read-only command records it too)."""
    from storage.db.personal_data.access import record_access
    from storage.db.sessions import transaction

    async with transaction(ctx.sessions) as session:
        await record_access(
            session, operator(), action, ctx.clock.now(), subject=subject, detail=detail
        )
