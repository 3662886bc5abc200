"""Thi đua (emulation): the rule that scores the units below, and the timeliness query.

The rule lives in `thi_dua.yaml` next to the other configuration files (optional; without it
timeliness and targets weigh half each). A score is out of 100 points:

- timeliness: reports of the rule's form over the last due periods, on time counting fully
  and late ones `late_credit`;
- targets: the share of the targets that apply to the unit, among those with data, that are
  achieved or on track (the same progress as /tiendo);
- growth: net growth of members over the year so far as a share of the members, full points
  at `full_percent`.

A part with no data is left out and the others are scaled to 100, so "no data" never counts
as a bad result; the page says which parts a score rests on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.db.models import (
    KeptRanking,
    KeptRankingDay,
    OrgUnit,
    Submission,
    SubmissionStatus,
    UnitAncestor,
)
from storage.db.sessions import is_postgres
from storage.db.units import active_on
from storage.plan.catalog import Catalog, Form
from storage.plan.periods import Period
from storage.plan.thi_dua_rule import Rule

PARTS = ("timeliness", "targets", "growth")


# ---- timeliness ---------------------------------------------------------------------------


@dataclass
class Timeliness:
    expected: int = 0
    on_time: int = 0
    late: int = 0

    @property
    def missing(self) -> int:
        return self.expected - self.on_time - self.late


async def timeliness_by_root(
    session: AsyncSession, form: Form, periods: list[Period], root_ids: list[int]
) -> dict[tuple[int, str], Timeliness]:
    """(root id, period key) → how many units of the form's level under the root should have
    reported, and did on time or late. Two grouped queries, whatever the roots and periods."""
    out: dict[tuple[int, str], Timeliness] = {}
    if not root_ids or not periods:
        return out
    up = aliased(UnitAncestor)
    first, last = min(p.start for p in periods), max(p.end for p in periods)
    # Units that should report, grouped by their dates of existence (nearly all share them).
    expected = await session.execute(
        select(up.ancestor_id, OrgUnit.valid_from, OrgUnit.valid_to, func.count())
        .select_from(OrgUnit)
        .join(up, up.unit_id == OrgUnit.id)
        .where(up.ancestor_id.in_(root_ids), OrgUnit.level == form.level, active_on(first, last))
        .group_by(up.ancestor_id, OrgUnit.valid_from, OrgUnit.valid_to)
    )
    for root, since, until, n in expected.all():
        for p in periods:
            if since <= p.end and (until is None or until >= p.start):
                out.setdefault((root, p.key), Timeliness()).expected += n
    sent = await session.execute(
        select(up.ancestor_id, Submission.period_key, Submission.late, func.count())
        .select_from(Submission)
        .join(up, up.unit_id == Submission.unit_id)
        .where(
            and_(
                up.ancestor_id.in_(root_ids),
                Submission.form_code == form.code,
                Submission.period_key.in_([p.key for p in periods]),
                Submission.status == SubmissionStatus.SUBMITTED,
            )
        )
        .group_by(up.ancestor_id, Submission.period_key, Submission.late)
    )
    for root, key, late, n in sent.all():
        t = out.setdefault((root, key), Timeliness())
        if late:
            t.late += n
        else:
            t.on_time += n
    return out


# ---- kept rankings ------------------------------------------------------------------------


def rule_key(rule: Rule, catalog: Catalog) -> str:
    """What a kept ranking was scored with: the rule and the plan (targets and terms). A
    changed configuration gives another key, so an old ranking is never shown for a new rule.
    The days "most improved" looks back do not change a score: not part of it."""
    plan = {
        "rule": rule.model_dump(mode="json", exclude={"improvement_days"}),
        "targets": [t.model_dump(mode="json") for t in catalog.targets],
        "terms": [[t.code, t.start.isoformat(), t.end.isoformat()] for t in catalog.terms],
    }
    text = json.dumps(plan, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


async def kept_ranking(session: AsyncSession, parent_id: int, key: str) -> KeptRanking | None:
    return await session.get(KeptRanking, (parent_id, key))


async def keep_ranking(
    session: AsyncSession,
    parent_id: int,
    key: str,
    day: date,
    computed_at: datetime,
    data_as_of: datetime,
    scores: list[dict[str, Any]],
) -> None:
    """Keeps a computed ranking, unless one of the same day computed from newer data is
    already kept (two workers, or a page and the scheduler, may compute the same one at
    once). One of another day is replaced whichever is newer: the clock may be set back
    (HOIBOT_NOW), and one kept for the wrong day is recomputed on its next view anyway."""
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    row = {
        "day": day,
        "computed_at": computed_at,
        "data_as_of": data_as_of,
        "scores": scores,
    }
    statement = insert(KeptRanking).values(parent_id=parent_id, rule_key=key, **row)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["parent_id", "rule_key"],
            set_=row,
            where=or_(
                KeptRanking.day != statement.excluded.day,
                KeptRanking.data_as_of <= statement.excluded.data_as_of,
            ),
        )
    )


async def keep_ranking_day(
    session: AsyncSession,
    parent_id: int,
    key: str,
    day: date,
    data_as_of: datetime,
    points: dict[int, float | None],
) -> None:
    """Keeps the points of a ranking computed for `day` as that day's, unless the day's kept
    points come from newer data (the last computation of a day holds its latest reports)."""
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    row = {"data_as_of": data_as_of, "points": {str(u): p for u, p in points.items()}}
    statement = insert(KeptRankingDay).values(parent_id=parent_id, rule_key=key, day=day, **row)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["parent_id", "rule_key", "day"],
            set_=row,
            where=KeptRankingDay.data_as_of <= statement.excluded.data_as_of,
        )
    )


async def kept_ranking_day(
    session: AsyncSession, parent_id: int, key: str, day: date
) -> dict[int, float | None] | None:
    """Unit id → points (None: no score) of the ranking below `parent_id` kept for `day` with
    the rule `key`; None when none was kept that day (or with another rule)."""
    points = await session.scalar(
        select(KeptRankingDay.points).where(
            KeptRankingDay.parent_id == parent_id,
            KeptRankingDay.rule_key == key,
            KeptRankingDay.day == day,
        )
    )
    if points is None:
        return None
    return {int(u): p for u, p in points.items()}


async def prune_ranking_days(session: AsyncSession, before: date) -> int:
    """Forgets the kept points of the days before `before`."""
    result = await session.execute(delete(KeptRankingDay).where(KeptRankingDay.day < before))
    return result.rowcount or 0  # type: ignore[attr-defined]


async def kept_keys(session: AsyncSession, key: str) -> list[tuple[int, date, datetime]]:
    """(unit id, day, data as of) of every ranking kept for the rule, oldest data first."""
    rows = await session.execute(
        select(KeptRanking.parent_id, KeptRanking.day, KeptRanking.data_as_of)
        .where(KeptRanking.rule_key == key)
        .order_by(KeptRanking.data_as_of)
    )
    return [(pid, day, as_of) for pid, day, as_of in rows.all()]


async def drop_other_rules(session: AsyncSession, key: str) -> int:
    """Forgets rankings scored with another configuration (they can never be shown)."""
    result = await session.execute(delete(KeptRanking).where(KeptRanking.rule_key != key))
    return result.rowcount or 0  # type: ignore[attr-defined]


async def changed_since(
    session: AsyncSession, root_ids: list[int], since: datetime
) -> dict[int, datetime]:
    """Root id → when a report under it last changed (sent, corrected, reopened, approved),
    for the roots with a change after `since`. Reads only the reports changed since then."""
    if not root_ids:
        return {}
    up = aliased(UnitAncestor)
    recent = (
        select(Submission.unit_id, Submission.updated_at)
        .where(Submission.updated_at > since)
        .subquery()
    )
    rows = await session.execute(
        select(up.ancestor_id, func.max(recent.c.updated_at))
        .select_from(recent)
        .join(up, up.unit_id == recent.c.unit_id)
        .where(up.ancestor_id.in_(root_ids))
        .group_by(up.ancestor_id)
    )
    return {root: at for root, at in rows.all()}
