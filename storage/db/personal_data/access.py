"""Who looked at or handled whose personal data: recorded at each look, listed by a
command."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import (
    DataAccess,
    Person,
)
from storage.db.people import Actor


async def record_access(
    session: AsyncSession,
    by: Actor,
    action: str,
    now: datetime,
    *,
    subject: Person | None = None,
    detail: str | None = None,
) -> None:
    session.add(
        DataAccess(
            at=now,
            action=action,
            by_person_id=by.person.id if by.person is not None else None,
            by_operator=by.operator,
            subject_id=subject.id if subject is not None else None,
            detail=detail,
        )
    )
    await session.flush()


async def access_log(
    session: AsyncSession,
    *,
    since: datetime | None = None,
    subject: Person | None = None,
    limit: int = 500,
) -> list[tuple[DataAccess, Person | None, Person | None]]:
    """Entries newest first, with who looked (a person in chat) and whose data it was."""
    query = select(DataAccess).order_by(DataAccess.at.desc(), DataAccess.id.desc()).limit(limit)
    if since is not None:
        query = query.where(DataAccess.at >= since)
    if subject is not None:
        query = query.where(DataAccess.subject_id == subject.id)
    rows = (await session.scalars(query)).all()
    ids = {i for r in rows for i in (r.by_person_id, r.subject_id) if i is not None}
    people = (
        {p.id: p for p in (await session.scalars(select(Person).where(Person.id.in_(ids)))).all()}
        if ids
        else {}
    )
    return [(r, people.get(r.by_person_id or -1), people.get(r.subject_id or -1)) for r in rows]
