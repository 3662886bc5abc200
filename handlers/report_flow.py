"""The reporting conversation of a branch leader (or any unit that reports a form).

States, in the order she meets them:

    pick_form      several forms or periods are open: she picks one
    question       one question per message; answers are saved as they come
    confirm_value  an answer far above the branch's history or size: "Chị xác nhận …?"
    summary        every answer, with "Gửi" and "Sửa mục N"
    submitted      a sent report she may still correct until the period closes

Actions arriving from buttons (or typed words matched to them): "f:<i>" pick, "v:<value>"
a shortcut answer, "back", "skip", "ok" / "retype" (confirmation), "send", "edit:<n>", "done".
"""

from __future__ import annotations

import re

from handlers import texts_vi as vi
from handlers.parsing import fold, match_choice, parse_number, parse_yes_no, tidy
from handlers.turn import Turn
from schedules.calendar import Window, next_window, open_windows, window
from schedules.periods import from_key
from storage import reporting
from storage.catalog import Form, Indicator, IndicatorType
from storage.models import Submission, SubmissionStatus

FLOW = "report"
MAX_TEXT_ANSWER = 500
_EDIT_TEXT = re.compile(r"^sua(?: muc)? ?(\d{1,2})$")


# ---- entry points -------------------------------------------------------------------------


async def start(turn: Turn) -> None:
    """Starts or resumes the report of the open period; asks which one if several are open."""
    assert turn.unit is not None
    forms = turn.ctx.catalog.forms_for_level(turn.unit.level)
    if not forms:
        turn.enter(None, None)
        turn.say(vi.NO_FORM_FOR_UNIT)
        return
    windows = [(f, w) for f in forms for w in open_windows(f, turn.today)]
    # Reports an officer reopened after their period closed can be corrected too.
    for sub in await reporting.reopened(turn.session, turn.unit.id):
        form = turn.ctx.catalog.forms.get(sub.form_code)
        if form is not None and all(w.period.key != sub.period_key for _, w in windows):
            windows.append((form, window(form, from_key(sub.period_key, turn.ctx.catalog.terms))))
    if not windows:
        upcoming = min(
            ((next_window(f, turn.today), f.name) for f in forms), key=lambda pair: pair[0].opens
        )
        turn.enter(None, None)
        turn.say(
            vi.NO_OPEN_PERIOD.format(
                form=upcoming[1],
                period=upcoming[0].period.label,
                opens=upcoming[0].opens.strftime("%d/%m/%Y"),
            )
        )
        return
    if len(windows) == 1:
        await _open(turn, *windows[0])
        return
    options = [(f.code, w.period.key) for f, w in windows]
    turn.enter(FLOW, "pick_form", options=options)
    turn.ask(
        vi.PICK_FORM,
        [
            (vi.FORM_CHOICE.format(form=f.name, period=w.period.label), f"f:{i}")
            for i, (f, w) in enumerate(windows)
        ],
    )


async def on_action(turn: Turn, action: str) -> None:
    step = turn.conversation.step if turn.conversation else None
    handler = ACTIONS.get(step or "")
    if handler is None:
        await start(turn)
        return
    await handler(turn, action)


async def on_text(turn: Turn, text: str) -> None:
    step = turn.conversation.step if turn.conversation else None
    if step in ("question", "confirm_value"):
        await _answer_text(turn, text)
    elif step in ("summary", "submitted"):
        m = _EDIT_TEXT.match(fold(text))
        if m:
            await _edit(turn, int(m.group(1)))
        else:
            await reprompt(turn)
    else:
        await reprompt(turn)


async def reprompt(turn: Turn) -> None:
    """Asks the current question again (after an unclear reply or an old button)."""
    step = turn.conversation.step if turn.conversation else None
    if step == "question":
        await _ask(turn)
    elif step in ("summary", "submitted"):
        await _summary(turn)
    elif step == "pick_form":
        data = turn.data
        turn.ask(data.get("prompt", vi.PICK_FORM), [tuple(c) for c in data.get("offered", [])])
    elif step == "confirm_value":
        await _confirm(turn, float(turn.data["pending"]))
    else:
        await start(turn)


async def cancel(turn: Turn) -> None:
    if turn.conversation and turn.conversation.flow == FLOW:
        turn.enter(None, None)
        turn.say(vi.CANCELLED)
    else:
        turn.say(vi.NOTHING_TO_CANCEL)


# ---- steps --------------------------------------------------------------------------------


async def _pick(turn: Turn, action: str) -> None:
    options = turn.data.get("options", [])
    if not action.startswith("f:") or not action[2:].isdigit() or int(action[2:]) >= len(options):
        await reprompt(turn)
        return
    form_code, period_key = options[int(action[2:])]
    form = turn.ctx.catalog.forms[form_code]
    await _open(turn, form, window(form, from_key(period_key, turn.ctx.catalog.terms)))


async def _open(turn: Turn, form: Form, win: Window) -> None:
    assert turn.person and turn.unit
    sub = await reporting.get_or_create(turn.session, turn.unit.id, form, win.period, turn.now)
    turn.enter(FLOW, "question", form=form.code, period=win.period.key, sid=sub.id, i=0)
    if sub.status == SubmissionStatus.SUBMITTED:
        if sub.approved_at is not None:
            _say_approved(turn, form, sub)
            return
        if not win.is_open(turn.today) and not sub.reopened:
            turn.enter(None, None)
            turn.say(
                vi.SUBMITTED_LOCKED.format(
                    form=form.name, period=win.period.label, closes=_day(win.closes)
                )
            )
            return
        turn.goto("submitted")
        await _summary(turn)
        return
    answers = await reporting.answers(turn.session, sub.id)
    n = len(form.questions)
    first_open = next((i for i, q in enumerate(form.questions) if q.indicator not in answers), n)
    if answers:
        turn.say(
            vi.REPORT_RESUME.format(form=form.name, period=win.period.label, done=len(answers), n=n)
        )
    else:
        turn.say(
            vi.REPORT_START.format(form=form.name, period=win.period.label, due=_day(win.due), n=n)
        )
    if first_open >= n:
        turn.goto("summary")
        await _summary(turn)
    else:
        turn.goto("question", i=first_open)
        await _ask(turn)


async def _ask(turn: Turn) -> None:
    form, sub, answers = await _context(turn)
    i = int(turn.data["i"])
    question = form.questions[i]
    indicator = turn.ctx.catalog.indicators[question.indicator]
    lines = [vi.QUESTION.format(i=i + 1, n=len(form.questions), question=indicator.question)]
    current = answers.get(indicator.code, _MISSING)
    last = (await _last_values(turn, form, sub)).get(indicator.code)
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


async def _question_action(turn: Turn, action: str) -> None:
    form, _sub, _answers = await _context(turn)
    i = int(turn.data["i"])
    if action == "back":
        if turn.data.get("editing"):
            turn.goto(_summary_step(_sub), editing=False)
            await _summary(turn)
        else:
            turn.goto("question", i=max(i - 1, 0))
            await _ask(turn)
    elif action == "skip" and form.questions[i].optional:
        await _store(turn, None)
    elif action.startswith("v:"):
        await _answer_text(turn, action[2:], from_button=True)
    else:
        await reprompt(turn)


async def _answer_text(turn: Turn, text: str, *, from_button: bool = False) -> None:
    form, sub, _answers = await _context(turn)
    i = int(turn.data["i"])
    indicator = turn.ctx.catalog.indicators[form.questions[i].indicator]
    value, error = _parse(indicator, text)
    if error:
        turn.say(error)
        turn.goto("question")
        await _ask(turn)
        return
    if isinstance(value, float) and not from_button:
        why = await _implausible(turn, indicator, value, form, sub)
        if why:
            turn.goto("confirm_value", pending=value, why=why)
            await _confirm(turn, value)
            return
    await _store(turn, value)


async def _confirm(turn: Turn, value: float) -> None:
    form, _sub, _ = await _context(turn)
    indicator = turn.ctx.catalog.indicators[form.questions[int(turn.data["i"])].indicator]
    text = turn.data.get("why", "") + "\n" + vi.CONFIRM_VALUE.format(value=_show(indicator, value))
    turn.ask(
        text.strip(), [(vi.BUTTON_CONFIRM, "ok"), (vi.BUTTON_RETYPE, "retype")], free_text=True
    )


async def _confirm_action(turn: Turn, action: str) -> None:
    if action == "ok":
        await _store(turn, float(turn.data["pending"]))
    elif action == "retype":
        turn.goto("question")
        await _ask(turn)
    else:
        await reprompt(turn)


async def _store(turn: Turn, value: float | str | None) -> None:
    """Saves the answer at once, then moves on: next question, or back to the summary."""
    assert turn.person is not None
    form, sub, answers = await _context(turn)
    i = int(turn.data["i"])
    code = form.questions[i].indicator
    indicator = turn.ctx.catalog.indicators[code]
    old = answers.get(code)
    if sub.approved_at is not None:  # approved while she was editing: nothing changes
        _say_approved(turn, form, sub)
        return
    await reporting.save_answer(
        turn.session, turn.ctx.catalog, sub, code, value, turn.person, turn.now
    )
    turn.cache[("context", sub.id)][2][code] = value
    if sub.status == SubmissionStatus.SUBMITTED and old != value:
        turn.say(
            vi.CORRECTION_SAVED.format(
                n=i + 1, old=_show(indicator, old), new=_show(indicator, value)
            )
        )
    if turn.data.get("editing") or i + 1 >= len(form.questions):
        turn.goto(_summary_step(sub), editing=False, pending=None)
        await _summary(turn)
        return
    answers[code] = value
    following = next(
        (
            j
            for j in range(i + 1, len(form.questions))
            if form.questions[j].indicator not in answers
        ),
        None,
    )
    if following is None:
        turn.goto("summary", pending=None)
        await _summary(turn)
    else:
        turn.goto("question", i=following, pending=None)
        await _ask(turn)


async def _summary(turn: Turn) -> None:
    form, sub, answers = await _context(turn)
    period = from_key(sub.period_key, turn.ctx.catalog.terms)
    lines = [vi.SUMMARY_TITLE.format(form=form.name, period=period.label)]
    for n, q in enumerate(form.questions, start=1):
        indicator = turn.ctx.catalog.indicators[q.indicator]
        value = answers.get(q.indicator, _MISSING)
        shown = vi.NOT_ANSWERED if value is _MISSING else _show(indicator, value)
        lines.append(vi.SUMMARY_LINE.format(n=n, label=indicator.label, value=shown))
    edits = [(vi.BUTTON_EDIT.format(n=n), f"edit:{n}") for n in range(1, len(form.questions) + 1)]
    if sub.status == SubmissionStatus.SUBMITTED:
        win = window(form, period)
        lines.append(
            vi.SUBMITTED_SUMMARY_ASK.format(
                when=_day(sub.submitted_at.astimezone(turn.now.tzinfo).date())
                if sub.submitted_at
                else "",
                closes=_day(win.closes),
            )
        )
        turn.ask("\n".join(lines), [(vi.BUTTON_DONE, "done")], free_text=True, button_only=edits)
    else:
        lines.append(vi.SUMMARY_ASK)
        turn.ask("\n".join(lines), [(vi.BUTTON_SUBMIT, "send")], free_text=True, button_only=edits)


async def _summary_action(turn: Turn, action: str) -> None:
    if action.startswith("edit:") and action[5:].isdigit():
        await _edit(turn, int(action[5:]))
    elif action == "send" and turn.conversation and turn.conversation.step == "summary":
        await _send(turn)
    elif action == "done":
        _form, sub, _ = await _context(turn)
        sub.reopened = False  # a reopened report closes again when she is done
        turn.enter(None, None)
        turn.say(vi.EDITS_DONE)
    else:
        await reprompt(turn)


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
    period = from_key(sub.period_key, turn.ctx.catalog.terms)
    win = window(form, period)
    await reporting.submit(
        turn.session, turn.ctx.catalog, sub, win, turn.person, turn.now, turn.today
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
    totals = await reporting.year_to_date(turn.session, catalog, turn.unit, codes, turn.today)
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


# ---- helpers ------------------------------------------------------------------------------

_MISSING = object()


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


async def _context(turn: Turn) -> tuple[Form, Submission, dict[str, float | str | None]]:
    """The form, the submission and its answers; read once a turn, kept current by _store."""
    data = turn.data
    key = ("context", data["sid"])
    if key not in turn.cache:
        form = turn.ctx.catalog.forms[data["form"]]
        sub = await turn.session.get(Submission, int(data["sid"]))
        assert sub is not None
        turn.cache[key] = (form, sub, await reporting.answers(turn.session, sub.id))
    form, sub, answers = turn.cache[key]
    return form, sub, dict(answers)


async def _last_values(turn: Turn, form: Form, sub: Submission) -> dict:
    """Last period's answers (hints, plausibility): read when the report is opened and kept
    in the conversation, so each answer does not read them again."""
    data = turn.data
    if data.get("last_sid") != sub.id:
        last = await reporting.last_values(turn.session, sub.unit_id, form.code, sub.period_start)
        turn.save(last_sid=sub.id, last=last)
        return last
    return dict(data.get("last") or {})


def _summary_step(sub: Submission) -> str:
    return "submitted" if sub.status == SubmissionStatus.SUBMITTED else "summary"


def _parse(indicator: Indicator, text: str) -> tuple[float | str | None, str | None]:
    """The stored value, or a Vietnamese explanation of why the answer was refused."""
    if indicator.type == IndicatorType.TEXT:
        value = tidy(text)
        if len(value) > MAX_TEXT_ANSWER:
            return None, vi.NUMBER_ERRORS["text_too_long"].format(n=len(value), max=MAX_TEXT_ANSWER)
        return (value, None) if value else (None, vi.NUMBER_ERRORS["empty"])
    if indicator.type == IndicatorType.YES_NO:
        yes = parse_yes_no(text)
        if yes is None and text.strip() in ("0", "1"):
            yes = text.strip() == "1"
        return (None, vi.NUMBER_ERRORS["yes_no"]) if yes is None else (1.0 if yes else 0.0, None)
    if indicator.type == IndicatorType.CHOICE:
        chosen = match_choice([(c.value, c.label) for c in indicator.choices], text)
        if chosen is None:
            labels = ", ".join(f"«{c.label}»" for c in indicator.choices)
            return None, vi.NUMBER_ERRORS["choice"].format(choices=labels)
        return chosen, None
    result = parse_number(text, allow_decimal=indicator.type == IndicatorType.AMOUNT)
    if result.error:
        shown = text.strip()
        shown = shown if len(shown) <= 30 else shown[:27] + "…"
        return None, vi.NUMBER_ERRORS[result.error].format(text=shown, unit=indicator.unit)
    assert result.value is not None
    if result.value < indicator.min:
        return None, vi.NUMBER_ERRORS["below_min"].format(min=vi.format_number(indicator.min))
    if indicator.max is not None and result.value > indicator.max:
        return None, vi.NUMBER_ERRORS["above_max"].format(max=vi.format_number(indicator.max))
    return result.value, None


async def _implausible(
    turn: Turn, indicator: Indicator, value: float, form: Form, sub: Submission
) -> str | None:
    """Why a number looks too big to take without asking, or None.

    Far above the branch's size (more than its member count, for counts among members), or
    many times its last report and large in itself.
    """
    assert turn.unit is not None
    last = (await _last_values(turn, form, sub)).get(indicator.code)
    found = reporting.doubt(indicator, value, turn.unit.member_count, last)
    if found is None:
        return None
    if found.reason == "members":
        return vi.CONFIRM_WHY_MEMBERS.format(
            level=turn.ctx.catalog.level_word(turn.unit.level),
            members=vi.format_number(found.limit),
        )
    return vi.CONFIRM_WHY_HISTORY.format(last=_show(indicator, found.limit))


def _show(indicator: Indicator, value: object) -> str:
    if value is None:
        return vi.SKIPPED
    if indicator.type == IndicatorType.YES_NO:
        return vi.BUTTON_YES if value else vi.BUTTON_NO
    if indicator.type == IndicatorType.CHOICE and isinstance(value, float):
        return indicator.choice_label(value) or vi.format_number(value)
    if isinstance(value, float):
        return f"{vi.format_number(value, 2)} {indicator.unit}".strip()
    return str(value)


def _day(day: object) -> str:
    return day.strftime("%d/%m/%Y") if hasattr(day, "strftime") else str(day)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


ACTIONS = {
    "pick_form": _pick,
    "question": _question_action,
    "confirm_value": _confirm_action,
    "summary": _summary_action,
    "submitted": _summary_action,
}
