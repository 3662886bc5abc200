"""Messages owed to a person because of what someone else did: her sent report reopened or
approved by an officer; a leader's request to erase her data, for her officer. Queued in the
same transaction as the reply, so the reply and the notice land together."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from schedules.messages import Choice, Outbound
from schedules.outbox import QueueResult, enqueue_in
from schedules.planned import Planned, to_payload
from storage.db.models import OrgUnit, Person, Submission
from storage.db.people import active_of_unit, awaiting_notice
from storage.db.units import ancestors
from storage.plan import texts_vi as vi
from storage.plan.catalog import Catalog
from storage.plan.clock import local
from storage.plan.roles import Role


@dataclass
class Told:
    """Who was told (their names), and whether a leader was left out because she has not
    accepted the personal-data notice yet."""

    names: list[str] = field(default_factory=list)
    awaiting_notice: bool = False


async def tell_reopened(
    session: AsyncSession,
    catalog: Catalog,
    sub: Submission,
    officer: Person,
    period_label: str,
    now: datetime,
    *,
    late: bool = False,
) -> Told:
    """Tells the unit's leader(s) that her report is open for correction (`late`: open for
    the report she never sent)."""
    form = catalog.forms[sub.form_code]
    role = catalog.role_of_level(form.level)
    leaders = await active_of_unit(session, sub.unit_id, role) if role else []
    # Nothing about reports to someone who has not accepted the personal-data notice (#22).
    waiting = await awaiting_notice(session)
    told = Told(awaiting_notice=any(leader.id in waiting for leader in leaders))
    leaders = [leader for leader in leaders if leader.id not in waiting]
    stamp = local(now).strftime("%Y%m%d%H%M%S")
    text = (vi.REOPENED_LATE_FOR_LEADER if late else vi.REOPENED_FOR_LEADER).format(
        officer=officer.full_name,
        form=form.name[:1].lower() + form.name[1:],
        period=period_label,
    )
    message = Outbound(text, [Choice(vi.BUTTON_REPORT_NOW, "g:baocao")], free_text=True)
    # Kind "nudge" with the form and period in the key: her next message answers it
    # (storage.db.conversations.reminded_since), as after an officer's reminder.
    for leader in leaders:
        key = f"reopen:{leader.id}:{form.code}:{sub.period_key}:{stamp}"
        await _queue(session, told, key, "nudge", leader, message, now)
    return told


async def tell_approved(
    session: AsyncSession,
    catalog: Catalog,
    sub: Submission,
    officer: Person,
    period_label: str,
    now: datetime,
    editing: set[int],
) -> Told:
    """Tells the unit's leader(s) that her report was approved and is locked; one in the
    middle of an edit of it (`editing`: their ids) learns now that her edit was not saved and
    how to still correct it, not later at «Lưu thay đổi»."""
    form = catalog.forms[sub.form_code]
    role = catalog.role_of_level(form.level)
    leaders = await active_of_unit(session, sub.unit_id, role) if role else []
    waiting = await awaiting_notice(session)
    told = Told(awaiting_notice=any(leader.id in waiting for leader in leaders))
    stamp = local(now).strftime("%Y%m%d%H%M%S")  # approved again after a reopening: told again
    fields = {
        "officer": officer.full_name,
        "form": form.name[:1].lower() + form.name[1:],
        "period": period_label,
    }
    for leader in leaders:
        if leader.id in waiting:
            continue
        text = vi.APPROVED_FOR_LEADER.format(**fields)
        if leader.id in editing:
            text += "\n" + vi.APPROVED_EDIT_NOT_SAVED.format(**fields)
        # Kind "notice": information only, her next message does not answer it.
        key = f"approved:{leader.id}:{form.code}:{sub.period_key}:{stamp}"
        await _queue(session, told, key, "notice", leader, Outbound(text), now)
    return told


# Who acts on a leader's request about her data: the staff of the nearest unit above her.
_STAFF = (Role.COMMUNE_OFFICER, Role.DISTRICT_OFFICER, Role.PROVINCIAL_STAFF)


async def tell_erase_request(
    session: AsyncSession, person: Person, unit: OrgUnit, now: datetime
) -> Told:
    """Tells the officers of the nearest unit above hers that has any (her own unit's, for an
    officer with no one above) that she asked to have her data erased, and who erases it."""
    waiting = await awaiting_notice(session)
    text = vi.ERASE_FOR_OFFICER.format(
        name=person.full_name,
        unit=unit.name,
        phone=f", {person.phone}" if person.phone else "",
        id=person.id,
    )
    stamp = local(now).strftime("%Y%m%d%H%M%S")
    told = Told()
    for above in [*reversed(await ancestors(session, unit)), unit]:
        officers = [
            p
            for role in _STAFF
            for p in await active_of_unit(session, above.id, role)
            if p.id != person.id and p.id not in waiting
        ]
        for officer in officers:
            key = f"erase-request:{officer.id}:{person.id}:{stamp}"
            await _queue(session, told, key, "notice", officer, Outbound(text), now)
        if told.names:
            break
    return told


async def _queue(
    session: AsyncSession,
    told: Told,
    key: str,
    kind: str,
    person: Person,
    message: Outbound,
    now: datetime,
) -> None:
    """One message owed to `person` (queued once per key), her name noted as told."""
    result = QueueResult()
    await enqueue_in(session, [Planned(key, kind, person.id, to_payload(message))], now, result)
    if result.queued + result.already:
        told.names.append(person.full_name)
