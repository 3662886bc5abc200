"""What each state asks, and asking it again (`ask_again`): the question, the summary,
the confirmation of a doubtful figure, the numbers after a bare "sửa", the change of a sent
report. Prompts only render; they move her to no other state except to the summary of a
report sent or approved meanwhile."""

from __future__ import annotations

from handlers.report_flow.context import _MISSING, _context, _history, _members
from handlers.report_flow.wording import _day, _example, _show, one_line
from handlers.turn import Turn
from schedules.calendar import window
from storage.db.models import Submission, SubmissionStatus
from storage.plan import texts_vi as vi
from storage.plan.catalog import Form, IndicatorType
from storage.plan.clock import local
from storage.plan.periods import from_key


async def ask_again(turn: Turn) -> bool:
    """Asks the current state's question again (after an unclear reply or an old button);
    False for a step that is no state of the report (handlers/report_flow/states.py starts
    the report over then)."""
    step = turn.conversation.step if turn.conversation else None
    if step == "question":
        await _ask(turn)
    elif step in ("summary", "submitted"):
        await _summary(turn)
    elif step in ("pick_form", "confirm_form"):
        data = turn.data
        turn.ask(
            data.get("prompt", vi.PICK_FORM),
            [tuple(c) for c in data.get("offered", [])],
            free_text=bool(data.get("free")),
        )
    elif step == "confirm_value":
        await _confirm(turn, float(turn.data["pending"]))
    elif step == "edit_whole":
        await _ask_edit_whole(turn)
    elif step == "confirm_edit":
        await _ask_confirm_edit(turn)
    else:
        return False
    return True


async def _ask(turn: Turn) -> None:
    form, sub, answers = await _context(turn)
    i = int(turn.data["i"])
    question = form.questions[i]
    indicator = turn.ctx.catalog.indicators[question.indicator]
    lines = [vi.QUESTION.format(i=i + 1, n=len(form.questions), question=indicator.question)]
    current = answers.get(indicator.code, _MISSING)
    earlier = (await _history(turn, form, sub)).get(indicator.code)
    if indicator.per_member:  # read now, with the question, so her answer reads nothing
        # As her number will be checked: the values with this question answered.
        await _members(turn, form, sub, {**answers, indicator.code: 0.0}, indicator.code)
    last = earlier[0][1] if earlier else None
    if current is not _MISSING:
        lines.append(vi.HINT_CURRENT.format(value=_show(indicator, current)))
    elif last is not None and indicator.hint_last_value:
        lines.append(vi.HINT_LAST.format(value=_show(indicator, last)))
    if question.optional:
        lines.append(vi.HINT_OPTIONAL)
    choices: list[tuple[str, str]] = []
    free_text = indicator.type not in (IndicatorType.YES_NO, IndicatorType.CHOICE)
    if indicator.type == IndicatorType.YES_NO:
        choices += [(vi.BUTTON_YES, "v:1"), (vi.BUTTON_NO, "v:0")]
    elif indicator.type == IndicatorType.CHOICE:
        choices += [(c.label, f"v:{c.value:g}") for c in indicator.choices]
    elif indicator.is_numeric:
        lines.append(vi.HINT_TYPE_NUMBER.format(unit=indicator.unit).replace("  ", " "))
        choices.append((vi.BUTTON_ZERO, "v:0"))
        if last is not None and indicator.agg == "last" and isinstance(last, float):
            choices.append((vi.BUTTON_SAME.format(value=vi.format_number(last)), f"v:{last:g}"))
    else:
        lines.append(vi.TEXT_ANSWER_HINT)
    if question.optional:
        choices.append((vi.BUTTON_SKIP, "skip"))
    if i > 0 or turn.data.get("editing"):
        choices.append((vi.BUTTON_BACK, "back"))
    turn.ask("\n".join(lines), choices, free_text=free_text)
    turn.save(numeric=indicator.is_numeric and free_text)


async def _confirm(turn: Turn, value: float) -> None:
    form, _sub, _ = await _context(turn)
    indicator = turn.ctx.catalog.indicators[form.questions[int(turn.data["i"])].indicator]
    text = turn.data.get("why", "") + "\n" + vi.CONFIRM_VALUE.format(value=_show(indicator, value))
    turn.ask(
        text.strip(), [(vi.BUTTON_CONFIRM, "ok"), (vi.BUTTON_RETYPE, "retype")], free_text=True
    )


async def _meanwhile(turn: Turn, form: Form, sub: Submission) -> None:
    """The report was sent or approved from another chat while she was answering here."""
    if sub.approved_at is not None:
        _say_approved(turn, form, sub)
    else:
        turn.goto("submitted", editing=False, pending=None)
        await _summary(turn)


async def _ask_edit_whole(turn: Turn) -> None:
    form, _sub, _ = await _context(turn)
    turn.ask(
        vi.EDIT_WHOLE_ASK.format(example=_example(form), n=len(form.questions)),
        [(vi.BUTTON_BACK, "back")],
        free_text=True,
    )


async def _ask_confirm_edit(turn: Turn) -> None:
    form, sub, _ = await _context(turn)
    catalog = turn.ctx.catalog
    number = {q.indicator: n for n, q in enumerate(form.questions, start=1)}
    period = from_key(sub.period_key, catalog.terms)
    lines = [vi.EDIT_CONFIRM_TITLE.format(form=form.name, period=period.label)]
    for code, had, old, new in turn.data.get("edit") or []:
        indicator = catalog.indicators[code]
        lines.append(
            vi.EDIT_CONFIRM_LINE.format(
                n=number[code],
                label=indicator.label,
                old=_show(indicator, old) if had else vi.NOT_ANSWERED,
                new=_show(indicator, new),
            )
        )
    if turn.data.get("edit_why"):
        lines.append(turn.data["edit_why"])
    lines.append(vi.EDIT_CONFIRM_ASK)
    turn.ask(
        "\n".join(lines), [(vi.BUTTON_SAVE_EDIT, "ok"), (vi.BUTTON_KEEP, "no")], free_text=True
    )


async def _values_text(turn: Turn) -> str:
    """The report's title and every value, named."""
    form, sub, answers = await _context(turn)
    period = from_key(sub.period_key, turn.ctx.catalog.terms)
    lines = [vi.SUMMARY_TITLE.format(form=form.name, period=period.label)]
    for n, q in enumerate(form.questions, start=1):
        indicator = turn.ctx.catalog.indicators[q.indicator]
        value = answers.get(q.indicator, _MISSING)
        shown = vi.NOT_ANSWERED if value is _MISSING else _show(indicator, value)
        lines.append(vi.SUMMARY_LINE.format(n=n, label=indicator.label, value=shown))
    return "\n".join(lines)


async def _summary(turn: Turn, *, unclear: bool = False, lead: str = "") -> None:
    """Every answer and what she may do; `unclear`: after a message that was not understood,
    only that nothing changed and what she may do (the summary is on her screen already);
    `lead`: the same, with its own words first (a polite answer to her courtesy)."""
    form, sub, answers = await _context(turn)
    period = from_key(sub.period_key, turn.ctx.catalog.terms)
    if unclear or lead:
        lines = [lead or vi.SUMMARY_UNCLEAR]
    else:
        lines = [await _values_text(turn)]
        line = one_line(turn.ctx.catalog, form, answers)
        if line:
            lines.append(vi.ONE_MESSAGE_HINT.format(line=line))
    edits = [(vi.BUTTON_EDIT.format(n=n), f"edit:{n}") for n in range(1, len(form.questions) + 1)]
    if sub.status == SubmissionStatus.SUBMITTED:
        win = window(form, period)
        lines.append(
            vi.SUBMITTED_SUMMARY_ASK.format(
                when=_day(local(sub.submitted_at).date()) if sub.submitted_at else "",
                closes=_day(win.closes),
            )
        )
        turn.ask("\n".join(lines), [(vi.BUTTON_DONE, "done")], free_text=True, button_only=edits)
    else:
        lines.append(vi.SUMMARY_ASK)
        turn.ask("\n".join(lines), [(vi.BUTTON_SUBMIT, "send")], free_text=True, button_only=edits)


def _say_approved(turn: Turn, form: Form, sub: Submission) -> None:
    turn.enter(None, None)
    period = from_key(sub.period_key, turn.ctx.catalog.terms)
    turn.say(
        vi.APPROVED_LOCKED.format(
            form=form.name,
            period=period.label,
            **vi.level_words(turn.ctx.catalog, form.level),
        )
    )
