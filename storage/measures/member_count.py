"""A unit's member count as a per-member answer is checked against (storage/plan/validation.py):
its latest sent member total (the indicator marked `member_total`) before a period, else the
count registered with the unit. A leader's own report is newer than the units file."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import OrgUnit, Submission, SubmissionValue
from storage.plan.catalog import Catalog
from storage.plan.periods import from_key
from storage.plan.validation import Members


async def latest_members(
    session: AsyncSession, catalog: Catalog, unit: OrgUnit, before: date
) -> Members | None:
    """The unit's members as last reported in a period ending before `before`, else as
    registered; None when neither is known (no check is made then)."""
    code = catalog.member_total
    latest = await latest_member_total(session, code, unit.id, before) if code else None
    return members_of(catalog, unit, latest)


async def latest_member_total(
    session: AsyncSession, code: str, unit_id: int, before: date
) -> tuple[float, str] | None:
    """The unit's latest sent member total (`code`) of a period ending before `before`, and
    that period's key. (storage/db/opening_path.py runs the same statement on the driver.)"""
    # One probe of ix_submission_values_latest (indicator, unit, period end), newest first.
    found = (
        await session.execute(
            select(SubmissionValue.value_num, Submission.period_key)
            .join(Submission, Submission.id == SubmissionValue.submission_id)
            .where(
                SubmissionValue.indicator_code == code,
                SubmissionValue.unit_id == unit_id,
                SubmissionValue.period_end < before,
                SubmissionValue.submitted.is_(True),
                SubmissionValue.value_num > 0,  # 0 counts no one, as in own_members
            )
            .order_by(SubmissionValue.period_end.desc(), SubmissionValue.period_start.desc())
            .limit(1)
        )
    ).first()
    if found is None or found.value_num is None:
        return None
    return found.value_num, found.period_key


def members_of(catalog: Catalog, unit: OrgUnit, latest: tuple[float, str] | None) -> Members | None:
    """The member count from the latest sent total (value, period key), else the unit's
    registered count."""
    if latest is not None:
        return Members(latest[0], "earlier_report", from_key(latest[1], catalog.terms))
    if unit.member_count:
        return Members(float(unit.member_count), "registered")
    return None
