"""Whom a reminder or a digest is for: the leaders of units that have not sent a report,
and the accounts each person can be written to on."""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from schedules.calendar import Window
from storage.db.models import (
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
