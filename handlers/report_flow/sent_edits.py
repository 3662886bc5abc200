"""A sent report's change: proposed (old → new, and why a figure is doubtful), saved
once she confirms, or void when the report was approved meanwhile; what is not an answer to a
sent report's item asked again."""

from __future__ import annotations

import re

from handlers.parsing import parse_number, parse_yes_no
from handlers.report_flow.context import FLOW, _context, _editing, _issues, whole_form
from handlers.report_flow.prompts import _ask, _ask_confirm_edit, _meanwhile, _summary
from handlers.report_flow.wording import (
    _clip,
    _day,
    _parsed_whole,
    _show,
    _whole_notes,
    _why,
)
from handlers.turn import Turn
from handlers.whole_form import WholeForm
from schedules.calendar import window
from storage.db.models import SubmissionStatus
from storage.measures import report_approval, report_audit, reporting
from storage.plan import texts_vi as vi
from storage.plan.catalog import Form, IndicatorType
from storage.plan.periods import from_key
from storage.plan.text import fold


async def _propose_whole_edit(
    turn: Turn, found: WholeForm, text: str, question: int | None = None
) -> None:
    """A whole form after "sửa": every value it changes is proposed at once."""
    form, _sub, _ = await _context(turn)
    catalog = turn.ctx.catalog
    notes = _whole_notes(turn, form, found)
    values = _parsed_whole(catalog, form, found, notes)
    if notes:
        turn.say("\n".join(notes))
    await _propose_edit(turn, values, vi.EDIT_HOW_WHOLE.format(text=_clip(text)), question=question)


async def _propose_edit(
    turn: Turn, values: dict[str, reporting.Answer], how: str, *, question: int | None = None
) -> None:
    """Shows old → new for every value of a sent report the edit changes, with any doubt,
    and asks her to confirm; nothing is saved before that. A figure a rule refuses stops the
    edit (the question is asked again when she was answering one)."""
    form, sub, answers = await _context(turn)
    if sub.approved_at is not None:  # never "old → new «Lưu thay đổi»" for an approved report
        await _meanwhile(turn, form, sub)
        return
    changes = {
        code: value
        for code, value in values.items()
        if code not in answers or reporting.as_text(answers[code]) != reporting.as_text(value)
    }
    if not changes:
        turn.say(vi.EDIT_NO_CHANGE)
        turn.goto("submitted", editing=False)
        await _summary(turn)
        return
    issues = [
        issue for issue in await _issues(turn, {**answers, **changes}) if issue.indicator in changes
    ]
    stops = [issue for issue in issues if issue.stops]
    if stops:
        turn.say(_why(turn, form, stops))
        if question is not None:
            turn.goto("question", i=question)
            await _ask(turn)
        else:
            turn.goto("submitted", editing=False)
            await _summary(turn)
        return
    edit = [
        [code, code in answers, answers.get(code), changes[code]]
        for code in (q.indicator for q in form.questions)
        if code in changes
    ]
    turn.goto(
        "confirm_edit",
        edit=edit,
        edit_how=how,
        edit_why=_why(turn, form, issues),
        edit_doubts=sorted({issue.indicator for issue in issues}),
        editing=False,
    )
    await _ask_confirm_edit(turn)


async def _save_edit(turn: Turn, reply: str) -> None:
    """Saves the confirmed change of a sent report: each value with its audit entry (what
    asked for it and what confirmed it), each doubt she confirmed with it; totals follow."""
    assert turn.person is not None
    form, sub, answers = await _context(turn)
    data = turn.data
    if sub.approved_at is not None or sub.status != SubmissionStatus.SUBMITTED:
        await _meanwhile(turn, form, sub)
        return
    period = from_key(sub.period_key, turn.ctx.catalog.terms)
    if not window(form, period).is_open(turn.today) and not sub.reopened:
        turn.enter(None, None)
        turn.say(
            vi.SUBMITTED_LOCKED.format(
                form=form.name, period=period.label, closes=_day(window(form, period).closes)
            )
        )
        return
    edit = data.get("edit") or []
    if any(
        (code in answers) != had or reporting.as_text(answers.get(code)) != reporting.as_text(old)
        for code, had, old, _new in edit
    ):
        turn.say(vi.EDIT_STALE)
        turn.goto("submitted", edit=None)
        await _summary(turn)
        return
    note = vi.AUDIT_EDIT_NOTE.format(how=data.get("edit_how") or "", reply=_clip(reply))
    number = {q.indicator: n for n, q in enumerate(form.questions, start=1)}
    lines: list[str] = []
    for code, had, old, new in edit:
        await reporting.save_answer(
            turn.session, turn.ctx.catalog, sub, code, new, turn.person, turn.now, note=note
        )
        turn.cache[("context", sub.id)][2][code] = new
        indicator = turn.ctx.catalog.indicators[code]
        lines.append(
            vi.CORRECTION_SAVED.format(
                n=number[code],
                old=_show(indicator, old) if had else vi.NOT_ANSWERED,
                new=_show(indicator, new),
            )
        )
    new_values = {code: new for code, _had, _old, new in edit}
    for code in data.get("edit_doubts") or []:
        await report_audit.confirm(
            turn.session,
            sub,
            code,
            new_values.get(code),
            turn.person,
            turn.now,
            data.get("edit_why") or "",
        )
    turn.say("\n".join(lines))
    turn.goto("submitted", edit=None, edit_why=None, edit_doubts=None, saved_edit=True)
    await _summary(turn)


_KEEP_OLD = {"giu so cu", "giu nguyen", "xong", "thoi", "khong sua"}


async def _sent_item_text(turn: Turn, form: Form, text: str) -> bool:
    """What is not an answer to a sent report's item asked again: "Giữ số cũ" or "Xong"
    leaves the edit; "Không" to a number is asked about (it is not taken for 0); a row of
    numbers is not a change of several items. False for anything else."""
    i = int(turn.data["i"])
    indicator = turn.ctx.catalog.indicators[form.questions[i].indicator]
    folded = fold(text).strip(" .!")
    if folded in _KEEP_OLD:
        turn.say(vi.EDIT_KEPT)
        turn.goto("submitted", editing=False)
        await _summary(turn)
        return True
    if not indicator.is_numeric or indicator.type in (IndicatorType.YES_NO, IndicatorType.CHOICE):
        return False
    row = whole_form(turn.ctx.catalog, form, text)
    if parse_yes_no(text) is False and not re.search(r"\d", text):
        turn.say(vi.EDIT_NO_IS_NOT_ZERO.format(n=i + 1))
    elif row is not None and not row.by_label and parse_number(text).error == "not_number":
        turn.say(vi.EDIT_ONE_ITEM.format(n=i + 1))
    else:
        return False
    await _ask(turn)
    return True


async def _stale_edit(turn: Turn) -> bool:
    """An item asked again, numbers asked for or a change waiting for her word, of a sent
    report approved since (even if reopened since): the edit is void, nothing is saved, she
    is told so. At the summary the approval it was shown under is noted."""
    conversation = turn.conversation
    if conversation is None or conversation.flow != FLOW or not turn.data.get("sid"):
        return False
    form, sub, _ = await _context(turn)
    if sub.status != SubmissionStatus.SUBMITTED:
        return False
    period = from_key(sub.period_key, turn.ctx.catalog.terms)
    closes = window(form, period)
    if not closes.is_open(turn.today) and not sub.reopened:
        # Left at a sent report whose window has closed since: no edit is walked through.
        turn.enter(None, None)
        turn.say(
            vi.SUBMITTED_LOCKED.format(
                form=form.name, period=period.label, closes=_day(closes.closes)
            )
        )
        return True
    mark = await report_approval.last_approval(turn.session, sub)
    if not _editing(turn) or "approval_mark" not in turn.data:
        turn.save(approval_mark=mark)
        return False
    if sub.approved_at is None and turn.data["approval_mark"] == mark:
        return False
    turn.say(vi.EDIT_APPROVED_MEANWHILE)
    if sub.approved_at is not None:
        turn.enter(None, None)
    else:  # approved, then reopened: her edit begins again from the summary
        turn.goto("submitted", editing=False, edit=None, approval_mark=mark)
        await _summary(turn)
    return True
