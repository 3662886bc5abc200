"""The reporting conversation of a branch leader (or any unit that reports a form).

States, in the order she meets them, and what moves her on:

    pick_form      several forms or periods are open: she picks one      → question
    question       one question per message; answers are saved as they come (a sent report's:
                   proposed, → confirm_edit)          → question, confirm_value, summary
    confirm_value  a doubtful answer (a form's rule, above the member count, far from the
                   unit's history): "Chị xác nhận …?"; a confirmation goes to the audit trail
    confirm_form   a message that may be the whole form, not plainly one (a phone number,
                   money, a sentence in it), or sent unasked: "Chị muốn ghi các số này …?";
                   nothing is written until she says yes                  → back, or applied
    summary        every answer, with "Gửi" and "Sửa mục N"               → sent (no state)
    submitted      a sent report she may still correct until the period closes, only by an
                   explicit edit: "sửa 3", "sửa" and the numbers, or "sửa" then a message
                   → question, edit_whole, confirm_edit
    edit_whole     after a bare "sửa" (at either summary): the numbers, or an item number
    confirm_edit   old → new for every value changed in a sent report (and why a figure is
                   doubtful); nothing is saved, and no total moves, until she confirms

The whole form may come in one message (in order, one answer a line, or by the form's short
labels): it is applied when it plainly is one (handlers/whole_form.py) and a report is
expected (after /baocao, at a question or the summary, in reply to a reminder); else she is
asked first. What is read is saved, the values are shown named, and only what is missing or
doubtful is asked.

Actions arriving from buttons (or typed words matched to them): "f:<i>" pick, "v:<value>"
a shortcut answer, "back", "skip", "ok" / "retype" (confirmation), "ok" / "no" (confirm_form,
confirm_edit), "send", "edit:<n>", "done". Typed text goes to TEXTS, buttons to ACTIONS, by
state (both at the end of the module).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any

from handlers.parsing import explicit_yes, match_choice, no_words, parse_number, parse_yes_no
from handlers.turn import Turn
from handlers.whole_form import Slot, WholeForm, read_whole_form
from schedules.calendar import Window, next_window, open_windows, window
from storage.db.conversations import reminded_since
from storage.db.models import Conversation, Submission, SubmissionStatus
from storage.measures import reporting
from storage.plan import texts_vi as vi
from storage.plan import validation
from storage.plan.catalog import Catalog, Form, Indicator, IndicatorType
from storage.plan.clock import local
from storage.plan.periods import from_key, period_of, previous_period
from storage.plan.text import fold, tidy
from storage.plan.validation import Issue

FLOW = "report"
MAX_TEXT_ANSWER = 500
MAX_LISTED = 5  # items named in one note (numbers not placed, not written): replies stay short
_EDIT_TEXT = re.compile(r"^sua(?: muc)? ?(\d{1,2})$")
# "sửa 3 thành 5", "sửa mục 3: 5", "sửa 3 = 5 hộ": one item and its new answer.
_EDIT_ONE = re.compile(r"^sua(?: muc)? ?(\d{1,2})\s*(?:thanh|la|=|:)?\s+(\S.*)$")
_EDIT_ONE_ITEM = re.compile(r"^(?:mục|muc)?\s*\d{1,2}\s*(?:thành|thanh|là|la|=|:)?\s*", re.I)
_EDIT_ANY = re.compile(r"^sua(?: muc)? ?\d{1,2}(?:\D|$)")  # "sửa 6", "sửa 6 thành 4"
_EDIT_WORD = re.compile(r"^sua(?: lai)?(?: bao cao)?$")  # a bare "sửa": the numbers follow


# ---- entry points -------------------------------------------------------------------------


async def start(turn: Turn, text: str = "", *, sure: bool = False) -> None:
    """Starts or resumes the report of the open period; asks which one if several are open.

    `text` may hold the whole form in one message: it is applied once the report is open (if
    it plainly is the form, or `sure`: she said so; else she is asked first).
    """
    assert turn.unit is not None
    forms = turn.ctx.catalog.forms_for_level(turn.unit.level)
    if not forms:
        turn.enter(None, None)
        turn.say(vi.NO_FORM_FOR_UNIT)
        return
    windows = await _windows(turn)
    if not windows:
        upcoming = min(
            ((next_window(f, turn.today), f.name) for f in forms), key=lambda pair: pair[0].opens
        )
        turn.enter(None, None)
        missed = await _missed(turn)
        fields = {
            "form": upcoming[1],
            "period": upcoming[0].period.label,
            "opens": upcoming[0].opens.strftime("%d/%m/%Y"),
        }
        if missed:  # not "not time yet": the period she missed is named, and who reopens it
            turn.say(f"{missed}\n{vi.NEXT_PERIOD.format(**fields)}")
        else:
            turn.say(vi.NO_OPEN_PERIOD.format(**fields))
        return
    if text:
        windows = [(f, w) for f, w, _ in _fitting(turn, windows, text)] or windows
    if len(windows) == 1:
        await _open(turn, *windows[0], text=text, sure=sure)
        return
    options = [(f.code, w.period.key) for f, w in windows]
    turn.enter(FLOW, "pick_form", options=options, text=text, sure=sure)
    turn.ask(
        vi.PICK_FORM,
        [
            (vi.FORM_CHOICE.format(form=f.name, period=w.period.label), f"f:{i}")
            for i, (f, w) in enumerate(windows)
        ],
    )


async def on_idle_text(turn: Turn, text: str) -> bool:
    """A message outside a report that may be the whole form of an open report. It is
    applied when it plainly is one and answers a reminder of that report; asked about when it
    may be one (nothing is written before she says yes); a sent report is not changed (she
    is told how to edit it). False when the message is no form at all."""
    assert turn.unit is not None and turn.person is not None and turn.conversation is not None
    catalog = turn.ctx.catalog
    if _EDIT_ANY.match(fold(text)) or _EDIT_WORD.match(fold(text)):
        return await _edit_sent(turn, text)
    if not any(whole_form(catalog, f, text) for f in catalog.forms_for_level(turn.unit.level)):
        return False  # the usual chatter: no need to read which reports are open
    windows = await _windows(turn)
    missed = None if windows else await _missed(turn)
    if missed:  # her numbers for a report whose period has closed: she is told how
        turn.say(f"{vi.PERIOD_MISSED_NOT_WRITTEN}\n{missed}")
        return True
    read = _fitting(turn, windows, text)
    if not read:
        return False
    if len(read) > 1:  # several open reports could take it: which one comes after her yes
        turn.enter(FLOW, "confirm_form", text=text)
        turn.ask(_whole_ask_text(turn, None, None, read[0][2]), _WHOLE_CHOICES, free_text=True)
        return True
    form, win, found = read[0]
    sub = await reporting.find_submission(turn.session, turn.unit.id, form.code, win.period.key)
    if sub is not None and sub.status == SubmissionStatus.SUBMITTED:
        await _open(turn, form, win, text=text)  # says it is sent (or approved) and how to edit
        return True
    reminded = await reminded_since(turn.session, turn.person.id, turn.conversation.updated_at)
    if found.plain and reminded == (form.code, win.period.key):
        await _open(turn, form, win, text=text, sure=True)
        return True
    turn.enter(FLOW, "confirm_form", form=form.code, period=win.period.key, text=text)
    answers = await reporting.answers(turn.session, sub.id) if sub is not None else {}
    turn.ask(_whole_ask_text(turn, form, win, found, answers), _WHOLE_CHOICES, free_text=True)
    return True


async def _edit_sent(turn: Turn, text: str) -> bool:
    """ "sửa 3", "sửa 3 thành 4", "sửa" typed with no report open: read at the summary of her
    sent report of the open period (the latest, if several are open); False if none is sent."""
    assert turn.unit is not None
    sent = []
    for form, win in await _windows(turn):
        sub = await reporting.find_submission(turn.session, turn.unit.id, form.code, win.period.key)
        if sub is not None and sub.status == SubmissionStatus.SUBMITTED:
            sent.append((win.period.end, form, win))
    if not sent:
        return False
    _end, form, win = max(sent, key=lambda item: item[0])
    await _open(turn, form, win, text=text)
    return True


async def on_action(turn: Turn, action: str) -> None:
    if await _stale_edit(turn):
        return
    step = turn.conversation.step if turn.conversation else None
    handler = ACTIONS.get(step or "")
    if handler is None:
        await start(turn)
        return
    await handler(turn, action)


async def on_text(turn: Turn, text: str) -> None:
    if await _stale_edit(turn):
        return
    step = turn.conversation.step if turn.conversation else None
    handler = TEXTS.get(step or "")
    if handler is None:
        await reprompt(turn)
        return
    await handler(turn, text)


def whole_form(catalog: Catalog, form: Form, text: str) -> WholeForm | None:
    """The message read as the whole form (handlers/whole_form.py), or None."""
    slots = []
    for q in form.questions:
        indicator = catalog.indicators[q.indicator]
        kind = {IndicatorType.YES_NO: "yes_no", IndicatorType.TEXT: "text"}.get(
            indicator.type, "number"
        )
        slots.append(Slot(q.indicator, kind, q.optional, _words(indicator), indicator.label))
    return read_whole_form(text, slots, form.labels())


def _words(indicator: Indicator) -> frozenset[str]:
    """Words that may follow a number answering this indicator: its unit's and its label's."""
    return frozenset(re.findall(r"[a-z]+", fold(f"{indicator.unit} {indicator.label}")))


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
        await start(turn)


async def cancel(turn: Turn) -> None:
    if turn.conversation and turn.conversation.flow == FLOW:
        sent = (
            turn.data.get("sid") and (await _context(turn))[1].status == SubmissionStatus.SUBMITTED
        )
        turn.enter(None, None)
        turn.say(vi.CANCELLED_SENT if sent else vi.CANCELLED)
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


async def _missed(turn: Turn) -> str | None:
    """What to tell her of the report she did not send before its period closed (the one
    closed last, of her forms), or None if she sent it."""
    assert turn.unit is not None
    closed = []
    for form in turn.ctx.catalog.forms_for_level(turn.unit.level):
        period = period_of(form.periodicity, turn.today)
        while window(form, period).closes >= turn.today:
            period = previous_period(period)
        closed.append((window(form, period), form))
    win, form = max(closed, key=lambda pair: pair[0].closes)
    sub = await reporting.find_submission(turn.session, turn.unit.id, form.code, win.period.key)
    if sub is not None and sub.status == SubmissionStatus.SUBMITTED:
        return None
    return vi.PERIOD_MISSED.format(
        form=form.name,
        period=win.period.label,
        closed=_day(win.closes),
        **vi.level_words(turn.ctx.catalog, form.level),
    )


async def _windows(turn: Turn) -> list[tuple[Form, Window]]:
    """The reports she may fill or correct now: open periods, and reports an officer
    reopened after their period closed."""
    assert turn.unit is not None
    forms = turn.ctx.catalog.forms_for_level(turn.unit.level)
    windows = [(f, w) for f in forms for w in open_windows(f, turn.today)]
    for sub in await reporting.reopened(turn.session, turn.unit.id):
        form = turn.ctx.catalog.forms.get(sub.form_code)
        if form is not None and all(w.period.key != sub.period_key for _, w in windows):
            windows.append((form, window(form, from_key(sub.period_key, turn.ctx.catalog.terms))))
    return windows


def _fitting(
    turn: Turn, windows: list[tuple[Form, Window]], text: str
) -> list[tuple[Form, Window, WholeForm]]:
    """The open reports the message reads as the whole form of; short labels tell which form
    she means when several are open."""
    read = [(f, w, whole_form(turn.ctx.catalog, f, text)) for f, w in windows]
    fitting = [(f, w, found) for f, w, found in read if found]
    return [item for item in fitting if item[2].by_label] or fitting


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
        sure=bool(turn.data.get("sure")),
    )


async def _pick_text(turn: Turn, text: str) -> None:
    """At the choice of a report, a whole form typed again starts over with it."""
    if _fitting(turn, await _windows(turn), text):
        await start(turn, text)
    else:
        await reprompt(turn)


async def _open(turn: Turn, form: Form, win: Window, text: str = "", sure: bool = False) -> None:
    assert turn.person and turn.unit
    found = await reporting.find_submission(turn.session, turn.unit.id, form.code, win.period.key)
    if found is not None and found.approved_at is not None:
        _say_approved(turn, form, found)
        return
    if (
        found is not None
        and found.status == SubmissionStatus.SUBMITTED
        and not found.reopened
        and await reporting.relocked(turn.session, found)
    ):
        turn.enter(None, None)
        turn.say(
            vi.RELOCKED_LOCKED.format(
                form=form.name,
                period=win.period.label,
                **vi.level_words(turn.ctx.catalog, form.level),
            )
        )
        return
    if (
        found is not None
        and found.status == SubmissionStatus.SUBMITTED
        and not win.is_open(turn.today)
        and not found.reopened
    ):
        turn.enter(None, None)
        turn.say(
            vi.SUBMITTED_LOCKED.format(
                form=form.name, period=win.period.label, closes=_day(win.closes)
            )
        )
        return
    sub = found or await reporting.get_or_create(
        turn.session, turn.unit.id, form, win.period, turn.now
    )
    turn.enter(FLOW, "question", form=form.code, period=win.period.key, sid=sub.id, i=0)
    if sub.status == SubmissionStatus.SUBMITTED:
        turn.goto("submitted", approval_mark=await reporting.last_approval(turn.session, sub))
        if text:
            await _summary_text(turn, text)
        else:
            await _summary(turn)
        return
    answers = await reporting.answers(turn.session, sub.id)
    n = len(form.questions)
    first_open = next((i for i, q in enumerate(form.questions) if q.indicator not in answers), n)
    turn.goto("question", i=min(first_open, n - 1))  # where "Không" to her message leads back
    if await _try_whole_form(turn, text, sure=sure, opening=True):
        return
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
    turn.save(no_doubt=None)
    if action == "back":
        if turn.data.get("editing"):
            turn.goto(_summary_step(_sub), editing=False)
            await _summary(turn)
        else:
            turn.goto("question", i=max(i - 1, 0))
            await _ask(turn)
    elif action == "skip" and form.questions[i].optional:
        await _answer(turn, None, vi.SKIPPED)
    elif action.startswith("v:"):
        await _answer_text(turn, action[2:], from_button=True)
    else:
        await reprompt(turn)


async def _question_text(turn: Turn, text: str) -> None:
    """Her answer; or, to a question that is not a free text, "sửa …" as at the summary
    ("sửa 6", "sửa 6 thành 4")."""
    form, _sub, _ = await _context(turn)
    i = int(turn.data["i"])
    indicator = turn.ctx.catalog.indicators[form.questions[i].indicator]
    if _sub.status == SubmissionStatus.SUBMITTED and await _sent_item_text(turn, form, text):
        return
    doubt = bool(turn.data.get("no_doubt"))
    turn.save(no_doubt=None)
    if indicator.type in _COUNTED and parse_number(text).value == 0 and not re.search(r"\d", text):
        # "Không", "không có": 0 when it answers the question asked, and said so; right
        # after an unclear reply or a proposal she refused, a no, not a figure.
        if doubt:
            turn.say(vi.NO_IS_NOT_ZERO.format(n=i + 1))
            await _ask(turn)
            return
        await _answer(turn, 0.0, text, note=vi.ZERO_SAVED.format(value=_show(indicator, 0.0)))
        return
    if indicator.type != IndicatorType.TEXT and _EDIT_ANY.match(fold(text)):
        await _summary_text(turn, text)
    else:
        await _answer_text(turn, text)


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
        turn.goto("question", no_doubt=True)  # "Không" to the figure: no 0 either
        await _ask(turn)
    else:
        await reprompt(turn)


async def _confirm_value_text(turn: Turn, text: str) -> None:
    """ "có"/"đúng" keeps the figure, "không" retypes it, a number replaces it, a whole form
    replaces the figure and the rest; anything else asks again, so the figure waiting for
    her word is not lost."""
    yes = parse_yes_no(text)
    if yes and not explicit_yes(text):  # a reflexive "dạ" does not confirm a doubtful figure
        turn.say(vi.CONFIRM_SAY_PLAINLY)
        await reprompt(turn)
    elif yes is not None:
        await _confirm_action(turn, "ok" if yes else "retype")
    elif parse_number(text).value is not None:
        await _answer_text(turn, text)
    elif await _whole_instead(turn, text, "question"):
        return
    else:  # «Gửi», "ngày 15", "👍", "sửa 3": what she is asked, not the question alone
        form, _sub, _ = await _context(turn)
        i = int(turn.data["i"])
        indicator = turn.ctx.catalog.indicators[form.questions[i].indicator]
        shown = _show(indicator, float(turn.data["pending"]))
        turn.say(vi.CONFIRM_WAITING.format(value=shown, n=i + 1))
        await reprompt(turn)


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
        await reporting.confirm(turn.session, sub, code, value, turn.person, turn.now, confirmed)
        (await _confirmations(turn, sub)).add((code, reporting.as_text(value)))
    if note:
        turn.say(note)
    await _advance(turn, None if turn.data.get("editing") else i)


async def _meanwhile(turn: Turn, form: Form, sub: Submission) -> None:
    """The report was sent or approved from another chat while she was answering here."""
    if sub.approved_at is not None:
        _say_approved(turn, form, sub)
    else:
        turn.goto("submitted", editing=False, pending=None)
        await _summary(turn)


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


# ---- the whole form in one message --------------------------------------------------------

_WHOLE_CHOICES = [(vi.BUTTON_YES, "ok"), (vi.BUTTON_NO, "no")]


async def _try_whole_form(
    turn: Turn, text: str, *, sure: bool = False, opening: bool = False
) -> bool:
    """Takes a whole-form message in the open report: a draft's values are saved when the
    message plainly is the form and opens the report (`opening`: sent with /baocao or in
    reply to a reminder), or she said it is (`sure`: "Có" to the proposal, "sửa" with the
    numbers); else she is asked first, with old → new, as with no report open: typed at a
    question or at the summary, a message that would write more than the answer to the
    question asked is a proposal (a list, a forwarded note, phrases). A sent report's are
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
    if not sure and (not found.plain or (not opening and await _beyond_the_question(turn, found))):
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
    for j, q in enumerate(form.questions):
        raw = found.answers.get(q.indicator)
        if raw is None:
            continue
        value, error = _parse(catalog.indicators[q.indicator], raw)
        if error:
            notes.append(vi.WHOLE_REFUSED.format(n=j + 1, error=error))
            continue
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


async def _beyond_the_question(turn: Turn, found: WholeForm) -> bool:
    """Whether the message would write more than the answer to the question asked (none at
    the summary): another item's answer, new or over one given."""
    form, _sub, answers = await _context(turn)
    step = turn.conversation.step if turn.conversation else None
    asked = form.questions[int(turn.data["i"])].indicator if step == "question" else None
    for q in form.questions:
        raw = found.answers.get(q.indicator)
        if raw is None or q.indicator == asked:
            continue
        value, error = _parse(turn.ctx.catalog.indicators[q.indicator], raw)
        if error is None and (
            q.indicator not in answers
            or reporting.as_text(answers[q.indicator]) != reporting.as_text(value)
        ):
            return True
    return False


def _editing(turn: Turn) -> bool:
    """Whether she asked to edit (said "sửa"): a sent report's item asked again, the numbers
    asked for after a bare "sửa", a change waiting for her word."""
    assert turn.conversation is not None
    return _edit_step(turn.conversation.step, turn.data)


def _edit_step(step: str | None, data: Mapping[str, Any]) -> bool:
    return step in ("edit_whole", "confirm_edit") or (
        step == "question" and bool(data.get("editing"))
    )


def edit_in_progress(conversation: Conversation) -> int | None:
    """The report (its id) she is in the middle of editing, or None: she said "sửa" and has
    not saved or left it (an officer approving it meanwhile is asked first)."""
    data = conversation.data or {}
    sid = data.get("sid")
    editing = conversation.flow == FLOW and _edit_step(conversation.step, data)
    return int(sid) if editing and sid else None


def _whole_notes(turn: Turn, form: Form, found: WholeForm) -> list[str]:
    """What she should know of how her message was read: numbers that are not answers, that
    fit no label, labels without a number or given several."""
    catalog = turn.ctx.catalog
    notes: list[str] = []
    if found.doubts:
        items = [
            vi.MENTION_ITEM.format(kind=vi.MENTION_KINDS[kind], text=text)
            for kind, text in found.doubts
        ]
        notes.append(vi.WHOLE_NOT_ANSWERS.format(items=_listed(items)))
    if found.unplaced:
        notes.append(
            vi.WHOLE_UNPLACED.format(
                items=_listed([f"«{item}»" for item in found.unplaced]),
                labels=_legend(catalog, form),
            )
        )
    if found.no_value:
        notes.append(
            vi.WHOLE_NO_VALUE.format(
                items=", ".join(_short(form, code) for code in dict.fromkeys(found.no_value))
            )
        )
    for code, values in found.repeated.items():
        notes.append(
            vi.WHOLE_REPEATED.format(
                label=_short(form, code), values=_listed(values), last=values[-1]
            )
        )
    return notes


def _whole_ask_text(
    turn: Turn,
    form: Form | None,
    win: Window | None,
    found: WholeForm,
    answers: dict[str, reporting.Answer] | None = None,
) -> str:
    """ "Chị muốn ghi các số này vào …?", what would be written (old → new over `answers`
    already given), what would not, and why she is asked."""
    if form is None or win is None:
        lines = [vi.WHOLE_ASK_ANY]
    else:
        lines = [vi.WHOLE_ASK.format(form=form.name, period=win.period.label)]
        catalog = turn.ctx.catalog
        for n, q in enumerate(form.questions, start=1):
            raw = found.answers.get(q.indicator)
            if raw is None:
                continue
            indicator = catalog.indicators[q.indicator]
            value, error = _parse(indicator, raw)
            shown = _clip(raw) if error else _show(indicator, value)
            old = (answers or {}).get(q.indicator)
            if (
                not error
                and q.indicator in (answers or {})
                and reporting.as_text(old) != reporting.as_text(value)
            ):
                shown = f"{_show(indicator, old)} → {shown}"
            lines.append(vi.SUMMARY_LINE.format(n=n, label=indicator.label, value=shown))
        lines += _whole_notes(turn, form, found)
        if found.extra:
            extra = _listed(found.extra)
            lines.append(
                vi.WHOLE_ASK_EXTRA.format(sent=found.count, n=len(form.questions), extra=extra)
            )
    if found.other and not found.doubts:
        lines.append(vi.WHOLE_OTHER_WORDS)
    lines.append(vi.WHOLE_ASK_HOW)
    return "\n".join(lines)


async def _confirm_form_action(turn: Turn, action: str) -> None:
    data = turn.data
    text = data.get("text") or ""
    if action not in ("ok", "no"):
        await reprompt(turn)
    elif action == "no" and data.get("sid"):
        turn.say(vi.WHOLE_NOT_WRITTEN)
        turn.goto(data.get("back") or "question", text=None, no_doubt=True)
        await reprompt(turn)
    elif action == "no":
        turn.enter(None, None)
        turn.say(vi.WHOLE_NOT_WRITTEN)
    elif data.get("sid"):  # in a report: read it there, as she said it is the form
        turn.goto(data.get("back") or "question", text=None)
        await _try_whole_form(turn, text, sure=True)
    else:  # the report asked about, if it is still open; else whichever is
        asked = (data.get("form"), data.get("period"))
        windows = [(f, w) for f, w in await _windows(turn) if (f.code, w.period.key) == asked]
        if windows:
            await _open(turn, *windows[0], text=text, sure=True)
        else:
            await start(turn, text, sure=True)


async def _confirm_form_text(turn: Turn, text: str) -> None:
    """An explicit yes ("Có", "đúng", "ghi") or no to "Chị muốn ghi các số này…?" (a reflexive
    "dạ", "ok", "ừ" writes nothing: she is asked to say it plainly); anything else drops the
    numbers asked about and is read as if sent where she was (an answer, another form)."""
    yes = parse_yes_no(text)
    if yes and not explicit_yes(text):
        turn.say(vi.WHOLE_SAY_YES_PLAINLY)
        await reprompt(turn)
        return
    if yes is not None:
        await _confirm_form_action(turn, "ok" if yes else "no")
        return
    if no_words(text):  # "👍": not a yes that writes, and not another message either
        turn.say(vi.WHOLE_PRESS_YES)
        await reprompt(turn)
        return
    data = turn.data
    turn.say(vi.WHOLE_DROPPED)
    if data.get("sid"):
        turn.goto(data.get("back") or "question", text=None)
        await on_text(turn, text)
        return
    turn.enter(None, None)
    if not (text and await on_idle_text(turn, text)):
        turn.say(vi.NOT_UNDERSTOOD)


# ---- a sent report: corrections by an explicit edit, confirmed ----------------------------


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


async def _ask_edit_whole(turn: Turn) -> None:
    form, _sub, _ = await _context(turn)
    turn.ask(
        vi.EDIT_WHOLE_ASK.format(example=_example(form), n=len(form.questions)),
        [(vi.BUTTON_BACK, "back")],
        free_text=True,
    )


async def _edit_whole_text(turn: Turn, text: str) -> None:
    """After a bare "sửa": the numbers to change (a whole form, by label or in order), or the
    number of the item to ask again; "xong" goes back to the report."""
    form, _sub, _ = await _context(turn)
    folded = fold(text)
    number = folded.removeprefix("sua ").removeprefix("muc ")
    if number.isdigit() and 1 <= int(number) <= len(form.questions):
        await _edit(turn, int(number))
    elif folded in ("xong", "quay lai", "thoi"):
        await _edit_whole_action(turn, "back")
    elif whole_form(turn.ctx.catalog, form, text) is not None:
        await _try_whole_form(turn, text, sure=True)  # asked for after her "sửa"
    elif not (folded.startswith("sua ") and await _edit_with(turn, form, text)):
        turn.say(vi.EDIT_NOTHING_READ)
        await _ask_edit_whole(turn)


async def _edit_whole_action(turn: Turn, action: str) -> None:
    if action == "back":
        _form, sub, _ = await _context(turn)
        turn.goto(_summary_step(sub))
        await _summary(turn)
    else:
        await reprompt(turn)


async def _propose_whole_edit(
    turn: Turn, found: WholeForm, text: str, question: int | None = None
) -> None:
    """A whole form after "sửa": every value it changes is proposed at once."""
    form, _sub, _ = await _context(turn)
    catalog = turn.ctx.catalog
    notes = _whole_notes(turn, form, found)
    values: dict[str, reporting.Answer] = {}
    for j, q in enumerate(form.questions):
        raw = found.answers.get(q.indicator)
        if raw is None:
            continue
        value, error = _parse(catalog.indicators[q.indicator], raw)
        if error:
            notes.append(vi.WHOLE_REFUSED.format(n=j + 1, error=error))
        else:
            values[q.indicator] = value
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


async def _confirm_edit_action(turn: Turn, action: str, reply: str = "") -> None:
    if action == "ok":
        await _save_edit(turn, reply or vi.BUTTON_SAVE_EDIT)
    elif action == "no":
        turn.say(vi.EDIT_KEPT)
        turn.goto("submitted", edit=None)
        await _summary(turn)
    else:
        await reprompt(turn)


async def _confirm_edit_text(turn: Turn, text: str) -> None:
    """Yes or no to the change; "sửa …" or another whole form replaces the change asked
    about, and so does another answer to the one item being changed; anything else asks
    again (nothing is saved meanwhile)."""
    yes = parse_yes_no(text)
    if yes and not explicit_yes(text):  # a reflexive "dạ", "vâng", "ok" saves nothing
        doubts = turn.data.get("edit_doubts")
        turn.say(vi.EDIT_SAY_PLAINLY if doubts else vi.EDIT_SAY_YES_PLAINLY)
        await reprompt(turn)
        return
    if yes is not None:
        await _confirm_edit_action(turn, "ok" if yes else "no", reply=text.strip())
        return
    form, _sub, _ = await _context(turn)
    edit = turn.data.get("edit") or []
    if fold(text).startswith("sua"):
        turn.goto("submitted", edit=None)
        await _summary_text(turn, text)
        return
    if whole_form(turn.ctx.catalog, form, text) is not None and await _try_whole_form(turn, text):
        return  # still editing: her new numbers replace the change
    if len(edit) == 1 and parse_number(text).error not in ("not_number", "empty"):
        # Another answer to the one item being changed replaces it; one that is a phone
        # number, money, a date is refused as such.
        i = next(j for j, q in enumerate(form.questions) if q.indicator == edit[0][0])
        value, error = _parse(turn.ctx.catalog.indicators[edit[0][0]], text)
        if error is None:
            turn.goto("question", i=i)
            await _answer(turn, value, text)
            return
        turn.say(error)
    else:
        turn.say(vi.EDIT_SAY_YES_PLAINLY)
    await reprompt(turn)


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
        await reporting.confirm(
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


# ---- the summary and sending --------------------------------------------------------------


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


async def _summary(turn: Turn, *, unclear: bool = False) -> None:
    """Every answer and what she may do; `unclear`: after a message that was not understood,
    only that nothing changed and what she may do (the summary is on her screen already)."""
    form, sub, answers = await _context(turn)
    period = from_key(sub.period_key, turn.ctx.catalog.terms)
    if unclear:
        lines = [vi.SUMMARY_UNCLEAR]
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
            await reporting.relock(turn.session, sub, turn.person, turn.now)
            if sub.reopened
            else None
        )
        if again is not None:
            turn.say(vi.RELOCKED_APPROVED if again else vi.RELOCKED_WAITING)
        else:
            turn.say(vi.EDITS_DONE if saved else vi.EDITS_DONE_NONE)
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
        elif issue.kind == "year":
            line = vi.CONFIRM_WHY_YEAR.format(value=f"{issue.reference or 0:.0f}")
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


# Questions whose answer is a number she counts: "Không" may mean 0 there.
_COUNTED = (IndicatorType.COUNT, IndicatorType.AMOUNT)


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
    result = parse_number(
        text, allow_decimal=indicator.type == IndicatorType.AMOUNT, unit=indicator.unit
    )
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


def _clip(text: str, limit: int = 60) -> str:
    """Her words, quoted back short."""
    text = tidy(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _listed(items: list[str]) -> str:
    """A few items, and how many more (a reply never grows with what she sent)."""
    shown = ", ".join(items[:MAX_LISTED])
    more = len(items) - MAX_LISTED
    return f"{shown} {vi.WHOLE_NOT_ANSWERS_MORE.format(n=more)}" if more > 0 else shown


def _example(form: Form) -> str:
    """A labelled example for her form: "hvm 3 tn 1"."""
    labels = [q.short or q.indicator for q in form.questions][:2]
    return " ".join(f"{label} {n}" for label, n in zip(labels, (3, 1), strict=False))


# ---- a sent report's edit, made firmer (#19) ---------------------------------------------

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
    mark = await reporting.last_approval(turn.session, sub)
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


# What moves the conversation on, by state: a pressed button (or a word naming one) …
ACTIONS: dict[str, Any] = {
    "pick_form": _pick,
    "question": _question_action,
    "confirm_value": _confirm_action,
    "confirm_form": _confirm_form_action,
    "summary": _summary_action,
    "submitted": _summary_action,
    "edit_whole": _edit_whole_action,
    "confirm_edit": _confirm_edit_action,
}
# … or typed text.
TEXTS: dict[str, Any] = {
    "pick_form": _pick_text,
    "question": _question_text,
    "confirm_value": _confirm_value_text,
    "confirm_form": _confirm_form_text,
    "summary": _summary_text,
    "submitted": _summary_text,
    "edit_whole": _edit_whole_text,
    "confirm_edit": _confirm_edit_text,
}
