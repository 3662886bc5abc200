"""The durable side of delivery: running workers, updates stored before they are confirmed,
and replies owed until the channel takes them.

A worker writes its row at start and refreshes it every few seconds; a worker silent for
longer than the timeout is dead, and what it had claimed (updates it was handling, messages it
was sending) goes back to the others.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql.dml import ReturningInsert
from sqlalchemy.sql.elements import BindParameter

from storage.db.models import OutboxMessage, OutboxStatus, PendingUpdate, Worker
from storage.db.sessions import is_postgres

REPLY = "reply"
QUOTA_ERROR = "quota exceeded"  # how a row held back by a channel's quota says so (its error)
QUEUED_COLUMNS = (
    "key",
    "kind",
    "person_id",
    "channel",
    "chat_id",
    "payload",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
)


async def register_worker(session: AsyncSession, worker: str, now: datetime) -> None:
    session.add(Worker(id=worker, started_at=now, seen_at=now))


async def heartbeat(session: AsyncSession, worker: str, now: datetime) -> None:
    result = await session.execute(update(Worker).where(Worker.id == worker).values(seen_at=now))
    if not getattr(result, "rowcount", 1):  # taken for dead during a long pause: come back
        await register_worker(session, worker, now)


async def retire_worker(session: AsyncSession, worker: str) -> None:
    """A clean stop: what this worker still holds goes back to the others at once."""
    await session.execute(
        update(PendingUpdate).where(PendingUpdate.claimed_by == worker).values(claimed_by=None)
    )
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_by == worker)
        .values(status=OutboxStatus.QUEUED, claimed_by=None)
    )
    await session.execute(delete(Worker).where(Worker.id == worker))


async def release_dead(session: AsyncSession, now: datetime, timeout: timedelta) -> int:
    """Forgets silent workers and hands back their messages; returns how many went back.
    A live worker taken for dead (its heartbeat late on a busy machine) sends none of them
    after this: it checks that it is still registered just before it sends (`touch_claims`)."""
    await session.execute(delete(Worker).where(Worker.seen_at < now - timeout))
    alive = select(Worker.id)
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_by.is_not(None),
            OutboxMessage.claimed_by.not_in(alive),
        )
        .values(status=OutboxStatus.QUEUED, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def requeue_abandoned(
    session: AsyncSession, worker: str, in_flight: set[int], before: datetime
) -> int:
    """Messages this worker holds "sending" but is not sending (their record failed): back
    to the queue, once older than `before` (a send just begun may not be listed yet)."""
    query = update(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.SENDING,
        OutboxMessage.claimed_by == worker,
        OutboxMessage.claimed_at < before,
    )
    if in_flight:
        query = query.where(OutboxMessage.id.not_in(in_flight))
    result = await session.execute(
        query.values(status=OutboxStatus.QUEUED, claimed_by=None).execution_options(
            synchronize_session=False
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def store_pending(
    session: AsyncSession,
    channel: str,
    items: Sequence[tuple[str, dict[str, Any]]],
    worker: str,
    now: datetime,
) -> set[str]:
    """Stores updates (key, payload); returns the keys that were new (a repeat is ignored)."""
    if not items:
        return set()
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    rows = [
        {
            "channel": channel,
            "key": key,
            "payload": payload,
            "received_at": now,
            "claimed_by": worker,
        }
        for key, payload in items
    ]
    statement = (
        insert(PendingUpdate)
        .on_conflict_do_nothing(index_elements=["channel", "key"])
        .returning(PendingUpdate.key)
    )
    return set((await session.scalars(statement, rows)).all())


class _Binds:
    """Values bound as the ORM binds them (JSON text, UTC datetimes) for one dialect, and the
    intake's store's SQL: made once per dialect (the hot paths around a turn: the store runs
    on the driver, `store_updates`; the "sent" marks, `mark_sent_each`)."""

    def __init__(self, dialect: Dialect) -> None:
        columns = cast(Table, PendingUpdate.__table__).c
        self.postgres = dialect.name == "postgresql"
        self.payload = columns.payload.type._cached_bind_processor(dialect)
        self.received_at = columns.received_at.type._cached_bind_processor(dialect)
        # Any moment (AwareDateTime), as the outbox's columns bind it.
        self.moment = OutboxMessage.__table__.c.sent_at.type._cached_bind_processor(dialect)

    def sql(self, count: int) -> str:
        head = "INSERT INTO pending_updates (channel, key, payload, received_at, claimed_by) "
        tail = " ON CONFLICT (channel, key) DO NOTHING RETURNING channel, key"
        if self.postgres:  # one statement for any number: prepared once by asyncpg
            return (
                f"{head}SELECT r.channel, r.key, r.payload::json, $4, $5 "
                f"FROM unnest($1::text[], $2::text[], $3::text[]) AS r(channel, key, payload)"
                f"{tail}"
            )
        return head + "VALUES " + ", ".join(["(?, ?, ?, ?, ?)"] * count) + tail


@functools.cache
def _binds(dialect: Dialect) -> _Binds:
    return _Binds(dialect)


@asynccontextmanager
async def _driver(engine: AsyncEngine) -> AsyncIterator[Any]:
    """A pooled connection's driver connection (asyncpg, or aiosqlite's), outside any
    transaction. Closed without `async with engine.connect()`'s shielded close, which costs a
    task of its own each time; a statement cut off (cancelled, the network) leaves the
    connection in doubt, so it is dropped rather than pooled."""
    connection = await engine.connect()
    try:
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        try:
            yield raw
        except BaseException:
            await connection.invalidate()
            raise
    finally:
        await connection.close()


async def store_updates(
    engine: AsyncEngine,
    items: Sequence[tuple[str, str, dict[str, Any]]],
    worker: str,
    now: datetime,
) -> set[tuple[str, str]]:
    """Stores updates (channel, key, payload) in one autocommitted statement on the pooled
    connection's driver; returns the (channel, key) of those that were new (a repeat is
    ignored). The same rows as `store_pending` (tests/test_delivery.py compares them), without
    building or compiling a statement per update."""
    if not items:
        return set()
    sql = _binds(engine.dialect)
    at = sql.received_at(now) if sql.received_at is not None else now
    dump = sql.payload or (lambda value: value)
    async with _driver(engine) as raw:
        if sql.postgres:  # outside a transaction: the statement commits itself
            rows = await raw.fetch(
                sql.sql(len(items)),
                [channel for channel, _, _ in items],
                [key for _, key, _ in items],
                [dump(payload) for _, _, payload in items],
                at,
                worker,
            )
        else:
            values: list[Any] = []
            for channel, key, payload in items:
                values += (channel, key, dump(payload), at, worker)
            rows = await raw.execute_fetchall(sql.sql(len(items)), values)
            await raw.commit()
    return {(channel, key) for channel, key in rows}


async def claim_orphans(
    session: AsyncSession, worker: str, channels: Sequence[str], limit: int = 100
) -> list[PendingUpdate]:
    """Updates stored by a worker that is gone (or handed back), now claimed by this one."""
    query = (
        select(PendingUpdate)
        .where(
            PendingUpdate.channel.in_(channels),
            or_(
                PendingUpdate.claimed_by.is_(None),
                ~exists().where(Worker.id == PendingUpdate.claimed_by),
            ),
        )
        .order_by(PendingUpdate.id)
        .limit(limit)
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    rows = list((await session.scalars(query)).all())
    for row in rows:
        row.claimed_by = worker
    return rows


async def drop_pending(session: AsyncSession, channel: str, key: str) -> None:
    await session.execute(
        delete(PendingUpdate).where(PendingUpdate.channel == channel, PendingUpdate.key == key)
    )


async def owe_replies(
    session: AsyncSession,
    *,
    channel: str,
    chat_id: str,
    person_id: int | None,
    key: str,
    payloads: Sequence[dict[str, Any]],
    now: datetime,
    worker: str,
    sent: Sequence[int] = (),
) -> tuple[list[int], bool]:
    """Records replies as owed, in the transaction of the turn that made them.

    Returns their ids and whether this worker sends them now: not while an earlier reply to
    the chat is still owed (they then queue behind it, and the dispatcher keeps the order).
    `sent`: rows the channel took that are not recorded yet (schedules.replies.SentMarks).
    """
    if not payloads:
        return [], False
    params: dict[str, Any] = {
        "channel": channel,
        "chat_id": chat_id,
        "person_id": person_id,
        "now": now,
        "worker": worker,
        "sent": list(sent) or [0],
    }
    for i, payload in enumerate(payloads):
        params[f"key{i}"] = f"{key}:{i}"
        params[f"payload{i}"] = payload
    inserted = await session.execute(_owe_statement(len(payloads)), params)
    found = {k: (row_id, status) for k, row_id, status in inserted.all()}
    ids = [found[f"{key}:{i}"][0] for i in range(len(payloads))]
    return ids, found[f"{key}:0"][1] == OutboxStatus.SENDING


@functools.cache
def _owe_statement(count: int) -> ReturningInsert[str, int, str]:
    """INSERT … SELECT of `count` replies that reads, in the same statement, whether an
    earlier reply to the chat is still owed (built once: a turn's hot path)."""
    t = OutboxMessage.__table__.c

    def param(name: str, column: ColumnElement[Any]) -> BindParameter[Any]:
        return bindparam(name, type_=column.type)

    behind = (
        select(literal(1))
        .where(
            OutboxMessage.channel == param("channel", t.channel),
            OutboxMessage.chat_id == param("chat_id", t.chat_id),
            OutboxMessage.status.in_([OutboxStatus.QUEUED, OutboxStatus.SENDING]),
            OutboxMessage.kind == REPLY,
            OutboxMessage.id.not_in(bindparam("sent", expanding=True)),
        )
        .exists()
        .label("behind")
    )
    flag = select(behind).subquery("owed").c.behind  # read once a row
    rows = [
        select(
            param(f"key{i}", t.key),
            literal(REPLY, t.kind.type),
            param("person_id", t.person_id),
            param("channel", t.channel),
            param("chat_id", t.chat_id),
            param(f"payload{i}", t.payload),
            case((flag, OutboxStatus.QUEUED), else_=OutboxStatus.SENDING),
            case((flag, 0), else_=1),
            param("now", t.next_attempt_at),
            param("now", t.created_at),
            case((flag, null()), else_=param("now", t.claimed_at)),
            case((flag, null()), else_=param("worker", t.claimed_by)),
        )
        for i in range(count)
    ]
    columns = [*QUEUED_COLUMNS, "claimed_at", "claimed_by"]
    return (
        insert(cast(Table, OutboxMessage.__table__))  # Core: the ORM reads parameters as rows
        .from_select(columns, rows[0] if count == 1 else union_all(*rows))
        .returning(t.key, t.id, t.status)
    )


async def mark_sent(
    session: AsyncSession, ids: Sequence[int], now: datetime, *, fence: str | None = None
) -> None:
    """`fence`: only rows this worker still holds (a row handed back meanwhile is another's)."""
    if ids:
        query = update(OutboxMessage).where(OutboxMessage.id.in_(ids))
        if fence is not None:
            query = query.where(held_by(fence))
        await session.execute(
            query.values(status=OutboxStatus.SENT, sent_at=now, error=None, claimed_by=None)
        )


async def mark_sent_each(session: AsyncSession, sent: Mapping[int, datetime]) -> None:
    """Rows sent at different moments (each id with its own), recorded together: one
    statement written once (on PostgreSQL the ids and moments as two arrays; SQLite runs it
    once a row, in-process), not one UPDATE built for each moment."""
    if not sent:
        return
    connection = await session.connection()
    dialect = connection.dialect
    sql = _binds(dialect)
    at = sql.moment
    moments = [at(moment) if at is not None else moment for moment in sent.values()]
    if sql.postgres:
        await session.execute(_MARK_SENT_POSTGRES, {"ids": list(sent), "at": moments})
    else:
        rows = [{"id": row_id, "at": moment} for row_id, moment in zip(sent, moments, strict=True)]
        await session.execute(_MARK_SENT_SQLITE, rows)


async def record_sent(engine: AsyncEngine, sent: Mapping[int, datetime]) -> None:
    """`mark_sent_each` as one autocommitted statement on the pooled connection's driver
    (the "sent" marks no turn took along: schedules.replies.SentMarks.flush)."""
    if not sent:
        return
    at = _binds(engine.dialect).moment
    moments = [at(moment) if at is not None else moment for moment in sent.values()]
    async with _driver(engine) as raw:
        if engine.dialect.name == "postgresql":
            await raw.execute(_RECORD_SENT_POSTGRES, list(sent), moments)
        else:
            await raw.executemany(_RECORD_SENT_SQLITE, list(zip(moments, sent, strict=True)))
            await raw.commit()


async def anything_due(engine: AsyncEngine, now: datetime) -> bool:
    """Whether any message waits in the queue, due by now: one statement on the driver,
    written once (the outbox dispatcher asks before it claims, so its idle polling builds
    no statement and opens no transaction)."""
    at = _binds(engine.dialect).moment
    moment = at(now) if at is not None else now
    async with _driver(engine) as raw:
        if engine.dialect.name == "postgresql":
            return bool(await raw.fetchval(_DUE.replace("?", "$1"), moment))
        return bool(await raw.execute_fetchall(_DUE, (moment,)))


_DUE = (
    f"SELECT 1 FROM outbox WHERE status = '{OutboxStatus.QUEUED}' AND next_attempt_at <= ? LIMIT 1"
)
_SENT = f"status = '{OutboxStatus.SENT}', error = NULL, claimed_by = NULL"
_RECORD_SENT_POSTGRES = (
    f"UPDATE outbox AS o SET {_SENT}, sent_at = s.at "
    "FROM unnest($1::integer[], $2::timestamptz[]) AS s(id, at) WHERE o.id = s.id"
)
_RECORD_SENT_SQLITE = f"UPDATE outbox SET {_SENT}, sent_at = ? WHERE id = ?"
_MARK_SENT_POSTGRES = text(
    f"UPDATE outbox AS o SET {_SENT}, sent_at = s.at "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:at AS timestamptz[])) AS s(id, at) "
    "WHERE o.id = s.id"
)
_MARK_SENT_SQLITE = text(f"UPDATE outbox SET {_SENT}, sent_at = :at WHERE id = :id")


def held_by(worker: str) -> ColumnElement[bool]:
    """A row this worker claimed and has not been taken back from it."""
    return (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.claimed_by == worker)


async def touch_claims(
    session: AsyncSession, ids: Sequence[int], worker: str, now: datetime
) -> set[int]:
    """Just before sending them: which of these rows the worker still holds. None if it has
    been taken for dead (its rows went back to the others then, in the same transaction as
    its row was deleted); else its heartbeat is renewed with the check, so nobody takes these
    rows back for a whole timeout while they go out. `now`: real time, as heartbeats are.

    The rows are written (not only read): on PostgreSQL a release of them still being
    committed by another worker is waited for, and then they are no longer this worker's."""
    if not ids:
        return set()
    seen = await session.execute(update(Worker).where(Worker.id == worker).values(seen_at=now))
    if not getattr(seen, "rowcount", 1):
        return set()
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), held_by(worker))
        .values(claimed_by=worker)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return set(result.scalars().all())


async def release_claims(session: AsyncSession, ids: Sequence[int], worker: str) -> int:
    """Claimed but never tried (the worker is stopping): back to the queue as they were, the
    try the claim counted given back. Returns how many went back."""
    if not ids:
        return 0
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), held_by(worker))
        .values(status=OutboxStatus.QUEUED, claimed_by=None, attempts=OutboxMessage.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def requeue(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    """Replies not tried because an earlier one failed: the dispatcher sends them after it."""
    if ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(status=OutboxStatus.QUEUED, claimed_by=None, attempts=0, next_attempt_at=now)
        )


COPY_FROM = 500  # rows: fewer go in one INSERT (a nudge with its reply), more by COPY


async def queue_messages(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Adds outbox rows (QUEUED_COLUMNS), skipping keys already queued; returns how many
    were new. On PostgreSQL a large batch goes by COPY into a temporary table, then one
    INSERT ... ON CONFLICT DO NOTHING: a tenth of the time of a many-row INSERT."""
    if not rows:
        return 0
    if is_postgres(session) and len(rows) >= COPY_FROM:
        return await _copy_queued(session, rows)
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    statement = (
        insert(OutboxMessage)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(OutboxMessage.id)
    )
    return len((await session.execute(statement, list(rows))).all())


async def _copy_queued(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    columns = ", ".join(QUEUED_COLUMNS)
    await session.execute(
        text(
            f"CREATE TEMPORARY TABLE outbox_incoming ON COMMIT DROP AS "
            f"SELECT {columns}, 0 AS seq FROM outbox WITH NO DATA"
        )
    )
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    await raw.copy_records_to_table(
        "outbox_incoming",
        columns=(*QUEUED_COLUMNS, "seq"),
        records=[
            (
                *(
                    json.dumps(row[c], ensure_ascii=False) if c == "payload" else row[c]
                    for c in QUEUED_COLUMNS
                ),
                seq,
            )
            for seq, row in enumerate(rows)
        ],
    )
    # In the order given: the parts of a long message go out in their order (oldest first).
    inserted = await session.scalar(
        text(
            f"WITH added AS (INSERT INTO outbox ({columns}) SELECT {columns} FROM outbox_incoming "
            f"ORDER BY seq ON CONFLICT (key) DO NOTHING RETURNING 1) SELECT count(*) FROM added"
        )
    )
    await session.execute(text("DROP TABLE outbox_incoming"))
    return int(inserted or 0)


QUOTA_TOLD = "told"  # the error's ending on the held reply that carries the note (once a chat)


async def quota_exhausted(session: AsyncSession, now: datetime) -> dict[str, datetime]:
    """Channels whose quota is exhausted now (rows held back by it, `schedules.messages.
    QuotaExceeded`), each with when the sends are tried again."""
    rows = await session.execute(
        select(OutboxMessage.channel, func.max(OutboxMessage.next_attempt_at))
        .where(
            OutboxMessage.status == OutboxStatus.QUEUED,
            OutboxMessage.error.like(f"{QUOTA_ERROR}%"),
            OutboxMessage.next_attempt_at > now,
        )
        .group_by(OutboxMessage.channel)
    )
    return {channel: until for channel, until in rows.all() if until is not None}


async def told_of_quota(session: AsyncSession, channel: str, chat_id: str) -> bool:
    """Whether a reply held back by the quota already carries the note for this chat."""
    found = await session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.status.in_([OutboxStatus.QUEUED, OutboxStatus.SENDING]),
            OutboxMessage.error.like(f"%{QUOTA_TOLD}"),
        )
        .limit(1)
    )
    return found is not None
