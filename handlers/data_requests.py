"""A request about one's own data typed in chat ("xóa dữ liệu của tôi", "tôi muốn xóa thông
tin cá nhân"; Decree 13/2023/NĐ-CP): recognised before anything else (before the
personal-data notice is accepted too), asked once more, then recorded and told to her officer.
Nothing is erased on a chat message: a wrong person or a joke must not erase a unit's
records; the operator erases (`hoibot people erase`) after the officer has checked with her."""

from __future__ import annotations

import re

from handlers import report_flow
from handlers.parsing import explicit_yes, parse_yes_no
from handlers.turn import Turn
from schedules.notices import tell_erase_request
from storage.db.personal_data.requests import open_erase_requests, record_erase_request
from storage.plan import texts_vi as vi
from storage.plan.clock import local
from storage.plan.text import fold

# Her buttons; global ("g:"), so they work whatever was asked in between.
SEND, KEEP = "g:xoadulieu:gui", "g:xoadulieu:khong"
# "xóa/hủy/gỡ … dữ liệu/thông tin/tài khoản", a few words apart at most ("xóa giúp em thông
# tin", "xoá hết dữ liệu của tôi"), folded.
_ERASE = re.compile(
    r"(?:^|\s)(?:xoa|huy|go bo|go)(?:\s+\S+){0,3}?\s+(?:du lieu|thong tin|tai khoan)(?:\s|$)"
)


def asks_erasure(text: str) -> bool:
    return _ERASE.search(fold(text).replace("xoá", "xoa")) is not None


def _action(turn: Turn) -> str | None:
    """SEND, KEEP, "ask" (a request typed or /xoadulieu), or None: not about erasure."""
    inbound = turn.inbound
    if inbound.choice is not None:
        # A button of turn.ask carries the turn number first ("3:g:xoadulieu:gui").
        number, _, rest = inbound.choice.partition(":")
        chosen = rest if number.isdigit() else inbound.choice
        return chosen if chosen in (SEND, KEEP) else None
    if inbound.command is not None:
        return "ask" if inbound.command[0] == "xoadulieu" else None
    text = inbound.text or ""
    offered = [tuple(c) for c in turn.data.get("offered", [])]
    if any(action in (SEND, KEEP) for _, action in offered):
        folded = fold(text)
        for n, (label, action) in enumerate(offered, start=1):
            if folded in (fold(label), str(n)):
                return action
        # A plain "Không" keeps; only a deciding yes ("Có", not a reflexive "dạ") sends.
        yes = parse_yes_no(text)
        if yes is False or (yes and explicit_yes(text)):
            return SEND if yes else KEEP
    step = turn.conversation.step if turn.conversation else None
    if step == "question" and turn.data.get("free") and not turn.data.get("numeric"):
        return None  # a free-text answer to a report's question may say anything
    return "ask" if asks_erasure(text) else None


async def answer(turn: Turn) -> bool:
    """True when her message was about erasing her data, and answered."""
    action = _action(turn)
    if action is None or turn.person is None or turn.unit is None:
        return False
    person, unit = turn.person, turn.unit
    mid_report = turn.conversation is not None and turn.conversation.flow == report_flow.FLOW
    pending = await open_erase_requests(turn.session, person)
    if pending and action != KEEP:
        turn.say(vi.ERASE_ALREADY.format(day=local(pending[0][0].at).strftime("%d/%m/%Y")))
    elif action == "ask":
        turn.ask(vi.ERASE_ASK, [(vi.BUTTON_ERASE_SEND, SEND), (vi.BUTTON_ERASE_KEEP, KEEP)])
        turn.save(erase_words=turn.inbound.text or "/xoadulieu")  # what the officer checks
        return True
    elif action == KEEP:
        turn.say(vi.ERASE_KEPT)
    else:
        words = str(turn.data.get("erase_words") or "")
        await record_erase_request(turn.session, person, words, turn.now)
        told = await tell_erase_request(turn.session, person, unit, turn.now)
        turn.say(
            vi.ERASE_RECORDED.format(
                day=local(turn.now).strftime("%d/%m/%Y"),
                officers=", ".join(told.names) or vi.ERASE_OFFICERS_NONE,
            )
        )
    turn.save(offered=[], erase_words=None)
    if mid_report:
        await report_flow.reprompt(turn)  # the report she was answering goes on
    return True
