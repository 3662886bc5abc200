"""A sent report's approval and its reopening: the level above approves it (it then counts
for targets that count only approved reports, and the unit can no longer change it) or
reopens it for correction; a reopened report locks itself again when the unit is done
(#19); an edit begun before an approval is void."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import (
    AuditEntry,
    Person,
    Submission,
    SubmissionStatus,
)


async def reopen(
    session: AsyncSession, submission: Submission, person: Person, now: datetime
) -> None:
    """A higher-level officer lets a unit correct a sent report: after its period closed, or
    after it was approved (the approval is lifted)."""
    submission.reopened = True
    submission.updated_at = now
    if submission.approved_at is not None:
        submission.approved_at = None
        submission.approved_by_id = None
        session.add(
            AuditEntry(
                submission_id=submission.id,
                action="unapprove",
                changed_by_id=person.id,
                changed_at=now,
            )
        )
    session.add(
        AuditEntry(
            submission_id=submission.id, action="reopen", changed_by_id=person.id, changed_at=now
        )
    )
    await session.flush()


async def approve(
    session: AsyncSession, submission: Submission, person: Person, now: datetime
) -> None:
    """The level above approves a sent report: it counts for targets that count only approved
    reports, and the unit can no longer change it until an officer reopens it."""
    submission.approved_at = now
    submission.approved_by_id = person.id
    submission.reopened = False
    submission.updated_at = now
    session.add(
        AuditEntry(
            submission_id=submission.id, action="approve", changed_by_id=person.id, changed_at=now
        )
    )
    await session.flush()


async def reopened(session: AsyncSession, unit_id: int) -> list[Submission]:
    """The unit's reports that an officer has reopened after their period closed: sent ones
    for correction, and ones never sent, for a late report."""
    return list(
        (
            await session.scalars(
                select(Submission).where(
                    Submission.unit_id == unit_id,
                    Submission.reopened.is_(True),
                    Submission.status.in_((SubmissionStatus.SUBMITTED, SubmissionStatus.DRAFT)),
                )
            )
        ).all()
    )


# ---- a reopened report locks itself again (#19) -------------------------------------------

_LOCK_ACTIONS = ("reopen", "unapprove", "relock", "approve", "edit")


async def relock(
    session: AsyncSession, submission: Submission, person: Person, now: datetime
) -> bool | None:
    """The unit is done correcting a report an officer reopened: it locks itself again, as
    the officer was told. If the reopening lifted an approval and nothing changed since, the
    approval is given back (by the officer who reopened it: True); if something changed, it
    stays locked until an officer approves it again (she sees the change at /duyet: False).
    A report reopened after its period closed is simply closed again (None)."""
    entries = (
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.submission_id == submission.id, AuditEntry.action.in_(_LOCK_ACTIONS))
            .order_by(AuditEntry.id.desc())
        )
    ).all()
    opened = next((e for e in entries if e.action == "reopen"), None)
    since = entries[: entries.index(opened)] if opened is not None else list(entries)
    lifted = opened is not None and any(
        e.action == "unapprove" and e.changed_at == opened.changed_at and e.id < opened.id
        for e in entries
    )
    changed = any(e.action == "edit" for e in since)
    submission.reopened = False
    submission.updated_at = now
    if not lifted:
        return None
    if not changed and opened is not None:
        submission.approved_at = now
        submission.approved_by_id = opened.changed_by_id
        action = "approve"
    else:
        action = "relock"
    session.add(
        AuditEntry(
            submission_id=submission.id, action=action, changed_by_id=person.id, changed_at=now
        )
    )
    await session.flush()
    return action == "approve"


async def relocked(session: AsyncSession, submission: Submission) -> bool:
    """Locked again after a reopening, waiting for an officer's approval: the last of its
    reopenings, relocks and approvals is a relock."""
    last = await session.scalar(
        select(AuditEntry.action)
        .where(
            AuditEntry.submission_id == submission.id,
            AuditEntry.action.in_(("reopen", "relock", "approve")),
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return last == "relock"


# ---- approvals an edit must not cross (#19) ------------------------------------------------


async def last_approval(session: AsyncSession, submission: Submission) -> int:
    """The audit id of the report's last approval (0: never approved): an edit begun before
    it is void, even if the report was reopened since."""
    found = await session.scalar(
        select(func.max(AuditEntry.id)).where(
            AuditEntry.submission_id == submission.id, AuditEntry.action == "approve"
        )
    )
    return int(found or 0)


def relocked_ids() -> Select[Any]:
    """The ids of reports locked again after a reopening, waiting for an officer's approval
    (the last of their reopenings, relocks and approvals is a relock), as a subquery."""
    last = (
        select(AuditEntry.submission_id, func.max(AuditEntry.id).label("last"))
        .where(AuditEntry.action.in_(("reopen", "relock", "approve")))
        .group_by(AuditEntry.submission_id)
        .subquery()
    )
    return (
        select(AuditEntry.submission_id)
        .join(last, AuditEntry.id == last.c.last)
        .where(AuditEntry.action == "relock")
    )
