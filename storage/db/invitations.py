"""Invitation codes that link a chat account to a person, and the accounts themselves."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import ChannelIdentity, CodeAttempt, Invitation, Person

# Crockford's base32 without look-alikes (no I, L, O, U): 10 characters ≈ 50 bits, typed on a
# phone in three groups (K7PM-2XQD-9R), and valid as a Telegram deep-link payload.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10
MAX_WRONG = 5
WRONG_WINDOW = timedelta(minutes=15)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def pretty(code: str) -> str:
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def normalise_code(text: str) -> str | None:
    """The code inside what she typed or the deep link carried, or None if it cannot be one."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


async def create_invitation(
    session: AsyncSession, person: Person, now: datetime, days: int
) -> Invitation:
    invitation = Invitation(
        code=new_code(), person_id=person.id, created_at=now, expires_at=now + timedelta(days=days)
    )
    session.add(invitation)
    await session.flush()
    return invitation


async def invitation_for(
    session: AsyncSession, person: Person, now: datetime, days: int, *, renew: bool = False
) -> tuple[Invitation, bool]:
    """The person's invitation: her unused, unexpired one if she has it (so a second run hands
    out the same code), else a new one; `renew` ends the unused ones and issues a new code.
    Returns (invitation, whether it is new)."""
    if days < 1:
        raise ValueError("an invitation must stay valid at least one day")
    unused = (
        await session.scalars(
            select(Invitation)
            .where(
                Invitation.person_id == person.id,
                Invitation.used_at.is_(None),
                Invitation.expires_at > now,
            )
            .order_by(Invitation.expires_at.desc())
        )
    ).all()
    if unused and not renew:
        return unused[0], False
    for old in unused:
        old.expires_at = now  # redeem refuses a code whose expiry is past
    return await create_invitation(session, person, now, days), True


class Redeem(StrEnum):
    LINKED = "linked"
    ALREADY = "already"  # this account is linked to this person already
    OTHER_PERSON = "other_person"
    WRONG = "wrong"
    EXPIRED = "expired"
    USED = "used"
    TOO_MANY = "too_many"
    ERASED = "erased"  # the code of someone whose personal data was erased


@dataclass
class RedeemResult:
    outcome: Redeem
    person: Person | None = None


async def wrong_attempts(session: AsyncSession, channel: str, chat_id: str, now: datetime) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(CodeAttempt)
            .where(
                CodeAttempt.channel == channel,
                CodeAttempt.chat_id == chat_id,
                CodeAttempt.at > now - WRONG_WINDOW,
            )
        )
        or 0
    )


async def redeem(
    session: AsyncSession,
    text: str,
    *,
    channel: str,
    user_id: str,
    chat_id: str,
    now: datetime,
) -> RedeemResult:
    """Links the account to the invited person; wrong codes are counted per chat."""
    if await wrong_attempts(session, channel, chat_id, now) >= MAX_WRONG:
        return RedeemResult(Redeem.TOO_MANY)
    code = normalise_code(text)
    invitation = (
        await session.scalar(select(Invitation).where(Invitation.code == code)) if code else None
    )
    if invitation is None:
        session.add(CodeAttempt(channel=channel, chat_id=chat_id, at=now))
        return RedeemResult(Redeem.WRONG)
    person = await session.get(Person, invitation.person_id)
    if person is not None and person.erased_at is not None:
        return RedeemResult(Redeem.ERASED)
    existing = await identity(session, channel, user_id)
    if existing is not None:
        outcome = (
            Redeem.ALREADY if existing.person_id == invitation.person_id else (Redeem.OTHER_PERSON)
        )
        return RedeemResult(outcome, await session.get(Person, existing.person_id))
    if invitation.used_at is not None:
        return RedeemResult(Redeem.USED)
    if invitation.expires_at < now:
        return RedeemResult(Redeem.EXPIRED)
    invitation.used_at = now
    session.add(
        ChannelIdentity(
            person_id=invitation.person_id,
            channel=channel,
            external_id=user_id,
            chat_id=chat_id,
            linked_at=now,
            last_seen_at=now,
        )
    )
    await session.execute(
        delete(CodeAttempt).where(CodeAttempt.channel == channel, CodeAttempt.chat_id == chat_id)
    )
    await session.flush()
    return RedeemResult(Redeem.LINKED, person)


async def identity(session: AsyncSession, channel: str, user_id: str) -> ChannelIdentity | None:
    return await session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.external_id == user_id
        )
    )


async def link_directly(
    session: AsyncSession, person: Person, channel: str, user_id: str, now: datetime
) -> ChannelIdentity:
    """For the operator's terminal chat: no code, the operator vouches for the person."""
    found = await identity(session, channel, user_id)
    if found is None:
        found = ChannelIdentity(
            person_id=person.id,
            channel=channel,
            external_id=user_id,
            chat_id=user_id,
            linked_at=now,
        )
        session.add(found)
    found.person_id = person.id
    await session.flush()
    return found
