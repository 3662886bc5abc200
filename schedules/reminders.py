"""What the bot should send unasked at a given moment, computed from the database alone.

Reminders follow each form's schedule (days relative to the period's opening and due date, an
hour to send, quiet hours); digests go to the officer above units that have not reported, and
a weekly summary to district and provincial staff. Nothing here depends on jobs held in memory:
run it at any moment, as often as you like, and the outbox keys make it queue each message
once.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from schedules.calendar import Window, default_form, latest_due_period, window
from schedules.messages import Choice, Outbound
from storage.db.delivery import quota_exhausted
from storage.db.models import (
    ChannelIdentity,
    Conversation,
    OrgUnit,
    OutboxMessage,
    OutboxStatus,
    Person,
    ReminderSnooze,
    Role,
    Submission,
    SubmissionStatus,
)
from storage.db.people import joined_count
from storage.db.sessions import among
from storage.db.units import active_on, subtree_filter
from storage.measures import report_audit
from storage.measures.completeness import completeness
from storage.measures.report_audit import ConfirmedDoubt
from storage.plan import texts_vi as vi
from storage.plan.catalog import Catalog, Form, Reminder, Schedule
from storage.plan.clock import VN
from storage.plan.periods import Period, next_period, period_of, previous_period
from storage.plan.text import vi_sort_key

WEEKLY_ROLES = (Role.DISTRICT_OFFICER, Role.PROVINCIAL_STAFF)


class Leader(NamedTuple):
    """The person to remind for a unit (columns, not ORM objects: there may be 100,000)."""

    person_id: int
    name: str
    unit_id: int
    unit_name: str


class Account(NamedTuple):
    person_id: int
    channel: str
    chat_id: str


@dataclass
class Planned:
    key: str
    kind: str  # reminder | digest | nudge
    person_id: int
    payload: dict[str, Any]


@dataclass
class Plan:
    messages: list[Planned] = field(default_factory=list)
    unreachable: list[int] = field(default_factory=list)  # people with no account to write to


# ---- payloads -----------------------------------------------------------------------------


def to_payload(message: Outbound) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "text": message.text,
        "choices": [[c.label, c.data] for c in message.choices],
        "free": message.free_text,
    }
    if message.button_only:
        payload["extra"] = [[c.label, c.data] for c in message.button_only]
    # Charts and workbooks are owed like any reply: kept in the row until sent.
    for name in ("photo", "document"):
        blob = getattr(message, name)
        if blob is not None:
            payload[name] = base64.b64encode(blob).decode()
    if message.filename:
        payload["filename"] = message.filename
    return payload


def from_payload(payload: dict[str, Any]) -> Outbound:
    photo, document = (
        base64.b64decode(payload[name]) if payload.get(name) is not None else None
        for name in ("photo", "document")
    )
    return Outbound(
        payload["text"],
        [Choice(label, data) for label, data in payload.get("choices", [])],
        free_text=bool(payload.get("free")),
        button_only=[Choice(label, data) for label, data in payload.get("extra", [])],
        photo=photo,
        document=document,
        filename=payload.get("filename"),
    )


# ---- time rules ---------------------------------------------------------------------------


def in_quiet_hours(moment: time, schedule: Schedule) -> bool:
    start, end = schedule.quiet_from, schedule.quiet_until
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end  # the quiet night spans midnight


def may_send(local: datetime, schedule: Schedule) -> bool:
    return local.time() >= schedule.send_at and not in_quiet_hours(local.time(), schedule)


def step_date(win: Window, step: Reminder) -> date:
    return win.opens if step.at == "open" else win.due + timedelta(days=int(step.at))


def step_name(step: Reminder) -> str:
    return "open" if step.at == "open" else f"d{int(step.at):+d}"


def windows_around(form: Form, today: date) -> list[Window]:
    current = period_of(form.periodicity, today)
    periods = [
        previous_period(previous_period(current)),
        previous_period(current),
        current,
        next_period(current),
    ]
    return [window(form, p) for p in periods]


def next_morning(local: datetime, schedule: Schedule) -> datetime:
    day = local.date() + timedelta(days=1)
    return datetime.combine(day, schedule.send_at, tzinfo=VN)


# ---- texts --------------------------------------------------------------------------------


def reminder_message(
    name: str,
    form: Form,
    win: Window,
    step: Reminder | None,
    today: date,
    catalog: Catalog,
    words: dict[str, str] | None = None,
) -> Outbound:
    """`words`: vi.level_words of the form's level, when the caller made them once for a
    fan-out (they cost more than the rest of the message)."""
    fields = {
        **(words or vi.level_words(catalog, form.level)),
        "name": name.rsplit(maxsplit=1)[-1],
        "form": form.name,
        "form_lower": form.name[:1].lower() + form.name[1:],
        "period": win.period.label,
        "due": win.due.strftime("%d/%m/%Y"),
    }
    if step is None:
        text = vi.REMINDER_SNOOZED.format(**fields)
    elif step.at == "open":
        text = vi.REMINDER_OPEN.format(**fields)
    elif int(step.at) < 0:
        text = vi.REMINDER_SOON.format(days=-int(step.at), **fields)
    elif int(step.at) == 0:
        text = vi.REMINDER_TODAY.format(**fields)
    else:
        text = vi.REMINDER_LATE.format(days=(today - win.due).days, **fields)
    return Outbound(
        text,
        [
            Choice(vi.BUTTON_REPORT_NOW, "g:baocao"),
            Choice(vi.BUTTON_LATER, f"g:later:{form.code}:{win.period.key}"),
        ],
        free_text=True,
    )


def nudge_message(name: str, form: Form, win: Window, catalog: Catalog) -> Outbound:
    return Outbound(
        vi.NUDGE.format(
            **vi.level_words(catalog, form.level),
            name=name.rsplit(maxsplit=1)[-1],
            form_lower=form.name[:1].lower() + form.name[1:],
            period=win.period.label,
            due=win.due.strftime("%d/%m/%Y"),
        ),
        [Choice(vi.BUTTON_REPORT_NOW, "g:baocao")],
        free_text=True,
    )


# ---- queries ------------------------------------------------------------------------------


async def unreported_leaders(
    session: AsyncSession, form: Form, win: Window, role: str, within: OrgUnit | None = None
) -> list[Leader]:
    """Leaders of units that should report this form and period and have not sent it."""
    sent = exists().where(
        Submission.unit_id == OrgUnit.id,
        Submission.form_code == form.code,
        Submission.period_key == win.period.key,
        Submission.status == SubmissionStatus.SUBMITTED,
    )
    query = (
        select(Person.id, Person.full_name, OrgUnit.id, OrgUnit.name)
        .join(OrgUnit, OrgUnit.id == Person.unit_id)
        .where(
            Person.role == role,
            Person.active.is_(True),
            OrgUnit.level == form.level,
            active_on(win.period.start, win.period.end),
            ~sent,
        )
        .order_by(Person.id)
    )
    if within is not None:
        query = query.where(subtree_filter(within.path))
    return [Leader(*row) for row in (await session.execute(query)).all()]


async def reachable_accounts(
    session: AsyncSession, person_ids: list[int]
) -> dict[int, list[Account]]:
    accounts: dict[int, list[Account]] = defaultdict(list)
    for start in range(0, len(person_ids), 5000):
        chunk = person_ids[start : start + 5000]
        rows = await session.execute(
            select(ChannelIdentity.person_id, ChannelIdentity.channel, ChannelIdentity.chat_id)
            .where(
                among(session, ChannelIdentity.person_id, chunk),
                ChannelIdentity.unreachable.is_(False),
            )
            .order_by(ChannelIdentity.id)
        )
        for row in rows.all():
            accounts[row[0]].append(Account(*row))
    return accounts


def choose_account(
    preferred: str | None, last: str | None, accounts: list[Account]
) -> Account | None:
    """Her preferred channel if set, else the one she used last, else any."""
    for wanted in (preferred, last):
        for account in accounts:
            if wanted and account.channel == wanted:
                return account
    return accounts[0] if accounts else None


async def _snoozes(session: AsyncSession, form: Form, period_key: str) -> dict[int, datetime]:
    rows = await session.scalars(
        select(ReminderSnooze).where(
            ReminderSnooze.form_code == form.code, ReminderSnooze.period_key == period_key
        )
    )
    return {s.person_id: s.until for s in rows.all()}


# ---- planning -----------------------------------------------------------------------------


async def plan(session: AsyncSession, catalog: Catalog, at: datetime, *, web: bool = False) -> Plan:
    """Everything due at `at` (reminders, snoozed reminders, digests, weekly summaries);
    `web`: the tracker pages are served, so the weekly summary offers a link."""
    result = Plan()
    async for chunk in plan_chunks(session, catalog, at, web=web):
        result.messages.extend(chunk)
    return result


async def plan_chunks(
    session: AsyncSession, catalog: Catalog, at: datetime, *, web: bool = False, size: int = 5000
) -> AsyncIterator[list[Planned]]:
    """What `plan` returns, in lists of about `size`, each queued before the next is made:
    100,000 reminders are never all in memory."""
    local = at.astimezone(VN)
    today = local.date()
    out: list[Planned] = []
    for form in catalog.forms.values():
        if form.filled_by is not None or not may_send(local, form.schedule):
            continue  # a form about a unit, filled by the level above: nobody to remind
        role = catalog.role_of_level(form.level)
        if role is None:
            continue
        words = vi.level_words(catalog, form.level)
        for win in windows_around(form, today):
            if not win.opens <= today <= win.closes:
                continue
            steps = [s for s in form.schedule.reminders if step_date(win, s) == today]
            snoozes = await _snoozes(session, form, win.period.key)
            due_snoozes = {
                pid
                for pid, until in snoozes.items()
                if until <= at and until.astimezone(VN).date() == today
            }
            if steps or due_snoozes:
                reporting_now = await in_a_report(session, at - IN_A_REPORT)
                # The leaders are small rows, read at once (a cursor would be planned for its
                # first rows, and is several times slower); the messages are what is big.
                for leader in await unreported_leaders(session, form, win, role):
                    if leader.person_id in reporting_now:
                        continue  # held: planned again at the next check, if still owed
                    snoozed_until = snoozes.get(leader.person_id)
                    for step in steps:
                        if snoozed_until and snoozed_until > at:
                            continue
                        out.append(
                            Planned(
                                f"rem:{leader.person_id}:{form.code}:{win.period.key}:"
                                f"{step_name(step)}",
                                "reminder",
                                leader.person_id,
                                to_payload(
                                    reminder_message(
                                        leader.name, form, win, step, today, catalog, words
                                    )
                                ),
                            )
                        )
                    if leader.person_id in due_snoozes:
                        out.append(
                            Planned(
                                f"rem:{leader.person_id}:{form.code}:{win.period.key}:snooze:"
                                f"{today}",
                                "reminder",
                                leader.person_id,
                                to_payload(
                                    reminder_message(
                                        leader.name, form, win, None, today, catalog, words
                                    )
                                ),
                            )
                        )
                    if len(out) >= size:
                        yield out
                        out = []
                    elif len(out) % 250 == 0:
                        await asyncio.sleep(0)  # let the batch being queued go on meanwhile
            if today == win.due + timedelta(days=1):
                digests = await _officer_digests(session, catalog, form, win)
                out.extend(await _with_quota_notes(session, digests, at))
    for form in catalog.forms.values():
        # A rating period just ended: the officers who rate are told who is not rated yet.
        ended = period_of(form.periodicity, today - timedelta(days=1))
        just_ended = ended.end + timedelta(days=1) == today
        if form.filled_by is not None and just_ended and may_send(local, form.schedule):
            out.extend(await _rating_reminders(session, catalog, form, ended))
    if local.weekday() == 0 and may_send(local, Schedule()):
        weekly = await _weekly(session, catalog, local, web)
        out.extend(await _with_quota_notes(session, weekly, at))
    if out:
        yield out


async def _officer_digests(
    session: AsyncSession, catalog: Catalog, form: Form, win: Window
) -> list[Planned]:
    """One digest per officer of the level above: her units that have not reported."""
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


async def _rating_reminders(
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


async def _weekly(
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
            joined, total = await joined_count(session, unit, leader_role)
            if total:
                leader = vi.level_words(catalog, catalog.leaf_level)["leader"]
                lines.append(vi.WEEKLY_JOINED.format(joined=joined, total=total, leader=leader))
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


async def _with_quota_notes(
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


# A leader answering the report's questions is not reminded of it in the middle (the reminder
# and its buttons would cut into her questions): her reminder waits while she has answered
# within this time. Once she has sent the report it is not owed at all; if she leaves it
# half done, it reaches her at the first check after this.
IN_A_REPORT = timedelta(hours=2)
REPORT_FLOW = "report"  # handlers.report_flow.FLOW (schedules do not import handlers)


async def in_a_report(session: AsyncSession, since: datetime) -> set[int]:
    """People in the middle of a report (a draft's questions, its summary) since `since`."""
    rows = await session.scalars(
        select(Conversation.person_id).where(
            Conversation.flow == REPORT_FLOW, Conversation.updated_at >= since
        )
    )
    return set(rows.all())
