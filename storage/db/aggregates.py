"""Incremental totals per unit subtree: flows per reporting period, stocks per reporting
period and how long each report stays its unit's latest (`UnitStockTotal`).

Every sent report adds its flow values to each of its unit's ancestors; a correction adds the
difference; moving a unit recomputes the totals of the ancestors it left and joined. A sent or
corrected stock value changes its unit's chain of latest values (the report before it is no
longer the latest after its period), and the difference is added to the ancestors. The raw
reports stay the truth: `rebuild` recomputes from them, and the tests check that both agree.

The rows of a province and of the country are shared by every report under them: a
transaction that has written one holds it until its commit. A chat turn therefore writes
the unit's own rows at once (the thanks of a submit reads them) and keeps the changes above
it aside (`defer_totals`), written last (`write_deferred`) just before its commit, flows then
stocks, each in key order: submits under one province hold those rows for one round trip,
not for the rest of the turn.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import Date, delete, func, literal, select, text
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from storage.db import totals_sql as sql
from storage.db.models import (
    FOREVER,
    Submission,
    SubmissionStatus,
    SubmissionValue,
    UnitAncestor,
    UnitPeriodTotal,
    UnitStockTotal,
)
from storage.db.sessions import is_postgres
from storage.plan.catalog import Aggregation, Catalog, IndicatorType


def flow_codes(catalog: Catalog) -> list[str]:
    """Indicators kept here: reported numbers added up over time."""
    return [
        code
        for code, ind in catalog.indicators.items()
        if ind.agg == Aggregation.SUM
        and ind.type not in (IndicatorType.TEXT, IndicatorType.DERIVED)
    ]


def stock_codes(catalog: Catalog) -> list[str]:
    """Indicators kept in `UnitStockTotal`: states whose latest value per unit is summed."""
    return [
        code
        for code, ind in catalog.indicators.items()
        if ind.agg == Aggregation.LAST
        and ind.type not in (IndicatorType.TEXT, IndicatorType.DERIVED)
    ]


def _insert(session: AsyncSession, table: type = UnitPeriodTotal):  # type: ignore[no-untyped-def]
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert(table)


async def add(
    session: AsyncSession, catalog: Catalog, submission: Submission, values: Mapping[str, object]
) -> None:
    """Adds these values (or differences) of a sent report to all its unit's ancestors.

    One statement, its rows in (ancestor, indicator) order: concurrent reports of units under
    the same province then lock the shared rows in the same order and wait, not deadlock.
    With `defer_totals` on the session, kept aside until `write_deferred`."""
    await add_flows(on_session(session), catalog, _Report.of(submission), values, deferred(session))


async def add_flows(
    db: Db,
    catalog: Catalog,
    report: _Report,
    values: Mapping[str, object],
    deferred: dict[_Report, _Changes] | None,
) -> None:
    """`add` on a session or a driver's connection (`deferred`: the changes above the unit
    kept aside, or None to write them all now)."""
    kept = set(flow_codes(catalog))
    # A reported 0 is kept too (as the rebuild keeps it): the row says the unit answered, so
    # a coverage counts it as "0", not as "no data".
    changes = sorted(
        (code, float(value))
        for code, value in values.items()
        if code in kept and isinstance(value, int | float)
    )
    if not changes:
        return
    if deferred is not None:
        # The unit's own rows now (the turn may read them: the thanks of a submit), the shared
        # rows above it last.
        await _write_flows(db, report, changes, sql.OWN)
        flows = deferred.setdefault(report, _Changes()).flows
        for code, delta in changes:
            # A reported 0 still writes its row (see above), so 0 + 0 is kept as 0.
            flows[code] = flows.get(code, 0.0) + delta
        return
    await _write_flows(db, report, changes, sql.ALL)


async def _write_flows(
    db: Db, submission: _Report, changes: list[tuple[str, float]], which: str
) -> None:
    codes, deltas = zip(*changes, strict=True)
    params: dict[str, object] = {**_report_params(submission), "codes": list(codes)}
    if db.postgres:
        params["deltas"] = list(deltas)
    else:
        params["codes"] = json.dumps(changes)
    await db.run(sql.flow_sql(db.postgres, which), params)


def _report_params(submission: _Report) -> dict[str, object]:
    return {
        "unit": submission.unit_id,
        "key": submission.period_key,
        "start": submission.period_start,
        "end": submission.period_end,
    }


async def rebuild(
    session: AsyncSession, catalog: Catalog, ancestor_ids: Iterable[int] | None = None
) -> None:
    """Recomputes from the reports: everything, or the totals of some ancestors."""
    ids = list(ancestor_ids) if ancestor_ids is not None else None
    await _rebuild_flows(session, catalog, ids)
    await rebuild_stocks(session, catalog, ids)


async def _rebuild_flows(session: AsyncSession, catalog: Catalog, ids: list[int] | None) -> None:
    clear = delete(UnitPeriodTotal)
    if ids is not None:
        clear = clear.where(UnitPeriodTotal.ancestor_id.in_(ids))
    await session.execute(clear)
    source = (
        select(
            UnitAncestor.ancestor_id,
            SubmissionValue.indicator_code,
            Submission.period_key,
            UnitAncestor.ancestor_level,
            func.min(Submission.period_start),
            func.min(Submission.period_end),
            func.sum(SubmissionValue.value_num),
        )
        .join(Submission, Submission.id == SubmissionValue.submission_id)
        .join(UnitAncestor, UnitAncestor.unit_id == Submission.unit_id)
        .where(
            Submission.status == SubmissionStatus.SUBMITTED,
            SubmissionValue.indicator_code.in_(flow_codes(catalog)),
            SubmissionValue.value_num.is_not(None),
        )
        .group_by(
            UnitAncestor.ancestor_id,
            SubmissionValue.indicator_code,
            Submission.period_key,
            UnitAncestor.ancestor_level,
        )
    )
    if ids is not None:
        source = source.where(UnitAncestor.ancestor_id.in_(ids))
    await session.execute(
        _insert(session).from_select(
            sql.COLUMNS,
            source,
        )
    )


# ---- stocks -------------------------------------------------------------------------------


Answer = float | str | None
# (period key, until) → (period start, period end, total of the values, reports, values given)
Chain = dict[tuple[str, date], tuple[date, date, float, int, int]]


def _chain(reports: list[tuple[date, date, str, Answer]]) -> Chain:
    """One unit's reports of one indicator (start, end, key, value) as kept rows: each one
    stays the latest until the end of the next (the same order as the rebuild's LEAD)."""
    ordered = sorted(reports, key=lambda r: (r[1], r[0]))
    out: Chain = {}
    for i, (start, end, key, value) in enumerate(ordered):
        until = ordered[i + 1][1] if i + 1 < len(ordered) else FOREVER
        number = float(value) if isinstance(value, int | float) else None
        out[(key, until)] = (start, end, number or 0.0, 1, int(number is not None))
    return out


# (code, key, until, start, end, total, reports, given): a change of a unit's latest values.
StockChange = tuple[str, str, date, date, date, float, int, int]


async def change_stocks(
    session: AsyncSession,
    catalog: Catalog,
    submission: Submission,
    before: Mapping[str, Answer],
    after: Mapping[str, Answer],
) -> None:
    """Follows a change of a report's counted values: `before` what counted (a code absent:
    no value row counted, e.g. a report not sent yet), `after` what counts now.

    The unit's chain of latest values is computed both ways from its other sent reports and
    the difference is added to every ancestor in one statement, in key order (as `add`)."""
    await follow_stocks(
        on_session(session),
        catalog,
        _Report.of(submission),
        submission.id,
        before,
        after,
        deferred(session),
    )


async def follow_stocks(
    db: Db,
    catalog: Catalog,
    report: _Report,
    submission_id: int,
    before: Mapping[str, Answer],
    after: Mapping[str, Answer],
    deferred: dict[_Report, _Changes] | None,
) -> None:
    """`change_stocks` on a session or a driver's connection (`deferred` as `add_flows`)."""
    kept = set(stock_codes(catalog))
    missing = object()
    codes = sorted(
        c
        for c in before.keys() | after.keys()
        if c in kept and before.get(c, missing) != after.get(c, missing)
    )
    if not codes:
        return
    if db.postgres:
        # Two reports of one unit sent at once would each read the other's chain as it was:
        # reports of one unit take turns (SQLite writes one transaction at a time anyway).
        await db.run(sql.LOCK_UNIT, {"unit": report.unit_id})
    others: dict[str, list[tuple[date, date, str, Answer]]] = {c: [] for c in codes}
    params = {"unit": report.unit_id, "sid": submission_id}
    params["codes"] = codes if db.postgres else json.dumps(codes)  # type: ignore[assignment]
    for code, start, end, key, value in await db.run(sql.others_sql(db.postgres), params):
        others[code].append((start, end, key, value))
    changes: list[StockChange] = []
    this = (report.period_start, report.period_end, report.period_key)
    for code in codes:
        old = _chain(others[code] + ([(*this, before[code])] if code in before else []))
        new = _chain(others[code] + ([(*this, after[code])] if code in after else []))
        for entry in sorted(old.keys() | new.keys()):
            start, end = (new.get(entry) or old[entry])[:2]
            was = old.get(entry, (start, end, 0.0, 0, 0))[2:]
            now = new.get(entry, (start, end, 0.0, 0, 0))[2:]
            if now != was:
                key, until = entry
                total, n, given = (a - b for a, b in zip(now, was, strict=True))
                changes.append((code, key, until, start, end, total, int(n), int(given)))
    if not changes:
        return
    if deferred is not None:
        await _write_stocks(db, report, changes, sql.OWN)
        stocks = deferred.setdefault(report, _Changes()).stocks
        for code, key, until, start, end, total, n, given in changes:
            _, _, t0, n0, g0 = stocks.get((code, key, until), (start, end, 0.0, 0, 0))
            stocks[(code, key, until)] = (start, end, t0 + total, n0 + n, g0 + given)
        return
    await _write_stocks(db, report, changes, sql.ALL)


async def _write_stocks(
    db: Db, submission: _Report, changes: list[StockChange], which: str
) -> None:
    postgres = db.postgres
    params: dict[str, object] = {"unit": submission.unit_id}
    if postgres:
        for name, column in zip(sql.STOCK_FIELDS, zip(*changes, strict=True), strict=True):
            params[name] = list(column)
    else:
        params["changes"] = json.dumps(
            [[c, k, u.isoformat(), s.isoformat(), e.isoformat(), t, n, g]
             for c, k, u, s, e, t, n, g in changes]
        )  # fmt: skip
    await db.run(sql.stock_sql(postgres, which), params)
    if any(change[6] <= 0 for change in changes):
        # A report that stopped being the latest until that date leaves an empty row behind
        # (only a change that takes a report away can: a first report adds only).
        codes = sorted({change[0] for change in changes})
        params = {"unit": submission.unit_id, "codes": codes if postgres else json.dumps(codes)}
        await db.run(sql.empty_stocks_sql(postgres, which), params)


async def rebuild_stocks(
    session: AsyncSession, catalog: Catalog, ancestor_ids: Iterable[int] | None = None
) -> None:
    """Recomputes the kept stocks from the reports: everything, or those of some ancestors."""
    ids = list(ancestor_ids) if ancestor_ids is not None else None
    clear = delete(UnitStockTotal)
    if ids is not None:
        clear = clear.where(UnitStockTotal.ancestor_id.in_(ids))
    await session.execute(clear)
    value = SubmissionValue
    reports = (
        select(
            value.unit_id,
            value.indicator_code,
            Submission.period_key,
            value.period_start,
            value.period_end,
            value.value_num,
            func.lead(value.period_end)
            .over(
                partition_by=(value.unit_id, value.indicator_code),
                order_by=(value.period_end, value.period_start),
            )
            .label("next_end"),
        )
        .join(Submission, Submission.id == value.submission_id)
        .where(value.submitted.is_(True), value.indicator_code.in_(stock_codes(catalog)))
    )
    if ids is not None:
        # Whole chains of the units below those ancestors (the window needs them all).
        below = select(UnitAncestor.unit_id).where(UnitAncestor.ancestor_id.in_(ids))
        reports = reports.where(value.unit_id.in_(below))
    chains = reports.subquery("chains")
    until = func.coalesce(chains.c.next_end, literal(FOREVER, Date))
    source = (
        select(
            UnitAncestor.ancestor_id,
            chains.c.indicator_code,
            chains.c.period_key,
            until,
            UnitAncestor.ancestor_level,
            func.min(chains.c.period_start),
            func.min(chains.c.period_end),
            func.coalesce(func.sum(chains.c.value_num), 0.0),
            func.count(),
            func.count(chains.c.value_num),
        )
        .join(UnitAncestor, UnitAncestor.unit_id == chains.c.unit_id)
        .group_by(
            UnitAncestor.ancestor_id,
            chains.c.indicator_code,
            chains.c.period_key,
            until,
            UnitAncestor.ancestor_level,
        )
    )
    if ids is not None:
        source = source.where(UnitAncestor.ancestor_id.in_(ids))
    await session.execute(_insert(session, UnitStockTotal).from_select(sql.STOCK_COLUMNS, source))


async def fill_stocks_if_empty(session: AsyncSession, catalog: Catalog) -> bool:
    """Fills the kept stocks of a database whose reports predate them (the upgrade to 0009,
    or a benchmark dataset built before them). Returns whether it did."""
    if is_postgres(session):
        # Two processes starting at once: the second finds the table filled by the first.
        await session.execute(text("LOCK TABLE unit_stock_totals IN EXCLUSIVE MODE"))
    if await session.scalar(select(UnitStockTotal.ancestor_id).limit(1)) is not None:
        return False
    sent = select(SubmissionValue.id).where(
        SubmissionValue.submitted.is_(True),
        SubmissionValue.indicator_code.in_(stock_codes(catalog)),
    )
    if await session.scalar(sent.limit(1)) is None:
        return False
    await rebuild_stocks(session, catalog)
    await analyze(session)
    return True


async def analyze(session: AsyncSession) -> None:
    """Tells the planner about kept totals just filled in bulk: with no statistics,
    PostgreSQL read a province's stocks through the wrong index (seconds instead of ms)."""
    for table in (UnitPeriodTotal, UnitStockTotal):
        await session.execute(text(f"ANALYZE {table.__tablename__}"))


# ---- written last in a chat turn ----------------------------------------------------------

DEFERRED = "aggregates.deferred"  # session.info key: the changes kept aside, by report


@dataclass(frozen=True, order=True)
class _Report:
    """What the kept totals need of a report (it may be written after the ORM object moved
    on)."""

    unit_id: int
    period_key: str
    period_start: date
    period_end: date

    @classmethod
    def of(cls, submission: Submission) -> _Report:
        return cls(
            submission.unit_id,
            submission.period_key,
            submission.period_start,
            submission.period_end,
        )


@dataclass
class _Changes:
    flows: dict[str, float] = field(default_factory=dict)
    # (code, key, until) → (start, end, total, reports, given)
    stocks: dict[tuple[str, str, date], tuple[date, date, float, int, int]] = field(
        default_factory=dict
    )


async def count_sent(
    db: Db,
    catalog: Catalog,
    submission: Submission,
    values: Mapping[str, Answer],
    deferred: dict[_Report, _Changes] | None,
) -> None:
    """A report just sent counts: its flows added, its stocks' chain followed."""
    report = _Report.of(submission)
    await add_flows(db, catalog, report, values, deferred)
    await follow_stocks(db, catalog, report, submission.id, {}, values, deferred)


async def own_flows(
    db: Db, unit_id: int, codes: list[str], start: date, end: date
) -> dict[str, float]:
    """The unit's own kept totals of these flows over the periods inside [start, end]."""
    params = {"unit": unit_id, "codes": codes if db.postgres else json.dumps(codes)}
    rows = await db.run(sql.own_flows_sql(db.postgres), {**params, "start": start, "end": end})
    found = {code: float(total or 0) for code, total in rows}
    return {code: found.get(code, 0.0) for code in codes}


Kept = dict[_Report, _Changes]  # the changes above a unit kept aside until the turn's end


def deferred(session: AsyncSession) -> dict[_Report, _Changes] | None:
    return session.info.get(DEFERRED)


def defer_totals(session: AsyncSession) -> None:
    """From now on this session writes a report's own rows of the kept totals at once and
    keeps the changes of the rows above it aside: the caller must call `write_deferred`
    before committing (the totals above the unit it reads meanwhile do not include them)."""
    session.info.setdefault(DEFERRED, {})


async def write_deferred(session: AsyncSession) -> None:
    """Writes the kept changes: every report's flows, then every report's stocks, each in
    key order, so concurrent turns lock the shared rows in the same order."""
    await write_kept(on_session(session), session.info.pop(DEFERRED, None) or {})


async def write_kept(db: Db, deferred: dict[_Report, _Changes]) -> None:
    """`write_deferred` on a session or a driver's connection."""
    reports = sorted(deferred)
    for report in reports:
        if deferred[report].flows:
            await _write_flows(db, report, sorted(deferred[report].flows.items()), sql.ABOVE)
    for report in reports:
        stocks = deferred[report].stocks
        if stocks:
            await _write_stocks(
                db,
                report,
                [
                    (code, key, until, *stocks[(code, key, until)])
                    for code, key, until in sorted(stocks)
                ],
                sql.ABOVE,
            )


# ---- where the statements run --------------------------------------------------------------


@dataclass(frozen=True)
class Db:
    """Runs a text statement with named values, on a session or a driver's connection
    (storage/db/answer_path.py), and gives its rows with the statement's column types."""

    postgres: bool
    run: Callable[[Executable, Mapping[str, object]], Awaitable[Sequence[Sequence[Any]]]]


def on_session(session: AsyncSession) -> Db:
    async def run(statement: Executable, params: Mapping[str, object]) -> Sequence[Sequence[Any]]:
        result = cast(CursorResult[Any], await session.execute(statement, params))
        return result.all() if result.returns_rows else []

    return Db(is_postgres(session), run)
