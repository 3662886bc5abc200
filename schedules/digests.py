"""What officers are told unasked: the digest of the units below that have not reported
(the day after the due date), the reminder to rate units when a rating period ends, and the
weekly summary to district and provincial staff; each says when a channel's quota holds
messages back."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from schedules.calendar import Window, default_form, latest_due_period
from schedules.messages import Choice, Outbound
from schedules.planned import Planned, to_payload
from schedules.recipients import reachable_accounts, unreported_leaders
from storage.db.delivery import quota_exhausted
from storage.db.models import (
    OrgUnit,
    OutboxMessage,
    OutboxStatus,
    Person,
    Role,
    Submission,
    SubmissionStatus,
)
from storage.db.people import joined_count
from storage.db.units import active_on
from storage.measures import report_audit
from storage.measures.completeness import completeness
from storage.measures.report_audit import ConfirmedDoubt
from storage.plan import texts_vi as vi
from storage.plan.catalog import Catalog, Form
from storage.plan.clock import VN
from storage.plan.periods import Period
from storage.plan.text import vi_sort_key

WEEKLY_ROLES = (Role.DISTRICT_OFFICER, Role.PROVINCIAL_STAFF)


async def officer_digests(
    session: AsyncSession, catalog: Catalog, form: Form, win: Window, waiting: set[int]
) -> list[Planned]:
    """One digest per officer of the level above: her units that have not reported (and
    which of them were not reminded: their leader has not accepted the notice, `waiting`)."""
    index = catalog.level_index(form.level)
    if index == 0:
        return []
    parent_level = catalog.levels[index - 1].code
    officer_role = catalog.role_of_level(parent_level)
    role = catalog.role_of_level(form.level)
    if officer_role is None or role is None:
        return []
    parent = aliased(OrgUnit)
    expected_rows = await session.execute(
        select(OrgUnit, parent)
        .join(parent, parent.id == OrgUnit.parent_id)
        .where(OrgUnit.level == form.level, active_on(win.period.start, win.period.end))
    )
    expected: dict[int, list[OrgUnit]] = defaultdict(list)
    parents: dict[int, OrgUnit] = {}
    for unit, par in expected_rows.all():
        expected[par.id].append(unit)
        parents[par.id] = par
    leaders = await unreported_leaders(session, form, win, role)
    missing_units = {leader.unit_id for leader in leaders}
    missing_units |= await _units_without_report(session, form, win)
    accounts = await reachable_accounts(session, [leader.person_id for leader in leaders])
    unreachable = {leader.unit_id for leader in leaders if not accounts.get(leader.person_id)}
    not_accepted = {leader.unit_id for leader in leaders if leader.person_id in waiting}
    capped = await _capped_units(session, form, win)
    doubts: dict[int, list[ConfirmedDoubt]] = defaultdict(list)
    for doubt in await report_audit.confirmed_doubts(session, form.code, win.period.key):
        doubts[doubt.unit_id].append(doubt)
    officers = await session.execute(
        select(Person).where(
            Person.role == officer_role, Person.active.is_(True), Person.unit_id.in_(list(parents))
        )
    )
    out = []
    for officer in officers.scalars().all():
        units = expected.get(officer.unit_id, [])
        missing = sorted(
            (u for u in units if u.id in missing_units), key=lambda u: vi_sort_key(u.name)
        )
        par = parents[officer.unit_id]
        fields = {
            **vi.level_words(catalog, form.level),
            "form": form.name,
            "period": win.period.label,
            "due": win.due.strftime("%d/%m/%Y"),
            "unit": par.name,
            "total": len(units),
        }
        if not missing:
            text = vi.DIGEST_ALL_DONE.format(**fields)
            choices: list[Choice] = []
        else:
            lines = [
                vi.DIGEST_COMMUNE.format(
                    missing=len(missing), names=", ".join(u.name for u in missing), **fields
                )
            ]
            blocked = [u.name for u in missing if u.id in unreachable]
            if blocked:
                lines.append(vi.DIGEST_UNREACHABLE.format(names=", ".join(blocked)))
            unasked = [u.name for u in missing if u.id in not_accepted]
            if unasked:
                lines.append(vi.DIGEST_NOT_ACCEPTED.format(names=", ".join(unasked)))
            stopped = [u.name for u in missing if u.id in capped]
            if stopped:
                lines.append(vi.DIGEST_CAPPED.format(names=", ".join(stopped)))
            text = "\n".join(lines)
            choices = [Choice(vi.BUTTON_NUDGE, f"g:nudge:{form.code}:{win.period.key}")]
        confirmed = [
            vi.DIGEST_DOUBT_ITEM.format(
                unit=u.name,
                label=catalog.indicators[d.indicator_code].label,
                value=_figure(d.value),
                note=" ".join(d.note.split()),
            )
            for u in units
            for d in doubts.get(u.id, [])
        ]
        if confirmed:
            text = "\n".join([text, vi.DIGEST_DOUBTS.format(**fields), *confirmed])
        out.append(
            Planned(
                f"dig:{officer.id}:{form.code}:{win.period.key}",
                "digest",
                officer.id,
                to_payload(Outbound(text, choices, free_text=True)),
            )
        )
    return out


async def rating_reminders(
    session: AsyncSession, catalog: Catalog, form: Form, period: Period
) -> list[Planned]:
    """One message per officer of the level that fills a rating form, when its period has
    ended and units below her are not rated yet."""
    from storage.measures.worklist import unrated_text

    role = catalog.role_of_level(form.filled_by or "")
    if role is None:
        return []
    officers = await session.execute(
        select(Person, OrgUnit)
        .join(OrgUnit, OrgUnit.id == Person.unit_id)
        .where(Person.role == role, Person.active.is_(True), OrgUnit.level == form.filled_by)
    )
    out = []
    for officer, unit in officers.all():
        done = await completeness(session, form, period, unit)
        if not done.missing:
            continue
        text = vi.RATING_REMINDER.format(period=period.label, level=catalog.level_word(form.level))
        text += "\n" + await unrated_text(session, catalog, form, period, unit)
        out.append(
            Planned(
                f"rate:{officer.id}:{form.code}:{period.key}",
                "digest",
                officer.id,
                to_payload(Outbound(text, free_text=True)),
            )
        )
    return out


def _figure(text: str) -> str:
    try:
        return vi.format_number(float(text), 2)
    except ValueError:
        return text


async def _units_without_report(session: AsyncSession, form: Form, win: Window) -> set[int]:
    sent = exists().where(
        Submission.unit_id == OrgUnit.id,
        Submission.form_code == form.code,
        Submission.period_key == win.period.key,
        Submission.status == SubmissionStatus.SUBMITTED,
    )
    rows = await session.scalars(
        select(OrgUnit.id).where(
            OrgUnit.level == form.level, active_on(win.period.start, win.period.end), ~sent
        )
    )
    return set(rows.all())


async def _capped_units(session: AsyncSession, form: Form, win: Window) -> set[int]:
    """Units whose leader's reminder for this period was stopped by a channel's monthly cap."""
    rows = await session.scalars(
        select(Person.unit_id)
        .join(OutboxMessage, OutboxMessage.person_id == Person.id)
        .where(
            OutboxMessage.status == OutboxStatus.CAPPED,
            OutboxMessage.key.like(f"rem:%:{form.code}:{win.period.key}:%"),
        )
    )
    return set(rows.all())


async def weekly_summaries(
    session: AsyncSession, catalog: Catalog, local: datetime, web: bool
) -> list[Planned]:
    from schedules.thi_dua import most_improved
    from storage.plan.thi_dua_rule import Rule

    form = default_form(catalog)
    period = latest_due_period(form, local.date())
    iso = local.isocalendar()
    people = await session.execute(
        select(Person, OrgUnit)
        .join(OrgUnit, OrgUnit.id == Person.unit_id)
        .where(Person.role.in_(WEEKLY_ROLES), Person.active.is_(True))
    )
    out = []
    for person, unit in people.all():
        done = await completeness(session, form, period, unit)
        percent = done.submitted / done.expected * 100 if done.expected else None
        summary = vi.MISSING_SUMMARY.format(
            submitted=done.submitted,
            expected=done.expected,
            percent=vi.format_percent(percent),
            on_time=done.on_time,
            late=done.late,
            missing=len(done.missing),
        )
        lines = [f"{form.name} – {period.label}: {summary}"]
        rule = catalog.thi_dua or Rule()
        best = await most_improved(session, catalog, rule, unit, local.date())
        if best is not None:
            lines.append(
                vi.DIGEST_MOST_IMPROVED.format(
                    name=best.unit.name,
                    before=vi.format_number(best.before, 1),
                    now=vi.format_number(best.now, 1),
                )
            )
        leader_role = catalog.role_of_level(catalog.leaf_level)
        if leader_role is not None:
            joined, total, waiting = await joined_count(session, unit, leader_role)
            if total:
                leader = vi.level_words(catalog, catalog.leaf_level)["leader"]
                lines.append(vi.WEEKLY_JOINED.format(joined=joined, total=total, leader=leader))
                if waiting:
                    lines.append(vi.WEEKLY_NOT_ACCEPTED.format(count=waiting, leader=leader))
                if joined < total:
                    lines.append(vi.WEEKLY_NOT_JOINED_HINT)
        text = vi.DIGEST_WEEKLY.format(unit=unit.name, summary="\n".join(lines))
        choices = [Choice(vi.BUTTON_WEB, "g:web")] if web else []
        out.append(
            Planned(
                f"week:{person.id}:{iso.year}-W{iso.week:02d}",
                "digest",
                person.id,
                to_payload(Outbound(text, choices, free_text=True)),
            )
        )
    return out


async def with_quota_notes(
    session: AsyncSession, digests: list[Planned], at: datetime
) -> list[Planned]:
    """Officers are told in their digests when a channel's quota holds messages back (#19)."""
    exhausted = await quota_exhausted(session, at) if digests else {}
    if not exhausted:
        return digests
    notes = [
        vi.DIGEST_QUOTA.format(
            channel=vi.CHANNEL_NAMES.get(channel, channel),
            until=until.astimezone(VN).strftime("%H:%M %d/%m/%Y"),
        )
        for channel, until in sorted(exhausted.items())
    ]
    return [
        dataclasses.replace(
            digest,
            payload={**digest.payload, "text": "\n".join([digest.payload["text"], *notes])},
        )
        for digest in digests
    ]
