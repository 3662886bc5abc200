"""Completeness of a form's reports for a period under a unit: who sent, who is late, and
each unit's submitted values (the officers' "who has not reported" and the weekly summary).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from storage.db.models import (
    OrgUnit,
    Submission,
    SubmissionStatus,
    SubmissionValue,
)
from storage.db.sessions import among, is_postgres
from storage.db.units import active_on, subtree_filter
from storage.plan.catalog import Form
from storage.plan.periods import Period
from storage.plan.text import vi_sort_key


@dataclass(frozen=True)
class UnitRef:
    """Just enough of a unit to name it (cheaper than loading thousands of ORM objects)."""

    id: int
    code: str
    name: str


@dataclass
class Completeness:
    form: Form
    period: Period
    expected: int = 0
    on_time: int = 0
    late: int = 0
    in_progress: int = 0  # drafts started but not sent
    missing: list[tuple[UnitRef, str]] = field(default_factory=list)  # (unit, parent's name)

    @property
    def submitted(self) -> int:
        return self.on_time + self.late

    def missing_by_parent(self) -> dict[str, list[UnitRef]]:
        grouped: dict[str, list[UnitRef]] = defaultdict(list)
        for unit, parent in self.missing:
            grouped[parent].append(unit)
        return dict(sorted(grouped.items(), key=lambda item: vi_sort_key(item[0])))


async def completeness(
    session: AsyncSession, form: Form, period: Period, scope: OrgUnit
) -> Completeness:
    """Who of the units that should report this form and period did, on time or late.

    On PostgreSQL the units first (their path's index), then their reports by id: a join let
    PostgreSQL read every report of the period in the country and hash it (95,000 rows for a
    province's 3,000 units, most of the 100 ms it took nationally). On SQLite one join."""
    parent = aliased(OrgUnit)
    connection = await session.connection()  # plain rows: the ORM's row loading was most of it
    units_query = (
        select(OrgUnit.id, OrgUnit.code, OrgUnit.name, parent.name)
        .outerjoin(parent, parent.id == OrgUnit.parent_id)
        .where(
            OrgUnit.level == form.level,
            subtree_filter(scope.path),
            active_on(period.start, period.end),
        )
    )
    if not is_postgres(session):
        # SQLite only nests loops: one join probes each unit's reports, faster there than
        # sending the ids back (bench/README.md, Round 6's idle run).
        joined = units_query.add_columns(Submission.status, Submission.late).outerjoin(
            Submission,
            and_(
                Submission.unit_id == OrgUnit.id,
                Submission.form_code == form.code,
                Submission.period_key == period.key,
            ),
        )
        found = [tuple(row) for row in (await connection.execute(joined)).all()]
    else:
        found = await _by_ids(connection, session, form, period, units_query)
    result = Completeness(form, period)
    for unit_id, code, name, parent_name, status, late in found:
        result.expected += 1
        if status == SubmissionStatus.SUBMITTED:
            if late:
                result.late += 1
            else:
                result.on_time += 1
        else:
            if status == SubmissionStatus.DRAFT:
                result.in_progress += 1
            result.missing.append((UnitRef(unit_id, code, name), parent_name or "–"))
    result.missing.sort(key=lambda m: (vi_sort_key(m[1]), vi_sort_key(m[0].name)))
    return result


async def unit_values(
    session: AsyncSession, unit_ids: list[int], form_code: str, period: Period
) -> dict[int, dict[str, float | str | None]]:
    """Submitted values of one form per unit, for units that report it themselves."""
    query = (
        select(
            Submission.unit_id,
            SubmissionValue.indicator_code,
            SubmissionValue.value_num,
            SubmissionValue.value_text,
        )
        .join(SubmissionValue, SubmissionValue.submission_id == Submission.id)
        .where(
            Submission.form_code == form_code,
            Submission.period_key == period.key,
            Submission.status == SubmissionStatus.SUBMITTED,
            Submission.unit_id.in_(unit_ids),
        )
    )
    out: dict[int, dict[str, float | str | None]] = defaultdict(dict)
    for unit_id, code, num, text in (await session.execute(query)).all():
        out[unit_id][code] = num if text is None else text
    return dict(out)


async def _by_ids(
    connection: AsyncConnection,
    session: AsyncSession,
    form: Form,
    period: Period,
    units_query: Select[int, str, str, str],
) -> list[tuple[Any, ...]]:
    """The units, then their reports by id as one array (PostgreSQL)."""
    units = (await connection.execute(units_query)).all()
    ids = [row[0] for row in units]
    reports: dict[int, tuple[str, bool]] = {}
    rows = await connection.execute(
        select(Submission.unit_id, Submission.status, Submission.late).where(
            Submission.form_code == form.code,
            Submission.period_key == period.key,
            among(session, Submission.unit_id, ids),
        )
    )
    reports.update((uid, (status, late)) for uid, status, late in rows.all())
    return [
        (unit_id, code, name, parent_name, *reports.get(unit_id, (None, None)))
        for unit_id, code, name, parent_name in units
    ]
