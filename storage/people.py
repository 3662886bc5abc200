"""Finding people for operators: by id, phone or name, and the demo's default person."""

from __future__ import annotations

import phonenumbers
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OrgUnit, Person, Role, Submission, SubmissionStatus
from storage.text import fold
from storage.units import subtree_filter


def normalize_phone(text: str) -> str | None:
    """A Vietnamese phone number as it is written at home ("0912345678"), whether typed
    "0912 345 678", "+84 912 345 678" or "84912345678"; None when it is not a phone number."""
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if number.country_code != 84:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in national if ch.isdigit())


async def find_person(session: AsyncSession, ref: str) -> list[Person]:
    """People matching an id, a phone number, or every word of a name."""
    ref = ref.strip()
    if ref.isdigit() and len(ref) < 9:
        person = await session.get(Person, int(ref))
        return [person] if person else []
    phone = normalize_phone(ref) if any(ch.isdigit() for ch in ref) else None
    by_phone = (
        await session.scalars(select(Person).where(Person.phone.in_({ref, phone or ref})))
    ).all()
    if by_phone:
        return list(by_phone)
    words = fold(ref).split()
    everyone = (await session.scalars(select(Person).where(Person.active.is_(True)))).all()
    return [p for p in everyone if words and all(w in fold(p.full_name).split() for w in words)]


async def people_under(session: AsyncSession, unit: OrgUnit) -> list[Person]:
    query = (
        select(Person)
        .join(OrgUnit, OrgUnit.id == Person.unit_id)
        .where(subtree_filter(unit.path), Person.active.is_(True))
        .order_by(OrgUnit.path, Person.id)
    )
    return list((await session.scalars(query)).all())


async def leader_yet_to_report(session: AsyncSession, period_key: str) -> Person | None:
    """A branch leader whose branch has not sent this period's report: the demo's default."""
    sent = select(Submission.unit_id).where(
        Submission.period_key == period_key, Submission.status == SubmissionStatus.SUBMITTED
    )
    return await session.scalar(
        select(Person)
        .where(Person.role == Role.BRANCH_LEADER, Person.unit_id.not_in(sent))
        .order_by(Person.id)
        .limit(1)
    )
