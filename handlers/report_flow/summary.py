"""The summary of a report (a draft's or a sent one's) and what she types or presses at it:
"sửa N", "sửa N thành X", a bare "sửa", send, done; the thanks after sending."""

from __future__ import annotations

import unicodedata

from handlers.report_flow.answer import _advance, _answer, _try_whole_form
from handlers.report_flow.context import _context, _issues, whole_form
from handlers.report_flow.prompts import _ask, _ask_edit_whole, _summary, ask_again
from handlers.report_flow.sent_edits import _propose_whole_edit
from handlers.report_flow.wording import (
    _EDIT_ONE,
    _EDIT_ONE_ITEM,
    _EDIT_TEXT,
    _EDIT_WORD,
    _day,
    _example,
    _lower_first,
    _parse,
)
from handlers.turn import Turn
from schedules.calendar import window
from storage.db import answer_path
from storage.db.models import SubmissionStatus
from storage.measures import report_approval, reporting
from storage.plan import texts_vi as vi
from storage.plan.catalog import Form, IndicatorType
from storage.plan.periods import from_key
from storage.plan.text import fold


async def _summary_text(turn: Turn, text: str) -> None:
    """At the summary, a draft's or a sent report's: "sửa 3" asks item 3 again; "sửa 3 thành
    5" or "sửa" with numbers changes them; a bare "sửa" asks for the numbers. A whole form
    without "sửa" is taken in a draft (or asked about), and changes nothing in a sent report
    (she is told how to edit it); anything else says nothing changed."""
    folded = fold(text)
    m = _EDIT_TEXT.match(folded)
    if m:
        await _edit(turn, int(m.group(1)))
        return
    if _EDIT_WORD.match(folded):
        turn.goto("edit_whole")
        await _ask_edit_whole(turn)
        return
    form, sub, _ = await _context(turn)
    if folded.startswith("sua ") and await _edit_with(turn, form, text):
        return
    if sub.status != SubmissionStatus.SUBMITTED and await _try_whole_form(turn, text):
        return
    if folded.startswith("sua "):
        turn.say(vi.EDIT_NOTHING_READ)
        await _summary(turn)
    elif sub.status == SubmissionStatus.SUBMITTED and whole_form(turn.ctx.catalog, form, text):
        turn.say(vi.SENT_USE_EDIT.format(example=_example(form)))
        await _summary(turn)
    else:
        await _summary(turn, unclear=True)


async def _edit_with(turn: Turn, form: Form, message: str) -> bool:
    """The numbers after "sửa" in `message`: a whole form (by label or in order) or one item
    and its answer ("sửa 3 thành 5"), taken in a draft and proposed in a sent report; False
    if neither."""
    _form, sub, _ = await _context(turn)
    rest = message.strip().split(None, 1)[1]
    found = whole_form(turn.ctx.catalog, form, rest)
    if found is not None and sub.status == SubmissionStatus.SUBMITTED:
        await _propose_whole_edit(turn, found, message)
        return True
    if found is not None:
        await _try_whole_form(turn, rest, sure=True)  # she said "sửa": she means it
        return True
    m = _EDIT_ONE.match(fold(message))
    if m and 1 <= int(m.group(1)) <= len(form.questions):
        i = int(m.group(1)) - 1
        raw = _EDIT_ONE_ITEM.sub("", unicodedata.normalize("NFC", rest), count=1)
        value, error = _parse(turn.ctx.catalog.indicators[form.questions[i].indicator], raw)
        if error:
            turn.say(vi.WHOLE_REFUSED.format(n=i + 1, error=error))
            await _summary(turn)
            return True
        turn.goto("question", i=i, editing=True)
        await _answer(turn, value, raw)
        return True
    return False


async def _summary_action(turn: Turn, action: str) -> None:
    if action.startswith("edit:") and action[5:].isdigit():
        await _edit(turn, int(action[5:]))
    elif action == "send" and turn.conversation and turn.conversation.step == "summary":
        await _send(turn)
    elif action == "done":
        assert turn.person is not None
        _form, sub, _ = await _context(turn)
        saved = bool(turn.data.get("saved_edit"))
        turn.enter(None, None)
        # A reopened report locks itself again when she is done.
        again = (
            await report_approval.relock(turn.session, sub, turn.person, turn.now)
            if sub.reopened
            else None
        )
        if again is not None:
            turn.say(vi.RELOCKED_APPROVED if again else vi.RELOCKED_WAITING)
        else:
            turn.say(vi.EDITS_DONE if saved else vi.EDITS_DONE_NONE)
    else:
        await ask_again(turn)


async def _edit(turn: Turn, n: int) -> None:
    form, _sub, _ = await _context(turn)
    if not 1 <= n <= len(form.questions):
        turn.say(vi.EDIT_BAD_NUMBER.format(n=n, total=len(form.questions)))
        await _summary(turn)
        return
    turn.goto("question", i=n - 1, editing=True)
    await _ask(turn)


async def _send(turn: Turn) -> None:
    assert turn.person and turn.unit
    form, sub, answers = await _context(turn)
    missing = [
        n
        for n, q in enumerate(form.questions, start=1)
        if not q.optional and q.indicator not in answers
    ]
    if missing:
        turn.say(vi.MISSING_REQUIRED.format(n=missing[0]))
        turn.goto("question", i=missing[0] - 1, editing=False)
        await _ask(turn)
        return
    if await _issues(turn, answers):
        # The previous report changed since, or the answers were saved elsewhere: ask again.
        await _advance(turn, None)
        return
    period = from_key(sub.period_key, turn.ctx.catalog.terms)
    win = window(form, period)
    await reporting.submit(
        turn.session,
        turn.ctx.catalog,
        sub,
        turn.person,
        turn.now,
        late=win.is_late(turn.today),
        driver=turn.cache.get(answer_path.DRIVER),
    )
    turn.enter(None, None)
    template = vi.THANKS_LATE if sub.late else vi.THANKS_ON_TIME
    text = template.format(form=_lower_first(form.name), period=period.label, due=_day(win.due))
    line = await _year_to_date_line(turn, form)
    turn.say(f"{text}\n{line}" if line else text)


async def _year_to_date_line(turn: Turn, form: Form) -> str:
    assert turn.unit is not None
    catalog = turn.ctx.catalog
    codes = [
        q.indicator
        for q in form.questions
        if catalog.indicators[q.indicator].agg == "sum"
        and catalog.indicators[q.indicator].type == IndicatorType.COUNT
    ]
    totals = await reporting.year_to_date(
        turn.session,
        catalog,
        turn.unit,
        codes,
        turn.today,
        driver=turn.cache.get(answer_path.DRIVER),
    )
    items = [
        vi.YEAR_TO_DATE_ITEM.format(
            value=vi.format_number(v),
            unit=catalog.indicators[c].unit,
            label=_lower_first(catalog.indicators[c].label),
        ).replace("  ", " ")
        for c, v in totals.items()
        if v
    ][:3]
    if not items:
        return ""
    level = catalog.level_word(turn.unit.level)
    return vi.YEAR_TO_DATE.format(year=turn.today.year, level=level, items="; ".join(items))
