"""Courtesy in the middle of a report: "cảm ơn em", "ok", "dạ", "👍", "chị bận, lát chị gửi".
It answers nothing and changes nothing: she gets a polite word, where her report stands and
what is still waited for, and stays where she was. Where such words are an answer (a yes/no
question, "dạ" to a confirmation, which asks her to say it plainly), they are read as before."""

from __future__ import annotations

from handlers.hints import THANKS, chatter
from handlers.parsing import parse_yes_no
from handlers.report_flow.context import _context
from handlers.report_flow.prompts import _ask, _ask_edit_whole, _summary, ask_again
from handlers.report_flow.wording import _parse
from handlers.turn import Turn
from storage.db.models import SubmissionStatus
from storage.plan import texts_vi as vi
from storage.plan.catalog import IndicatorType

# States asking a yes or a no: "ok", "dạ" there are (reflexive) answers, read by the state.
_YES_NO_STATES = ("confirm_value", "confirm_form", "confirm_edit")


async def courtesy(turn: Turn, text: str) -> bool:
    """Answers `text` if it is only courtesy at this state (True); False to read it as usual."""
    kind = chatter(text)
    step = turn.conversation.step if turn.conversation else None
    if kind is None or step is None:
        return False
    if step in _YES_NO_STATES and parse_yes_no(text) is not None:
        return False
    polite = vi.CHATTER_POLITE[kind]
    if step in ("confirm_value", "confirm_edit"):
        # Those states say themselves what they wait for (the figure, the change); a
        # thank-you gets its polite word first.
        if kind == THANKS:
            turn.say(polite)
        return False
    if step == "question":
        form, sub, _ = await _context(turn)
        i = int(turn.data["i"])
        indicator = turn.ctx.catalog.indicators[form.questions[i].indicator]
        if indicator.type != IndicatorType.TEXT and _parse(indicator, text)[1] is None:
            return False  # "dạ" to a yes/no question: her answer
        sent = sub.status == SubmissionStatus.SUBMITTED
        waiting = vi.CHATTER_AT_SENT_QUESTION if sent else vi.CHATTER_AT_QUESTION
        turn.say(f"{polite} {waiting.format(n=i + 1)}")
        await _ask(turn)
    elif step in ("summary", "submitted"):
        where = vi.CHATTER_AT_SUBMITTED if step == "submitted" else vi.CHATTER_AT_SUMMARY
        await _summary(turn, lead=f"{polite} {where}")
    elif step == "edit_whole":
        turn.say(f"{polite} {vi.CHATTER_AT_EDIT_WHOLE}")
        await _ask_edit_whole(turn)
    elif step == "confirm_form":  # the numbers asked about are kept for her «Có»
        turn.say(f"{polite} {vi.WHOLE_PRESS_YES}")
        await ask_again(turn)
    else:  # the choice of a report: asked again
        turn.say(f"{polite} {vi.CHATTER_WAITING}")
        if not await ask_again(turn):
            return False
    return True
