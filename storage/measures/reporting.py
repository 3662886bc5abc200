"""Submissions: drafts saved answer by answer, sending, imports over sent values, a unit's
earlier answers. Approval and reopening: storage.measures.report_approval; what the audit
trail tells: storage.measures.report_audit."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import aggregates, answer_path
from storage.db.models import (
    AuditEntry,
    OrgUnit,
    Person,
    Submission,
    SubmissionStatus,
    SubmissionValue,
)
from storage.db.sessions import is_postgres
from storage.plan.catalog import Catalog, Form
from storage.plan.periods import Period, year_period

Answer = float | str | None
_MARK_VALUES_SENT = (
    update(SubmissionValue)
    .where(SubmissionValue.submission_id == bindparam("sid"))
    .values(submitted=True)
    .returning(
        SubmissionValue.indicator_code, SubmissionValue.value_num, SubmissionValue.value_text
    )
)


async def find_submission(
    session: AsyncSession, unit_id: int, form_code: str, period_key: str
) -> Submission | None:
    return await session.scalar(
        select(Submission).where(
            Submission.unit_id == unit_id,
            Submission.form_code == form_code,
            Submission.period_key == period_key,
        )
    )


async def get_or_create(
    session: AsyncSession, unit_id: int, form: Form, period: Period, now: datetime
) -> Submission:
    found = await find_submission(session, unit_id, form.code, period.key)
    return found or await new_draft(session, unit_id, form, period, now)


async def new_draft(
    session: AsyncSession, unit_id: int, form: Form, period: Period, now: datetime
) -> Submission:
    """A new draft of the unit's report (there is none yet), saved."""
    sub = draft_of(unit_id, form, period, now)
    session.add(sub)
    await session.flush()
    return sub


def draft_of(unit_id: int, form: Form, period: Period, now: datetime) -> Submission:
    """The new draft of the unit's report, not saved yet."""
    return Submission(
        unit_id=unit_id,
        form_code=form.code,
        period_key=period.key,
        period_start=period.start,
        period_end=period.end,
        status=SubmissionStatus.DRAFT,
        created_at=now,
        updated_at=now,
    )


async def answers(session: AsyncSession, submission_id: int) -> dict[str, Answer]:
    rows = await session.execute(
        select(
            SubmissionValue.indicator_code, SubmissionValue.value_num, SubmissionValue.value_text
        ).where(SubmissionValue.submission_id == submission_id)
    )
    return {code: (num if text is None else text) for code, num, text in rows.all()}


async def with_answers(
    session: AsyncSession, submission_id: int
) -> tuple[Submission | None, dict[str, Answer]]:
    """A submission and its answers in one statement (a turn of the report reads both)."""
    rows = (
        await session.execute(
            select(
                Submission,
                SubmissionValue.indicator_code,
                SubmissionValue.value_num,
                SubmissionValue.value_text,
            )
            .outerjoin(SubmissionValue, SubmissionValue.submission_id == Submission.id)
            .where(Submission.id == submission_id)
        )
    ).all()
    if not rows:
        return None, {}
    found = {code: (num if text is None else text) for _, code, num, text in rows if code}
    return rows[0][0], found


def as_text(value: Answer) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


async def save_answer(
    session: AsyncSession,
    catalog: Catalog,
    submission: Submission,
    indicator_code: str,
    value: Answer,
    person: Person,
    now: datetime,
    *,
    note: str | None = None,
) -> None:
    """Stores one answer at once; a change to a sent report goes to the audit trail, with
    `note` saying what asked for it and what confirmed it."""
    if submission.status != SubmissionStatus.SUBMITTED:
        await _upsert_value(session, submission, indicator_code, value)
        return
    row = await session.scalar(
        select(SubmissionValue).where(
            SubmissionValue.submission_id == submission.id,
            SubmissionValue.indicator_code == indicator_code,
        )
    )
    old: Answer = None
    counted: dict[str, Answer] = {}  # the value that counted before, if there was one
    if row is None:
        row = SubmissionValue(
            submission_id=submission.id,
            indicator_code=indicator_code,
            unit_id=submission.unit_id,
            period_start=submission.period_start,
            period_end=submission.period_end,
            submitted=True,
        )
        session.add(row)
    else:
        old = row.value_num if row.value_text is None else row.value_text
        counted[indicator_code] = old
    row.value_num = value if isinstance(value, float) else None
    row.value_text = value if isinstance(value, str) else None
    submission.updated_at = now
    # A new row counts even with no value: it is the unit's latest report of that stock.
    await aggregates.change_stocks(session, catalog, submission, counted, {indicator_code: value})
    if submission.status == SubmissionStatus.SUBMITTED and as_text(old) != as_text(value):
        if isinstance(value, float | None) and isinstance(old, float | None):
            await aggregates.add(
                session, catalog, submission, {indicator_code: (value or 0.0) - (old or 0.0)}
            )
        session.add(
            AuditEntry(
                submission_id=submission.id,
                action="edit",
                indicator_code=indicator_code,
                old_value=as_text(old),
                new_value=as_text(value),
                note=note,
                changed_by_id=person.id,
                changed_at=now,
            )
        )
    await session.flush()


async def _upsert_value(
    session: AsyncSession,
    submission: Submission,
    indicator_code: str,
    value: Answer,
    *,
    submitted: bool = False,
) -> None:
    """One statement for a draft's answer, new or changed."""
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    numbers = {
        "value_num": value if isinstance(value, float) else None,
        "value_text": value if isinstance(value, str) else None,
    }
    statement = insert(SubmissionValue).values(
        submission_id=submission.id,
        indicator_code=indicator_code,
        unit_id=submission.unit_id,
        period_start=submission.period_start,
        period_end=submission.period_end,
        submitted=submitted,
        **numbers,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["submission_id", "indicator_code"], set_=numbers
        )
    )


async def submit(
    session: AsyncSession,
    catalog: Catalog,
    submission: Submission,
    person: Person,
    now: datetime,
    *,
    late: bool,
    driver: answer_path.Turn | None = None,
) -> None:
    """Sends the report; one sent after its due date is accepted and marked late. `driver`:
    on the plain path's connection (storage/db/answer_path.py), the same work in its
    statements (`session` is then none)."""
    if driver is None:
        await _mark_sent(session, catalog, submission, person.id, now, late=late)
        return
    _sent(submission, person.id, now, late)
    values = await driver.mark_sent(submission)
    await aggregates.count_sent(driver.db, catalog, submission, values, driver.kept)


def _sent(submission: Submission, person_id: int | None, now: datetime, late: bool) -> None:
    submission.status = SubmissionStatus.SUBMITTED
    submission.submitted_at = now
    submission.submitted_by_id = person_id
    submission.late = late
    submission.reopened = False  # a late report reopened for her locks itself once sent
    submission.updated_at = now


async def _mark_sent(
    session: AsyncSession,
    catalog: Catalog,
    submission: Submission,
    person_id: int | None,
    now: datetime,
    *,
    late: bool,
) -> None:
    """The report counts from now on: its values are marked sent and added to the totals."""
    _sent(submission, person_id, now, late)
    session.add(
        AuditEntry(
            submission_id=submission.id, action="submit", changed_by_id=person_id, changed_at=now
        )
    )
    await session.flush()
    # The values marked sent and read back in one statement.
    rows = await session.execute(_MARK_VALUES_SENT, {"sid": submission.id})
    values = {code: (num if text is None else text) for code, num, text in rows.all()}
    db = aggregates.on_session(session)
    await aggregates.count_sent(db, catalog, submission, values, aggregates.deferred(session))


async def record_about(
    session: AsyncSession,
    catalog: Catalog,
    unit_id: int,
    form: Form,
    period: Period,
    values: dict[str, Answer],
    person: Person,
    now: datetime,
    *,
    late: bool,
) -> Answer:
    """An officer of the level above fills a form about one unit below (a yearly rating):
    sent at once; a later change is a correction in the audit trail. Returns the old answer
    of the first indicator given (None if there was none)."""
    sub = await get_or_create(session, unit_id, form, period, now)
    before = await answers(session, sub.id)
    for code, value in values.items():
        await save_answer(session, catalog, sub, code, value, person, now)
    if sub.status != SubmissionStatus.SUBMITTED:
        await submit(session, catalog, sub, person, now, late=late)
    first = next(iter(values), None)
    return before.get(first) if first else None


async def import_report(
    session: AsyncSession,
    catalog: Catalog,
    unit_id: int,
    form: Form,
    period: Period,
    values: dict[str, Answer],
    now: datetime,
) -> int:
    """A past report brought in from a workbook, sent as it is: each value that differs from
    what is stored gets an audit entry marked "import", and the kept totals follow, through
    the same paths as a report sent in chat. Returns how many values changed."""
    submission = await get_or_create(session, unit_id, form, period, now)
    old = await answers(session, submission.id)
    changed = {c: v for c, v in values.items() if c not in old or as_text(old[c]) != as_text(v)}
    sent = submission.status == SubmissionStatus.SUBMITTED
    for code, value in changed.items():
        await _upsert_value(session, submission, code, value, submitted=sent)
        session.add(
            AuditEntry(
                submission_id=submission.id,
                action="import",
                indicator_code=code,
                old_value=as_text(old.get(code)),
                new_value=as_text(value),
                changed_at=now,
            )
        )
    if not sent:
        # Whether a past report was late is not known: it is not counted as late.
        await _mark_sent(session, catalog, submission, None, now, late=False)
    elif changed:
        submission.updated_at = now
        deltas = {
            c: (v or 0.0) - (_number(old.get(c)) or 0.0)
            for c, v in changed.items()
            if isinstance(v, float | None)
        }
        await aggregates.add(session, catalog, submission, deltas)
        await aggregates.change_stocks(
            session, catalog, submission, {c: old[c] for c in changed if c in old}, changed
        )
    await session.flush()
    return len(changed)


def _number(value: Answer) -> float | None:
    return value if isinstance(value, float) else None


async def history(
    session: AsyncSession, unit_id: int, codes: list[str], before: date, periods: int = 12
) -> dict[str, list[tuple[date, Answer]]]:
    """The unit's sent answers of these indicators in its last `periods` reports before a date,
    newest first (hints, the form's rules and the outlier check); skipped answers left out."""
    if not codes:
        return {}
    rows = await session.execute(
        select(
            SubmissionValue.indicator_code,
            SubmissionValue.period_end,
            SubmissionValue.value_num,
            SubmissionValue.value_text,
        )
        .where(
            SubmissionValue.unit_id == unit_id,
            SubmissionValue.indicator_code.in_(codes),
            SubmissionValue.submitted.is_(True),
            SubmissionValue.period_end < before,
        )
        .order_by(SubmissionValue.period_end.desc())
        .limit(periods * len(codes))
    )
    out: dict[str, list[tuple[date, Answer]]] = {}
    for code, ended, num, text in rows.all():
        if num is not None or text is not None:
            out.setdefault(code, []).append((ended, num if text is None else text))
    return out


async def year_to_date(
    session: AsyncSession,
    catalog: Catalog,
    unit: OrgUnit,
    codes: list[str],
    today: date,
    *,
    driver: answer_path.Turn | None = None,
) -> dict[str, float]:
    """The unit's own totals of these flows (aggregation `sum`, not derived) since January,
    in one statement (`driver` as `submit`)."""
    year = year_period(today.year)
    db = aggregates.on_session(session) if driver is None else driver.db
    return await aggregates.own_flows(db, unit.id, codes, year.start, year.end)
