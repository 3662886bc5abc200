"""The reads only some targets need, beside the rollups: when each unit first said yes to a
task, and each unit's stock when a window began (a coverage filtered at the window's start).

Plain async queries on the reports (`SubmissionValue`); `storage.measures.progress` calls them.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import OrgUnit, Submission, SubmissionValue, UnitAncestor
from storage.plan.periods import Period


def units_of_level_in(level: str, root_ids: list[int] | tuple[int, ...]) -> Select:
    """The ids of the units of `level` inside any of the roots (the roots included)."""
    return (
        select(UnitAncestor.unit_id)
        .join(OrgUnit, OrgUnit.id == UnitAncestor.unit_id)
        .where(UnitAncestor.ancestor_id.in_(root_ids), OrgUnit.level == level)
    )


def _sent(code: str, approved_only: bool) -> list:
    conditions = [
        SubmissionValue.indicator_code == code,
        SubmissionValue.submitted.is_(True),
        SubmissionValue.value_num.is_not(None),
    ]
    if approved_only:
        approved = select(Submission.id).where(Submission.approved_at.is_not(None))
        conditions.append(SubmissionValue.submission_id.in_(approved))
    return conditions


async def first_yes(
    session: AsyncSession,
    code: str,
    units: Select | list[int],
    period: Period,
    *,
    own: bool,
    approved_only: bool = False,
) -> dict[int, date | None]:
    """Each of `units` that answered the yes/no `code` inside the period, with the start of
    the first period it said yes in (None: it only said no). `own`: the unit's own answers;
    otherwise any answer from its subtree. A unit that answered nothing is absent: it has
    not reported, which is not the same as "no"."""
    yes_start = func.min(case((SubmissionValue.value_num >= 1, SubmissionValue.period_start)))
    inside = (
        SubmissionValue.period_start >= period.start,
        SubmissionValue.period_end <= period.end,
    )
    if own:
        query = (
            select(SubmissionValue.unit_id, yes_start)
            .where(*_sent(code, approved_only), *inside, SubmissionValue.unit_id.in_(units))
            .group_by(SubmissionValue.unit_id)
        )
    else:
        query = (
            select(UnitAncestor.ancestor_id, yes_start)
            .join(UnitAncestor, UnitAncestor.unit_id == SubmissionValue.unit_id)
            .where(*_sent(code, approved_only), *inside, UnitAncestor.ancestor_id.in_(units))
            .group_by(UnitAncestor.ancestor_id)
        )
    return {uid: start for uid, start in (await session.execute(query)).all()}


async def stock_at_start(
    session: AsyncSession,
    code: str,
    level: str,
    root_ids: list[int] | tuple[int, ...],
    period: Period,
    *,
    approved_only: bool = False,
) -> dict[int, float]:
    """Each unit of `level` inside the roots with its own answer of the stock `code` when the
    period began: its last report ending before the period, else its first report inside it.
    Units that gave neither are absent."""
    units = units_of_level_in(level, root_ids)
    out: dict[int, float] = {}
    for before in (True, False):
        rows = select(
            SubmissionValue.unit_id.label("unit_id"),
            SubmissionValue.value_num.label("value"),
            func.row_number()
            .over(
                partition_by=SubmissionValue.unit_id,
                order_by=(
                    SubmissionValue.period_end.desc() if before else SubmissionValue.period_end
                ),
            )
            .label("rank"),
        ).where(*_sent(code, approved_only), SubmissionValue.unit_id.in_(units))
        if before:
            rows = rows.where(SubmissionValue.period_end < period.start)
        else:
            rows = rows.where(
                SubmissionValue.period_start >= period.start,
                SubmissionValue.period_end <= period.end,
            )
        ranked = rows.subquery()
        found = await session.execute(
            select(ranked.c.unit_id, ranked.c.value).where(ranked.c.rank == 1)
        )
        for uid, value in found.all():
            out.setdefault(uid, float(value))
    return out
