"""The handlers of the states `edit_whole` (the numbers after a bare "sửa") and
`confirm_edit` (yes or no to a sent report's change)."""

from __future__ import annotations

import re

from handlers.parsing import explicit_yes, parse_number, parse_yes_no
from handlers.report_flow.answer import _answer, _try_whole_form
from handlers.report_flow.context import _context, _summary_step, whole_form
from handlers.report_flow.prompts import _ask_edit_whole, _summary, ask_again
from handlers.report_flow.sent_edits import _save_edit
from handlers.report_flow.summary import _edit, _edit_with, _summary_text
from handlers.report_flow.wording import _parse
from handlers.turn import Turn
from storage.plan import texts_vi as vi
from storage.plan.text import fold


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
        found = re.findall(r"\d[\d.,]*", text)
        if found:  # numbers, but neither the whole form nor labelled ("3 0 1"): say why
            example = form.questions[0].short or "1"
            turn.say(vi.EDIT_TOO_FEW.format(k=len(found), n=len(form.questions), label=example))
        else:
            turn.say(vi.EDIT_NOTHING_READ)
        await _ask_edit_whole(turn)


async def _edit_whole_action(turn: Turn, action: str) -> None:
    if action == "back":
        _form, sub, _ = await _context(turn)
        turn.goto(_summary_step(sub))
        await _summary(turn)
    else:
        await ask_again(turn)


async def _confirm_edit_action(turn: Turn, action: str, reply: str = "") -> None:
    if action == "ok":
        await _save_edit(turn, reply or vi.BUTTON_SAVE_EDIT)
    elif action == "no":
        turn.say(vi.EDIT_KEPT)
        turn.goto("submitted", edit=None)
        await _summary(turn)
    else:
        await ask_again(turn)


async def _confirm_edit_text(turn: Turn, text: str) -> None:
    """Yes or no to the change; "sửa …" or another whole form replaces the change asked
    about, and so does another answer to the one item being changed; anything else asks
    again (nothing is saved meanwhile)."""
    yes = parse_yes_no(text)
    if yes and not explicit_yes(text):  # a reflexive "dạ", "vâng", "ok" saves nothing
        doubts = turn.data.get("edit_doubts")
        turn.say(vi.EDIT_SAY_PLAINLY if doubts else vi.EDIT_SAY_YES_PLAINLY)
        await ask_again(turn)
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
    await ask_again(turn)
