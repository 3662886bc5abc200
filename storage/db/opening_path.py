"""Opening a report's statements, run on the driver inside the plain answer's transaction
(storage/db/answer_path.py: the update claimed, the sender read and her conversation locked,
the conversation and the replies written): her conversation created if she has none, her
account's changes, and the reads of `handlers/reads.py` (the notice accepted, the reports
reopened, the report of a period, its answers, the unit's history) and a new draft. SQL text
written once (`$n` placeholders; SQLite takes them as `?n`), values converted by the ORM's own
column types, rows built into transient ORM objects, as answer_path does.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Float, Table
from sqlalchemy.engine import Dialect

from storage.db import answer_path
from storage.db.models import (
    ChannelIdentity,
    Conversation,
    NoticeAcceptance,
    Submission,
    SubmissionStatus,
    SubmissionValue,
)

Answer = float | str | None


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


SUBMISSION, VALUE, NOTICE = _table(Submission), _table(SubmissionValue), _table(NoticeAcceptance)
_TABLES = {
    t.name: t for t in (SUBMISSION, VALUE, NOTICE, _table(ChannelIdentity), _table(Conversation))
}
_SUBMISSION_COLUMNS = ", ".join(c.name for c in SUBMISSION.columns)
_NEW_DRAFT = [c.name for c in SUBMISSION.columns if c.name != "id"]
_OPEN_STATUSES = f"('{SubmissionStatus.SUBMITTED}', '{SubmissionStatus.DRAFT}')"


class Statements:
    """One dialect's conversions (made once per engine)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.postgres = dialect.name == "postgresql"
        self._results: dict[tuple[str, str], Any] = {}
        self._binds: dict[tuple[str, str], Any] = {}

    def sql(self, text: str) -> str:
        """`$n` as the driver takes it; `IS TRUE` as SQLAlchemy writes a boolean's test."""
        if self.postgres:
            return text.replace("IS TRUE", "IS true")
        return re.sub(r"\$(\d+)", r"?\1", text).replace("IS TRUE", "IS 1")

    def result(self, table: str, column: str, value: Any) -> Any:
        key = (table, column)
        if key not in self._results:
            found = _TABLES[table].c[column]
            # asyncpg's float processor asks which type the driver gave: float8 (oid 701).
            coltype = 701 if self.postgres and isinstance(found.type, Float) else None
            self._results[key] = found.type._cached_result_processor(self.dialect, coltype)
        process = self._results[key]
        return value if process is None else process(value)

    def value(self, table: str, column: str, value: Any) -> Any:
        key = (table, column)
        if key not in self._binds:
            self._binds[key] = _TABLES[table].c[column].type._cached_bind_processor(self.dialect)
        process = self._binds[key]
        return value if process is None or value is None else process(value)

    def row(self, model: Any, row: Sequence[Any]) -> Any:
        table = _table(model)
        pairs = zip(table.columns, row, strict=True)
        return model(**{c.key: self.result(table.name, c.name, v) for c, v in pairs})


@functools.cache
def statements(dialect: Dialect) -> Statements:
    return Statements(dialect)


@functools.cache
def _in_list(first: int, count: int) -> str:
    return "(" + ", ".join(f"${first + i}" for i in range(count)) + ")"


class Opening:
    """The statements of one opening's turn, on the transaction's driver connection."""

    def __init__(self, tx: answer_path.Turn, dialect: Dialect) -> None:
        self.raw = tx.raw
        self.tx = tx
        self.st = statements(dialect)

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        answer_path.RUN["statements"] += 1
        text = self.st.sql(sql)
        if self.st.postgres:
            return list(await self.raw.fetch(text, *args))
        return list(await self.raw.execute_fetchall(text, args))

    async def start_conversation(
        self, channel: str, external_id: str, now: datetime
    ) -> answer_path.Loaded | None:
        """An active sender who has no conversation yet gets one (as the general path gives
        it), read and locked; None for anyone else."""
        st = self.st
        await self._fetch(
            "INSERT INTO conversations (person_id, flow, step, data, updated_at) "
            "SELECT p.id, NULL, NULL, $3, $4 FROM channel_identities ci "
            "JOIN people p ON p.id = ci.person_id "
            "WHERE ci.channel = $1 AND ci.external_id = $2 AND p.active "
            "ON CONFLICT (person_id) DO NOTHING",
            channel,
            external_id,
            st.value("conversations", "data", {}),
            st.value("conversations", "updated_at", now),
        )
        sql = answer_path.statements(st.dialect)
        lock = " FOR UPDATE OF c" if st.postgres else ""
        rows = await self._fetch(
            sql.select + f"WHERE ci.channel = $1 AND ci.external_id = $2 ORDER BY v.id{lock}",
            channel,
            external_id,
        )
        return answer_path._loaded(sql, rows) if rows else None

    async def touch_account(
        self,
        channel: str,
        external_id: str,
        chat_id: str,
        last_seen_at: datetime | None,
        person_id: int,
        last_channel: str | None,
    ) -> None:
        """Her account as the general path leaves it (engine._turn): reachable, her chat,
        when she was last seen; her person's last channel (only when it changed)."""
        st = self.st
        await self._fetch(
            "UPDATE channel_identities SET chat_id = $3, last_seen_at = $4, unreachable = $5 "
            "WHERE channel = $1 AND external_id = $2",
            channel,
            external_id,
            chat_id,
            st.value("channel_identities", "last_seen_at", last_seen_at),
            st.value("channel_identities", "unreachable", False),
        )
        if last_channel is not None:
            await self._fetch(
                "UPDATE people SET last_channel = $1 WHERE id = $2", channel, person_id
            )

    async def acceptance(self, person_id: int) -> NoticeAcceptance | None:
        columns = ", ".join(c.name for c in NOTICE.columns)
        rows = await self._fetch(
            f"SELECT {columns} FROM notice_acceptances WHERE person_id = $1", person_id
        )
        return self.st.row(NoticeAcceptance, rows[0]) if rows else None

    async def reopened(self, unit_id: int) -> list[Submission]:
        rows = await self._fetch(
            f"SELECT {_SUBMISSION_COLUMNS} FROM submissions WHERE unit_id = $1 "
            f"AND reopened IS TRUE AND status IN {_OPEN_STATUSES}",
            unit_id,
        )
        return [self.st.row(Submission, row) for row in rows]

    async def submission(self, unit_id: int, form_code: str, period_key: str) -> Submission | None:
        rows = await self._fetch(
            f"SELECT {_SUBMISSION_COLUMNS} FROM submissions "
            "WHERE unit_id = $1 AND form_code = $2 AND period_key = $3",
            unit_id,
            form_code,
            period_key,
        )
        return self.st.row(Submission, rows[0]) if rows else None

    async def create(self, sub: Submission) -> Submission:
        """Inserts the new draft `sub` (every column but its id set), which gets its id."""
        st = self.st
        for column in SUBMISSION.columns:  # the defaults the ORM's insert applies
            default = column.default
            if getattr(sub, column.key) is None and default is not None and default.is_scalar:
                setattr(sub, column.key, default.arg)  # type: ignore[attr-defined]
        values = [st.value("submissions", name, getattr(sub, name)) for name in _NEW_DRAFT]
        places = ", ".join(f"${i}" for i in range(1, len(_NEW_DRAFT) + 1))
        rows = await self._fetch(
            f"INSERT INTO submissions ({', '.join(_NEW_DRAFT)}) VALUES ({places}) RETURNING id",
            *values,
        )
        sub.id = rows[0][0]
        return sub

    async def answers(self, submission_id: int) -> dict[str, Answer]:
        rows = await self._fetch(
            "SELECT indicator_code, value_num, value_text FROM submission_values "
            "WHERE submission_id = $1",
            submission_id,
        )
        num = functools.partial(self.st.result, "submission_values", "value_num")
        return {code: (num(n) if text is None else text) for code, n, text in rows}

    async def history(
        self, unit_id: int, codes: list[str], before: date, periods: int
    ) -> dict[str, list[tuple[date, Answer]]]:
        """As storage.measures.reporting.history reads it (the same statement)."""
        if not codes:
            return {}
        st = self.st
        rows = await self._fetch(
            "SELECT indicator_code, period_end, value_num, value_text FROM submission_values "
            f"WHERE unit_id = $1 AND indicator_code IN {_in_list(4, len(codes))} "
            "AND submitted IS TRUE AND period_end < $2 ORDER BY period_end DESC LIMIT $3",
            unit_id,
            st.value("submission_values", "period_end", before),
            periods * len(codes),
            *codes,
        )
        out: dict[str, list[tuple[date, Answer]]] = {}
        for code, end, num, text in rows:
            if num is not None or text is not None:
                value = st.result("submission_values", "value_num", num) if text is None else text
                ended = st.result("submission_values", "period_end", end)
                out.setdefault(code, []).append((ended, value))
        return out

    async def latest_member_total(
        self, code: str, unit_id: int, before: date
    ) -> tuple[float, str] | None:
        """As storage.measures.member_count.latest_member_total reads it (the same statement)."""
        st = self.st
        rows = await self._fetch(
            "SELECT submission_values.value_num, submissions.period_key "
            "FROM submission_values JOIN submissions "
            "ON submissions.id = submission_values.submission_id "
            "WHERE submission_values.indicator_code = $1 AND submission_values.unit_id = $2 "
            "AND submission_values.period_end < $3 AND submission_values.submitted IS TRUE "
            "AND submission_values.value_num > 0 "
            "ORDER BY submission_values.period_end DESC, submission_values.period_start DESC "
            "LIMIT 1",
            code,
            unit_id,
            st.value("submission_values", "period_end", before),
        )
        if not rows or rows[0][0] is None:
            return None
        return st.result("submission_values", "value_num", rows[0][0]), rows[0][1]
