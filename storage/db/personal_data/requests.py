"""Requests to erase one's data made in chat (Decree 13/2023/NĐ-CP): recorded in the access
log so they are not lost in a chat nobody reads, and listed for the operator who erases
(`hoibot people erase-requests`, then `hoibot people erase`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import DataAccess, Person
from storage.db.people import Actor
from storage.db.personal_data.access import record_access

ERASE_REQUEST = "erase_request"


async def record_erase_request(
    session: AsyncSession, person: Person, words: str, now: datetime
) -> None:
    """Her request, with the words she wrote (what the officer checks with her)."""
    await record_access(
        session, Actor(person=person), ERASE_REQUEST, now, subject=person, detail=words[:200]
    )


async def open_erase_requests(
    session: AsyncSession, person: Person | None = None
) -> list[tuple[DataAccess, Person]]:
    """The first open request of each person not erased yet (of `person` only, if given)."""
    query = (
        select(DataAccess, Person)
        .join(Person, Person.id == DataAccess.subject_id)
        .where(DataAccess.action == ERASE_REQUEST, Person.erased_at.is_(None))
        .order_by(DataAccess.at, DataAccess.id)
    )
    if person is not None:
        query = query.where(Person.id == person.id)
    first: dict[int, tuple[DataAccess, Person]] = {}
    for entry, whose in (await session.execute(query)).all():
        first.setdefault(whose.id, (entry, whose))
    return list(first.values())
