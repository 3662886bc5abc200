"""The durable side of delivery: running workers, updates stored before they are confirmed,
and replies owed until the channel takes them.

A worker writes its row at start and refreshes it every few seconds; a worker silent for
longer than the timeout is dead, and what it had claimed (updates it was handling, messages it
was sending) goes back to the others.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
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
from sqlalchemy.ext.asyncio import AsyncSession
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
    """Rows sent at different moments (each id with its own), recorded together."""
    moments: dict[datetime, list[int]] = {}
    for row_id, at in sent.items():
        moments.setdefault(at, []).append(row_id)
    for at, ids in moments.items():
        await mark_sent(session, ids, at)


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
