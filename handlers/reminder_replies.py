"""Replies to reminders and digests: "Nhắc lại sau" (snooze) and "Nhắc ngay" (nudge now)."""

from __future__ import annotations

from sqlalchemy import select

from handlers.turn import Turn
from schedules.calendar import window
from schedules.outbox import QueueResult, enqueue_in
from schedules.planned import Planned, to_payload
from schedules.recipients import unreported_leaders
from schedules.reminders import next_morning, nudge_message
from storage.db.models import OutboxMessage, ReminderSnooze
from storage.db.people import awaiting_notice
from storage.plan import texts_vi as vi
from storage.plan.clock import VN
from storage.plan.periods import PeriodError, from_key


async def _latest(turn: Turn, prefix: str) -> tuple[str, str] | None:
    """(form, period) of the latest reminder or digest sent to her."""
    assert turn.person is not None
    key = await turn.session.scalar(
        select(OutboxMessage.key)
        .where(OutboxMessage.person_id == turn.person.id, OutboxMessage.key.like(f"{prefix}:%"))
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    if not key:
        return None
    parts = key.split(":")
    return parts[2], parts[3]


def _target(turn: Turn, args: str) -> tuple[str, str] | None:
    form_code, _, period_key = args.partition(":")
    if form_code in turn.ctx.catalog.forms and period_key:
        return form_code, period_key
    return None


async def later(turn: Turn, args: str) -> None:
    """Snoozes the reminder of a form and period until the next morning's sending hour."""
    assert turn.person is not None
    found = _target(turn, args) or await _latest(turn, "rem")
    if found is None:
        turn.say(vi.NOTHING_TO_SNOOZE)
        return
    form = turn.ctx.catalog.forms[found[0]]
    until = next_morning(turn.now.astimezone(VN), form.schedule)
    snooze = await turn.session.get(ReminderSnooze, (turn.person.id, found[0], found[1]))
    if snooze is None:
        turn.session.add(
            ReminderSnooze(
                person_id=turn.person.id, form_code=found[0], period_key=found[1], until=until
            )
        )
    else:
        snooze.until = until
    turn.say(vi.SNOOZED.format(when=until.strftime("%H:%M sáng %d/%m")))


async def nudge(turn: Turn, args: str) -> None:
    """An officer asks to remind, now, the leaders of her units that have not reported."""
    assert turn.person is not None and turn.unit is not None
    found = _target(turn, args) or await _latest(turn, "dig")
    catalog = turn.ctx.catalog
    if found is None:
        turn.say(vi.NUDGE_NONE.format(**vi.level_words(catalog, catalog.leaf_level)))
        return
    form = catalog.forms[found[0]]
    words = vi.level_words(catalog, form.level)
    role = catalog.role_of_level(form.level)
    try:
        win = window(form, from_key(found[1], catalog.terms))
    except PeriodError:
        turn.say(vi.NUDGE_NONE.format(**words))
        return
    if role is None:
        turn.say(vi.NUDGE_NONE.format(**words))
        return
    leaders = await unreported_leaders(turn.session, form, win, role, within=turn.unit)
    # Nothing about reports to someone who has not accepted the personal-data notice (#22).
    waiting = await awaiting_notice(turn.session)
    unasked = sum(1 for leader in leaders if leader.person_id in waiting)
    leaders = [leader for leader in leaders if leader.person_id not in waiting]
    today = turn.today.isoformat()
    planned = [
        Planned(
            f"nudge:{leader.person_id}:{form.code}:{win.period.key}:{today}",
            "nudge",
            leader.person_id,
            to_payload(nudge_message(leader.name, form, win, catalog)),
        )
        for leader in leaders
    ]
    result = QueueResult()
    await enqueue_in(turn.session, planned, turn.now, result)
    reached = result.queued + result.already
    lines = [vi.NUDGED.format(n=reached, **words) if reached else vi.NUDGE_NONE.format(**words)]
    if result.unreachable:
        lines.append(vi.NUDGE_UNREACHABLE.format(n=result.unreachable, **words))
    if unasked:
        lines.append(vi.NUDGE_NOT_ACCEPTED.format(n=unasked, **words))
    turn.say("\n".join(lines))
