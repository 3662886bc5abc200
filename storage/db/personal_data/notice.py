"""The notice told at joining (its text is the operator's: storage/plan/privacy_notice) and
her acceptance of it, with the time and a hash of the text she was shown."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import (
    NoticeAcceptance,
    Person,
)


def notice_text(template: str, days: int) -> str:
    return (
        template.replace("{{", "\x00")
        .replace("}}", "\x01")
        .replace("{days}", str(days))
        .replace("\x00", "{")
        .replace("\x01", "}")
    )


def notice_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


async def acceptance_of(session: AsyncSession, person_id: int) -> NoticeAcceptance | None:
    return await session.get(NoticeAcceptance, person_id)


async def record_shown(
    session: AsyncSession,
    person: Person,
    text: str,
    *,
    channel: str | None,
    now: datetime,
    at_joining: bool,
) -> NoticeAcceptance:
    """She is shown the notice (again: the time and text are updated, an acceptance kept)."""
    row = await acceptance_of(session, person.id)
    if row is None:
        row = NoticeAcceptance(person_id=person.id, asked_at_joining=at_joining)
        session.add(row)
    row.notice_hash, row.shown_at, row.channel = notice_hash(text), now, channel
    row.asked_at_joining = row.asked_at_joining or at_joining
    await session.flush()
    return row


async def record_accepted(
    session: AsyncSession, person: Person, text: str, *, channel: str | None, now: datetime
) -> NoticeAcceptance:
    row = await acceptance_of(session, person.id)
    if row is None:
        row = await record_shown(session, person, text, channel=channel, now=now, at_joining=False)
    if row.accepted_at is None:
        row.accepted_at, row.notice_hash, row.channel = now, notice_hash(text), channel
        await session.flush()
    return row
