"""Opening a report (`/baocao`) on the driver (#25), as the plain answer is taken
(handlers/plain_answer.py): in one transaction on the pooled connection's driver, the update
claimed and her conversation read and locked (storage/db/answer_path.py), her conversation
created if she has none and her account's changes written (storage/db/opening_path.py), then
the engine's own `converse` runs with no session: what opening a report reads (the notice, the
reports reopened, the report of the period, its answers, the unit's history and member count)
and the draft it creates go through `handlers/reads.py`, served here by the driver's
statements; then the conversation and the replies owed are written as a plain answer writes
them. Anything else (a sent or approved report, a whole form with the command, the notice to
accept) touches the session: NotPlain, the transaction rolls back and the general path takes
the update, claiming it again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Container
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.context import HandlerContext
from handlers.plain_answer import LAST_SEEN_EVERY, NO_SESSION, NotPlain, attempt, written
from handlers.reads import READS, Reads
from handlers.turn import Taken, Turn
from schedules.messages import Capabilities, Inbound
from schedules.replies import SentMarks
from storage.db import answer_path
from storage.db.models import NoticeAcceptance, OrgUnit, Submission
from storage.db.opening_path import Opening
from storage.measures import reporting
from storage.measures.member_count import members_of
from storage.plan.catalog import Catalog, Form
from storage.plan.periods import Period
from storage.plan.text import fold
from storage.plan.validation import Members

logger = logging.getLogger(__name__)
COMMAND = ("baocao", "")


def applies(inbound: Inbound, words: Container[str]) -> bool:
    """`/baocao` alone, or typed as `words` ("báo cáo": engine.PLAIN_COMMANDS); with a whole
    form after it, it may write the form: the general path."""
    if not inbound.update_key or inbound.choice is not None or inbound.edited:
        return False
    command = inbound.command
    return command == COMMAND or (command is None and fold(inbound.text or "") in words)


class DriverReads(Reads):
    """The reads of handlers/reads.py through the opening's own statements."""

    def __init__(self, opening: Opening) -> None:
        super().__init__(NO_SESSION)
        self.opening = opening

    async def acceptance(self, person_id: int) -> NoticeAcceptance | None:
        return await self.opening.acceptance(person_id)

    async def reopened(self, unit_id: int) -> list[Submission]:
        return await self.opening.reopened(unit_id)

    async def submission(self, unit_id: int, form_code: str, period_key: str) -> Submission | None:
        return await self.opening.submission(unit_id, form_code, period_key)

    async def create(self, unit_id: int, form: Form, period: Period, now: datetime) -> Submission:
        return await self.opening.create(reporting.draft_of(unit_id, form, period, now))

    async def answers(self, submission_id: int) -> dict[str, reporting.Answer]:
        return await self.opening.answers(submission_id)

    async def history(
        self, unit_id: int, codes: list[str], before: date, periods: int
    ) -> dict[str, list[tuple[date, reporting.Answer]]]:
        return await self.opening.history(unit_id, codes, before, periods)

    async def members(self, catalog: Catalog, unit: OrgUnit, before: date) -> Members | None:
        code = catalog.member_total
        latest = await self.opening.latest_member_total(code, unit.id, before) if code else None
        return members_of(catalog, unit, latest)


async def take(
    ctx: HandlerContext,
    inbound: Inbound,
    converse: Callable[[Turn], Awaitable[None]],
    *,
    worker: str | None,
    capabilities: Capabilities | None,
    marks: SentMarks | None,
) -> Taken | None:
    """The update handled on this path, or None: the general path is to take it (nothing
    was kept)."""
    engine = ctx.sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)

    async def run(sent: dict[int, datetime]) -> Taken:
        return await _take(ctx, engine, inbound, converse, worker, capabilities, sent, marks)

    return await attempt("opening", run, marks)


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
        opening = Opening(tx, engine.dialect)
        loaded = await tx.open(inbound.channel, key, inbound.user_id, now, stored=bool(worker))
        if loaded is None:  # no conversation yet: she gets one, as the general path gives it
            loaded = await opening.start_conversation(inbound.channel, inbound.user_id, now)
        if loaded is None or not loaded.person.active:
            raise NotPlain("unknown or inactive sender")
        await _touch_account(opening, inbound, now, loaded)
        turn = Turn(ctx, NO_SESSION, inbound, now, ctx.clock.today(), loaded.person, loaded.unit)
        turn.conversation = loaded.conversation
        turn.cache[READS] = DriverReads(opening)
        await converse(turn)
        return await written(
            tx,
            turn,
            loaded.conversation,
            None,
            sent,
            marks,
            capabilities=capabilities,
            worker=worker,
        )


async def _touch_account(
    opening: Opening, inbound: Inbound, now: datetime, loaded: answer_path.Loaded
) -> None:
    """What the general path writes of her account (handlers/engine.py: Engine._turn), when
    anything of it changes: reachable again, her chat, last seen (hourly), her channel."""
    seen = loaded.last_seen_at
    if seen is None or now - seen > LAST_SEEN_EVERY:
        seen = now
    channel = inbound.channel if loaded.person.last_channel != inbound.channel else None
    if (
        loaded.unreachable
        or loaded.chat_id != inbound.chat_id
        or seen != loaded.last_seen_at
        or channel is not None
    ):
        await opening.touch_account(
            inbound.channel, inbound.user_id, inbound.chat_id, seen, loaded.person.id, channel
        )
    loaded.person.last_channel = inbound.channel
