"""The conversation engine: one inbound message in, replies out, for any channel.

Each message is handled in one database transaction: the update is claimed (so a redelivered
update changes nothing and sends nothing), the person and her conversation are loaded (and
locked on PostgreSQL, so two workers never interleave one person's steps), the flow runs, and
the replies are returned for the channel to send after the commit. Run by a worker (a bot
serving a platform), the replies are also written to the outbox in that transaction, owed until
the channel takes them (schedules.replies.deliver_replies).
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
import weakref
from datetime import datetime

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import (
    commands,
    data_requests,
    onboarding,
    opening_path,
    plain_answer,
    privacy,
    report_flow,
)
from handlers.context import HandlerContext
from handlers.hints import THANKS, chatter, hint_for
from handlers.parsing import explicit_yes, parse_number, parse_yes_no
from handlers.plain_answer import LAST_SEEN_EVERY
from handlers.turn import Taken, Turn, reply_parts
from schedules.messages import Capabilities, Inbound, Outbound
from schedules.planned import to_payload
from schedules.replies import SentMarks
from storage.db import aggregates
from storage.db.conversations import claim_update, sender_with_conversation
from storage.db.delivery import drop_pending, mark_sent_each, owe_replies
from storage.db.sessions import transaction
from storage.plan import texts_vi as vi
from storage.plan.text import fold

logger = logging.getLogger(__name__)
RETRIES = 3


def _retryable(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return "deadlock" in text or "could not serialize" in text or "database is locked" in text


class Engine:
    def __init__(
        self, ctx: HandlerContext, worker: str | None = None, *, plain: bool = True
    ) -> None:
        """`plain`: a plain answer takes its own statements (handlers/plain_answer.py), and a
        worker's sent replies are recorded with its next turn (schedules/replies.py)."""
        self.ctx = ctx
        self.worker = worker  # set: replies are recorded as owed (see the module's docstring)
        self.plain = plain
        self.marks = SentMarks(ctx.sessions) if plain and worker else None
        # Chats whose last turn here left no question open (a summary, a staff question):
        # their next text is not tried as a plain answer (a hint: wrong, it costs a try).
        self._not_asked: set[tuple[str, str]] = set()
        # What each channel can do, so owed replies are recorded one API call each.
        self.capabilities: dict[str, Capabilities] = {}
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def _lock(self, key: tuple[str, str]) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        return (await self.take(inbound)).replies

    async def take(self, inbound: Inbound) -> Taken:
        lock = self._lock((inbound.channel, inbound.chat_id))
        async with lock:
            for attempt in range(1, RETRIES + 1):
                try:
                    return await self._handle(inbound)
                except IntegrityError as exc:
                    if "processed_updates" in str(exc.orig):
                        # Handled before (by another worker, or before a crash): silence.
                        logger.info("duplicate update %s/%s", inbound.channel, inbound.update_key)
                        async with transaction(self.ctx.sessions) as session:
                            await drop_pending(session, inbound.channel, inbound.update_key or "")
                        return Taken([])
                    if attempt < RETRIES:  # a race on another row (two channels at once): redo
                        continue
                    logger.exception("failed to handle an update from %s", inbound.channel)
                    return Taken([Outbound(vi.INTERNAL_ERROR)])
                except DBAPIError as exc:
                    # A deadlock or serialisation failure rolled the whole turn back, the
                    # claim on the update included: doing it again is safe.
                    if attempt < RETRIES and _retryable(exc):
                        await asyncio.sleep(0.01 * attempt)
                        continue
                    logger.exception("failed to handle an update from %s", inbound.channel)
                    return Taken([Outbound(vi.INTERNAL_ERROR)])
                except Exception:
                    logger.exception("failed to handle an update from %s", inbound.channel)
                    return Taken([Outbound(vi.INTERNAL_ERROR)])
            return Taken([Outbound(vi.INTERNAL_ERROR)])

    async def _handle(self, inbound: Inbound) -> Taken:
        chat = (inbound.channel, inbound.chat_id)
        # A plain answer, or /baocao: on the driver (handlers/plain_answer.py, opening_path.py)
        path = None
        if self.plain and opening_path.applies(inbound, REPORT_WORDS):
            path = opening_path.take
        elif self.plain and chat not in self._not_asked and plain_answer.applies(inbound):
            path = plain_answer.take
        if path is not None:
            taken = await path(
                self.ctx,
                inbound,
                converse,
                worker=self.worker,
                capabilities=self.capabilities.get(inbound.channel),
                marks=self.marks,
            )
            if taken is not None:
                self._hint(chat, taken)
                return taken
        # Replies the channel took since this worker's last turn: recorded "sent" in this
        # turn's transaction (schedules/replies.py).
        sent = self.marks.take() if self.marks is not None else {}
        try:
            taken = await self._general(inbound, sent)
        except BaseException:
            if self.marks is not None:
                self.marks.give_back(sent)
            raise
        if self.marks is not None:
            self.marks.settled(sent)
        self._hint(chat, taken)
        return taken

    def _hint(self, chat: tuple[str, str], taken: Taken) -> None:
        if taken.asks:
            self._not_asked.discard(chat)
        else:
            self._not_asked.add(chat)

    async def _general(self, inbound: Inbound, sent: dict[int, datetime]) -> Taken:
        now = self.ctx.clock.now()
        async with transaction(self.ctx.sessions) as session:
            # The kept totals a submit changes are shared by every report under the province:
            # written last, just before the commit, so other submits wait one round trip.
            aggregates.defer_totals(session)
            if inbound.update_key:
                # A repeated key fails here (unique), which rolls everything back: see take().
                await claim_update(
                    session, inbound.channel, inbound.update_key, now, stored=bool(self.worker)
                )
            turn = await self._turn(session, inbound, now)
            taken = Taken(turn.replies, asks=plain_answer.asked(turn))
            parts = reply_parts(turn.replies, self.capabilities.get(inbound.channel))
            await mark_sent_each(session, sent)
            if self.worker and parts:
                ids, send_now = await owe_replies(
                    session,
                    channel=inbound.channel,
                    chat_id=inbound.chat_id,
                    person_id=turn.person.id if turn.person else None,
                    key=f"reply:{inbound.channel}:{inbound.update_key or _fresh_key()}",
                    payloads=[to_payload(part) for part in parts],
                    now=now,
                    worker=self.worker,
                    sent=list(self.marks.unrecorded) if self.marks is not None else (),
                )
                taken.recorded = True
                if send_now:
                    taken.owed = list(zip(ids, parts, strict=True))
            await aggregates.write_deferred(session)
            return taken

    async def _turn(self, session: AsyncSession, inbound: Inbound, now: datetime) -> Turn:
        turn = Turn(self.ctx, session, inbound, now, self.ctx.clock.today())
        sender, conversation = await sender_with_conversation(
            session, inbound.channel, inbound.user_id, now
        )
        if sender is None or conversation is None:  # unknown, or no longer active
            await onboarding.unknown_sender(turn)
            return turn
        account, turn.person, turn.unit = sender
        if account.unreachable:  # she writes again: she can be written to again
            account.unreachable = False
        # Written only when they change (or hourly), so a plain answer costs no update.
        if account.chat_id != inbound.chat_id:
            account.chat_id = inbound.chat_id
        if account.last_seen_at is None or now - account.last_seen_at > LAST_SEEN_EVERY:
            account.last_seen_at = now
        if turn.person.last_channel != inbound.channel:
            turn.person.last_channel = inbound.channel
        turn.conversation = conversation
        await converse(turn)
        return turn


async def converse(turn: Turn) -> None:
    """Her message to her conversation, whichever path read them (the plain answer's too)."""
    # "xóa dữ liệu của tôi" first (heard before the notice is accepted); then the notice.
    if await data_requests.answer(turn) or await privacy.gate(turn):
        return
    await route(turn)
    privacy.tell_after(turn)


def _fresh_key() -> str:
    return uuid.uuid4().hex


# Words that work as commands without the slash, matched on the whole message (folded).
PLAIN_COMMANDS = {
    "bao cao": "baocao",
    "baocao": "baocao",
    "bc": "baocao",
    "bao cao ngay": "baocao",
    "huy": "huy",
    "dung lai": "huy",
    "tro giup": "trogiup",
    "trogiup": "trogiup",
    "huong dan": "trogiup",
    "help": "trogiup",
    "web": "web",
    "trang web": "web",
    "trang theo doi": "web",
    "mo trang theo doi": "web",
    "nhac lai sau": "later",
    "nhac sau": "later",
    "de sau": "later",
    "nhac ngay": "nudge",
    "lien ket": "lienket",
    "lienket": "lienket",
    "du lieu cua toi": "dulieu",
    "xem du lieu cua toi": "dulieu",
    "dulieu": "dulieu",
}
REPORT_WORDS = frozenset(words for words, name in PLAIN_COMMANDS.items() if name == "baocao")
GLOBAL_ACTION = "g:"  # buttons on reminders and digests: valid whatever was asked last


# Commands that only answer (or hand out a code or a link): asked mid-report, the report
# goes on after.
ANSWER_ONLY = {
    "tong", "tiendo", "chuanop", "xuat", "bieudo", "trogiup", "help", "lienket", "xephang", "web",
    "dulieu", "privacy_ok",
    "baocaovanban", "tre", "trehan",
}  # fmt: skip


async def route(turn: Turn) -> None:
    """Handles one message, remembering which of her messages moved the conversation (so an
    edit of it can be told apart from an edit of an older one)."""
    conversation = turn.conversation
    assert conversation is not None
    inbound = turn.inbound
    if inbound.edited and not _edit_answers(turn):
        turn.say(vi.EDIT_OLD if conversation.flow == report_flow.FLOW else vi.EDIT_OUTSIDE)
        if conversation.flow == report_flow.FLOW:
            await report_flow.reprompt(turn)
        return
    before = _position(turn)
    await _route(turn)
    if inbound.message_id and not inbound.edited:
        turn.save(last_in={"id": inbound.message_id, "stayed": _position(turn) == before})
    # Her last turn: a reminder queued after it is what her next message answers.
    conversation.updated_at = turn.now


def _position(turn: Turn) -> list:
    assert turn.conversation is not None
    return [turn.conversation.flow, turn.conversation.step, turn.data.get("i")]


def _edit_answers(turn: Turn) -> bool:
    """An edit is taken as her answer when it edits her last message and that one did not
    move the report on (it was refused, so the same question is still open)."""
    last = turn.data.get("last_in") or {}
    return (
        turn.conversation is not None
        and turn.conversation.flow == report_flow.FLOW
        and turn.conversation.step == "question"
        and last.get("id") == turn.inbound.message_id
        and bool(last.get("stayed"))
    )


async def _route(turn: Turn) -> None:
    """Commands first, then a pressed button or a typed reply to what was last asked."""
    inbound = turn.inbound
    conversation = turn.conversation
    assert conversation is not None
    command = inbound.command
    text = (inbound.text or "").strip()
    # What was just offered wins over plain-word commands ("đúng" is not "dừng").
    action = None if command else _chosen_action(turn)
    # Command words work mid-report too. Staff questions with arguments ("tiến độ …") do
    # while a number is asked only if the text is not a number; a free-text answer may start
    # with any word, so there they do not.
    answering = conversation.step == "question" and turn.data.get("free")
    if command is None and action is None and text:
        word = PLAIN_COMMANDS.get(fold(text))
        if word:
            command = (word, "")
        elif not answering or (turn.data.get("numeric") and parse_number(text).error):
            command = commands.plain_staff_command(text)
    if action and action.startswith(GLOBAL_ACTION):
        name, _, args = action[len(GLOBAL_ACTION) :].partition(":")
        command = (name, args)
    if command is not None:
        if conversation.flow == report_flow.FLOW and command[0] in ANSWER_ONLY:
            # A question asked mid-report is answered, then the report takes up again.
            saved = (conversation.flow, conversation.step, dict(conversation.data or {}))
            await commands.run(turn, *command)
            conversation.flow, conversation.step, conversation.data = saved
            await report_flow.reprompt(turn)
            return
        await commands.run(turn, *command)
        return
    if action == "stale" and conversation.flow == report_flow.FLOW:
        turn.say(vi.STALE_BUTTON)
        await report_flow.reprompt(turn)
    elif action == "stale":
        turn.say(vi.BUTTON_EXPIRED)
    elif action is not None and conversation.flow == report_flow.FLOW:
        await report_flow.on_action(turn, action)
    elif action is not None:
        await commands.on_action(turn, action)
    elif conversation.flow == report_flow.FLOW:
        await report_flow.on_text(turn, text)  # a sticker or photo reads as an empty answer
    elif text and _staff_yes_no(turn, text) is not None:
        await _staff_answer(turn, text)
    elif text and await report_flow.on_idle_text(turn, text):
        pass  # the whole report in one message, unasked: taken, or asked about
    elif text:
        _not_understood(turn)


def _chosen_action(turn: Turn) -> str | None:
    """The action of a pressed button, or of typed text that names an offered choice."""
    data = turn.data
    inbound = turn.inbound
    if inbound.choice and inbound.choice.startswith(GLOBAL_ACTION):
        return inbound.choice
    if inbound.choice:
        number, _, action = inbound.choice.partition(":")
        if not number.isdigit() or int(number) != int(data.get("turn", -1)):
            return "stale"
        return action
    text = fold(inbound.text or "")
    if not text:
        return None
    offered = [tuple(c) for c in data.get("offered", [])]
    if not data.get("free") and text.isdigit() and 1 <= int(text) <= len(offered):
        return offered[int(text) - 1][1]
    for label, action in offered + [tuple(c) for c in data.get("extra", [])]:
        # "Như kỳ trước (180)" may be typed without the figure it shows in brackets.
        named = text in (fold(label), _SHOWN_FIGURE.sub("", fold(label)))
        if named and not (data.get("free") and text.isdigit()):
            return action
    return None


_SHOWN_FIGURE = re.compile(r"\s*\([^()]*\)$")


# Staff questions answered by a yes or a no ("Chị vẫn duyệt báo cáo này?"): the second
# choice offered is one of these, the first is the yes.
_NO_ACTIONS = ("later", "cancel")


def _staff_yes_no(turn: Turn, text: str) -> bool | None:
    """Her yes or no to a staff yes/no question still open, else None."""
    conversation = turn.conversation
    offered = [tuple(c) for c in turn.data.get("offered", [])]
    if conversation is None or conversation.flow in (None, report_flow.FLOW) or len(offered) != 2:
        return None
    if offered[1][1] not in _NO_ACTIONS:
        return None
    return parse_yes_no(text)


async def _staff_answer(turn: Turn, text: str) -> None:
    """A plain yes ("Có", "đồng ý") takes the first choice, a no the second; a reflexive "dạ"
    or "ok" decides nothing: the question is asked again."""
    offered = [tuple(c) for c in turn.data.get("offered", [])]
    yes = _staff_yes_no(turn, text)
    if yes and not explicit_yes(text):
        turn.say(vi.STAFF_SAY_PLAINLY.format(yes=offered[0][0], no=offered[1][0]))
        turn.ask(turn.data.get("prompt") or "", offered)
        return
    await commands.on_action(turn, offered[0 if yes else 1][1])


def _not_understood(turn: Turn) -> None:
    """Chatter outside any report: what she can do, as her role can (an officer is not told
    only to report); a staff question still open is asked again."""
    role = turn.person.role if turn.person else None
    said = chatter(turn.inbound.text or "")
    if said == THANKS:
        turn.say(vi.YOU_ARE_WELCOME)  # a thank-you is not a question to be corrected
    elif privacy.remind(turn):  # joined before the notice, not accepted yet: the notice first
        pass
    elif role:  # "ok", "👍", "lát chị làm" get a "Dạ", not "Em chưa hiểu"
        turn.say(vi.CHATTER_IDLE.get(said or "", vi.NOT_UNDERSTOOD_START) + hint_for(role))
    else:
        turn.say(vi.NOT_UNDERSTOOD)
    conversation = turn.conversation
    offered = [tuple(c) for c in turn.data.get("offered", [])]
    staff = conversation is not None and conversation.flow not in (None, report_flow.FLOW)
    if staff and offered and offered[-1][1] in _NO_ACTIONS:
        turn.ask(turn.data.get("prompt") or "", offered)
