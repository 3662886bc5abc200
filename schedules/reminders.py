"""What the bot should send unasked at a given moment, computed from the database alone.

Reminders follow each form's schedule (days relative to the period's opening and due date, an
hour to send, quiet hours); digests go to the officer above units that have not reported, and
a weekly summary to district and provincial staff (schedules/digests.py); nothing about reports
goes to someone who has not accepted the personal-data notice. Nothing here depends on jobs
held in memory: run it at any moment, as often as you like, and the outbox keys make it queue
each message once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from schedules.calendar import Window, window
from schedules.digests import officer_digests, rating_reminders, weekly_summaries, with_quota_notes
from schedules.messages import Choice, Outbound
from schedules.planned import Plan, Planned, to_payload
from schedules.recipients import reopened_unsent, unreported_leaders
from storage.db.models import Conversation, ReminderSnooze
from storage.db.people import awaiting_notice
from storage.plan import texts_vi as vi
from storage.plan.catalog import Catalog, Form, Reminder, Schedule
from storage.plan.clock import VN
from storage.plan.periods import from_key, next_period, period_of, previous_period

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
    # Nothing about reports to someone the bot still waits on to accept the notice (#22).
    waiting = await awaiting_notice(session)
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
                    if leader.person_id in waiting:
                        continue  # reminded once she accepts (the officer's digest says so)
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
                digests = await officer_digests(session, catalog, form, win, waiting)
                out.extend(await with_quota_notes(session, digests, at))
        out.extend(await reopened_reminders(session, catalog, form, role, at, waiting))
    for form in catalog.forms.values():
        # A rating period just ended: the officers who rate are told who is not rated yet.
        ended = period_of(form.periodicity, today - timedelta(days=1))
        just_ended = ended.end + timedelta(days=1) == today
        if form.filled_by is not None and just_ended and may_send(local, form.schedule):
            out.extend(await rating_reminders(session, catalog, form, ended))
    if local.weekday() == 0 and may_send(local, Schedule()):
        weekly = await weekly_summaries(session, catalog, local, web)
        out.extend(await with_quota_notes(session, weekly, at))
    out = [m for m in out if m.person_id not in waiting]  # (her digests and summaries)
    if out:
        yield out


# A late report an officer reopened after its period closed (/mobaocao) is owed like one due:
# the notice tells her the day it is reopened (schedules/notices.py), then she is reminded
# REOPENED_FIRST days after, and every REOPENED_EVERY days after that, until she sends it or
# it is closed again; held, like any reminder, while she is in a report or snoozed it.
REOPENED_FIRST = 2
REOPENED_EVERY = 3


def reopened_reminder_due(reopened_on: date, today: date) -> bool:
    days = (today - reopened_on).days
    return days >= REOPENED_FIRST and (days - REOPENED_FIRST) % REOPENED_EVERY == 0


async def reopened_reminders(
    session: AsyncSession,
    catalog: Catalog,
    form: Form,
    role: str,
    at: datetime,
    waiting: set[int],
) -> list[Planned]:
    """The reminders due at `at` of the late reports of `form` reopened and not sent (on the
    cadence's days, and the day a snooze of hers ends)."""
    local = at.astimezone(VN)
    today = local.date()
    owed = [
        r
        for r in await reopened_unsent(session, form, role, today)
        if r.leader.person_id not in waiting
    ]
    if not owed:
        return []
    reporting_now = await in_a_report(session, at - IN_A_REPORT)
    snoozes = {key: await _snoozes(session, form, key) for key in {r.period_key for r in owed}}
    out: list[Planned] = []
    for r in owed:
        win = window(form, from_key(r.period_key, catalog.terms))
        snoozed_until = snoozes[r.period_key].get(r.leader.person_id)
        if win.closes >= today or r.leader.person_id in reporting_now:
            continue  # still open: the usual reminders; in a report: at the next check
        if snoozed_until and snoozed_until > at:
            continue
        woke = snoozed_until is not None and snoozed_until.astimezone(VN).date() == today
        if not (woke or reopened_reminder_due(r.reopened_at.astimezone(VN).date(), today)):
            continue
        message = reminder_message(r.leader.name, form, win, None, today, catalog)
        message.text = vi.REMINDER_REOPENED.format(
            **vi.level_words(catalog, form.level),
            name=r.leader.name.rsplit(maxsplit=1)[-1],
            form_lower=form.name[:1].lower() + form.name[1:],
            period=win.period.label,
            opened=r.reopened_at.astimezone(VN).strftime("%d/%m/%Y"),
        )
        key = f"rem:{r.leader.person_id}:{form.code}:{r.period_key}:reopened:{today}"
        out.append(Planned(key, "reminder", r.leader.person_id, to_payload(message)))
    return out


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
