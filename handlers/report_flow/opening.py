"""Opening a report: the entry points (`start`, a message outside a report that may be the
whole form, `cancel`, the help's one-message forms), the choice of a form when several are
open (`pick_form`), and "Chị muốn ghi các số này …?" (`confirm_form`)."""

from __future__ import annotations

from datetime import date

from handlers.parsing import explicit_yes, no_words, parse_yes_no
from handlers.reads import reads
from handlers.report_flow.answer import _advance, _try_whole_form
from handlers.report_flow.context import FLOW, _context, _fitting, _windows, whole_form
from handlers.report_flow.prompts import _ask, _say_approved, _summary, ask_again
from handlers.report_flow.summary import _summary_text
from handlers.report_flow.wording import (
    _EDIT_ANY,
    _EDIT_WORD,
    _WHOLE_CHOICES,
    _day,
    _legend,
    _whole_ask_text,
    one_line,
)
from handlers.turn import Turn
from schedules.calendar import Window, next_window, window
from storage.db.conversations import reminded_since
from storage.db.models import SubmissionStatus
from storage.measures import report_approval, reporting
from storage.plan import texts_vi as vi
from storage.plan.catalog import Form
from storage.plan.periods import from_key, period_of, previous_period
from storage.plan.text import fold


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
        await _open(turn, form, win, text=text)  # plain: taken, unless it overwrites
        return True
    turn.enter(FLOW, "confirm_form", form=form.code, period=win.period.key, text=text)
    answers = await reporting.answers(turn.session, sub.id) if sub is not None else {}
    turn.ask(_whole_ask_text(turn, form, win, found, answers), _WHOLE_CHOICES, free_text=True)
    return True


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
    sub = await reads(turn).submission(turn.unit.id, form.code, win.period.key)
    if sub is not None and sub.status == SubmissionStatus.SUBMITTED:
        return None
    return vi.PERIOD_MISSED.format(
        form=form.name,
        period=win.period.label,
        closed=_day(win.closes),
        **vi.level_words(turn.ctx.catalog, form.level),
    )


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


async def _pick(turn: Turn, action: str) -> None:
    options = turn.data.get("options", [])
    if not action.startswith("f:") or not action[2:].isdigit() or int(action[2:]) >= len(options):
        await ask_again(turn)
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
        await ask_again(turn)


async def _open(turn: Turn, form: Form, win: Window, text: str = "", sure: bool = False) -> None:
    assert turn.person and turn.unit
    found = await reads(turn).submission(turn.unit.id, form.code, win.period.key)
    if found is not None and found.approved_at is not None:
        _say_approved(turn, form, found)
        return
    if (
        found is not None
        and found.status == SubmissionStatus.SUBMITTED
        and not found.reopened
        and await report_approval.relocked(turn.session, found)
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
    sub = found or await reads(turn).create(turn.unit.id, form, win.period, turn.now)
    turn.enter(FLOW, "question", form=form.code, period=win.period.key, sid=sub.id, i=0)
    if sub.status == SubmissionStatus.SUBMITTED:
        turn.goto("submitted", approval_mark=await report_approval.last_approval(turn.session, sub))
        if text:
            await _summary_text(turn, text)
        else:
            await _summary(turn)
        return
    answers = await reads(turn).answers(sub.id) if found is not None else {}  # new: none
    # What _context reads (the form, the report, its answers): known now, not read again.
    turn.cache[("context", sub.id)] = (form, sub, dict(answers))
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


async def _confirm_form_action(turn: Turn, action: str) -> None:
    data = turn.data
    text = data.get("text") or ""
    if action not in ("ok", "no"):
        await ask_again(turn)
    elif action == "no" and data.get("sid"):
        turn.say(vi.WHOLE_NOT_WRITTEN)
        turn.goto(data.get("back") or "question", text=None, no_doubt=True)
        await ask_again(turn)
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


async def _confirm_form_text(turn: Turn, text: str) -> bool:
    """An explicit yes ("Có", "đúng", "ghi") or no to "Chị muốn ghi các số này…?" (a reflexive
    "dạ", "ok", "ừ" writes nothing: she is asked to say it plainly); anything else drops the
    numbers asked about and is read as if sent where she was (an answer, another form): True
    when the table is to read it again at that step (handlers/report_flow/states.py)."""
    yes = parse_yes_no(text)
    if yes and not explicit_yes(text):
        turn.say(vi.WHOLE_SAY_YES_PLAINLY)
        await ask_again(turn)
        return False
    if yes is not None:
        await _confirm_form_action(turn, "ok" if yes else "no")
        return False
    if no_words(text):  # "👍": not a yes that writes, and not another message either
        turn.say(vi.WHOLE_PRESS_YES)
        await ask_again(turn)
        return False
    data = turn.data
    turn.say(vi.WHOLE_DROPPED)
    if data.get("sid"):
        turn.goto(data.get("back") or "question", text=None)
        return True
    turn.enter(None, None)
    if not (text and await on_idle_text(turn, text)):
        turn.say(vi.NOT_UNDERSTOOD)
    return False
