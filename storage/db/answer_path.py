"""The plain answer's statements, written once and run on the driver (#25).

The most frequent update (a typed answer to the question asked) is handled in one transaction
of few round trips: the update claimed and the sender's conversation read and locked (on
PostgreSQL one statement), then the conversation, the value, the replies owed and the "sent"
of earlier replies written (on PostgreSQL one statement), then the commit. The SQL is plain
text held here, run on the driver's own connection (asyncpg prepares and caches each
statement; sqlite3 caches them too), with the values converted by the same SQLAlchemy types
as the ORM's (so a row is stored exactly as the ORM stores it), but without building,
compiling or keying a statement for each turn.

`open_turn` returns None when the update is not for this path (no conversation yet); the
caller then rolls back and takes the usual path, which claims the update again.

A draft sent at its summary ("gửi") runs here too, in the same transaction: the submission,
its "submit" audit entry and its values marked sent (`Turn.mark_sent`, one statement on
PostgreSQL), then the kept totals through `Turn.db` (the very text statements a session runs:
storage/db/totals_sql.py), the changes above the unit written last, just before the commit.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Float, Table, TextualSelect
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable

from storage.db import aggregates
from storage.db.delivery import REPLY
from storage.db.models import (
    AuditEntry,
    ChannelIdentity,
    Conversation,
    OrgUnit,
    OutboxMessage,
    OutboxStatus,
    Person,
    ProcessedUpdate,
    Submission,
    SubmissionValue,
)

Processor = Callable[[Any], Any] | None
# A text statement compiled for a driver: its SQL, its values' names in order and their
# conversions, its columns' conversions.
Compiled = tuple[str, list[str], list[Processor], list[Processor]]
# Statements and transactions run on this path (bench.inbound --profile counts them: the
# session's are counted by SQLAlchemy's events, these never pass through it).
RUN = {"statements": 0, "transactions": 0}


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


PERSON, UNIT, SUBMISSION = _table(Person), _table(OrgUnit), _table(Submission)
CONVERSATION, VALUE, OUTBOX = _table(Conversation), _table(SubmissionValue), _table(OutboxMessage)
_TABLES = {
    t.name: t
    for t in (CONVERSATION, VALUE, OUTBOX, SUBMISSION, _table(ProcessedUpdate), _table(AuditEntry))
}
DRIVER = "answer_path.driver"  # a plain turn's cache key: its transaction (a submit's statements)
# The columns read, in order: the account's, then every column of her person, unit and
# submission (built into transient ORM objects the flow reads), her conversation, an answer.
ACCOUNT_COLUMNS = ("chat_id", "last_seen_at", "unreachable")
CONVERSATION_COLUMNS = ("flow", "step", "data", "updated_at")
VALUE_COLUMNS = ("indicator_code", "value_num", "value_text")


def _read_columns() -> list[tuple[str, Column[Any]]]:
    account = _table(ChannelIdentity)
    return (
        [("ci", account.c[name]) for name in ACCOUNT_COLUMNS]
        + [("p", column) for column in PERSON.columns]
        + [("u", column) for column in UNIT.columns]
        + [("c", CONVERSATION.c[name]) for name in CONVERSATION_COLUMNS]
        + [("s", column) for column in SUBMISSION.columns]
        + [("v", VALUE.c[name]) for name in VALUE_COLUMNS]
    )


READ_COLUMNS = _read_columns()


@dataclass
class Loaded:
    """What a plain answer's turn reads: transient ORM objects, not in any session."""

    chat_id: str
    last_seen_at: datetime | None
    unreachable: bool
    person: Person
    unit: OrgUnit
    conversation: Conversation
    submission: Submission | None
    answers: dict[str, float | str | None]


@dataclass
class Written:
    """What a plain answer's turn writes besides the claim."""

    person_id: int
    conversation: Conversation
    value: tuple[Submission, str, float | str | None] | None  # a draft's answer, if one
    sent: Mapping[int, datetime]  # earlier replies the channel took: recorded "sent" now
    unrecorded: Sequence[int]  # every reply the channel took not recorded yet (these too)
    channel: str
    chat_id: str
    reply_key: str
    payloads: Sequence[dict[str, Any]]  # replies owed (none when no worker records them)
    now: datetime
    worker: str | None


class Statements:
    """The SQL and the type conversions of one dialect, made once per engine."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.postgres = dialect.name == "postgresql"
        self.read_processors = [self._result(column) for _, column in READ_COLUMNS]
        self._binds: dict[tuple[str, str], Processor] = {}
        # The text statements (storage/db/totals_sql.py) run on this driver, compiled once.
        self._compiled: dict[int, tuple[Executable, Compiled]] = {}

    def compiled(self, statement: Executable) -> Compiled:
        found = self._compiled.get(id(statement))
        if found is None:
            compiled = statement.compile(dialect=self.dialect)  # type: ignore[attr-defined]
            names = list(compiled.positiontup or [])
            binds = compiled._bind_processors
            results: list[Processor] = []
            if isinstance(statement, TextualSelect):
                columns = statement.selected_columns
                results = [self._result(c) for c in columns]  # type: ignore[arg-type]
            done = (compiled.string, names, [binds.get(n) for n in names], results)
            found = self._compiled[id(statement)] = (statement, done)
        return found[1]

    def _result(self, column: Column[Any]) -> Processor:
        # asyncpg's float processor asks which type the driver gave: float8 (oid 701).
        coltype = 701 if self.postgres and isinstance(column.type, Float) else None
        return column.type._cached_result_processor(self.dialect, coltype)

    def value(self, table: str, column: str, value: Any) -> Any:
        """`value` as the ORM would bind it to `table.column` (JSON text, UTC datetimes)."""
        key = (table, column)
        if key not in self._binds:
            found = _TABLES[table].c[column]
            self._binds[key] = found.type._cached_bind_processor(self.dialect)
        process = self._binds[key]
        return value if process is None or value is None else process(value)

    @functools.cached_property
    def mark_sent(self) -> str:
        """A draft sent: the submission's row, its "submit" audit entry, its values marked
        sent and read back (on PostgreSQL one statement; on SQLite split at the ";")."""
        if self.postgres:
            return (
                "WITH s AS (UPDATE submissions SET status = $2, submitted_at = $3, "
                "submitted_by_id = $4, late = $5, reopened = false, updated_at = $3 "
                "WHERE id = $1), "
                "a AS (INSERT INTO audit_entries (submission_id, action, changed_by_id, "
                "changed_at) VALUES ($1, 'submit', $4, $3)) "
                "UPDATE submission_values SET submitted = true WHERE submission_id = $1 "
                "RETURNING indicator_code, value_num, value_text"
            )
        return (
            "UPDATE submissions SET status = ?, submitted_at = ?, submitted_by_id = ?, "
            "late = ?, reopened = 0, updated_at = ? WHERE id = ?;"
            "INSERT INTO audit_entries (submission_id, action, changed_by_id, changed_at) "
            "VALUES (?, 'submit', ?, ?);"
            "UPDATE submission_values SET submitted = 1 WHERE submission_id = ? "
            "RETURNING indicator_code, value_num, value_text"
        )

    @functools.cached_property
    def select(self) -> str:
        columns = ", ".join(f"{alias}.{column.name}" for alias, column in READ_COLUMNS)
        if self.postgres:
            sid = "CASE WHEN json_typeof(c.data -> 'sid') = 'number' "
            sid += "THEN (c.data ->> 'sid')::int END"
        else:
            sid = "CAST(json_extract(c.data, '$.sid') AS INTEGER)"
        return (
            f"SELECT {columns} FROM channel_identities ci "
            "JOIN people p ON p.id = ci.person_id "
            "JOIN org_units u ON u.id = p.unit_id "
            "JOIN conversations c ON c.person_id = p.id "
            f"LEFT JOIN submissions s ON s.id = {sid} "
            "LEFT JOIN submission_values v ON v.submission_id = s.id "
        )

    @functools.cached_property
    def open_postgres(self) -> tuple[str, str]:
        """Claim (and, from a worker's intake, drop the stored copy), read and lock: one
        statement each way."""
        claim = "claimed AS (INSERT INTO processed_updates (channel, key, at) VALUES ($1, $2, $3))"
        drop = "dropped AS (DELETE FROM pending_updates WHERE channel = $1 AND key = $2)"
        tail = "WHERE ci.channel = $1 AND ci.external_id = $4 ORDER BY v.id FOR UPDATE OF c"
        return (
            f"WITH {claim} {self.select}{tail}",
            f"WITH {claim}, {drop} {self.select}{tail}",
        )

    @functools.cached_property
    def write_postgres(self) -> str:
        """The conversation, the value (if any: $6 null otherwise), the "sent" of earlier
        replies and the replies owed, in one statement. Whether an earlier reply to the chat
        is still owed is read leaving out the replies the channel took that are not
        recorded yet ($21: those recorded here too, as the statement's parts all see the
        snapshot from before it)."""
        return (
            "WITH conv AS (UPDATE conversations SET flow = $1, step = $2, data = $3, "
            "updated_at = $4 WHERE person_id = $5), "
            "val AS (INSERT INTO submission_values (submission_id, indicator_code, unit_id, "
            "period_start, period_end, submitted, value_num, value_text) "
            "SELECT $6::int, $7::text, $8::int, $9::date, $10::date, false, $11::float8, $12::text "
            "WHERE $6::int IS NOT NULL "
            "ON CONFLICT (submission_id, indicator_code) DO UPDATE SET "
            "value_num = excluded.value_num, value_text = excluded.value_text), "
            "sent AS (UPDATE outbox o SET status = 'sent', sent_at = s.at, error = NULL, "
            "claimed_by = NULL FROM unnest($13::int[], $14::timestamptz[]) AS s(id, at) "
            "WHERE o.id = s.id), "
            "owed AS (SELECT EXISTS (SELECT 1 FROM outbox WHERE channel = $15 AND chat_id = $16 "
            f"AND status IN ('{OutboxStatus.QUEUED}', '{OutboxStatus.SENDING}') "
            f"AND kind = '{REPLY}' AND id <> ALL($21::int[])) AS behind) "
            "INSERT INTO outbox (key, kind, person_id, channel, chat_id, payload, status, "
            "attempts, next_attempt_at, created_at, claimed_at, claimed_by) "
            f"SELECT r.key, '{REPLY}', $5::int, $15::text, $16::text, r.payload::json, "
            f"CASE WHEN owed.behind THEN '{OutboxStatus.QUEUED}' "
            f"ELSE '{OutboxStatus.SENDING}' END, "
            "CASE WHEN owed.behind THEN 0 ELSE 1 END, $17::timestamptz, $17::timestamptz, "
            "CASE WHEN owed.behind THEN NULL ELSE $17::timestamptz END, "
            "CASE WHEN owed.behind THEN NULL ELSE $18::text END "
            "FROM unnest($19::text[], $20::text[]) WITH ORDINALITY AS r(key, payload, n), owed "
            "ORDER BY r.n RETURNING key, id, status"
        )


@functools.cache
def driver_errors() -> tuple[type[BaseException], ...]:
    """What the drivers raise for a database's refusal or a lost connection."""
    found: list[type[BaseException]] = [sqlite3.Error, OSError]
    with contextlib.suppress(ImportError):
        import asyncpg

        found += [asyncpg.PostgresError, asyncpg.InterfaceError]
    return tuple(found)


@functools.cache
def statements(dialect: Dialect) -> Statements:
    return Statements(dialect)


class Turn:
    """One plain answer's transaction on a driver connection (asyncpg or sqlite3 through
    aiosqlite), begun by `turn` and committed at its end."""

    def __init__(self, raw: Any, sql: Statements) -> None:
        self.raw = raw
        self.sql = sql
        # The kept totals' statements on this connection; the changes above the unit kept
        # aside and written last, just before the commit (as the general path's turn does).
        self.db = aggregates.Db(sql.postgres, self.run)
        self.kept: aggregates.Kept = {}

    async def run(self, statement: Executable, params: Mapping[str, object]) -> list[Any]:
        """A text statement with named values, on the driver."""
        text, names, binds, results = self.sql.compiled(statement)
        values = [params[n] for n in names]
        values = [v if p is None or v is None else p(v) for p, v in zip(binds, values, strict=True)]
        RUN["statements"] += 1
        if self.sql.postgres:
            rows = await self.raw.fetch(text, *values)
        else:
            rows = await self.raw.execute_fetchall(text, values)
        return [_converted(results, row) for row in rows] if results else list(rows)

    async def mark_sent(self, sub: Submission) -> dict[str, float | str | None]:
        """Writes `sub` as sent (its attributes set already) with its audit entry, marks
        its values sent; returns them."""
        sql = self.sql
        at = sql.value("submissions", "submitted_at", sub.submitted_at)
        late = sql.value("submissions", "late", sub.late)
        by = sub.submitted_by_id
        if sql.postgres:
            RUN["statements"] += 1
            rows = await self.raw.fetch(sql.mark_sent, sub.id, sub.status, at, by, late)
        else:
            first, second, third = sql.mark_sent.split(";")
            RUN["statements"] += 3
            await self.raw.execute(first, (sub.status, at, by, late, at, sub.id))
            await self.raw.execute(second, (sub.id, by, at))
            rows = await self.raw.execute_fetchall(third, (sub.id,))
        return {code: (num if text is None else text) for code, num, text in rows}

    async def open(
        self, channel: str, key: str, external_id: str, now: datetime, *, stored: bool
    ) -> Loaded | None:
        """Claims the update (a repeat raises the driver's unique violation) and reads the
        sender and her conversation, locked; None if she has none."""
        sql = self.sql
        at = sql.value("processed_updates", "at", now)
        if sql.postgres:
            RUN["statements"] += 1
            rows = await self.raw.fetch(sql.open_postgres[stored], channel, key, at, external_id)
        else:
            RUN["statements"] += 3 if stored else 2
            await self.raw.execute(
                "INSERT INTO processed_updates (channel, key, at) VALUES (?, ?, ?)",
                (channel, key, at),
            )
            if stored:
                await self.raw.execute(
                    "DELETE FROM pending_updates WHERE channel = ? AND key = ?", (channel, key)
                )
            rows = await self.raw.execute_fetchall(
                sql.select + "WHERE ci.channel = ? AND ci.external_id = ? ORDER BY v.id",
                (channel, external_id),
            )
        return _loaded(sql, rows) if rows else None

    async def write(self, w: Written) -> list[tuple[int, str]]:
        """Writes the turn; returns each owed reply's (outbox id, status), in order."""
        sql = self.sql
        conv = w.conversation
        conversation = (
            conv.flow,
            conv.step,
            sql.value("conversations", "data", conv.data),
            sql.value("conversations", "updated_at", conv.updated_at),
            w.person_id,
        )
        value: tuple[Any, ...] = (None,) * 7
        if w.value is not None:
            sub, code, answer = w.value
            value = (
                sub.id,
                code,
                sub.unit_id,
                sql.value("submission_values", "period_start", sub.period_start),
                sql.value("submission_values", "period_end", sub.period_end),
                answer if isinstance(answer, float) else None,
                answer if isinstance(answer, str) else None,
            )
        keys = [f"{w.reply_key}:{i}" for i in range(len(w.payloads))]
        payloads = [sql.value("outbox", "payload", p) for p in w.payloads]
        now = sql.value("outbox", "created_at", w.now)
        if sql.postgres:
            RUN["statements"] += 1
            rows = await self.raw.fetch(
                sql.write_postgres,
                *conversation,
                *value,
                list(w.sent),
                list(w.sent.values()),
                w.channel,
                w.chat_id,
                now,
                w.worker,
                keys,
                payloads,
                list(w.unrecorded),
            )
            return [(row[1], row[2]) for row in rows]
        return await self._write_sqlite(w, conversation, value, keys, payloads, now)

    async def _write_sqlite(
        self,
        w: Written,
        conversation: tuple[Any, ...],
        value: tuple[Any, ...],
        keys: list[str],
        payloads: list[Any],
        now: Any,
    ) -> list[tuple[int, str]]:
        raw, sql = self.raw, self.sql
        RUN["statements"] += 1 + (w.value is not None) + bool(w.sent) + 2 * bool(keys)
        await raw.execute(
            "UPDATE conversations SET flow = ?, step = ?, data = ?, updated_at = ? "
            "WHERE person_id = ?",
            conversation,
        )
        if w.value is not None:
            await raw.execute(
                "INSERT INTO submission_values (submission_id, indicator_code, unit_id, "
                "period_start, period_end, submitted, value_num, value_text) "
                "VALUES (?, ?, ?, ?, ?, 0, ?, ?) "
                "ON CONFLICT (submission_id, indicator_code) DO UPDATE SET "
                "value_num = excluded.value_num, value_text = excluded.value_text",
                value,
            )
        if w.sent:
            await raw.executemany(
                f"UPDATE outbox SET status = '{OutboxStatus.SENT}', sent_at = ?, error = NULL, "
                "claimed_by = NULL WHERE id = ?",
                [(sql.value("outbox", "sent_at", at), row_id) for row_id, at in w.sent.items()],
            )
        if not keys:
            return []
        behind = await raw.execute_fetchall(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE channel = ? AND chat_id = ? "
            f"AND status IN ('{OutboxStatus.QUEUED}', '{OutboxStatus.SENDING}') "
            f"AND kind = '{REPLY}' AND id NOT IN (SELECT value FROM json_each(?)))",
            (w.channel, w.chat_id, json.dumps(list(w.unrecorded))),
        )
        queued = bool(behind[0][0])
        status = OutboxStatus.QUEUED if queued else OutboxStatus.SENDING
        rows: list[Any] = []
        for key, payload in zip(keys, payloads, strict=True):
            rows += [key, REPLY, w.person_id, w.channel, w.chat_id, payload, status]
            rows += [0 if queued else 1, now, now, None if queued else now]
            rows += [None if queued else w.worker]
        found = await raw.execute_fetchall(_insert_outbox_sqlite(len(keys)), rows)
        ids = {key: (row_id, row_status) for key, row_id, row_status in found}
        return [ids[key] for key in keys]


@functools.cache
def _insert_outbox_sqlite(count: int) -> str:
    one = "(" + ", ".join("?" * 12) + ")"
    return (
        "INSERT INTO outbox (key, kind, person_id, channel, chat_id, payload, status, "
        "attempts, next_attempt_at, created_at, claimed_at, claimed_by) VALUES "
        + ", ".join([one] * count)
        + " RETURNING key, id, status"
    )


def _converted(processors: Sequence[Processor], row: Sequence[Any]) -> list[Any]:
    return [v if p is None else p(v) for p, v in zip(processors, row, strict=True)]


def _loaded(sql: Statements, rows: Sequence[Any]) -> Loaded:
    values = _converted(sql.read_processors, rows[0])
    n = len(ACCOUNT_COLUMNS)
    chat_id, last_seen_at, unreachable = values[:n]
    person = Person(**{c.key: values[n + i] for i, c in enumerate(PERSON.columns)})
    n += len(PERSON.columns)
    unit = OrgUnit(**{c.key: values[n + i] for i, c in enumerate(UNIT.columns)})
    n += len(UNIT.columns)
    flow, step, data, updated_at = values[n : n + len(CONVERSATION_COLUMNS)]
    conversation = Conversation(
        person_id=person.id, flow=flow, step=step, data=data or {}, updated_at=updated_at
    )
    n += len(CONVERSATION_COLUMNS)
    submission = None
    if values[n] is not None:  # the submission's id
        submission = Submission(**{c.key: values[n + i] for i, c in enumerate(SUBMISSION.columns)})
    n += len(SUBMISSION.columns)
    answers: dict[str, float | str | None] = {}
    process = sql.read_processors[n : n + len(VALUE_COLUMNS)]
    for row in rows:
        code, num, text = _converted(process, row[n:])
        if code is not None:
            answers[code] = num if text is None else text
    return Loaded(
        chat_id, last_seen_at, bool(unreachable), person, unit, conversation, submission, answers
    )


@asynccontextmanager
async def turn(engine: AsyncEngine) -> AsyncIterator[Turn]:
    """A transaction on a pooled connection's driver, committed at the end or rolled back
    on any error (a connection left in doubt is dropped from the pool, not reused)."""
    async with engine.connect() as connection:
        fairy = await connection.get_raw_connection()
        raw = fairy.driver_connection
        assert raw is not None
        sql = statements(engine.dialect)
        RUN["transactions"] += 1
        await raw.execute("BEGIN")
        try:
            tx = Turn(raw, sql)
            yield tx
            if tx.kept:
                await aggregates.write_kept(tx.db, tx.kept)
        except BaseException:
            try:
                await (raw.execute("ROLLBACK") if sql.postgres else raw.rollback())
            except BaseException:
                await connection.invalidate()
                raise
            raise
        try:
            await (raw.execute("COMMIT") if sql.postgres else raw.commit())
        except BaseException:
            await connection.invalidate()
            raise
