"""The statements of a turn's hot path: claim the update, find the sender and lock her
conversation, each one round trip where the database allows it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import (
    ChannelIdentity,
    Conversation,
    OrgUnit,
    OutboxMessage,
    PendingUpdate,
    Person,
    ProcessedUpdate,
)
from storage.db.sessions import is_postgres

Sender = tuple[ChannelIdentity, Person, OrgUnit]


async def claim_update(
    session: AsyncSession, channel: str, key: str, now: datetime, *, stored: bool
) -> None:
    """Marks the update handled (a repeat fails on the key, rolling the turn back) and drops
    its stored copy (`stored`: a worker's intake kept one) in the same transaction."""
    claim = insert(ProcessedUpdate).values(channel=channel, key=key, at=now)
    if not stored:
        await session.execute(claim)
        return
    drop = delete(PendingUpdate).where(PendingUpdate.channel == channel, PendingUpdate.key == key)
    if is_postgres(session):
        await session.execute(claim.add_cte(drop.cte("dropped")))  # one round trip
    else:
        await session.execute(claim)
        await session.execute(drop)


def _sender_query(channel: str, external_id: str):  # type: ignore[no-untyped-def]
    return (
        select(ChannelIdentity, Person, OrgUnit)
        .join(Person, Person.id == ChannelIdentity.person_id)
        .join(OrgUnit, OrgUnit.id == Person.unit_id)
        .where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id)
    )


async def sender_with_conversation(
    session: AsyncSession, channel: str, external_id: str, now: datetime
) -> tuple[Sender | None, Conversation | None]:
    """The sender's account, person and unit, and her conversation locked (PostgreSQL: FOR
    UPDATE, so two workers never interleave her steps); one statement for anyone who has
    talked before. The conversation is created for an active person who has none; an
    unknown or inactive sender gets none."""
    found = (
        await session.execute(
            _sender_query(channel, external_id)
            .add_columns(Conversation)
            .join(Conversation, Conversation.person_id == Person.id)
            .with_for_update(of=Conversation)
        )
    ).first()
    if found is not None:
        account, person, unit, conversation = found
        return (account, person, unit), conversation if person.active else None
    sender = (await session.execute(_sender_query(channel, external_id))).first()
    if sender is None or not sender[1].active:
        return (tuple(sender) if sender else None), None  # type: ignore[return-value]
    return tuple(sender), await conversation_of(session, sender[1].id, now)  # type: ignore[return-value]


async def conversation_of(session: AsyncSession, person_id: int, now: datetime) -> Conversation:
    """Her conversation, locked; created if she has none."""
    query = select(Conversation).where(Conversation.person_id == person_id).with_for_update()
    found = await session.scalar(query)
    if found is None:
        found = Conversation(person_id=person_id, data={}, updated_at=now)
        session.add(found)
        await session.flush()
    return found


async def reminded_since(
    session: AsyncSession, person_id: int, since: datetime
) -> tuple[str, str] | None:
    """(form, period) of a reminder or a nudge queued to her after `since` (her conversation's
    last turn): a message she sends now answers it. None if the bot said nothing since."""
    key = await session.scalar(
        select(OutboxMessage.key)
        .where(
            OutboxMessage.person_id == person_id,
            OutboxMessage.kind.in_(("reminder", "nudge")),
            OutboxMessage.created_at > since,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    parts = key.split(":") if key else []
    return (parts[2], parts[3]) if len(parts) > 3 else None


async def unit_conversations(session: AsyncSession, unit_id: int, flow: str) -> list[Conversation]:
    """The conversations of a unit's active people that are in `flow` (the level above asks
    whether she is in the middle of something before it acts on her unit's report)."""
    found = await session.scalars(
        select(Conversation)
        .join(Person, Person.id == Conversation.person_id)
        .where(Person.unit_id == unit_id, Person.active.is_(True), Conversation.flow == flow)
    )
    return list(found.all())
