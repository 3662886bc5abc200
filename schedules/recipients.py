"""Whom a reminder or a digest is for: the leaders of units that have not sent a report,
and the accounts each person can be written to on."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from schedules.calendar import Window
from storage.db.models import (
    AuditEntry,
    ChannelIdentity,
    OrgUnit,
    Person,
    Submission,
    SubmissionStatus,
)
from storage.db.sessions import among
from storage.db.units import active_on, subtree_filter
from storage.plan.catalog import Form


class Leader(NamedTuple):
    """The person to remind for a unit (columns, not ORM objects: there may be 100,000)."""

    person_id: int
    name: str
    unit_id: int
    unit_name: str


class Reopened(NamedTuple):
    """A leader owed a late report an officer reopened after its period closed: which period,
    and when it was (last) reopened."""

    leader: Leader
    period_key: str
    reopened_at: datetime


class Account(NamedTuple):
    person_id: int
    channel: str
    chat_id: str


# ---- queries ------------------------------------------------------------------------------


async def unreported_leaders(
    session: AsyncSession, form: Form, win: Window, role: str, within: OrgUnit | None = None
) -> list[Leader]:
    """Leaders of units that should report this form and period and have not sent it."""
    sent = exists().where(
        Submission.unit_id == OrgUnit.id,
        Submission.form_code == form.code,
        Submission.period_key == win.period.key,
        Submission.status == SubmissionStatus.SUBMITTED,
    )
    query = (
        select(Person.id, Person.full_name, OrgUnit.id, OrgUnit.name)
        .join(OrgUnit, OrgUnit.id == Person.unit_id)
        .where(
            Person.role == role,
            Person.active.is_(True),
            OrgUnit.level == form.level,
            active_on(win.period.start, win.period.end),
            ~sent,
        )
        .order_by(Person.id)
    )
    if within is not None:
        query = query.where(subtree_filter(within.path))
    return [Leader(*row) for row in (await session.execute(query)).all()]


async def reopened_unsent(
    session: AsyncSession, form: Form, role: str, today: date
) -> list[Reopened]:
    """Leaders of units whose report of `form` an officer reopened after its period closed,
    for a late report, and who have not sent it yet (a reopened report she sends, or that
    is closed again, is owed no more). Few rows: drafts of past periods, by the index on
    (status, period)."""
    reopened_at = (
        select(func.max(AuditEntry.changed_at))
        .where(AuditEntry.submission_id == Submission.id, AuditEntry.action == "reopen")
        .scalar_subquery()
    )
    query = (
        select(Person.id, Person.full_name, OrgUnit.id, OrgUnit.name, Submission.period_key)
        .add_columns(reopened_at)
        .join(OrgUnit, OrgUnit.id == Submission.unit_id)
        .join(Person, Person.unit_id == OrgUnit.id)
        .where(
            Submission.status == SubmissionStatus.DRAFT,
            Submission.period_start < today,  # with the next: a range of that index
            Submission.period_end < today,
            Submission.form_code == form.code,
            Submission.reopened.is_(True),
            Person.role == role,
            Person.active.is_(True),
        )
        .order_by(Person.id, Submission.period_key)
    )
    rows = (await session.execute(query)).all()
    return [Reopened(Leader(*row[:4]), row[4], row[5]) for row in rows if row[5] is not None]


async def reachable_accounts(
    session: AsyncSession, person_ids: list[int]
) -> dict[int, list[Account]]:
    accounts: dict[int, list[Account]] = defaultdict(list)
    for start in range(0, len(person_ids), 5000):
        chunk = person_ids[start : start + 5000]
        rows = await session.execute(
            select(ChannelIdentity.person_id, ChannelIdentity.channel, ChannelIdentity.chat_id)
            .where(
                among(session, ChannelIdentity.person_id, chunk),
                ChannelIdentity.unreachable.is_(False),
            )
            .order_by(ChannelIdentity.id)
        )
        for row in rows.all():
            accounts[row[0]].append(Account(*row))
    return accounts


def choose_account(
    preferred: str | None, last: str | None, accounts: list[Account]
) -> Account | None:
    """Her preferred channel if set, else the one she used last, else any."""
    for wanted in (preferred, last):
        for account in accounts:
            if wanted and account.channel == wanted:
                return account
    return accounts[0] if accounts else None
