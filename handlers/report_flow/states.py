"""The states of the report conversation and their handlers, in one table (STATES), and the
dispatch through it. The graph is walked by tests/test_report_states.py.

States, in the order she meets them, and what moves her on:

    pick_form      several forms or periods are open: she picks one      → question
    question       one question per message; answers are saved as they come (a sent report's:
                   proposed, → confirm_edit)          → question, confirm_value, summary
    confirm_value  a doubtful answer (a form's rule, above the member count, far from the
                   unit's history): "Chị xác nhận …?"; a confirmation goes to the audit trail
    confirm_form   a message that may be the whole form, not plainly one (a phone number,
                   money, a sentence in it), or sent unasked, or that would overwrite an
                   answer or fill items by a guess: "Chị muốn ghi các số này …?";
                   nothing is written until she says yes                  → back, or applied

Courtesy ("cảm ơn em", "ok", "👍", "chị bận, lát chị gửi") is answered at every state before
its handler reads it (handlers/report_flow/chatter.py): nothing changes, she stays.
    summary        every answer, with "Gửi" and "Sửa mục N"               → sent (no state)
    submitted      a sent report she may still correct until the period closes, only by an
                   explicit edit: "sửa 3", "sửa" and the numbers, or "sửa" then a message
                   → question, edit_whole, confirm_edit
    edit_whole     after a bare "sửa" (at either summary): the numbers, or an item number
    confirm_edit   old → new for every value changed in a sent report (and why a figure is
                   doubtful); nothing is saved, and no total moves, until she confirms

Actions arriving from buttons (or typed words matched to them): "f:<i>" pick, "v:<value>"
a shortcut answer, "back", "skip", "ok" / "retype" (confirmation), "ok" / "no" (confirm_form,
confirm_edit), "send", "edit:<n>", "done". Each state's question is asked again by
`ask_again` (handlers/report_flow/prompts.py).

A transition is declared where it happens (`turn.enter(FLOW, "question", ...)`,
`turn.goto("summary")`) in the modules the handlers live in.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers import mentions
from handlers.report_flow.chatter import courtesy
from handlers.report_flow.context import _fitting
from handlers.report_flow.edits import (
    _confirm_edit_action,
    _confirm_edit_text,
    _edit_whole_action,
    _edit_whole_text,
)
from handlers.report_flow.opening import (
    _confirm_form_action,
    _confirm_form_text,
    _pick,
    _pick_text,
    _windows,
    start,
)
from handlers.report_flow.prompts import ask_again
from handlers.report_flow.question import (
    _confirm_action,
    _confirm_value_text,
    _question_action,
    _question_text,
)
from handlers.report_flow.sent_edits import _stale_edit
from handlers.report_flow.summary import _summary_action, _summary_text
from handlers.turn import Turn
from storage.plan import texts_vi as vi
from storage.plan.text import fold


async def _pick_form_text(turn: Turn, text: str) -> None:
    """At the choice of a report, a plain whole form of one of them starts that report
    (opening.py); any other message with numbers in it (a meeting note "25 chị dự", a date,
    a phone number, a year, a numbered list) is no choice and no report: she is told why,
    nothing is proposed or written, and the choice is asked again."""
    if re.search(r"\d", text):
        fitting = _fitting(turn, await _windows(turn), text)
        if len(fitting) != 1 or not fitting[0][2].plain:  # none, unsure, or which one?
            turn.say(_why_not_picked(text))
            await ask_again(turn)
            return
    await _pick_text(turn, text)


def _why_not_picked(text: str) -> str:
    shown = " ".join(text.split())
    shown = shown if len(shown) <= 30 else shown[:27] + "…"
    folded = fold(text)
    kind = mentions.doubtful_kind(folded) if len(folded.split()) <= 4 else None
    if kind is None and re.fullmatch(r"(19|20)\d\d", folded.strip(" .")):
        kind = "year"
    why = vi.PICK_FORM_WHY.get(kind or "", vi.PICK_FORM_WHY["other"]).format(text=shown)
    return vi.PICK_FORM_FIRST.format(why=why)


@dataclass(frozen=True)
class State:
    """What moves the conversation on from a state: a pressed button (or a word naming one),
    or typed text. A text handler returns True when it moved her back to where she was and
    the message is to be read again there (confirm_form: not a yes or a no)."""

    action: Callable[[Turn, str], Awaitable[None]]
    text: Callable[[Turn, str], Awaitable[bool | None]]


STATES: dict[str, State] = {
    "pick_form": State(_pick, _pick_form_text),
    "question": State(_question_action, _question_text),
    "confirm_value": State(_confirm_action, _confirm_value_text),
    "confirm_form": State(_confirm_form_action, _confirm_form_text),
    "summary": State(_summary_action, _summary_text),
    "submitted": State(_summary_action, _summary_text),
    "edit_whole": State(_edit_whole_action, _edit_whole_text),
    "confirm_edit": State(_confirm_edit_action, _confirm_edit_text),
}


def _state(turn: Turn) -> State | None:
    step = turn.conversation.step if turn.conversation else None
    return STATES.get(step or "")


async def on_action(turn: Turn, action: str) -> None:
    if await _stale_edit(turn):
        return
    state = _state(turn)
    if state is None:
        await start(turn)
        return
    await state.action(turn, action)


async def on_text(turn: Turn, text: str) -> None:
    if await _stale_edit(turn):
        return
    state = _state(turn)
    if state is None:
        await reprompt(turn)
        return
    if await courtesy(turn, text):  # "cảm ơn em", "ok", "👍": answered, nothing changes
        return
    if await state.text(turn, text):
        await on_text(turn, text)


async def reprompt(turn: Turn) -> None:
    """Asks the current question again (after an unclear reply or an old button); a step
    that is no state of the report starts it over."""
    if not await ask_again(turn):
        await start(turn)
