"""Incremental totals per (unit subtree, flow indicator, reporting period).

Every sent report adds its flow values to each of its unit's ancestors; a correction adds the
difference; moving a unit recomputes the totals of the ancestors it left and joined. The raw
reports stay the truth: `rebuild` recomputes from them, and the tests check that both agree.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, literal, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.catalog import Aggregation, Catalog, IndicatorType
from storage.db import is_postgres
from storage.models import (
    Submission,
    SubmissionStatus,
    SubmissionValue,
    UnitAncestor,
    UnitPeriodTotal,
)

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


def _insert(session: AsyncSession):  # type: ignore[no-untyped-def]
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert(UnitPeriodTotal)


async def add(
    session: AsyncSession, catalog: Catalog, submission: Submission, values: dict[str, object]
) -> None:
    """Adds these values (or differences) of a sent report to all its unit's ancestors.

    One statement, its rows in (ancestor, indicator) order: concurrent reports of units under
    the same province then lock the shared rows in the same order and wait, not deadlock."""
    kept = set(flow_codes(catalog))
    changes = sorted(
        (code, float(value))
        for code, value in values.items()
        if code in kept and isinstance(value, int | float) and value != 0
    )
    if not changes:
        return
    # A small table of (indicator, change), written as a UNION ALL: SQLite has no
    # "(VALUES ...) AS t (a, b)".
    deltas = union_all(
        *(
            select(literal(code).label("code"), literal(delta).label("delta"))
            for code, delta in changes
        )
    ).subquery("deltas")
    source = (
        select(
            UnitAncestor.ancestor_id,
            deltas.c.code,
            literal(submission.period_key),
            UnitAncestor.ancestor_level,
            literal(submission.period_start),
            literal(submission.period_end),
            deltas.c.delta,
        )
        .select_from(UnitAncestor)
        .join(deltas, true())
        .where(UnitAncestor.unit_id == submission.unit_id)
        .order_by(UnitAncestor.ancestor_id, deltas.c.code)
    )
    statement = _insert(session).from_select(COLUMNS, source)
    statement = statement.on_conflict_do_update(
        index_elements=["ancestor_id", "indicator_code", "period_key"],
        set_={"total": UnitPeriodTotal.total + statement.excluded.total},
    )
    await session.execute(statement)


async def rebuild(
    session: AsyncSession, catalog: Catalog, ancestor_ids: Iterable[int] | None = None
) -> None:
    """Recomputes from the reports: everything, or the totals of some ancestors."""
    ids = list(ancestor_ids) if ancestor_ids is not None else None
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
