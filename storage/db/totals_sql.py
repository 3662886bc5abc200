"""The statements of the kept totals (storage/db/aggregates.py), written once as text: a
turn builds no statement, and the same text runs on a session or on a driver's connection
(the plain path, storage/db/answer_path.py). The changes go in as arrays on PostgreSQL and
as JSON on SQLite (which has no arrays); every write takes its rows in key order."""

from __future__ import annotations

import functools

from sqlalchemy import Date, Float, String, TextClause, TextualSelect, bindparam, column, text

COLUMNS = [
    "ancestor_id",
    "indicator_code",
    "period_key",
    "ancestor_level",
    "period_start",
    "period_end",
    "total",
]
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
ALL, OWN, ABOVE = "all", "own", "above"  # which of the unit's ancestor rows to write


# Which of the unit's ancestor rows a write touches (the unit counts as its own), as SQL.
WHICH = {ALL: "1 = 1", OWN: "a.ancestor_id = :unit", ABOVE: "a.ancestor_id <> :unit"}


@functools.cache
def flow_sql(postgres: bool, which: str) -> TextClause:
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
        f"WHERE a.unit_id = :unit AND {WHICH[which]} ORDER BY a.ancestor_id, d.code "
        "ON CONFLICT (ancestor_id, indicator_code, period_key) DO UPDATE SET "
        "total = unit_period_totals.total + excluded.total"
    ).bindparams(bindparam("start", type_=Date), bindparam("end", type_=Date))


STOCK_FIELDS = ("codes", "keys", "untils", "starts", "ends", "totals", "ns", "givens")


@functools.cache
def stock_sql(postgres: bool, which: str) -> TextClause:
    """As `_flow_sql`, for the changes of the kept stocks."""
    names = 'code, key, until, start, "end", total, n, given'
    if postgres:
        types = ("text", "text", "date", "date", "date", "float8", "int", "int")
        arrays = ", ".join(f"CAST(:{f} AS {t}[])" for f, t in zip(STOCK_FIELDS, types, strict=True))
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
        f"WHERE a.unit_id = :unit AND {WHICH[which]} "
        "ORDER BY a.ancestor_id, d.code, d.key, d.until "
        "ON CONFLICT (ancestor_id, indicator_code, period_key, until) DO UPDATE SET "
        "total = unit_stock_totals.total + excluded.total, "
        "reports = unit_stock_totals.reports + excluded.reports, "
        "given = unit_stock_totals.given + excluded.given"
    )


@functools.cache
def empty_stocks_sql(postgres: bool, which: str) -> TextClause:
    codes = "ANY(CAST(:codes AS text[]))" if postgres else "(SELECT value FROM json_each(:codes))"
    inside = "= " + codes if postgres else "IN " + codes
    return text(
        "DELETE FROM unit_stock_totals WHERE ancestor_id IN (SELECT a.ancestor_id FROM "
        f"unit_ancestors a WHERE a.unit_id = :unit AND {WHICH[which]}) "
        f"AND indicator_code {inside} AND reports = 0"
    )


LOCK_UNIT = text("SELECT id FROM org_units WHERE id = :unit FOR UPDATE")


@functools.cache
def others_sql(postgres: bool) -> TextualSelect:
    """The unit's other sent values of these stocks (its chain of latest values)."""
    codes = (
        "= ANY(CAST(:codes AS text[]))" if postgres else "IN (SELECT value FROM json_each(:codes))"
    )
    return text(
        "SELECT v.indicator_code, v.period_start, v.period_end, s.period_key, v.value_num "
        "FROM submission_values v JOIN submissions s ON s.id = v.submission_id "
        f"WHERE v.unit_id = :unit AND v.indicator_code {codes} AND v.submitted "
        "AND v.submission_id <> :sid"
    ).columns(
        column("indicator_code", String),
        column("period_start", Date),
        column("period_end", Date),
        column("period_key", String),
        column("value_num", Float),
    )


@functools.cache
def own_flows_sql(postgres: bool) -> TextualSelect:
    """A unit's own totals of some flows over a range of periods (the year to date)."""
    codes = (
        "= ANY(CAST(:codes AS text[]))" if postgres else "IN (SELECT value FROM json_each(:codes))"
    )
    start, end = ("CAST(:start AS date)", "CAST(:end AS date)") if postgres else (":start", ":end")
    return (
        text(
            "SELECT indicator_code, sum(total) FROM unit_period_totals "
            f"WHERE ancestor_id = :unit AND indicator_code {codes} "
            f"AND period_start >= {start} AND period_end <= {end} GROUP BY indicator_code"
        )
        .bindparams(bindparam("start", type_=Date), bindparam("end", type_=Date))
        .columns(column("indicator_code", String), column("total", Float))
    )
