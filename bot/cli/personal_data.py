"""`hoibot people export | erase | erase-requests | access-log | prune`: a person's data
seen, erased (on her request made in chat too), kept no longer than needed, and who looked at
whose (Decree 13/2023/NĐ-CP; storage/db/personal_data/).

They extend the `people` group; every look at or change of someone's data from here is
recorded in the access log under the operator's login."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import typer

from bot.cli.base import CliError, plural
from bot.cli.people import group
from bot.cli.runner import output_path, run_with_context
from bot.cli.who import invite_link, minute, one_person, operator
from bot.context import AppContext
from storage.db.models import Person
from storage.db.personal_data.retention import Pruned

ACTIONS = {
    "list": "listed people",
    "show": "looked at",
    "export": "exported",
    "erase": "erased",
    "self_export": "asked for her own data",
    "erase_request": "asked in chat to have her data erased",
}


@group.command("export")
def people_export(
    ref: str = typer.Argument(..., help="Person id, phone or name"),
    out: Path = typer.Option(..., "--out", help="The JSON file to write"),
) -> None:
    """Everything held about one person, as JSON: her record, chat accounts, invitations and
    links, conversation, messages sent to her, reports she sent, the audit about her, her
    acceptance of the notice and who looked at her data (the export is recorded too)."""
    from storage.db.personal_data.access import record_access
    from storage.db.personal_data.export import export, export_json
    from storage.db.sessions import transaction

    output_path(out, (".json",))

    async def work(ctx: AppContext) -> tuple[Person, dict]:
        async with transaction(ctx.sessions) as session:
            person = await one_person(session, ref)
            now = ctx.clock.now()
            await record_access(session, operator(), "export", now, subject=person)
            document = await export(session, person, now)
        for invitation in document["invitations"]:
            link = invite_link(ctx, invitation["code"])
            if link:
                invitation["link"] = link
                document["links_issued"].append(link)
        return person, document

    person, document = run_with_context(work, units=False)
    out.write_bytes(export_json(document))
    counts = [
        plural(len(document["identities"]), "chat account"),
        plural(len(document["invitations"]), "invitation"),
        plural(len(document["messages_sent_to_her"]), "message"),
        plural(len(document["reports_sent_or_approved"]), "report"),
        plural(len(document["changes_to_her_record"]), "change"),
    ]
    typer.echo(f"#{person.id} {person.full_name}: {', '.join(counts)} written to {out}.")


@group.command("erase")
def people_erase(
    ref: str = typer.Argument(..., help="Person id or phone (a name must match one person)"),
    yes: bool = typer.Option(False, "--yes", help="Erase; without it, only say what would go"),
) -> None:
    """Erase a person's personal data (her request, Decree 13/2023/NĐ-CP): name, phone, chat
    accounts and the texts she typed or was sent, in every table. Her unit's reports,
    figures, totals and audit trail stay, attributed to "Người đã xóa" with her role and
    unit. She can never be linked again. Without --yes: a dry run."""
    from storage.db.personal_data.erasure import ERASED_NAME, erase
    from storage.db.sessions import transaction

    async def work(ctx: AppContext) -> tuple[int, str, str, dict[str, int]]:
        async with transaction(ctx.sessions) as session:
            person = await one_person(session, ref)
            if person.erased_at is not None and not yes:
                raise CliError(
                    f"#{person.id} was erased on {minute(person.erased_at)}: nothing is left "
                    "to erase (--yes looks again for anything naming her)."
                )
            name = person.full_name
            plan = await erase(session, person, by=operator(), now=ctx.clock.now(), apply=yes)
            return person.id, name, person.full_name if yes else person.role, plan.counts

    pid, name, role, counts = run_with_context(work, units=False)
    lines = [f"  {what}: {n}" for what, n in counts.items()]
    if not yes:
        typer.echo(f"Would erase #{pid} {name}:")
        for line in lines:
            typer.echo(line)
        typer.echo(
            f'Her unit\'s reports, figures and audit trail stay (as "{ERASED_NAME}", {role}). '
            "Run again with --yes to erase."
        )
        return
    typer.echo(f"Erased #{pid} (was {name}):")
    for line in lines:
        typer.echo(line)
    typer.echo(
        f'Her unit\'s reports stay, attributed to "{role}"; her old codes and links no longer work.'
    )


@group.command("access-log")
def people_access_log(
    person: str = typer.Option(None, "--person", help="Only accesses to this person's data"),
    days: int = typer.Option(90, "--days", help="How far back (days)"),
) -> None:
    """Who looked at or handled whose personal data (people list/show, export, erase, a
    person's own "dữ liệu của tôi"), newest first."""
    from storage.db.personal_data.access import access_log

    if days < 1:
        raise CliError(f"--days {days}: give at least 1.")

    async def work(ctx: AppContext) -> list[str]:
        async with ctx.sessions() as session:
            subject = await one_person(session, person) if person else None
            since = ctx.clock.now() - timedelta(days=days)
            rows = await access_log(session, since=since, subject=subject, limit=10_000)
        lines = []
        for entry, by, whose in rows:
            who = entry.by_operator or (f"#{by.id} {by.full_name}" if by else "?")
            about = f" #{whose.id} {whose.full_name}" if whose else ""
            detail = f" ({entry.detail})" if entry.detail else ""
            lines.append(
                f"{minute(entry.at)}  {who}  {ACTIONS.get(entry.action, entry.action)}"
                f"{about}{detail}"
            )
        return lines

    lines = run_with_context(work, units=False)
    for line in lines:
        typer.echo(line)
    typer.echo(f"{plural(len(lines), 'access', 'accesses')} in the last {days} days.")


@group.command("prune")
def people_prune(
    days: int = typer.Option(
        None, "--days", help="Keep this many days (default PERSONAL_DATA_RETENTION_DAYS)"
    ),
) -> None:
    """What the scheduler does daily, now: blank the texts of delivered messages, forget
    handled updates, expired invitations and wrong codes older than the retention. Reports,
    figures and audit trails are kept."""
    from storage.db.personal_data.retention import prune
    from storage.db.sessions import transaction

    async def work(ctx: AppContext) -> tuple[int, Pruned]:
        keep = days if days is not None else ctx.settings.personal_data_retention_days
        if keep < 1:
            raise CliError(f"--days {keep}: keep at least 1 day.")
        async with transaction(ctx.sessions) as session:
            return keep, await prune(session, ctx.clock.now(), keep)

    keep, done = run_with_context(work, units=False)
    typer.echo(
        f"{plural(done.files, 'delivered file')} dropped from the outbox. "
        f"Older than {keep} days: {plural(done.message_texts, 'message text')} blanked, "
        f"{plural(done.handled_updates, 'handled update')}, "
        f"{plural(done.invitations, 'expired invitation')} and "
        f"{plural(done.code_attempts, 'wrong code')} removed."
    )


@group.command("erase-requests")
def people_erase_requests() -> None:
    """The requests to erase one's data made in chat ("xóa dữ liệu của tôi") and not carried
    out yet, oldest first: check each with her (her officer was told), then `people erase`."""
    from storage.db.personal_data.requests import open_erase_requests
    from storage.db.units import units_by_id

    async def work(ctx: AppContext) -> list[str]:
        async with ctx.sessions() as session:
            found = await open_erase_requests(session)
            units = await units_by_id(session, [p.unit_id for _, p in found])
        lines = []
        for entry, person in found:
            unit = units.get(person.unit_id)
            where = f"{unit.name} ({unit.code})" if unit else "?"
            lines.append(
                f"{minute(entry.at)}  #{person.id} {person.full_name}, {where}: "
                f"{entry.detail or ''!r} -> hoibot people erase {person.id}"
            )
        return lines

    lines = run_with_context(work, units=False)
    for line in lines:
        typer.echo(line)
    typer.echo(f"{plural(len(lines), 'request')} to erase waiting.")
