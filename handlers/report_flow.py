"""The reporting conversation of a branch leader (or any unit that reports a form).

States, in the order she meets them:

    pick_form      several forms or periods are open: she picks one
    question       one question per message; answers are saved as they come
    confirm_value  a doubtful answer (a form's rule, above the member count, far from the
                   unit's history): "Chị xác nhận …?"; a confirmation goes to the audit trail
    summary        every answer, with "Gửi" and "Sửa mục N"

The whole form may come in one message (in order, or by the form's short labels), after
/baocao, as a reply to a reminder, or at any step: what is read is saved, the values are shown
named, and only what is missing or doubtful is asked.
    submitted      a sent report she may still correct until the period closes

Actions arriving from buttons (or typed words matched to them): "f:<i>" pick, "v:<value>"
a shortcut answer, "back", "skip", "ok" / "retype" (confirmation), "send", "edit:<n>", "done".
"""

from __future__ import annotations

import re
from datetime import date

from handlers.parsing import (
    Slot,
    WholeForm,
    match_choice,
    parse_number,
    parse_yes_no,
    read_whole_form,
)
from handlers.turn import Turn
from schedules.calendar import Window, next_window, open_windows, window
from storage import reporting, validation
from storage import texts_vi as vi
from storage.catalog import Catalog, Form, Indicator, IndicatorType
from storage.models import Submission, SubmissionStatus
from storage.periods import from_key
from storage.text import fold, tidy
from storage.validation import Issue

FLOW = "report"
MAX_TEXT_ANSWER = 500
_EDIT_TEXT = re.compile(r"^sua(?: muc)? ?(\d{1,2})$")


# ---- entry points -------------------------------------------------------------------------


async def start(turn: Turn, text: str = "") -> None:
    """Starts or resumes the report of the open period; asks which one if several are open.

    `text` may hold the whole form in one message: it is applied once the report is open.
    """
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
    if text:
        # Short labels can tell which form she means when several are open.
        read = [(f, w, whole_form(turn.ctx.catalog, f, text)) for f, w in windows]
        fitting = [(f, w) for f, w, found in read if found]
        labelled = [(f, w) for f, w, found in read if found and found.by_label]
        windows = labelled or fitting or windows
    if len(windows) == 1:
        await _open(turn, *windows[0], text=text)
        return
    options = [(f.code, w.period.key) for f, w in windows]
    turn.enter(FLOW, "pick_form", options=options, text=text)
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
    if step == "confirm_value":
        # "có"/"đúng" keeps the figure, "không" retypes it, a number replaces it; anything
        # else asks again, so the figure waiting for her word is not lost.
        yes = parse_yes_no(text)
        if yes is not None:
            await _confirm_action(turn, "ok" if yes else "retype")
        elif parse_number(text).value is not None:
            await _answer_text(turn, text)
        else:
            await reprompt(turn)
    elif step == "question":
        await _answer_text(turn, text)
    elif step in ("summary", "submitted"):
        m = _EDIT_TEXT.match(fold(text))
        if m:
            await _edit(turn, int(m.group(1)))
        elif not await _try_whole_form(turn, text):
            await reprompt(turn)
    else:
        await reprompt(turn)


def looks_like_whole_form(turn: Turn, text: str) -> bool:
    """Whether a message outside a report is the whole form of one of her level's forms."""
    if turn.unit is None:
        return False
    catalog = turn.ctx.catalog
    return any(whole_form(catalog, f, text) for f in catalog.forms_for_level(turn.unit.level))


def whole_form(catalog: Catalog, form: Form, text: str) -> WholeForm | None:
    slots = [
        Slot(
            q.indicator,
            {IndicatorType.YES_NO: "yes_no", IndicatorType.TEXT: "text"}.get(
                catalog.indicators[q.indicator].type, "number"
            ),
            q.optional,
        )
        for q in form.questions
    ]
    return read_whole_form(text, slots, form.labels())


def one_line(catalog: Catalog, form: Form, values: dict[str, reporting.Answer]) -> str:
    """The whole form as one message she can copy: "hvm 3 hvr 0 …" (text answers last)."""
    items: list[str] = []
    texts: list[str] = []
    for q in form.questions:
        indicator = catalog.indicators[q.indicator]
        value = values.get(q.indicator)
        label = q.short or q.indicator
        if isinstance(value, str):
            texts.append(f"{label} {value}")
        elif isinstance(value, float) and indicator.type == IndicatorType.YES_NO:
            items.append(f"{label} {'có' if value else 'không'}")
        elif isinstance(value, float):
            items.append(f"{label} {vi.format_number(value, 2)}")
    return " ".join(items + texts)


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


async def one_message_help(turn: Turn) -> list[str]:
    """For the help: each of her forms as one message to copy (with her last figures)."""
    assert turn.unit is not None
    catalog = turn.ctx.catalog
    lines: list[str] = []
    for form in catalog.forms_for_level(turn.unit.level):
        codes = [q.indicator for q in form.questions]
        earlier = await reporting.history(turn.session, turn.unit.id, codes, date.max, periods=1)
        values: dict[str, reporting.Answer] = {
            code: earlier[code][0][1] if code in earlier else 0.0
            for code in codes
            if catalog.indicators[code].is_numeric
        }
        lines += [
            "",
            vi.HELP_ONE_MESSAGE.format(form=form.name),
            one_line(catalog, form, values),
            vi.ONE_MESSAGE_LEGEND.format(items=_legend(catalog, form)),
        ]
    return lines


# ---- steps --------------------------------------------------------------------------------


async def _pick(turn: Turn, action: str) -> None:
    options = turn.data.get("options", [])
    if not action.startswith("f:") or not action[2:].isdigit() or int(action[2:]) >= len(options):
        await reprompt(turn)
        return
    form_code, period_key = options[int(action[2:])]
    form = turn.ctx.catalog.forms[form_code]
    await _open(
        turn,
        form,
        window(form, from_key(period_key, turn.ctx.catalog.terms)),
        text=turn.data.get("text") or "",
    )


async def _open(turn: Turn, form: Form, win: Window, text: str = "") -> None:
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
        if not await _try_whole_form(turn, text):
            await _summary(turn)
        return
    if await _try_whole_form(turn, text):
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
        await _advance(turn, None)
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
    earlier = (await _history(turn, form, sub)).get(indicator.code)
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
    form, sub, answers = await _context(turn)
    i = int(turn.data["i"])
    indicator = turn.ctx.catalog.indicators[form.questions[i].indicator]
    value, error = _parse(indicator, text)
    if error:
        whole = not from_button and indicator.type != IndicatorType.TEXT
        if whole and await _try_whole_form(turn, text):
            return
        turn.say(error)
        turn.goto("question")
        await _ask(turn)
        return
    if isinstance(value, float):
        issues = await _issues(turn, {**answers, indicator.code: value}, only=indicator.code)
        if any(issue.stops for issue in issues):
            turn.say(_why(turn, form, [issue for issue in issues if issue.stops]))
            turn.goto("question")
            await _ask(turn)
            return
        if issues:
            turn.goto("confirm_value", pending=value, why=_why(turn, form, issues))
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
        await _store(turn, float(turn.data["pending"]), confirmed=turn.data.get("why") or "")
    elif action == "retype":
        turn.goto("question")
        await _ask(turn)
    else:
        await reprompt(turn)


async def _store(turn: Turn, value: float | str | None, *, confirmed: str | None = None) -> None:
    """Saves the answer at once (with her confirmation of a doubtful one), then moves on."""
    assert turn.person is not None
    form, sub, answers = await _context(turn)
    i = int(turn.data["i"])
    code = form.questions[i].indicator
    indicator = turn.ctx.catalog.indicators[code]
    old = answers.get(code)
    if sub.approved_at is not None:  # approved while she was editing: nothing changes
        _say_approved(turn, form, sub)
        return
    await _save(turn, sub, code, value)
    if confirmed is not None:
        await reporting.confirm(turn.session, sub, code, value, turn.person, turn.now, confirmed)
        (await _confirmations(turn, sub)).add((code, reporting.as_text(value)))
    if sub.status == SubmissionStatus.SUBMITTED and old != value:
        turn.say(
            vi.CORRECTION_SAVED.format(
                n=i + 1, old=_show(indicator, old), new=_show(indicator, value)
            )
        )
    await _advance(turn, None if turn.data.get("editing") else i)


async def _save(turn: Turn, sub: Submission, code: str, value: reporting.Answer) -> None:
    assert turn.person is not None
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


async def _try_whole_form(turn: Turn, text: str) -> bool:
    """Applies a whole-form message to the open report; False if the text is not one."""
    if not text:
        return False
    form, sub, answers = await _context(turn)
    found = whole_form(turn.ctx.catalog, form, text)
    if found is None:
        return False
    if sub.approved_at is not None:  # approved meanwhile: nothing changes
        _say_approved(turn, form, sub)
        return True
    catalog = turn.ctx.catalog
    notes: list[str] = []
    n = len(form.questions)
    if not found.by_label:
        required = max((j + 1 for j, q in enumerate(form.questions) if not q.optional), default=0)
        if found.count < required:
            notes.append(vi.WHOLE_TOO_FEW.format(sent=found.count, n=n))
        elif found.count > n:
            extra = ", ".join(found.extra)
            notes.append(vi.WHOLE_TOO_MANY.format(sent=found.count, n=n, extra=extra))
        else:
            # Every required answer came; the optional ones after them are left out.
            for q in form.questions[found.count :]:
                if q.indicator not in answers:
                    await _save(turn, sub, q.indicator, None)
    if found.unplaced:
        notes.append(
            vi.WHOLE_UNPLACED.format(
                items=", ".join(f"«{item}»" for item in found.unplaced),
                labels=_legend(catalog, form),
            )
        )
    if found.no_value:
        notes.append(
            vi.WHOLE_NO_VALUE.format(
                items=", ".join(_short(form, code) for code in dict.fromkeys(found.no_value))
            )
        )
    for j, q in enumerate(form.questions):
        raw = found.answers.get(q.indicator)
        if raw is None:
            continue
        value, error = _parse(catalog.indicators[q.indicator], raw)
        if error:
            notes.append(vi.WHOLE_REFUSED.format(n=j + 1, error=error))
        else:
            await _save(turn, sub, q.indicator, value)
    if notes:
        turn.say("\n".join(notes))
    await _advance(turn, None, show_values=True)
    return True


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


async def _summary(turn: Turn) -> None:
    form, sub, answers = await _context(turn)
    period = from_key(sub.period_key, turn.ctx.catalog.terms)
    lines = [await _values_text(turn)]
    line = one_line(turn.ctx.catalog, form, answers)
    if line:
        lines.append(vi.ONE_MESSAGE_HINT.format(line=line))
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
    if await _issues(turn, answers):
        # The previous report changed since, or the answers were saved elsewhere: ask again.
        await _advance(turn, None)
        return
    period = from_key(sub.period_key, turn.ctx.catalog.terms)
    win = window(form, period)
    await reporting.submit(
        turn.session, turn.ctx.catalog, sub, turn.person, turn.now, late=win.is_late(turn.today)
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
        sub, answers = await reporting.with_answers(turn.session, int(data["sid"]))
        assert sub is not None
        turn.cache[key] = (form, sub, answers)
    form, sub, answers = turn.cache[key]
    return form, sub, dict(answers)


async def _history(turn: Turn, form: Form, sub: Submission) -> validation.History:
    """The unit's earlier values of the form's indicators (hints, rules, outliers): read when
    the report is opened and kept in the conversation, so each answer does not read them."""
    data = turn.data
    if data.get("hist_sid") != sub.id:
        found = await reporting.history(
            turn.session,
            sub.unit_id,
            [q.indicator for q in form.questions],
            sub.period_start,
            form.outliers.periods,
        )
        stored = {code: [[d.isoformat(), v] for d, v in rows] for code, rows in found.items()}
        turn.save(hist_sid=sub.id, hist=stored)
        return found
    return {
        code: [(date.fromisoformat(d), v) for d, v in rows]
        for code, rows in (data.get("hist") or {}).items()
    }


async def _confirmations(turn: Turn, sub: Submission) -> set[tuple[str, str | None]]:
    key = ("confirmations", sub.id)
    if key not in turn.cache:
        turn.cache[key] = await reporting.confirmations(turn.session, sub.id)
    found: set[tuple[str, str | None]] = turn.cache[key]
    return found


async def _issues(
    turn: Turn, values: dict[str, reporting.Answer], only: str | None = None
) -> list[Issue]:
    """What the form's rules, the member count and the unit's history say about the values,
    less the doubts she has already confirmed for the same value."""
    assert turn.unit is not None
    form, sub, _ = await _context(turn)
    issues = validation.check(
        turn.ctx.catalog,
        form,
        values,
        await _history(turn, form, sub),
        sub.period_start,
        members=turn.unit.member_count,
        only=only,
    )
    if not issues:  # the usual answer: no need to read what she confirmed
        return issues
    confirmed = await _confirmations(turn, sub)
    return [
        issue
        for issue in issues
        if issue.stops
        or (issue.indicator, reporting.as_text(values.get(issue.indicator))) not in confirmed
    ]


def _why(turn: Turn, form: Form, issues: list[Issue]) -> str:
    """The issues about one answer, in Vietnamese, one a line."""
    catalog = turn.ctx.catalog
    level = catalog.level_word(form.level)
    number = {q.indicator: n for n, q in enumerate(form.questions, start=1)}
    lines: list[str] = []
    for issue in issues:
        indicator = catalog.indicators[issue.indicator]
        if issue.kind == "members":
            line = vi.CONFIRM_WHY_MEMBERS.format(
                level=level, members=vi.format_number(issue.reference)
            )
        elif issue.kind == "outlier":
            line = vi.CONFIRM_WHY_OUTLIER.format(
                level=level, usual=_show(indicator, issue.reference)
            )
        else:
            figures = "; ".join(
                (vi.RULE_FIGURE_BEFORE if f.previous else vi.RULE_FIGURE_NOW).format(
                    n=number[f.indicator], value=vi.format_number(f.value, 2)
                )
                for f in issue.figures
            )
            line = vi.RULE_DETAILS.format(message=issue.message.rstrip(". "), figures=figures)
            line += "."
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)


def _short(form: Form, code: str) -> str:
    return next((q.short or q.indicator for q in form.questions if q.indicator == code), code)


def _legend(catalog: Catalog, form: Form) -> str:
    return "; ".join(
        vi.ONE_MESSAGE_LEGEND_ITEM.format(
            short=q.short or q.indicator, label=catalog.indicators[q.indicator].label
        )
        for q in form.questions
    )


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
