"""What a report's audit trail tells: the doubtful values she confirmed (and why they were
doubtful), the values changed since it was sent (what an officer approving it sees), and the
whole trail."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import (
    AuditEntry,
    Person,
    Submission,
    SubmissionStatus,
    SubmissionValue,
)
from storage.measures.reporting import Answer, as_text


async def confirm(
    session: AsyncSession,
    submission: Submission,
    indicator_code: str,
    value: Answer,
    person: Person,
    now: datetime,
    note: str,
) -> None:
    """She confirmed a doubtful value: kept in the audit trail with what made it doubtful."""
    session.add(
        AuditEntry(
            submission_id=submission.id,
            action="confirm",
            indicator_code=indicator_code,
            new_value=as_text(value),
            note=note,
            changed_by_id=person.id,
            changed_at=now,
        )
    )
    await session.flush()


async def confirmations(session: AsyncSession, submission_id: int) -> set[tuple[str, str | None]]:
    """(indicator, value as text) pairs she confirmed in this report."""
    rows = await session.execute(
        select(AuditEntry.indicator_code, AuditEntry.new_value).where(
            AuditEntry.submission_id == submission_id, AuditEntry.action == "confirm"
        )
    )
    return {(code, value) for code, value in rows.all() if code}


@dataclass(frozen=True)
class ConfirmedDoubt:
    unit_id: int
    indicator_code: str
    value: str
    note: str


async def confirmed_doubts(
    session: AsyncSession, form_code: str, period_key: str
) -> list[ConfirmedDoubt]:
    """Doubtful values confirmed in the sent reports of a form and period (few), for the
    officers' look; a value changed since its confirmation is left out."""
    rows = await session.execute(
        select(
            Submission.unit_id,
            AuditEntry.indicator_code,
            AuditEntry.new_value,
            AuditEntry.note,
            SubmissionValue.value_num,
            SubmissionValue.value_text,
        )
        .join(AuditEntry, AuditEntry.submission_id == Submission.id)
        .join(
            SubmissionValue,
            (SubmissionValue.submission_id == Submission.id)
            & (SubmissionValue.indicator_code == AuditEntry.indicator_code),
        )
        .where(
            Submission.form_code == form_code,
            Submission.period_key == period_key,
            Submission.status == SubmissionStatus.SUBMITTED,
            AuditEntry.action == "confirm",
        )
        .order_by(Submission.unit_id, AuditEntry.id)
    )
    found: dict[tuple[int, str], ConfirmedDoubt] = {}
    for unit_id, code, confirmed, note, num, text in rows.all():
        # The join matches the code, so it is never None; a confirmed value is never empty.
        if (
            code is not None
            and confirmed is not None
            and confirmed == as_text(num if text is None else text)
        ):
            found[(unit_id, code)] = ConfirmedDoubt(unit_id, code, confirmed, note or "")
    return list(found.values())


@dataclass(frozen=True)
class Change:
    """A value of a sent report changed after it was sent."""

    indicator_code: str
    old: str | None
    new: str | None
    at: datetime
    by: str | None  # who changed it (None: an import)
    entry_id: int
    doubt: str | None = None  # the new value was doubtful and she confirmed it: why


async def changes_since_sent(session: AsyncSession, submission_id: int) -> list[Change]:
    """The values changed after the report was sent (edits, and imports over a sent value),
    since its last approval if it had one: what an officer approving it should see."""
    trail = await session.execute(
        select(AuditEntry, Person.full_name)
        .outerjoin(Person, Person.id == AuditEntry.changed_by_id)
        .where(AuditEntry.submission_id == submission_id)
        .order_by(AuditEntry.id)
    )
    changes: list[Change] = []
    for entry, name in trail.all():
        if entry.action == "approve":
            changes = []
        elif entry.action == "confirm" and changes:
            found = next(
                (
                    i
                    for i, c in reversed(list(enumerate(changes)))
                    if (c.indicator_code, c.new) == (entry.indicator_code, entry.new_value)
                ),
                None,
            )
            if found is not None:
                changes[found] = replace(changes[found], doubt=entry.note or "")
        elif entry.indicator_code and (
            entry.action == "edit" or (entry.action == "import" and entry.old_value is not None)
        ):
            changes.append(
                Change(
                    entry.indicator_code,
                    entry.old_value,
                    entry.new_value,
                    entry.changed_at,
                    name,
                    entry.id,
                )
            )
    return changes


async def audit_trail(session: AsyncSession, submission_id: int) -> list[AuditEntry]:
    return list(
        (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.submission_id == submission_id)
                .order_by(AuditEntry.id)
            )
        ).all()
    )
