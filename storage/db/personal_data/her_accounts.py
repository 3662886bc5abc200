"""Her chat accounts and what they reach: the messages owed or sent to her, and her messages
not handled yet. What `export` lists and `erase` removes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import (
    ChannelIdentity,
    OutboxMessage,
    PendingUpdate,
    Person,
)


async def chats_of(session: AsyncSession, person: Person) -> list[tuple[str, str, str]]:
    """(channel, external id, chat id) of her accounts."""
    rows = await session.execute(
        select(ChannelIdentity.channel, ChannelIdentity.external_id, ChannelIdentity.chat_id).where(
            ChannelIdentity.person_id == person.id
        )
    )
    return [tuple(r) for r in rows.all()]  # type: ignore[misc]


def messages_to_her(person: Person, chats: list[tuple[str, str, str]]) -> Any:
    """Outbox rows of hers: queued for her, or replies to one of her chats before she joined."""
    conditions = [OutboxMessage.person_id == person.id]
    for channel, _, chat in chats:
        conditions.append((OutboxMessage.channel == channel) & (OutboxMessage.chat_id == chat))
    return or_(*conditions)


async def pending_from(
    session: AsyncSession, chats: list[tuple[str, str, str]]
) -> list[PendingUpdate]:
    if not chats:
        return []
    rows = (
        await session.scalars(
            select(PendingUpdate).where(PendingUpdate.channel.in_({c for c, _, _ in chats}))
        )
    ).all()
    mine = {(c, x) for c, x, _ in chats} | {(c, chat) for c, _, chat in chats}
    return [
        r
        for r in rows
        if (r.channel, str((r.payload or {}).get("user_id"))) in mine
        or (r.channel, str((r.payload or {}).get("chat_id"))) in mine
    ]
