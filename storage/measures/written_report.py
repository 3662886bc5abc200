"""What the written report reads besides totals, progress and completeness: the text answers
leaders gave in a period (difficulties, proposals, models), gathered by unit, and how many of
a form's sent reports the level above has approved."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.db.models import OrgUnit, Submission, SubmissionStatus, SubmissionValue
from storage.db.units import subtree_filter
from storage.plan.periods import Period
from storage.plan.text import vi_sort_key


@dataclass(frozen=True)
class TextAnswer:
    unit: str  # the unit's name
    parent: str  # the name of the unit above it ("" for the top)
    period_end: str  # ISO day of the report's period end (a quarter's months, in order)
    text: str


async def text_answers(
    session: AsyncSession, codes: list[str], scope: OrgUnit, period: Period
) -> dict[str, list[TextAnswer]]:
    """Indicator code → the sent, non-empty answers of units in `scope`'s subtree whose
    reports fall in `period`, by the parent's then the unit's name (Vietnamese order)."""
    if not codes:
        return {}
    parent = aliased(OrgUnit)
    rows = await session.execute(
        select(
            SubmissionValue.indicator_code,
            OrgUnit.name,
            parent.name,
            SubmissionValue.period_end,
            SubmissionValue.value_text,
        )
        .join(OrgUnit, OrgUnit.id == SubmissionValue.unit_id)
        .outerjoin(parent, parent.id == OrgUnit.parent_id)
        .where(
            SubmissionValue.indicator_code.in_(codes),
            SubmissionValue.submitted.is_(True),
            SubmissionValue.value_text.is_not(None),
            SubmissionValue.period_start >= period.start,
            SubmissionValue.period_end <= period.end,
            subtree_filter(scope.path),
        )
    )
    found: dict[str, list[TextAnswer]] = {code: [] for code in codes}
    for code, name, above, end, text in rows:
        if text and text.strip():
            found[code].append(TextAnswer(name, above or "", end.isoformat(), text.strip()))
    for answers in found.values():
        answers.sort(key=lambda a: (vi_sort_key(a.parent), vi_sort_key(a.unit), a.period_end))
    return found


async def approved_count(
    session: AsyncSession, form_code: str, period: Period, scope: OrgUnit
) -> int:
    """Sent reports of a form and period in `scope`'s subtree that are approved."""
    count = await session.scalar(
        select(func.count())
        .select_from(Submission)
        .join(OrgUnit, OrgUnit.id == Submission.unit_id)
        .where(
            Submission.form_code == form_code,
            Submission.period_key == period.key,
            Submission.status == SubmissionStatus.SUBMITTED,
            Submission.approved_at.is_not(None),
            subtree_filter(scope.path),
        )
    )
    return int(count or 0)
