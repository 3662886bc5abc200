"""Joining the bot: an invitation code links a chat account to a person."""

from __future__ import annotations

from handlers import privacy
from handlers.hints import hint_for
from handlers.turn import Turn
from storage.db.invitations import WRONG_WINDOW, Redeem, normalise_code, pretty, redeem
from storage.db.models import OrgUnit
from storage.plan import texts_vi as vi


async def unknown_sender(turn: Turn) -> None:
    """Someone not linked yet: a code (by deep link or typed) links her; anything else explains."""
    command = turn.inbound.command
    text = (turn.inbound.text or "").strip()
    if command and command[0] == "start" and command[1]:
        await link(turn, command[1])
    elif command is None and normalise_code(text):
        await link(turn, text)
    elif (
        command is None
        and len(text.replace("-", "").replace(" ", "")) in range(8, 13)
        and any(ch.isdigit() for ch in text)
    ):
        await link(turn, text)  # looks like a mistyped code: count it and say so
    else:
        turn.say(vi.WELCOME_UNKNOWN)


async def link(turn: Turn, code_text: str) -> None:
    inbound = turn.inbound
    result = await redeem(
        turn.session,
        code_text,
        channel=inbound.channel,
        user_id=inbound.user_id,
        chat_id=inbound.chat_id,
        now=turn.now,
    )
    shown = normalise_code(code_text)
    if result.outcome == Redeem.WRONG:
        turn.say(vi.CODE_WRONG.format(code=pretty(shown) if shown else code_text.strip()[:20]))
    elif result.outcome == Redeem.TOO_MANY:
        turn.say(vi.CODE_TOO_MANY.format(minutes=int(WRONG_WINDOW.total_seconds() // 60)))
    elif result.outcome == Redeem.EXPIRED:
        turn.say(vi.CODE_EXPIRED)
    elif result.outcome == Redeem.USED:
        turn.say(vi.CODE_USED)
    elif result.outcome == Redeem.ERASED:
        turn.say(vi.CODE_ERASED)
    elif result.outcome == Redeem.OTHER_PERSON:
        assert result.person
        turn.say(vi.CODE_OTHER_PERSON.format(name=result.person.full_name))
    else:
        assert result.person
        result.person.last_channel = inbound.channel
        unit = await turn.session.get(OrgUnit, result.person.unit_id)
        template = vi.LINKED if result.outcome == Redeem.LINKED else vi.LINKED_AGAIN
        lines = [template.format(name=result.person.full_name, unit=unit.name if unit else "")]
        if result.outcome == Redeem.LINKED:  # told what is kept before anything else
            await privacy.ask_at_joining(turn, result.person, lines[0])
            return
        lines.append(hint_for(result.person.role))
        turn.say("\n".join(lines))
