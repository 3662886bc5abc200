"""The durable outbox: the one path for every message the bot owes.

Replies are written here in the transaction of the turn that made them and sent at once by
that worker (schedules.replies); only one that fails waits here for the dispatcher, which
sends a chat's replies in order, at any hour. Messages sent unasked (reminders, digests) keep
to the quiet hours and the channel's monthly cap.

Queueing inserts rows keyed by purpose and ignores keys already there, so planning twice (or
in two processes) queues once. The dispatcher claims a batch (FOR UPDATE SKIP LOCKED on
PostgreSQL, so several dispatchers never share a row), sends at the channel's pace, and marks
each row as soon as the channel accepted it. After a crash, rows left "sending" go back to the
queue once their worker is seen dead (storage.db.delivery): only a message the channel accepted
in the instant before the crash, not yet recorded, can be sent twice. A worker taken for dead
while alive (late) sends none of what went back: it checks its hold just before each chunk
(`Lease`). A clean stop starts no new send, records those in flight and hands the rest back.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from time import monotonic

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from schedules.messages import (
    PLATFORMS,
    Channel,
    ChannelError,
    Outbound,
    PermanentFailure,
    QuotaExceeded,
    RetryLater,
    TemporaryFailure,
    Unreachable,
    one_call_parts,
)
from schedules.planned import Plan, Planned, from_payload, to_payload
from schedules.ratelimit import RateLimiter
from schedules.recipients import choose_account, reachable_accounts
from storage.db.delivery import (
    QUOTA_ERROR,
    QUOTA_TOLD,
    REPLY,
    anything_due,
    held_by,
    mark_sent,
    queue_messages,
    release_claims,
    told_of_quota,
    touch_claims,
)
from storage.db.models import ChannelIdentity, OutboxMessage, OutboxStatus, Person
from storage.db.sessions import among, is_postgres, transaction
from storage.plan import texts_vi as vi
from storage.plan.clock import VN, Clock

logger = logging.getLogger(__name__)
INSERT_BATCH = 5000
MAX_ATTEMPTS = 5
REPLY_ATTEMPTS = 12  # a reply is owed longer: about twenty minutes of backoff
RECORD_EVERY = 0.05  # seconds between records of what was sent, during a chunk
# Outbox ids this process is sending right now: a row it holds "sending" that is not here was
# left by a send whose record failed (a database error), and goes back to the queue.
IN_FLIGHT: set[int] = set()


@dataclass
class ChannelPace:
    per_second: float | None = 30.0  # None: as fast as the channel answers
    per_chat_seconds: float = 1.0
    monthly_cap: int | None = None  # e.g. a Zalo free plan's messages a month


@dataclass
class QueueResult:
    queued: int = 0
    already: int = 0
    unreachable: int = 0


async def enqueue(
    sessions: async_sessionmaker[AsyncSession],
    plan: Plan | AsyncIterable[list[Planned]],
    now: datetime,
) -> QueueResult:
    """Queues the planned messages to each person's channel; keys already queued are skipped.

    `plan`: a whole plan, or its lists as they are made (schedules.reminders.plan_chunks).
    Commits each batch, so a crash part-way keeps what was queued and a rerun adds the rest.
    """
    result = QueueResult()
    queueing: asyncio.Task | None = None
    try:
        async for batch in _batches(plan):
            # A batch is written while the next is planned (the database works on the other
            # core); one at a time, in order, so a crash still keeps a prefix of the plan.
            if queueing is not None:
                await queueing
            queueing = asyncio.create_task(_queue_batch(sessions, batch, now, result))
        if queueing is not None:
            await queueing
    finally:
        if queueing is not None and not queueing.done():
            queueing.cancel()
            await asyncio.gather(queueing, return_exceptions=True)
    return result


async def _queue_batch(
    sessions: async_sessionmaker[AsyncSession],
    batch: list[Planned],
    now: datetime,
    result: QueueResult,
) -> None:
    async with transaction(sessions) as session:
        await enqueue_in(session, batch, now, result)


async def _batches(plan: Plan | AsyncIterable[list[Planned]]) -> AsyncIterator[list[Planned]]:
    if isinstance(plan, Plan):
        for start in range(0, len(plan.messages), INSERT_BATCH):
            yield plan.messages[start : start + INSERT_BATCH]
    else:
        async for batch in plan:
            yield batch


async def enqueue_in(
    session: AsyncSession, messages: list[Planned], now: datetime, result: QueueResult
) -> None:
    """Queues within the caller's transaction (a nudge is queued with the reply about it)."""
    ids = list({m.person_id for m in messages})
    channels = {
        pid: (preferred, last)
        for pid, preferred, last in (
            await session.execute(
                select(Person.id, Person.preferred_channel, Person.last_channel).where(
                    among(session, Person.id, ids)
                )
            )
        ).all()
    }
    accounts = await reachable_accounts(session, ids)
    rows = []
    for message in messages:
        account = choose_account(*channels[message.person_id], accounts.get(message.person_id, []))
        if account is None:
            result.unreachable += 1
            continue
        for i, payload in enumerate(one_call_payloads(message.payload, account.channel)):
            rows.append(
                {
                    "key": f"{message.key}#{i}" if i else message.key,
                    "kind": message.kind,
                    "person_id": message.person_id,
                    "channel": account.channel,
                    "chat_id": account.chat_id,
                    "payload": payload,
                    "status": OutboxStatus.QUEUED,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
    inserted = await queue_messages(session, rows)
    result.queued += inserted
    result.already += len(rows) - inserted


def one_call_payloads(payload: dict, channel: str) -> list[dict]:
    """The message as parts the channel sends in one call each (a long digest), queued as
    rows of their own in order: a part that fails is retried alone, never the whole."""
    capabilities = PLATFORMS.get(channel)
    if capabilities is None:
        return [payload]
    # Most messages are short and plain: one part, known without rendering them.
    room = (
        capabilities.max_text - 200 - sum(len(label) + 8 for label, _ in payload.get("choices", []))
    )
    files = payload.get("photo") is not None or payload.get("document") is not None
    if len(payload["text"]) <= room and not (files and capabilities.buttons):
        return [payload]
    return [to_payload(part) for part in one_call_parts(from_payload(payload), capabilities)]


async def status_counts(session: AsyncSession) -> dict[str, dict[str, int]]:
    rows = await session.execute(
        select(OutboxMessage.channel, OutboxMessage.status, func.count()).group_by(
            OutboxMessage.channel, OutboxMessage.status
        )
    )
    out: dict[str, dict[str, int]] = {}
    for channel, status, count in rows.all():
        out.setdefault(channel, {s: 0 for s in OutboxStatus.ALL})[status] = count
    return out


class Dispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: Mapping[str, Channel],
        clock: Clock,
        *,
        paces: Mapping[str, ChannelPace] | None = None,
        batch: int = 200,
        concurrency: int = 20,
        max_attempts: int = MAX_ATTEMPTS,
        stale_after: timedelta = timedelta(minutes=5),
        quiet: tuple[time, time] = (time(21, 0), time(7, 0)),
        worker: str | None = None,
        lease: timedelta = timedelta(seconds=15),
    ) -> None:
        """`lease`: the worker timeout (a worker silent this long is taken for dead)."""
        self.sessions = sessions
        self.channels = channels
        self.clock = clock
        self.paces = {name: (paces or {}).get(name, ChannelPace()) for name in channels}
        self.limiters = {
            name: RateLimiter(p.per_second, p.per_chat_seconds) for name, p in self.paces.items()
        }
        self.batch = batch
        self.width = concurrency
        self.max_attempts = max_attempts
        self.stale_after = stale_after
        self.quiet = quiet
        self.worker = worker
        self.lease_seconds = lease.total_seconds()
        self.stopping = False
        self._pacing: set[asyncio.Task] = set()  # sends waiting for their turn

    def quiet_now(self) -> bool:
        moment = self.clock.now().astimezone(VN).time()
        start, end = self.quiet
        return (start <= moment or moment < end) if start > end else start <= moment < end

    async def recover_stale(self) -> int:
        """Rows left "sending" by a dispatcher that died go back to the queue (rows claimed by
        a known worker go back when it is seen dead: storage.db.delivery.release_dead)."""
        cutoff = self.clock.now() - self.stale_after
        async with transaction(self.sessions) as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.status == OutboxStatus.SENDING,
                    OutboxMessage.claimed_at < cutoff,
                    OutboxMessage.claimed_by.is_(None),
                )
                .values(status=OutboxStatus.QUEUED)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    async def run_once(self) -> int:
        """Claims and sends one batch per channel; returns how many messages it handled.

        On a stop (`stop`) no new send starts: those in flight finish and are recorded, and
        the rows claimed but not tried go back to the queue at once."""
        quiet = self.quiet_now()
        handled = 0
        engine = self.sessions.kw.get("bind")
        if isinstance(engine, AsyncEngine) and not await anything_due(engine, self.clock.now()):
            return 0  # idle: one statement written once, no claim built, no transaction
        for name, channel in self.channels.items():
            if self.stopping:
                break
            # The whole batch is in flight from its claim: its last chunk may start minutes
            # later (pacing, a 429 pause), and must not be taken for abandoned meanwhile.
            rows = await self._claim(name, replies=True)
            IN_FLIGHT.update(row.id for row in rows)
            try:
                if not quiet and not self.stopping:
                    more = await self._claim(name, replies=False)
                    IN_FLIGHT.update(row.id for row in more)
                    rows += more
                handled += len(rows)
                for start in range(0, len(rows), self.width):
                    if self.stopping:
                        await self._release([row.id for row in rows[start:]])
                        break
                    await self._send_chunk(channel, rows[start : start + self.width])
            finally:
                IN_FLIGHT.difference_update(row.id for row in rows)
        return handled

    def stop(self) -> None:
        """No send starts after this (those waiting for their turn stop waiting); `run_forever`
        returns once the sends in flight are recorded."""
        self.stopping = True
        for task in list(self._pacing):
            task.cancel()

    async def _send_chunk(self, channel: Channel, chunk: list[OutboxMessage]) -> None:
        """Sends a chunk as wide as the concurrency, recording what the channel took every
        RECORD_EVERY seconds: a crash can repeat only what was sent in that last instant."""
        lease = Lease(self, [row.id for row in chunk])
        if not await lease.renew():
            return  # taken back (this worker was taken for dead): another sends them
        tasks = [
            asyncio.ensure_future(self._deliver_row(channel, row, lease))
            for row in chunk
            if row.id in lease.held
        ]
        pending: set[asyncio.Future] = set(tasks)
        try:
            while pending:
                finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                if pending:
                    # Others finishing in the same instant share one record; but a send that
                    # hangs (up to the send timeout) never holds back the record of the rest,
                    # so a crash can repeat only what was sent in the last RECORD_EVERY.
                    more, pending = await asyncio.wait(pending, timeout=RECORD_EVERY)
                    finished |= more
                done = [task.result() for task in finished]
                await self._record(done, self.limiters[channel.name])
        finally:
            for task in tasks:
                task.cancel()

    async def _deliver_row(
        self, channel: Channel, row: OutboxMessage, lease: Lease
    ) -> tuple[OutboxMessage, ChannelError | None | NotSent]:
        task = asyncio.current_task()
        assert task is not None
        self._pacing.add(task)
        try:
            await self.limiters[channel.name].acquire(row.chat_id)
        except asyncio.CancelledError:
            if not self.stopping:
                raise
            return row, NotSent.STOPPING  # cancelled by `stop` while waiting its turn
        finally:
            self._pacing.discard(task)
        if self.stopping:
            return row, NotSent.STOPPING
        if not await lease.holds(row.id):
            return row, NotSent.TAKEN_BACK
        return row, await send_once(channel, row.chat_id, from_payload(row.payload))

    async def run_forever(self, idle_seconds: float = 1.0) -> None:
        """Until `stopping` is set; a batch being sent is finished first."""
        await self.recover_stale()
        while not self.stopping:
            try:
                if not await self.run_once():
                    await self._idle(idle_seconds)
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not stop reminders for good
                logger.exception("outbox dispatch failed; retrying")
                await self._idle(idle_seconds * 5)

    async def _idle(self, seconds: float) -> None:
        step = 0.1  # short steps, so a stop is noticed at once
        for _ in range(max(1, round(seconds / step))):
            if self.stopping:
                return
            await asyncio.sleep(step)

    async def _claim(self, channel: str, *, replies: bool) -> list[OutboxMessage]:
        """Takes a batch in one UPDATE ... RETURNING (on PostgreSQL of rows locked with SKIP
        LOCKED, so another dispatcher takes the next ones); oldest first."""
        now = self.clock.now()
        async with transaction(self.sessions) as session:
            query = select(OutboxMessage.id).where(
                OutboxMessage.status == OutboxStatus.QUEUED,
                OutboxMessage.channel == channel,
                OutboxMessage.next_attempt_at <= now,
            )
            if replies:
                # Replies go out in order: none while an earlier one to the chat is owed.
                # Neither quiet hours nor the monthly cap hold back an answer she asked for.
                earlier = aliased(OutboxMessage)
                query = query.where(
                    OutboxMessage.kind == REPLY,
                    ~exists().where(
                        earlier.channel == OutboxMessage.channel,
                        earlier.chat_id == OutboxMessage.chat_id,
                        earlier.kind == REPLY,
                        earlier.id < OutboxMessage.id,
                        earlier.status.in_([OutboxStatus.QUEUED, OutboxStatus.SENDING]),
                    ),
                ).limit(self.batch)
            else:
                allowance = await self._apply_cap(session, channel, now)
                if allowance == 0:
                    return []
                query = query.where(OutboxMessage.kind != REPLY).limit(min(self.batch, allowance))
            query = query.order_by(OutboxMessage.id)
            if is_postgres(session):
                query = query.with_for_update(skip_locked=True)
            # The queue's usual form: the rows chosen (and locked) in a CTE, then updated.
            chosen = query.cte("chosen")
            claimed = (
                update(OutboxMessage)
                .where(OutboxMessage.id == chosen.c.id)
                .values(
                    status=OutboxStatus.SENDING,
                    claimed_at=now,
                    claimed_by=self.worker,
                    attempts=OutboxMessage.attempts + 1,
                )
                .returning(OutboxMessage)
                .execution_options(synchronize_session=False)
            )
            rows = list((await session.scalars(claimed)).all())
            return sorted(rows, key=lambda row: row.id)

    async def _apply_cap(self, session: AsyncSession, channel: str, now: datetime) -> int:
        """How many more messages the channel's monthly cap allows (a large number if none).

        With the cap reached, queued messages are marked capped (the officer's digest says so)
        and nothing more is sent on this channel this month."""
        cap = self.paces[channel].monthly_cap
        if cap is None:
            return self.batch
        local = now.astimezone(VN)
        month_start = datetime(local.year, local.month, 1, tzinfo=VN)
        sent = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.channel == channel,
                OutboxMessage.status.in_([OutboxStatus.SENT, OutboxStatus.SENDING]),
                OutboxMessage.sent_at >= month_start,
            )
        )
        in_flight = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.channel == channel, OutboxMessage.status == OutboxStatus.SENDING)
        )
        allowance = cap - int(sent or 0) - int(in_flight or 0)
        if allowance > 0:
            return allowance
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.channel == channel,
                OutboxMessage.status == OutboxStatus.QUEUED,
                OutboxMessage.kind != REPLY,
            )
            .values(status=OutboxStatus.CAPPED, error="monthly cap reached")
        )
        return 0

    async def _record(
        self,
        outcomes: list[tuple[OutboxMessage, ChannelError | None | NotSent]],
        limiter: RateLimiter,
    ) -> None:
        """What was sent, what failed, and what was not tried because of a stop (back to the
        queue); a row taken back from this worker is left to the one that has it now."""
        now = self.clock.now()
        sent = [row.id for row, error in outcomes if error is None]
        unsent = [row.id for row, error in outcomes if error is NotSent.STOPPING]
        async with transaction(self.sessions) as session:
            await mark_sent(session, sent, now, fence=self.worker)
            if self.worker is not None:
                await release_claims(session, unsent, self.worker)
            for row, error in outcomes:
                if isinstance(error, ChannelError):
                    if isinstance(error, QuotaExceeded):
                        limiter.pause(error.seconds)  # the channel's, not this chat's
                    elif isinstance(error, RetryLater):
                        limiter.back_off(row.chat_id, error.seconds)
                    limit = REPLY_ATTEMPTS if row.kind == REPLY else self.max_attempts
                    await record_failure(session, row, error, now, limit, fence=self.worker)

    async def _release(self, ids: list[int]) -> None:
        if ids and self.worker is not None:
            async with transaction(self.sessions) as session:
                released = await release_claims(session, ids, self.worker)
            logger.info("stopping: %d claimed messages go back to the queue", released)


class NotSent(enum.Enum):
    STOPPING = "stopping"  # not tried: the dispatcher stopped (back to the queue)
    TAKEN_BACK = "taken back"  # no longer this worker's (it was taken for dead)


class Lease:
    """A chunk's rows, still held by this worker: checked (and the worker's heartbeat renewed)
    before the chunk goes out, and again before any send that starts more than half a worker
    timeout later, so no row is sent by a worker that others have taken for dead."""

    def __init__(self, dispatcher: Dispatcher, ids: list[int]) -> None:
        self.dispatcher = dispatcher
        self.ids = ids
        self.held: set[int] = set(ids)
        self.checked = float("-inf")
        self._lock = asyncio.Lock()

    async def renew(self) -> bool:
        worker = self.dispatcher.worker
        if worker is None:  # a dispatcher of no worker (a one-off command): nobody takes over
            return True
        checked = monotonic()
        async with transaction(self.dispatcher.sessions) as session:
            self.held &= await touch_claims(session, self.ids, worker, datetime.now(UTC))
        self.checked = checked
        if len(self.held) < len(self.ids):
            logger.warning(
                "%d claimed messages were taken back (this worker was taken for dead): "
                "another worker sends them",
                len(self.ids) - len(self.held),
            )
        return bool(self.held)

    async def holds(self, row_id: int) -> bool:
        if monotonic() - self.checked > self.dispatcher.lease_seconds / 2:
            async with self._lock:
                if monotonic() - self.checked > self.dispatcher.lease_seconds / 2:
                    await self.renew()
        return row_id in self.held


async def send_once(channel: Channel, chat_id: str, message: Outbound) -> ChannelError | None:
    """One try; the failure, if any, as the channel-neutral error that says what to do."""
    try:
        await channel.send(chat_id, message)
    except ChannelError as exc:
        return exc
    except Exception as exc:  # an unexpected failure is retried like a timeout
        return TemporaryFailure(repr(exc))
    return None


async def record_failure(
    session: AsyncSession,
    row: OutboxMessage,
    error: ChannelError,
    now: datetime,
    max_attempts: int,
    *,
    fence: str | None = None,
) -> None:
    """`fence`: only if this worker still holds the row."""
    values: dict[str, object]
    if isinstance(error, RetryLater):
        # A 429 is the channel's pace, not the message's fault: it does not use up a try.
        values = {
            "status": OutboxStatus.QUEUED,
            "attempts": row.attempts - 1,
            "next_attempt_at": now + timedelta(seconds=error.seconds),
            "error": str(error),
        }
        if isinstance(error, QuotaExceeded) and row.kind == REPLY:
            values.update(await _quota_note(session, row))
    elif isinstance(error, Unreachable):
        values = {"status": OutboxStatus.BLOCKED, "error": str(error)}
    elif isinstance(error, PermanentFailure) or row.attempts >= max_attempts:
        values = {"status": OutboxStatus.FAILED, "error": str(error)}
    else:
        backoff = min(2**row.attempts, 300)
        values = {
            "status": OutboxStatus.QUEUED,
            "error": str(error),
            "next_attempt_at": now + timedelta(seconds=backoff),
        }
    values["claimed_by"] = None
    query = update(OutboxMessage).where(OutboxMessage.id == row.id)
    if fence is not None:
        query = query.where(held_by(fence))
    await session.execute(query.values(**values))
    if isinstance(error, Unreachable):
        # Reachable again as soon as she writes (handlers.engine).
        await session.execute(
            update(ChannelIdentity)
            .where(ChannelIdentity.channel == row.channel, ChannelIdentity.chat_id == row.chat_id)
            .values(unreachable=True)
        )


async def _quota_note(session: AsyncSession, row: OutboxMessage) -> dict[str, object]:
    """A reply held back by the channel's quota: the first of the chat's carries a note of
    why it is late (she is told once, with no message more against the quota)."""
    if row.error and row.error.endswith(QUOTA_TOLD):
        return {"error": row.error}  # carries it already (tried again, still over)
    if await told_of_quota(session, row.channel, row.chat_id):
        return {}
    name = vi.CHANNEL_NAMES.get(row.channel, row.channel)
    note = vi.QUOTA_DELAYED_NOTE.format(channel=name)
    payload = {**row.payload, "text": f"{note}\n\n{row.payload.get('text', '')}".strip()}
    limit = PLATFORMS[row.channel].max_text if row.channel in PLATFORMS else None
    if limit is not None and len(payload["text"]) > limit:
        return {}  # no room (a part cut to the limit): the next held reply says it
    return {"payload": payload, "error": f"{QUOTA_ERROR}; {QUOTA_TOLD}"}
