"""A turn's replies, sent at once by the worker that made them, and "sent" recorded without a
round trip of its own.

The turn owed them in its transaction (storage.db.delivery.owe_replies, or the plain answer's
path); they are sent in order right after its commit. What the channel took is recorded
"sent" with the next turn's transaction of this worker (`SentMarks.take`), or, if none comes,
by a statement of its own within RECORD_EVERY: a crash can repeat only what was sent in that
last instant, as the dispatcher's chunks allow. Until recorded a row stays in IN_FLIGHT, so
it is never taken for abandoned; a clean stop records them before the worker retires.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from schedules.messages import Channel, ChannelError, Outbound
from schedules.outbox import IN_FLIGHT, RECORD_EVERY, REPLY_ATTEMPTS, record_failure, send_once
from storage.db.delivery import mark_sent, mark_sent_each, record_sent, requeue
from storage.db.models import OutboxMessage
from storage.db.sessions import one_statement, transaction
from storage.plan.clock import Clock

logger = logging.getLogger(__name__)


class SentMarks:
    """Replies the channel took that are not yet recorded "sent" (outbox id → when)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.waiting: dict[int, datetime] = {}
        # Every row taken by the channel and not recorded yet (waiting, or being recorded by
        # a transaction): a new reply to the chat need not queue behind it.
        self.unrecorded: set[int] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: set[asyncio.Task] = set()

    def add(self, ids: list[int], at: datetime) -> None:
        IN_FLIGHT.update(ids)
        self.unrecorded.update(ids)
        self.waiting.update(dict.fromkeys(ids, at))
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(RECORD_EVERY, self._due)

    def take(self) -> dict[int, datetime]:
        """All waiting, for the caller's transaction: `settled` after its commit, else
        `give_back`."""
        taken, self.waiting = self.waiting, {}
        return taken

    def settled(self, taken: Mapping[int, datetime]) -> None:
        IN_FLIGHT.difference_update(taken)
        self.unrecorded.difference_update(taken)

    def give_back(self, taken: Mapping[int, datetime]) -> None:
        self.waiting = {**taken, **self.waiting}
        if self.waiting and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(RECORD_EVERY, self._due)

    def _due(self) -> None:
        self._timer = None
        if self.waiting:
            task = asyncio.create_task(self.flush())
            self._flushing.add(task)
            task.add_done_callback(self._flushing.discard)

    async def flush(self) -> None:
        """Records what is waiting, in one statement (a stop calls it before retiring)."""
        taken = self.take()
        if not taken:
            return
        try:
            engine = self.sessions.kw.get("bind")
            if isinstance(engine, AsyncEngine):  # on the driver, as the intake's store
                await record_sent(engine, taken)
            else:
                async with one_statement(self.sessions) as session:
                    await mark_sent_each(session, taken)
        except Exception:
            logger.exception("recording sent replies failed; trying again")
            self.give_back(taken)
            return
        self.settled(taken)

    async def close(self) -> None:
        """Records everything still waiting (a clean stop)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._flushing:
            await asyncio.gather(*self._flushing, return_exceptions=True)
        await self.flush()


async def deliver_replies(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    channel: Channel,
    chat_id: str,
    owed: list[tuple[int, Outbound]],
    marks: SentMarks | None = None,
) -> None:
    """Sends a turn's owed replies at once, in order, and has them recorded as sent (by
    `marks`, or at once without).

    At the first failure that one is recorded (retried by the dispatcher, with the channel's
    retry_after or a backoff) and the rest queue behind it, so the order holds."""
    IN_FLIGHT.update(row_id for row_id, _ in owed)
    handed: set[int] = set()  # to `marks`: in flight until they are recorded
    try:
        await _deliver_replies(sessions, clock, channel, chat_id, owed, marks, handed)
    finally:
        IN_FLIGHT.difference_update(row_id for row_id, _ in owed if row_id not in handed)


async def _deliver_replies(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    channel: Channel,
    chat_id: str,
    owed: list[tuple[int, Outbound]],
    marks: SentMarks | None,
    handed: set[int],
) -> None:
    sent: list[int] = []
    failure: tuple[int, ChannelError] | None = None
    for i, (row_id, message) in enumerate(owed):
        error = await send_once(channel, chat_id, message)
        if error is not None:
            failure = (i, error)
            break
        if marks is not None:  # recorded within RECORD_EVERY, even while the next part hangs
            marks.add([row_id], clock.now())
            handed.add(row_id)
            continue
        sent.append(row_id)
        if i < len(owed) - 1:
            # Recorded before the next part is tried: that one may hang until the send
            # timeout, and a crash meanwhile must not send this part again.
            async with one_statement(sessions) as session:
                await mark_sent(session, sent, clock.now())
            sent = []
    now = clock.now()
    if failure is None:  # the usual case: one statement, no transaction
        if sent:
            async with one_statement(sessions) as session:
                await mark_sent(session, sent, now)
        return
    i, error = failure
    async with transaction(sessions) as session:
        await mark_sent(session, sent, now)
        logger.warning("reply on %s failed, owed: %s", channel.name, error)
        row = await session.get(OutboxMessage, owed[i][0])
        if row is not None:
            await record_failure(session, row, error, now, REPLY_ATTEMPTS)
        await requeue(session, [row_id for row_id, _ in owed[i + 1 :]], now)
