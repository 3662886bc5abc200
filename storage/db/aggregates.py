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

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Date, TextClause, bindparam, delete, func, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import (
    FOREVER,
    OrgUnit,
    Submission,
    SubmissionStatus,
    SubmissionValue,
    UnitAncestor,
    UnitPeriodTotal,
    UnitStockTotal,
)
from storage.db.sessions import is_postgres
from storage.plan.catalog import Aggregation, Catalog, IndicatorType

COLUMNS = [
    "ancestor_id",
    "indicator_code",
    "period_key",
    "ancestor_level",
    "period_start",
    "period_end",
    "total",
]


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
    report = _Report.of(submission)
    deferred = _deferred(session)
    if deferred is not None:
        # The unit's own rows now (the turn may read them: the thanks of a submit), the shared
        # rows above it last.
        await _write_flows(session, report, changes, _OWN)
        flows = deferred.setdefault(report, _Changes()).flows
        for code, delta in changes:
            # A reported 0 still writes its row (see above), so 0 + 0 is kept as 0.
            flows[code] = flows.get(code, 0.0) + delta
        return
    await _write_flows(session, report, changes, _ALL)


_ALL, _OWN, _ABOVE = "all", "own", "above"  # which of the unit's ancestor rows to write


async def _write_flows(
    session: AsyncSession, submission: _Report, changes: list[tuple[str, float]], which: str
) -> None:
    codes, deltas = zip(*changes, strict=True)
    params: dict[str, object] = {**_report_params(submission), "codes": list(codes)}
    if is_postgres(session):
        params["deltas"] = list(deltas)
    else:
        params["codes"] = json.dumps(changes)
    await session.execute(_flow_sql(is_postgres(session), which), params)


def _report_params(submission: _Report) -> dict[str, object]:
    return {
        "unit": submission.unit_id,
        "key": submission.period_key,
        "start": submission.period_start,
        "end": submission.period_end,
    }


# Which of the unit's ancestor rows a write touches (the unit counts as its own), as SQL.
_WHICH = {_ALL: "1 = 1", _OWN: "a.ancestor_id = :unit", _ABOVE: "a.ancestor_id <> :unit"}


@functools.cache
def _flow_sql(postgres: bool, which: str) -> TextClause:
    """The changes (indicator, change) added to the unit's ancestors' rows, one statement,
    its rows in key order; written once as text (the changes as arrays on PostgreSQL, as
    JSON on SQLite), so a turn builds no statement."""
    if postgres:
        changes = "unnest(CAST(:codes AS text[]), CAST(:deltas AS float8[])) AS d(code, delta)"
        start, end = "CAST(:start AS date)", "CAST(:end AS date)"
    else:
        changes = (
            "(SELECT json_extract(value, '$[0]') AS code, json_extract(value, '$[1]') AS delta "
            "FROM json_each(:codes)) AS d"
        )
        start, end = ":start", ":end"
    return text(
        f"INSERT INTO unit_period_totals ({', '.join(COLUMNS)}) "
        f"SELECT a.ancestor_id, d.code, :key, a.ancestor_level, {start}, {end}, d.delta "
        f"FROM unit_ancestors a CROSS JOIN {changes} "
        f"WHERE a.unit_id = :unit AND {_WHICH[which]} ORDER BY a.ancestor_id, d.code "
        "ON CONFLICT (ancestor_id, indicator_code, period_key) DO UPDATE SET "
        "total = unit_period_totals.total + excluded.total"
    ).bindparams(bindparam("start", type_=Date), bindparam("end", type_=Date))


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
            COLUMNS,
            source,
        )
    )


# ---- stocks -------------------------------------------------------------------------------

STOCK_COLUMNS = [
    "ancestor_id",
    "indicator_code",
    "period_key",
    "until",
    "ancestor_level",
    "period_start",
    "period_end",
    "total",
    "reports",
    "given",
]

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
    kept = set(stock_codes(catalog))
    missing = object()
    codes = sorted(
        c
        for c in before.keys() | after.keys()
        if c in kept and before.get(c, missing) != after.get(c, missing)
    )
    if not codes:
        return
    if is_postgres(session):
        # Two reports of one unit sent at once would each read the other's chain as it was:
        # reports of one unit take turns (SQLite writes one transaction at a time anyway).
        await session.execute(
            select(OrgUnit.id).where(OrgUnit.id == submission.unit_id).with_for_update()
        )
    others: dict[str, list[tuple[date, date, str, Answer]]] = {c: [] for c in codes}
    rows = await session.execute(
        select(
            SubmissionValue.indicator_code,
            SubmissionValue.period_start,
            SubmissionValue.period_end,
            Submission.period_key,
            SubmissionValue.value_num,
        )
        .join(Submission, Submission.id == SubmissionValue.submission_id)
        .where(
            SubmissionValue.unit_id == submission.unit_id,
            SubmissionValue.indicator_code.in_(codes),
            SubmissionValue.submitted.is_(True),
            SubmissionValue.submission_id != submission.id,
        )
    )
    for code, start, end, key, value in rows.all():
        others[code].append((start, end, key, value))
    changes: list[StockChange] = []
    this = (submission.period_start, submission.period_end, submission.period_key)
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
    report = _Report.of(submission)
    deferred = _deferred(session)
    if deferred is not None:
        await _write_stocks(session, report, changes, _OWN)
        stocks = deferred.setdefault(report, _Changes()).stocks
        for code, key, until, start, end, total, n, given in changes:
            _, _, t0, n0, g0 = stocks.get((code, key, until), (start, end, 0.0, 0, 0))
            stocks[(code, key, until)] = (start, end, t0 + total, n0 + n, g0 + given)
        return
    await _write_stocks(session, report, changes, _ALL)


async def _write_stocks(
    session: AsyncSession, submission: _Report, changes: list[StockChange], which: str
) -> None:
    postgres = is_postgres(session)
    params: dict[str, object] = {"unit": submission.unit_id}
    if postgres:
        for name, column in zip(_STOCK_FIELDS, zip(*changes, strict=True), strict=True):
            params[name] = list(column)
    else:
        params["changes"] = json.dumps(
            [[c, k, u.isoformat(), s.isoformat(), e.isoformat(), t, n, g]
             for c, k, u, s, e, t, n, g in changes]
        )  # fmt: skip
    await session.execute(_stock_sql(postgres, which), params)
    if any(change[6] <= 0 for change in changes):
        # A report that stopped being the latest until that date leaves an empty row behind
        # (only a change that takes a report away can: a first report adds only).
        codes = sorted({change[0] for change in changes})
        params = {"unit": submission.unit_id, "codes": codes if postgres else json.dumps(codes)}
        await session.execute(_empty_stocks_sql(postgres, which), params)


_STOCK_FIELDS = ("codes", "keys", "untils", "starts", "ends", "totals", "ns", "givens")


@functools.cache
def _stock_sql(postgres: bool, which: str) -> TextClause:
    """As `_flow_sql`, for the changes of the kept stocks."""
    names = 'code, key, until, start, "end", total, n, given'
    if postgres:
        types = ("text", "text", "date", "date", "date", "float8", "int", "int")
        arrays = ", ".join(
            f"CAST(:{f} AS {t}[])" for f, t in zip(_STOCK_FIELDS, types, strict=True)
        )
        changes = f"unnest({arrays}) AS d({names})"
    else:
        parts = ", ".join(
            f"json_extract(value, '$[{i}]') AS {n.strip()}" for i, n in enumerate(names.split(","))
        )
        changes = f"(SELECT {parts} FROM json_each(:changes)) AS d"
    return text(
        f"INSERT INTO unit_stock_totals ({', '.join(STOCK_COLUMNS)}) "
        'SELECT a.ancestor_id, d.code, d.key, d.until, a.ancestor_level, d.start, d."end", '
        f"d.total, d.n, d.given FROM unit_ancestors a CROSS JOIN {changes} "
        f"WHERE a.unit_id = :unit AND {_WHICH[which]} "
        "ORDER BY a.ancestor_id, d.code, d.key, d.until "
        "ON CONFLICT (ancestor_id, indicator_code, period_key, until) DO UPDATE SET "
        "total = unit_stock_totals.total + excluded.total, "
        "reports = unit_stock_totals.reports + excluded.reports, "
        "given = unit_stock_totals.given + excluded.given"
    )


@functools.cache
def _empty_stocks_sql(postgres: bool, which: str) -> TextClause:
    codes = "ANY(CAST(:codes AS text[]))" if postgres else "(SELECT value FROM json_each(:codes))"
    inside = "= " + codes if postgres else "IN " + codes
    return text(
        "DELETE FROM unit_stock_totals WHERE ancestor_id IN (SELECT a.ancestor_id FROM "
        f"unit_ancestors a WHERE a.unit_id = :unit AND {_WHICH[which]}) "
        f"AND indicator_code {inside} AND reports = 0"
    )


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
    await session.execute(_insert(session, UnitStockTotal).from_select(STOCK_COLUMNS, source))


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


def _deferred(session: AsyncSession) -> dict[_Report, _Changes] | None:
    return session.info.get(DEFERRED)


def defer_totals(session: AsyncSession) -> None:
    """From now on this session writes a report's own rows of the kept totals at once and
    keeps the changes of the rows above it aside: the caller must call `write_deferred`
    before committing (the totals above the unit it reads meanwhile do not include them)."""
    session.info.setdefault(DEFERRED, {})


async def write_deferred(session: AsyncSession) -> None:
    """Writes the kept changes: every report's flows, then every report's stocks, each in
    key order, so concurrent turns lock the shared rows in the same order."""
    deferred: dict[_Report, _Changes] = session.info.pop(DEFERRED, None) or {}
    reports = sorted(deferred)
    for report in reports:
        if deferred[report].flows:
            await _write_flows(session, report, sorted(deferred[report].flows.items()), _ABOVE)
    for report in reports:
        stocks = deferred[report].stocks
        if stocks:
            await _write_stocks(
                session,
                report,
                [
                    (code, key, until, *stocks[(code, key, until)])
                    for code, key, until in sorted(stocks)
                ],
                _ABOVE,
            )
