"""The handlers of the states `question` and `confirm_value`: what she types or presses
there is routed to the answer step (handlers/report_flow/answer.py), to an edit, or asked again."""

from __future__ import annotations

import re

from handlers.parsing import explicit_yes, parse_number, parse_yes_no
from handlers.report_flow.answer import _answer, _answer_text, _store, _whole_instead
from handlers.report_flow.context import _context, _summary_step
from handlers.report_flow.prompts import _ask, _summary, ask_again
from handlers.report_flow.sent_edits import _KEEP_OLD, _sent_item_text
from handlers.report_flow.summary import _summary_text
from handlers.report_flow.wording import _EDIT_ANY, _show
from handlers.turn import Turn
from storage.db.models import SubmissionStatus
from storage.plan import texts_vi as vi
from storage.plan.catalog import IndicatorType
from storage.plan.text import fold

# Questions whose answer is a number she counts: "Không" may mean 0 there.
_COUNTED = (IndicatorType.COUNT, IndicatorType.AMOUNT)


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
        await ask_again(turn)


async def _question_text(turn: Turn, text: str) -> None:
    """Her answer; or, to a question that is not a free text, "sửa …" as at the summary
    ("sửa 6", "sửa 6 thành 4")."""
    form, _sub, _answers = await _context(turn)
    i = int(turn.data["i"])
    indicator = turn.ctx.catalog.indicators[form.questions[i].indicator]
    if _sub.status == SubmissionStatus.SUBMITTED and await _sent_item_text(turn, form, text):
        return
    if turn.data.get("editing") and await _draft_item_kept(
        turn, _answers.get(indicator.code), text
    ):
        return
    doubt = bool(turn.data.get("no_doubt"))
    turn.save(no_doubt=None)
    if indicator.type in _COUNTED and parse_number(text).value == 0 and not re.search(r"\d", text):
        # "Không", "không có": 0 when it answers the question asked, and said so; right
        # after an unclear reply or a proposal she refused, a no, not a figure.
        if doubt:
            said_none = fold(text).strip(" .!") not in ("khong", "ko", "k")  # "không có"
            turn.say((vi.NONE_IS_NOT_ZERO if said_none else vi.NO_IS_NOT_ZERO).format(n=i + 1))
            await _ask(turn)
            return
        await _answer(turn, 0.0, text, note=vi.ZERO_SAVED.format(value=_show(indicator, 0.0)))
        return
    if indicator.type != IndicatorType.TEXT and _EDIT_ANY.match(fold(text)):
        await _summary_text(turn, text)
    else:
        await _answer_text(turn, text)


async def _draft_item_kept(turn: Turn, old: object, text: str) -> bool:
    """A draft's item asked again by «sửa N», as a sent report's is: "Giữ số cũ", "Xong" or
    "Thôi" goes back to the summary unchanged; "Không" over a figure already written is asked
    about (old → 0), never written as 0 at once: she may mean "no, leave it"."""
    form, sub, _ = await _context(turn)
    i = int(turn.data["i"])
    indicator = turn.ctx.catalog.indicators[form.questions[i].indicator]
    if fold(text).strip(" .!") in _KEEP_OLD:
        turn.say(vi.DRAFT_EDIT_KEPT)
        turn.goto(_summary_step(sub), editing=False)
        await _summary(turn)
        return True
    zero = parse_number(text).value == 0 and not re.search(r"\d", text)
    if indicator.type in _COUNTED and zero and isinstance(old, float) and old != 0:
        shown = _show(indicator, old)
        turn.say(vi.DRAFT_NO_IS_NOT_ZERO.format(n=i + 1, old=shown, new=_show(indicator, 0.0)))
        await _ask(turn)
        return True
    return False


async def _confirm_action(turn: Turn, action: str) -> None:
    if action == "ok":
        await _store(turn, float(turn.data["pending"]), confirmed=turn.data.get("why") or "")
    elif action == "retype":
        turn.goto("question", no_doubt=True)  # "Không" to the figure: no 0 either
        await _ask(turn)
    else:
        await ask_again(turn)


async def _confirm_value_text(turn: Turn, text: str) -> None:
    """ "có"/"đúng" keeps the figure, "không" retypes it, a number replaces it, a whole form
    replaces the figure and the rest; anything else asks again, so the figure waiting for
    her word is not lost."""
    yes = parse_yes_no(text)
    if yes and not explicit_yes(text):  # a reflexive "dạ" does not confirm a doubtful figure
        turn.say(vi.CONFIRM_SAY_PLAINLY)
        await ask_again(turn)
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
        await ask_again(turn)
