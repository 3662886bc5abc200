"""The answer step: one answer to the question asked (`_answer_text`, the entry, for a
typed or a button's answer), checked by the form's rules, saved (`_store`), and the next thing
to ask (`_advance`); and the whole form in one message in the open report (`_try_whole_form`)."""

from __future__ import annotations

from handlers.report_flow.context import (
    _confirmations,
    _context,
    _editing,
    _issues,
    _summary_step,
    whole_form,
)
from handlers.report_flow.prompts import (
    _ask,
    _confirm,
    _meanwhile,
    _say_approved,
    _summary,
    _values_text,
)
from handlers.report_flow.sent_edits import _propose_edit, _propose_whole_edit
from handlers.report_flow.wording import (
    _WHOLE_CHOICES,
    _clip,
    _example,
    _listed,
    _parse,
    _parsed_whole,
    _show,
    _whole_ask_text,
    _whole_notes,
    _why,
)
from handlers.turn import Turn
from handlers.whole_form import WholeForm
from schedules.calendar import window
from storage.db.models import Submission, SubmissionStatus
from storage.measures import report_audit, reporting
from storage.plan import texts_vi as vi
from storage.plan.catalog import IndicatorType
from storage.plan.periods import from_key


async def _answer_text(turn: Turn, text: str, *, from_button: bool = False) -> None:
    """Her answer to the question asked; a whole form instead is taken as such (or asked
    about); a refused answer is explained and the question asked again."""
    form, _sub, _answers = await _context(turn)
    i = int(turn.data["i"])
    indicator = turn.ctx.catalog.indicators[form.questions[i].indicator]
    value, error = _parse(indicator, text)
    if error:
        whole = not from_button and indicator.type != IndicatorType.TEXT
        if whole and await _try_whole_form(turn, text):
            return
        if len(text.split()) > 2 and not from_button:  # a sentence, not a muddled answer
            sent = _sub.status == SubmissionStatus.SUBMITTED
            error += "\n" + (vi.PAUSE_HINT_SENT if sent else vi.PAUSE_HINT)
        turn.say(error)
        turn.goto("question", no_doubt=True)  # a "Không" to this refusal is no 0
        await _ask(turn)
        return
    await _answer(turn, value, text)


async def _answer(
    turn: Turn, value: reporting.Answer, text: str, *, note: str | None = None
) -> None:
    """A readable answer to the question asked: a sent report's is proposed as an edit; a
    draft's is saved, unless a rule stops it or it is doubtful (then she confirms it); `note`
    is said once it is saved."""
    form, sub, answers = await _context(turn)
    i = int(turn.data["i"])
    code = form.questions[i].indicator
    if sub.status == SubmissionStatus.SUBMITTED:
        how = vi.EDIT_HOW_ONE.format(n=i + 1, text=_clip(text))
        await _propose_edit(turn, {code: value}, how, question=i)
        return
    if isinstance(value, float):
        issues = await _issues(turn, {**answers, code: value}, only=code)
        if any(issue.stops for issue in issues):
            turn.say(_why(turn, form, [issue for issue in issues if issue.stops]))
            turn.goto("question")
            await _ask(turn)
            return
        if issues:
            turn.goto("confirm_value", pending=value, why=_why(turn, form, issues))
            await _confirm(turn, value)
            return
    await _store(turn, value, note=note)


async def _whole_instead(turn: Turn, text: str, step: str) -> bool:
    """A whole form typed while something else was asked: what was asked is dropped (it
    was not saved) and the message is read from `step` instead."""
    form, _sub, _ = await _context(turn)
    if whole_form(turn.ctx.catalog, form, text) is None:
        return False
    turn.goto(step, pending=None)
    await _try_whole_form(turn, text)
    return True


async def _store(
    turn: Turn,
    value: float | str | None,
    *,
    confirmed: str | None = None,
    note: str | None = None,
) -> None:
    """Saves a draft's answer at once (with her confirmation of a doubtful one), says `note`,
    then moves on. (A sent report changes only through _propose_edit and her confirmation.)"""
    assert turn.person is not None
    form, sub, _answers = await _context(turn)
    i = int(turn.data["i"])
    code = form.questions[i].indicator
    if sub.approved_at is not None or sub.status == SubmissionStatus.SUBMITTED:
        # Sent or approved meanwhile, from another chat: nothing changes here.
        await _meanwhile(turn, form, sub)
        return
    await _save(turn, sub, code, value)
    if confirmed is not None:
        await report_audit.confirm(turn.session, sub, code, value, turn.person, turn.now, confirmed)
        (await _confirmations(turn, sub)).add((code, reporting.as_text(value)))
    if note:
        turn.say(note)
    await _advance(turn, None if turn.data.get("editing") else i)


async def _save(turn: Turn, sub: Submission, code: str, value: reporting.Answer) -> None:
    assert turn.person is not None
    if turn.answers_out is not None and sub.status == SubmissionStatus.DRAFT:
        turn.answers_out.append((sub, code, value))  # the plain answer's path writes it
    else:
        await reporting.save_answer(
            turn.session, turn.ctx.catalog, sub, code, value, turn.person, turn.now
        )
    turn.cache[("context", sub.id)][2][code] = value


async def _advance(turn: Turn, after: int | None, *, show_values: bool = False) -> None:
    """What to ask next: on a first pass the next unanswered question; then any required
    question still unanswered, a figure a rule refuses, a doubtful one to confirm; else the
    summary. `show_values` first lists every value named (after a whole-form message)."""
    form, sub, answers = await _context(turn)
    n = len(form.questions)
    if after is not None:
        following = next(
            (j for j in range(after + 1, n) if form.questions[j].indicator not in answers), None
        )
        if following is not None:
            if show_values:
                turn.say(await _values_text(turn))
            turn.goto("question", i=following, pending=None, editing=False)
            await _ask(turn)
            return
    missing = next(
        (j for j, q in enumerate(form.questions) if not q.optional and q.indicator not in answers),
        None,
    )
    issues = [] if missing is not None else await _issues(turn, answers)
    if missing is None and not issues:
        turn.goto(_summary_step(sub), editing=False, pending=None)
        await _summary(turn)
        return
    if show_values:
        turn.say(await _values_text(turn))
    if missing is not None:
        turn.goto("question", i=missing, pending=None, editing=False)
        await _ask(turn)
        return
    code = issues[0].indicator
    about = [issue for issue in issues if issue.indicator == code]
    i = next(j for j, q in enumerate(form.questions) if q.indicator == code)
    stops = [issue for issue in about if issue.stops]
    if stops:
        turn.say(_why(turn, form, stops))
        turn.goto("question", i=i, pending=None, editing=True)
        await _ask(turn)
        return
    value = answers[code]
    assert isinstance(value, float)
    turn.goto("confirm_value", i=i, pending=value, why=_why(turn, form, about), editing=True)
    await _confirm(turn, value)


async def _try_whole_form(
    turn: Turn, text: str, *, sure: bool = False, opening: bool = False
) -> bool:
    """Takes a whole-form message in the open report: a draft's values are saved when the
    message plainly is the form and opens the report (`opening`: sent with /baocao or in
    reply to a reminder), or she said it is (`sure`: "Có" to the proposal, "sửa" with the
    numbers); else she is asked first, with old → new, as with no report open: typed at a
    question or at the summary, a message that is not plainly the form (a list, a forwarded
    note) or that would overwrite an answer or fill items by a guess (`_beyond_the_question`)
    is a proposal. A sent report's are
    proposed as an edit (only ever called after her "sửa"). False if the text is no form."""
    if not text:
        return False
    form, sub, answers = await _context(turn)
    found = whole_form(turn.ctx.catalog, form, text)
    if found is None:
        return False
    if sub.approved_at is not None:  # approved meanwhile: nothing changes
        _say_approved(turn, form, sub)
        return True
    if sub.status == SubmissionStatus.SUBMITTED and _editing(turn):
        step = turn.conversation.step if turn.conversation else None
        if step in ("question", "confirm_edit") and not (sure or found.plain):
            return False  # a list or a note while one item is corrected: no edit, asked again
        at = int(turn.data["i"]) if step == "question" else None
        await _propose_whole_edit(turn, found, text, question=at)
        return True
    if sub.status == SubmissionStatus.SUBMITTED:  # sent meanwhile, from another chat
        turn.say(vi.SENT_USE_EDIT.format(example=_example(form)))
        turn.goto("submitted", editing=False)
        await _summary(turn)
        return True
    if not sure and (not found.plain or await _beyond_the_question(turn, found, opening)):
        step = turn.conversation.step if turn.conversation else None
        period = from_key(sub.period_key, turn.ctx.catalog.terms)
        turn.goto("confirm_form", text=text, back=step)
        turn.ask(
            _whole_ask_text(turn, form, window(form, period), found, answers),
            _WHOLE_CHOICES,
            free_text=True,
        )
        return True
    catalog = turn.ctx.catalog
    notes = _whole_notes(turn, form, found)
    if not found.by_label:
        n = len(form.questions)
        required = max((j + 1 for j, q in enumerate(form.questions) if not q.optional), default=0)
        if found.count < required:
            notes.insert(0, vi.WHOLE_TOO_FEW.format(sent=found.count, n=n))
        elif found.count > n:
            extra = _listed(found.extra)
            notes.insert(0, vi.WHOLE_TOO_MANY.format(sent=found.count, n=n, extra=extra))
        else:
            # Every required answer came; the optional ones after them are left out.
            for q in form.questions[found.count :]:
                if q.indicator not in answers:
                    await _save(turn, sub, q.indicator, None)
    changed: list[str] = []
    values = _parsed_whole(catalog, form, found, notes)
    for j, q in enumerate(form.questions):
        if q.indicator not in values:
            continue
        value = values[q.indicator]
        old = answers.get(q.indicator)
        if q.indicator in answers and reporting.as_text(old) != reporting.as_text(value):
            shown = [_show(catalog.indicators[q.indicator], v) for v in (old, value)]
            changed.append(vi.WHOLE_CHANGED_ITEM.format(n=j + 1, old=shown[0], new=shown[1]))
        await _save(turn, sub, q.indicator, value)
    n = len(form.questions)
    if notes and notes[0] == vi.WHOLE_TOO_FEW.format(sent=found.count, n=n):
        after = (await _context(turn))[2]
        if all(q.optional or q.indicator in after for q in form.questions):  # nothing missing
            notes[0] = vi.WHOLE_TOO_FEW_ALL.format(sent=found.count, n=n)
    if changed:
        notes.append(vi.WHOLE_CHANGED.format(items="; ".join(changed)))
    if notes:
        turn.say("\n".join(notes))
    turn.save(no_doubt=True)  # a "Không" now answers what she was shown, not the question
    await _advance(turn, None, show_values=True)
    return True


async def _beyond_the_question(turn: Turn, found: WholeForm, opening: bool) -> bool:
    """Whether she is asked first (typed at a question or at the summary; `opening`: the
    message opens the report): it would overwrite an answer given before (other than the
    question asked, unless it opens the report), or fill other items by a guess (phrases read
    by the items' names; numbers in order, fewer than the required questions or more than
    the form has). A plain form that fills only the question asked and items not answered
    yet, by label, by item number or in order, is written at once and every value is shown
    back (README, "The whole report in one message")."""
    form, _sub, answers = await _context(turn)
    step = turn.conversation.step if turn.conversation else None
    asked = form.questions[int(turn.data["i"])].indicator if step == "question" else None
    required = sum(not q.optional for q in form.questions)
    in_order = not found.by_label and not found.named
    guess = found.named or (in_order and not required <= found.count <= len(form.questions))
    for q in form.questions:
        raw = found.answers.get(q.indicator)
        if raw is None or (q.indicator == asked and not opening):
            continue
        value, error = _parse(turn.ctx.catalog.indicators[q.indicator], raw)
        if error is not None:
            continue
        if q.indicator in answers:
            if reporting.as_text(answers[q.indicator]) != reporting.as_text(value):
                return True
        elif guess and not opening:
            return True
    return False
