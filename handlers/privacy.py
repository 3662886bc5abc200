"""The personal-data notice (Decree 13/2023/NĐ-CP) and "dữ liệu của tôi".

At joining with a code she is shown the notice and the bot waits for her "Đồng ý" before
anything else (but "dữ liệu của tôi"). Someone who joined before the notice existed is
shown it once, after the answer to her next message, and may accept it whenever.
Her conversation's data remembers the outcome ("notice"), so the turns after cost nothing.
"""

from __future__ import annotations

from handlers import report_flow
from handlers.hints import hint_for
from handlers.reads import reads
from handlers.report_flow.prompts import ask_again
from handlers.turn import Turn
from schedules.messages import Choice, Outbound
from storage.db.models import Person
from storage.db.people import Actor
from storage.db.personal_data.access import record_access
from storage.db.personal_data.export import export, export_json
from storage.db.personal_data.notice import (
    acceptance_of,
    notice_text,
    record_accepted,
    record_shown,
)
from storage.plan import texts_vi as vi
from storage.plan.clock import VN
from storage.plan.text import fold

ACCEPT_ACTION = "g:privacy_ok"  # a global action: valid whatever was asked last
ACCEPT_WORDS = {"dong y", "toi dong y", "em dong y", "ok dong y"}
# As engine.PLAIN_COMMANDS reads them (a plain-word command).
MY_DATA_WORDS = {"du lieu cua toi", "dulieu", "xem du lieu cua toi"}
ACCEPTED, TOLD = "ok", "told"
TELL_AFTER = "privacy:tell-after"


def _template(turn: Turn) -> str:
    return notice_text(turn.ctx.catalog.privacy_notice, turn.ctx.retention_days)


def _notice(turn: Turn, lead: str, ask: str) -> Outbound:
    text = "\n\n".join(part for part in (lead, _template(turn), ask) if part)
    return Outbound(text, [Choice(vi.NOTICE_ACCEPT, ACCEPT_ACTION)], free_text=True)


def _when(turn: Turn) -> str:
    return turn.now.astimezone(VN).strftime("%H:%M %d/%m/%Y")


async def ask_at_joining(turn: Turn, person: Person, greeting: str) -> None:
    """Right after her code: the greeting, the notice, and "Đồng ý"; nothing else until then
    (she who accepted it already, joining on a second channel, is greeted as before)."""
    row = await acceptance_of(turn.session, person.id)
    if row is not None and row.accepted_at is not None:
        turn.say(greeting + "\n" + hint_for(person.role))
        return
    await record_shown(
        turn.session,
        person,
        _template(turn),
        channel=turn.inbound.channel,
        now=turn.now,
        at_joining=True,
    )
    turn.replies.append(_notice(turn, greeting, vi.NOTICE_ASK))


def _accepts(turn: Turn) -> bool:
    if turn.inbound.choice is not None:
        return turn.inbound.choice == ACCEPT_ACTION
    return fold(turn.inbound.text or "").strip(" .!") in ACCEPT_WORDS


def asks_for_own_data(turn: Turn) -> bool:
    command = turn.inbound.command
    if command is not None:
        return command[0] == "dulieu"
    return turn.inbound.choice is None and fold(turn.inbound.text or "") in MY_DATA_WORDS


async def gate(turn: Turn) -> bool:
    """Before her message is routed: True when the notice answered it (she accepted, or she
    must accept first)."""
    state = turn.data.get("notice")
    if state == ACCEPTED:
        return False
    if state == TOLD:
        if _accepts(turn):
            await accept(turn)
            return True
        return False
    assert turn.person is not None
    row = await reads(turn).acceptance(turn.person.id)
    if row is not None and row.accepted_at is not None:
        turn.save(notice=ACCEPTED)
        return False
    if _accepts(turn):
        await accept(turn)
        return True
    if row is None or not row.asked_at_joining:
        # Joined before the notice existed: told once, now; her message is answered as usual.
        if row is None:
            await record_shown(
                turn.session,
                turn.person,
                _template(turn),
                channel=turn.inbound.channel,
                now=turn.now,
                at_joining=False,
            )
        turn.cache[TELL_AFTER] = _notice(turn, "", vi.NOTICE_TOLD)
        turn.save(notice=TOLD)
        return False
    if asks_for_own_data(turn):
        return False  # she may see what is held before she accepts
    turn.replies.append(_notice(turn, vi.NOTICE_WAITING, vi.NOTICE_ASK))
    return True


def remind(turn: Turn) -> bool:
    """Chatter from someone told the notice who has not accepted it (she joined before it):
    the notice again with its «Đồng ý», as a leader who joined with a code gets it, in place
    of the hint of what she can ask. False when she accepted, or is told it in this turn."""
    if turn.data.get("notice") != TOLD or TELL_AFTER in turn.cache:
        return False
    turn.replies.append(_notice(turn, vi.NOTICE_REMIND, vi.NOTICE_TOLD))
    return True


def tell_after(turn: Turn) -> None:
    """The notice told once to someone who joined before it, after the answer she asked for."""
    notice = turn.cache.pop(TELL_AFTER, None)
    if notice is not None:
        turn.replies.append(notice)


async def accept(turn: Turn) -> None:
    """Her "Đồng ý" (a button, or typed): recorded with its time, once."""
    assert turn.person is not None
    row = await acceptance_of(turn.session, turn.person.id)
    if row is not None and row.accepted_at is not None:
        when = row.accepted_at.astimezone(VN).strftime("%H:%M %d/%m/%Y")
        turn.say(vi.NOTICE_ALREADY.format(when=when))
    else:
        await record_accepted(
            turn.session, turn.person, _template(turn), channel=turn.inbound.channel, now=turn.now
        )
        reporting = turn.conversation is not None and turn.conversation.flow == report_flow.FLOW
        # A report open: its question again (not "Gõ /baocao"), so her next number answers
        # what she sees.
        after = "" if reporting else "\n" + hint_for(turn.person.role)
        turn.say(vi.NOTICE_THANKS.format(when=_when(turn)) + after)
        if reporting:
            await ask_again(turn)
    turn.save(notice=ACCEPTED)


async def accept_command(turn: Turn, _args: str) -> None:
    """The notice's button pressed after it was already answered."""
    await accept(turn)


async def my_data(turn: Turn, _args: str) -> None:
    """ "dữ liệu của tôi": a summary here, and everything in a file (a link on Zalo)."""
    assert turn.person is not None and turn.unit is not None
    person = turn.person
    document = await export(turn.session, person, turn.now)
    await record_access(turn.session, Actor(person=person), "self_export", turn.now, subject=person)
    accounts = ", ".join(
        vi.MY_DATA_ACCOUNT.format(
            channel=vi.CHANNEL_NAMES.get(i["channel"], i["channel"]),
            day=(i["linked_at"] or "")[:10],
        )
        for i in document["identities"]
    )
    notice = document["notice"]
    accepted = notice and notice["accepted_at"]
    lines = [
        vi.MY_DATA_TITLE,
        vi.MY_DATA_PERSON.format(
            name=person.full_name,
            role=vi.ROLE_NAMES.get(person.role, person.role),
            unit=turn.unit.name,
            phone=person.phone or vi.MY_DATA_NO_PHONE,
        ),
        vi.MY_DATA_ACCOUNTS.format(accounts=accounts or "–"),
        vi.MY_DATA_MESSAGES.format(
            n=len(document["messages_sent_to_her"]), days=turn.ctx.retention_days
        ),
        vi.MY_DATA_REPORTS.format(
            n=len(document["reports_sent_or_approved"]),
            changes=len(document["report_changes_by_her"]),
        ),
        vi.MY_DATA_NOTICE.format(when=_local(accepted)) if accepted else vi.MY_DATA_NOTICE_NOT_YET,
        vi.MY_DATA_LOOKED.format(
            n=sum(1 for e in document["who_accessed_her_data"] if e["action"] != "self_export")
        ),
    ]
    turn.say("\n".join(lines))
    turn.replies.append(
        Outbound(vi.MY_DATA_FILE, document=export_json(document), filename=vi.MY_DATA_FILENAME)
    )


def _local(iso: str) -> str:
    from datetime import datetime

    return datetime.fromisoformat(iso).astimezone(VN).strftime("%H:%M %d/%m/%Y")
