"""An officer's actions on a unit's sent report by chat: reopen it for a correction
(/mobaocao), approve it (/duyet, asking first when it changed or is being corrected), rate
a unit below (/xeploai)."""

from __future__ import annotations

from datetime import date

from handlers import report_flow, staff
from handlers.parsing import match_choice
from handlers.query import parse_query
from handlers.staff import FLOW, _usage, staff_only
from handlers.turn import Turn
from schedules.calendar import open_windows, window
from schedules.notices import tell_approved, tell_reopened
from storage.db.conversations import unit_conversations
from storage.db.models import OrgUnit, Submission, SubmissionStatus
from storage.measures import report_approval, report_audit, reporting
from storage.plan import texts_vi as vi
from storage.plan.catalog import Form, IndicatorType
from storage.plan.clock import local
from storage.plan.periods import Period, period_of


async def _sent_report(
    turn: Turn, args: str, usage: str, not_found: str, action: str
) -> tuple[Submission, dict[str, str]] | None:
    """The sent report of a unit below the asker named in `args` (unit and optional period),
    with the fields its replies name; None after saying why there is none (`not_found`: it
    was not sent; `action`: what the level above does to her own unit's reports)."""
    named = await _named_report(turn, args, usage, action)
    if named is None:
        return None
    _unit, _form, _period, sub, fields = named
    if sub is None or sub.status != SubmissionStatus.SUBMITTED:
        turn.say(not_found.format(**fields))
        return None
    return sub, fields


async def _named_report(
    turn: Turn, args: str, usage: str, action: str
) -> tuple[OrgUnit, Form, Period, Submission | None, dict[str, str]] | None:
    """The report (sent, a draft or none yet) of a unit below the asker named in `args`, its
    form and period, with the fields its replies name; None after saying why it cannot be."""
    assert turn.unit is not None
    query = parse_query(args)
    target = query.unit or query.words
    if not target:
        turn.say(await _usage(turn, usage))
        return None
    catalog = turn.ctx.catalog
    try:
        unit = await staff.unit_in_scope(turn.session, target, turn.unit)
        forms = catalog.forms_for_level(unit.level)
        if unit.id == turn.unit.id:
            raise staff.StaffError(vi.OWN_REPORT.format(unit=unit.name, action=action))
        if not forms:
            raise staff.StaffError(vi.UNKNOWN_UNIT.format(text=target))
        form = forms[0]
        period = staff.period_or_error(
            query.period, turn.today, catalog, staff.latest_due_period(form, turn.today)
        )
    except staff.StaffError as exc:
        turn.say(str(exc))
        return None
    form = next((f for f in forms if f.periodicity == period.kind), form)
    key = period_of(form.periodicity, period.end)
    if key.start > period.start:
        # "năm 1900" for a monthly report names twelve reports, not its December: ask which.
        example = staff.latest_due_period(form, turn.today).label
        turn.say(vi.NAME_ONE_REPORT.format(unit=unit.name, period=period.label, example=example))
        return None
    sub = await reporting.find_submission(turn.session, unit.id, form.code, key.key)
    fields = {
        **vi.level_words(catalog, form.level),
        "unit": unit.name,
        "form": form.name[:1].lower() + form.name[1:],
        "period": key.label,
    }
    return unit, form, key, sub, fields


@staff_only
async def mobaocao(turn: Turn, args: str) -> None:
    """An officer reopens a unit's sent report (closed or approved), for a correction; or,
    after its period closed, a report the unit never sent, for a late one."""
    assert turn.person is not None
    named = await _named_report(turn, args, vi.MOBAOCAO_USAGE, vi.ACTION_REOPEN)
    if named is None:
        return
    unit, form, period, sub, fields = named
    late = sub is None or sub.status != SubmissionStatus.SUBMITTED
    if late and window(form, period).closes >= turn.today:  # still open: nothing to reopen
        turn.say(vi.REOPEN_NOT_FOUND.format(**fields))
        return
    if sub is None:
        sub = await reporting.get_or_create(turn.session, unit.id, form, period, turn.now)
    await report_approval.reopen(turn.session, sub, turn.person, turn.now)
    told = await tell_reopened(
        turn.session, turn.ctx.catalog, sub, turn.person, fields["period"], turn.now, late=late
    )
    if told.names:
        after = vi.REOPENED_TOLD.format(names=", ".join(told.names))
    elif told.awaiting_notice:
        after = vi.REOPENED_NOT_TOLD_NOTICE.format(**fields)
    else:
        after = vi.REOPENED_NOT_TOLD.format(**fields)
    turn.say((vi.REOPENED_LATE if late else vi.REOPENED).format(**fields) + "\n" + after)


@staff_only
async def xeploai(turn: Turn, args: str) -> None:
    """An officer rates a unit below her (a form her level fills about it): /xeploai khá xã A.

    Without a period named, the rating goes to the period being rated now (the one whose
    window is open, else the current one); a rating already given to a past period is only
    changed when that period is named."""
    assert turn.unit is not None and turn.person is not None
    catalog = turn.ctx.catalog
    query = parse_query(args)
    mine = catalog.level_index(turn.unit.level)
    ratings = [
        (f, catalog.indicators[q.indicator])
        for f in catalog.forms.values()
        if f.filled_by and mine <= catalog.level_index(f.filled_by)
        for q in f.questions
        if catalog.indicators[q.indicator].type == IndicatorType.CHOICE
    ]
    if not ratings:  # her level rates nothing: no example would fit
        turn.say(vi.XEPLOAI_NO_FORM)
        return

    def names_rating(words: str) -> bool:
        return any(
            match_choice([(c.value, c.label) for c in ind.choices], words) is not None
            for _, ind in ratings
        )

    try:
        words, unit_words = query.words, query.unit
        if not unit_words:
            words, found = await staff.split_unit(turn.session, words, turn.unit, names_rating)
            unit_words = found.code if found else None
        if not unit_words:
            turn.say(await _usage(turn, vi.XEPLOAI_USAGE))
            return
        unit = await staff.unit_in_scope(turn.session, unit_words, turn.unit)
    except staff.StaffError as exc:
        turn.say(str(exc))
        return
    found_forms = [(f, ind) for f, ind in ratings if f.level == unit.level]
    if unit.id == turn.unit.id or not found_forms:
        turn.say(vi.XEPLOAI_NONE.format(unit=unit.name))
        return
    form, indicator = found_forms[0]
    labels = ", ".join(f"«{c.label}»" for c in indicator.choices)
    value = match_choice([(c.value, c.label) for c in indicator.choices], words)
    if value is None:
        turn.say(vi.XEPLOAI_UNKNOWN.format(choices=labels))
        return
    try:
        named = staff.period_or_error(
            query.period, turn.today, catalog, rating_period(form, turn.today)
        )
    except staff.StaffError as exc:
        turn.say(str(exc))
        return
    win = window(form, period_of(form.periodicity, named.end))
    fields = {
        "label": indicator.label,
        "period": win.period.label,
        "unit": unit.name,
        "value": indicator.choice_label(value) or "",
    }
    if query.period is None and win.period.end < turn.today:
        # A past period's rating is changed only when she names it.
        sub = await reporting.find_submission(turn.session, unit.id, form.code, win.period.key)
        before = (
            (await reporting.answers(turn.session, sub.id)).get(indicator.code) if sub else None
        )
        if isinstance(before, float) and before != value:
            fields["old"] = indicator.choice_label(before) or ""
            turn.say(vi.XEPLOAI_NAME_PERIOD.format(**fields, words=words, unit_words=unit_words))
            return
    before = await reporting.record_about(
        turn.session,
        catalog,
        unit.id,
        form,
        win.period,
        {indicator.code: value},
        turn.person,
        turn.now,
        late=win.is_late(turn.today),
    )
    if isinstance(before, float) and before != value:
        fields["old"] = indicator.choice_label(before) or ""
        turn.say(vi.XEPLOAI_CHANGED.format(**fields))
    else:
        turn.say(vi.XEPLOAI_DONE.format(**fields))


def rating_period(form: Form, today: date) -> Period:
    """The period being rated today: the one whose window is open (the year just ended, in
    January), else the current one."""
    found = open_windows(form, today)  # (as /chuaxeploai reads it)
    return found[0].period if found else period_of(form.periodicity, today)


@staff_only
async def duyet(turn: Turn, args: str) -> None:
    """An officer of the level above approves a unit's sent report, which locks it; a report
    changed after it was sent shows her every change (old → new) and asks her first."""
    assert turn.person is not None
    found = await _sent_report(turn, args, vi.DUYET_USAGE, vi.DUYET_NOT_FOUND, vi.ACTION_APPROVE)
    if found is None:
        return
    sub, fields = found
    if sub.approved_at is not None:
        turn.say(vi.ALREADY_APPROVED.format(**fields))
        return
    changes = await report_audit.changes_since_sent(turn.session, sub.id)
    # A leader in the middle of an edit of it (said "sửa", not saved or left): asked too.
    leaders = await unit_conversations(turn.session, sub.unit_id, report_flow.FLOW)
    editing = any(report_flow.edit_in_progress(c) == sub.id for c in leaders)
    if changes or sub.reopened or editing:  # reopened: she may be correcting it still
        _ask_approval(turn, sub, fields, changes, editing=editing)
        return
    await _approve(turn, sub, fields)


async def _approve(turn: Turn, sub: Submission, fields: dict[str, str]) -> None:
    """Approves it, and tells her unit's leader (through the outbox, owed until sent); one in
    the middle of an edit of it learns her edit was not saved."""
    assert turn.person is not None
    convs = await unit_conversations(turn.session, sub.unit_id, report_flow.FLOW)
    editing = {c.person_id for c in convs if report_flow.edit_in_progress(c) == sub.id}
    await report_approval.approve(turn.session, sub, turn.person, turn.now)
    await tell_approved(
        turn.session, turn.ctx.catalog, sub, turn.person, fields["period"], turn.now, editing
    )
    turn.say(vi.APPROVED.format(**fields))


def _ask_approval(
    turn: Turn,
    sub: Submission,
    fields: dict[str, str],
    changes: list[report_audit.Change],
    *,
    editing: bool = False,
) -> None:
    catalog = turn.ctx.catalog
    lines = []
    if sub.reopened:
        lines.append(vi.APPROVE_STILL_EDITING.format(**fields))
    elif editing:
        lines.append(vi.APPROVE_EDIT_IN_PROGRESS.format(**fields))
    if changes:
        lines.append(vi.APPROVE_CHANGED.format(**fields))
    for change in changes:
        indicator = catalog.indicators.get(change.indicator_code)
        label = indicator.label if indicator else change.indicator_code
        lines.append(
            vi.APPROVE_CHANGE_LINE.format(
                label=label,
                old=_shown(turn, change.indicator_code, change.old),
                new=_shown(turn, change.indicator_code, change.new),
                when=local(change.at).strftime("%d/%m"),
                who=change.by or vi.APPROVE_IMPORTED,
            )
            + (vi.APPROVE_CHANGE_DOUBT if change.doubt is not None else "")
        )
    lines.append(vi.APPROVE_ASK)
    # What she saw: a change made after it asks her again.
    seen = {"sid": sub.id, "seen": changes[-1].entry_id if changes else None, "fields": fields}
    turn.enter(FLOW, "approve", approve=seen)
    turn.ask("\n".join(lines), [(vi.BUTTON_APPROVE, "approve"), (vi.BUTTON_NOT_NOW, "later")])


def _shown(turn: Turn, code: str, value: str | None) -> str:
    """A value of the audit trail as the reports show it ("5 hộ", "Có", "–")."""
    indicator = turn.ctx.catalog.indicators.get(code)
    if value is None or indicator is None:
        return value or vi.SKIPPED
    if indicator.type == IndicatorType.YES_NO:
        return vi.BUTTON_YES if value == "1" else vi.BUTTON_NO
    if indicator.type == IndicatorType.CHOICE:
        return indicator.choice_label(float(value)) or value
    if indicator.is_numeric:
        return f"{vi.format_number(float(value), 2)} {indicator.unit}".strip()
    return value


async def approval_action(turn: Turn, action: str) -> None:
    """ "Duyệt" or "Để sau" after the changes of a report were shown."""
    assert turn.person is not None
    pending = dict(turn.data.get("approve") or {})
    turn.enter(None, None)
    if action == "later":
        turn.say(vi.APPROVE_LATER)
        return
    sub = await turn.session.get(Submission, int(pending.get("sid", 0)))
    fields = pending.get("fields") or {}
    if action != "approve" or sub is None or sub.status != SubmissionStatus.SUBMITTED:
        turn.say(vi.BUTTON_EXPIRED)
        return
    if sub.approved_at is not None:
        turn.say(vi.ALREADY_APPROVED.format(**fields))
        return
    changes = await report_audit.changes_since_sent(turn.session, sub.id)
    if changes and changes[-1].entry_id != pending.get("seen"):
        turn.say(vi.APPROVE_CHANGED_AGAIN)
        _ask_approval(turn, sub, fields, changes)
        return
    await _approve(turn, sub, fields)
