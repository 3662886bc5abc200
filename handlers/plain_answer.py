"""The plain answer: a typed answer to the question asked of an open report, or the word
that sends it at its summary (#25).

It is most of what the bot receives, so it takes its own statements (storage/db/answer_path.py:
the update claimed and the conversation read and locked, then the conversation, the value,
the replies owed and the "sent" of earlier replies written, in one transaction) instead of the
session's. The logic is the very same: the engine's `converse` runs on a turn built from what
was read, with no session. A draft sent runs its statements on this transaction
(storage/measures/reporting.py `submit` and `year_to_date` with `driver`). Anything else the
conversation would need (a read of the database, a write other than a draft's one answer:
a confirmation asked, a whole form, a sent report's edit, a new account detail) raises
NotPlain there, the transaction rolls back, and the engine takes the general path, which
claims the update again; a repeated update and any database error go that way too, so they
are handled as before.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from handlers import report_flow
from handlers.context import HandlerContext
from handlers.turn import Taken, Turn, reply_parts
from schedules.messages import Capabilities, Inbound
from schedules.planned import to_payload
from schedules.replies import SentMarks
from storage.db import answer_path
from storage.db.models import Conversation, OutboxStatus, Submission, SubmissionStatus

logger = logging.getLogger(__name__)
LAST_SEEN_EVERY = timedelta(hours=1)  # an account's "last seen" is written at most this often
# What became of the updates tried here, by reason (read by bench.inbound --profile).
OUTCOMES: Counter[str] = Counter()


# The steps of a draft whose next text may be plain: a question's answer, and at the summary
# the word that sends the report (its statements on this path's connection too).
PLAIN_STEPS = ("question", "summary")


class NotPlain(Exception):
    """The turn needs more than this path reads or writes: the general path takes it."""


class _NoSession:
    """The session of a plain answer's turn: none. Whatever would use it is not plain."""

    def __getattr__(self, name: str) -> Any:
        raise NotPlain(name)


NO_SESSION = cast(AsyncSession, _NoSession())


def applies(inbound: Inbound) -> bool:
    """Worth trying: typed text, not a command, a button, an edit or a file."""
    return bool(
        inbound.text
        and inbound.update_key
        and inbound.choice is None
        and not inbound.edited
        and inbound.command is None
    )


def asked(turn: Turn) -> bool:
    """Whether the turn left a report's question open (her next text may be plain)."""
    conversation = turn.conversation
    return (
        conversation is not None
        and conversation.flow == report_flow.FLOW
        and conversation.step in PLAIN_STEPS
    )


async def take(
    ctx: HandlerContext,
    inbound: Inbound,
    converse: Callable[[Turn], Awaitable[None]],
    *,
    worker: str | None,
    capabilities: Capabilities | None,
    marks: SentMarks | None,
) -> Taken | None:
    """The update handled on this path, or None: not plain (nothing was kept)."""
    engine = ctx.sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)

    async def run(sent: dict[int, datetime]) -> Taken:
        return await _take(ctx, engine, inbound, converse, worker, capabilities, sent, marks)

    return await attempt("", run, marks)


async def attempt(
    label: str, run: Callable[[dict[int, datetime]], Awaitable[Taken]], marks: SentMarks | None
) -> Taken | None:
    """One of the driver's paths (`run`, given the replies sent to record with it): what it
    took, or None when the general path is to take the update (nothing was kept). What
    became of each try is counted in OUTCOMES under `label`."""
    prefix = f"{label}, " if label else ""
    sent = marks.take() if marks is not None else {}
    try:
        taken: Taken | None = await run(sent)
    except NotPlain as reason:
        OUTCOMES[f"{prefix}not plain: {reason}"] += 1
        taken = None
    except answer_path.driver_errors() as error:  # a repeat, a deadlock: as the general path says
        OUTCOMES[f"{prefix}driver: {type(error).__name__}"] += 1
        logger.debug("%s path gave way", label or "plain answer", exc_info=True)
        taken = None
    except Exception:  # a fault of this path: the general one still answers her
        OUTCOMES[f"{prefix}failed"] += 1
        logger.exception("%s path failed", label or "plain answer")
        taken = None
    except BaseException:
        if marks is not None:
            marks.give_back(sent)
        raise
    if taken is not None:
        OUTCOMES[f"{prefix}taken"] += 1
    if marks is not None:
        (marks.settled if taken is not None else marks.give_back)(sent)
    return taken


async def _take(
    ctx: HandlerContext,
    engine: AsyncEngine,
    inbound: Inbound,
    converse: Callable[[Turn], Awaitable[None]],
    worker: str | None,
    capabilities: Capabilities | None,
    sent: dict[int, datetime],
    marks: SentMarks | None,
) -> Taken:
    now = ctx.clock.now()
    key = inbound.update_key or ""
    async with answer_path.turn(engine) as tx:
        loaded = await tx.open(inbound.channel, key, inbound.user_id, now, stored=bool(worker))
        turn = _turn(ctx, inbound, now, loaded)
        turn.cache[answer_path.DRIVER] = tx
        await converse(turn)
        assert turn.conversation is not None and turn.person is not None
        if turn.answers_out and len(turn.answers_out) > 1:
            raise NotPlain("several answers")
        value = turn.answers_out[0] if turn.answers_out else None
        return await written(
            tx,
            turn,
            turn.conversation,
            value,
            sent,
            marks,
            capabilities=capabilities,
            worker=worker,
        )


async def written(
    tx: answer_path.Turn,
    turn: Turn,
    conversation: Conversation,
    value: tuple[Submission, str, float | str | None] | None,
    sent: dict[int, datetime],
    marks: SentMarks | None,
    *,
    capabilities: Capabilities | None,
    worker: str | None,
) -> Taken:
    """What a driver's turn did written in its transaction (the conversation, the value, the
    replies owed, the "sent" of earlier replies), and what the engine is to send."""
    assert turn.person is not None
    inbound = turn.inbound
    parts = reply_parts(turn.replies, capabilities) if worker else []
    rows = await tx.write(
        answer_path.Written(
            person_id=turn.person.id,
            conversation=conversation,
            value=value,
            sent=sent,
            unrecorded=list(marks.unrecorded) if marks is not None else [],
            channel=inbound.channel,
            chat_id=inbound.chat_id,
            reply_key=f"reply:{inbound.channel}:{inbound.update_key or ''}",
            payloads=[to_payload(part) for part in parts],
            now=turn.now,
            worker=worker,
        )
    )
    taken = Taken(turn.replies, recorded=bool(parts), asks=asked(turn))
    if rows and rows[0][1] == OutboxStatus.SENDING:
        taken.owed = [(row_id, part) for (row_id, _), part in zip(rows, parts, strict=True)]
    return taken


def _turn(
    ctx: HandlerContext, inbound: Inbound, now: datetime, loaded: answer_path.Loaded | None
) -> Turn:
    """Her turn from what was read, if it is one this path can take."""
    if loaded is None or not loaded.person.active or loaded.submission is None:
        raise NotPlain("no conversation, or no report open")
    # What the general path would write of her account (engine._turn): nothing, here.
    seen = loaded.last_seen_at
    if (
        loaded.unreachable
        or loaded.chat_id != inbound.chat_id
        or loaded.person.last_channel != inbound.channel
        or seen is None
        or now - seen > LAST_SEEN_EVERY
    ):
        raise NotPlain("her account changes")
    conversation, sub = loaded.conversation, loaded.submission
    data = conversation.data
    if (
        conversation.flow != report_flow.FLOW
        or conversation.step not in PLAIN_STEPS
        or data.get("sid") != sub.id
        or sub.status != SubmissionStatus.DRAFT
        or sub.approved_at is not None
    ):
        raise NotPlain("not a draft's question")
    turn = Turn(ctx, NO_SESSION, inbound, now, ctx.clock.today(), loaded.person, loaded.unit)
    turn.conversation = conversation
    turn.answers_out = []
    form = ctx.catalog.forms.get(data.get("form") or "")
    if form is None:
        raise NotPlain("a form no longer configured")
    turn.cache[("context", data["sid"])] = (form, sub, dict(loaded.answers))
    return turn
