"""People: finding them (by id, phone or name), listing them with where they have joined,
and changing them (edit, deactivate, a handover), each change audited in `person_changes`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import phonenumbers
from sqlalchemy import ColumnElement, and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import (
    ChannelIdentity,
    Conversation,
    Invitation,
    NoticeAcceptance,
    OrgUnit,
    Person,
    PersonChange,
    ReminderSnooze,
    Role,
    Submission,
    SubmissionStatus,
)
from storage.db.sessions import among
from storage.db.units import subtree_filter, units_by_id
from storage.plan.catalog import Catalog
from storage.plan.text import fold, person_sort_key, tidy, vi_sort_key


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


async def find_person(
    session: AsyncSession, ref: str, *, include_inactive: bool = False
) -> list[Person]:
    """People matching an id, a phone number, or every word of a name (of active people,
    unless `include_inactive`)."""
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
    query = select(Person) if include_inactive else select(Person).where(Person.active.is_(True))
    everyone = (await session.scalars(query)).all()
    return [p for p in everyone if words and all(w in fold(p.full_name).split() for w in words)]


async def people_under(session: AsyncSession, unit: OrgUnit) -> list[Person]:
    query = (
        select(Person)
        .join(OrgUnit, OrgUnit.id == Person.unit_id)
        .where(subtree_filter(unit.path), Person.active.is_(True))
        .order_by(OrgUnit.path, Person.id)
    )
    return list((await session.scalars(query)).all())


async def active_of_unit(session: AsyncSession, unit_id: int, role: str) -> list[Person]:
    """The active people of one unit with this role (its leader, or two in a handover)."""
    query = select(Person).where(
        Person.unit_id == unit_id, Person.role == role, Person.active.is_(True)
    )
    return list((await session.scalars(query.order_by(Person.id))).all())


async def leader_yet_to_report(
    session: AsyncSession, open_reports: list[tuple[str, str]]
) -> Person | None:
    """A branch leader (who has joined or not) whose branch has sent none of these open
    reports (form code, period key): the demo's default, so /baocao opens a report to fill."""
    query = select(Person).where(Person.role == Role.BRANCH_LEADER, Person.active.is_(True))
    for form_code, period_key in open_reports:
        sent = select(Submission.unit_id).where(
            Submission.form_code == form_code,
            Submission.period_key == period_key,
            Submission.status == SubmissionStatus.SUBMITTED,
        )
        query = query.where(Person.unit_id.not_in(sent))
    return await session.scalar(query.order_by(Person.id).limit(1))


# ---- the people of an office: listing, changes and their audit -----------------------------

# Channels a person joins with an invitation; the operator's terminal chat is not one.
JOIN_CHANNELS = ("telegram", "zalo")


class PeopleError(Exception):
    """A change to a person that cannot be made as asked. `reason` (bad_phone, phone_taken,
    role_misfit, unknown_role, no_name, inactive), `subject` and `details` let the command line
    and the chat each say it in their own words."""

    def __init__(self, reason: str, subject: str = "", details: list[str] | None = None) -> None:
        super().__init__(f"{reason}: {subject}")
        self.reason, self.subject, self.details = reason, subject, details or []


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a person in chat, or an operator at the command line."""

    person: Person | None = None
    operator: str | None = None

    @property
    def label(self) -> str:
        if self.person is not None:
            return f"#{self.person.id} {self.person.full_name}"
        return self.operator or "?"


@dataclass
class PersonRow:
    """One line of `listing`: a person, her unit and its path, and where she has joined."""

    person: Person
    unit: OrgUnit
    path: list[OrgUnit]  # from the top down to her unit's parent
    channels: list[tuple[str, datetime]] = field(default_factory=list)  # (channel, linked at)
    last_seen: datetime | None = None

    @property
    def joined(self) -> bool:
        return bool(self.channels)


async def listing(
    session: AsyncSession,
    *,
    under: OrgUnit | None = None,
    role: str | None = None,
    not_joined: bool = False,
    include_inactive: bool = False,
) -> list[PersonRow]:
    """The people of a subtree (or everyone) with their unit, its path and the channels they
    joined, unit by unit in Vietnamese order, then by given name. The CLI's `people list`
    and the staff's "chưa kết nối" both read it."""
    query = select(Person, OrgUnit).join(OrgUnit, OrgUnit.id == Person.unit_id)
    if under is not None:
        query = query.where(subtree_filter(under.path))
    if role is not None:
        query = query.where(Person.role == role)
    if not include_inactive:
        query = query.where(Person.active.is_(True))
    found = (await session.execute(query)).all()
    ids = [p.id for p, _ in found]
    channels: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    seen: dict[int, datetime] = {}
    for start in range(0, len(ids), 5000):
        rows = await session.execute(
            select(
                ChannelIdentity.person_id,
                ChannelIdentity.channel,
                ChannelIdentity.linked_at,
                ChannelIdentity.last_seen_at,
            ).where(
                among(session, ChannelIdentity.person_id, ids[start : start + 5000]),
                ChannelIdentity.channel.in_(JOIN_CHANNELS),
            )
        )
        for pid, channel, linked, last in rows.all():
            channels[pid].append((channel, linked))
            if last is not None and (pid not in seen or last > seen[pid]):
                seen[pid] = last
    above = {int(i) for _, u in found for i in u.path.strip("/").split("/")[:-1]}
    by_id = await units_by_id(session, sorted(above))
    out = []
    for person, unit in found:
        if not_joined and channels.get(person.id):
            continue
        path = [by_id[int(i)] for i in unit.path.strip("/").split("/")[:-1] if int(i) in by_id]
        out.append(
            PersonRow(person, unit, path, sorted(channels.get(person.id, [])), seen.get(person.id))
        )
    out.sort(
        key=lambda r: (
            [vi_sort_key(u.name) for u in [*r.path, r.unit]],
            Role.ALL.index(r.person.role) if r.person.role in Role.ALL else 99,
            person_sort_key(r.person.full_name),
        )
    )
    return out


class Joined(NamedTuple):
    joined: int  # joined on a channel
    total: int  # active people of the role
    waiting: int  # of those joined, still to accept the personal-data notice


async def joined_count(session: AsyncSession, under: OrgUnit, role: str) -> Joined:
    """How many active people of this role under the unit have joined, of how many, and how
    many of them the bot still waits on to accept the personal-data notice."""
    people = (
        select(Person.id)
        .join(OrgUnit, OrgUnit.id == Person.unit_id)
        .where(subtree_filter(under.path), Person.role == role, Person.active.is_(True))
    )
    total = await session.scalar(select(func.count()).select_from(people.subquery()))
    on_a_channel = (
        ChannelIdentity.person_id.in_(people),
        ChannelIdentity.channel.in_(JOIN_CHANNELS),
    )
    joined = await session.scalar(
        select(func.count(func.distinct(ChannelIdentity.person_id))).where(*on_a_channel)
    )
    joined_ids = select(ChannelIdentity.person_id).where(*on_a_channel)
    waiting = await session.scalar(
        select(func.count())
        .select_from(NoticeAcceptance)
        .where(NoticeAcceptance.person_id.in_(joined_ids), _waits_on_notice())
    )
    return Joined(int(joined or 0), int(total or 0), int(waiting or 0))


def _waits_on_notice() -> ColumnElement[bool]:
    return and_(NoticeAcceptance.asked_at_joining.is_(True), NoticeAcceptance.accepted_at.is_(None))


async def awaiting_notice(session: AsyncSession) -> set[int]:
    """People who joined with a code and have not accepted the personal-data notice: the bot
    waits for her «Đồng ý» before anything else (handlers/privacy.py), so it sends her
    nothing about reports either (Decree 13/2023/NĐ-CP). Few at any time: read at once.
    (Someone who joined before the notice existed is told it once and is not waited on.)"""
    rows = await session.scalars(select(NoticeAcceptance.person_id).where(_waits_on_notice()))
    return set(rows.all())


def fields_of(person: Person, unit_code: str | None) -> dict[str, Any]:
    """A person's own fields as the audit keeps them."""
    return {
        "full_name": person.full_name,
        "phone": person.phone,
        "role": person.role,
        "unit": unit_code,
        "active": person.active,
    }


async def snapshot(session: AsyncSession, person: Person) -> dict[str, Any]:
    """What the audit keeps of a person before and after a change: her fields and the
    channels she has joined."""
    unit = await session.get(OrgUnit, person.unit_id)
    joined = (
        await session.scalars(
            select(ChannelIdentity.channel).where(ChannelIdentity.person_id == person.id)
        )
    ).all()
    return fields_of(person, unit.code if unit else None) | {"channels": sorted(set(joined))}


async def record_change(
    session: AsyncSession,
    person: Person,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    by: Actor,
    now: datetime,
    note: str | None = None,
) -> PersonChange:
    """One audit entry (other modules record theirs here too: an export, an erasure)."""
    change = PersonChange(
        person_id=person.id,
        action=action,
        before=before,
        after=after,
        by_person_id=by.person.id if by.person is not None else None,
        by_operator=by.operator,
        note=note,
        changed_at=now,
    )
    session.add(change)
    await session.flush()
    return change


async def changes_of(session: AsyncSession, person: Person) -> list[PersonChange]:
    return list(
        (
            await session.scalars(
                select(PersonChange)
                .where(PersonChange.person_id == person.id)
                .order_by(PersonChange.id)
            )
        ).all()
    )


def role_misfit(catalog: Catalog, role: str, unit: OrgUnit, levels_present: set[str]) -> str | None:
    """Why a role does not fit its unit's level (the level whose `role` it is), or None."""
    if role == Role.ADMIN:
        return None
    level = next((lv.code for lv in catalog.levels if lv.role == role), None)
    if level is None:
        return f"no level of hierarchy.yaml has the role {role}"
    if unit.level == level:
        return None
    if level not in levels_present:
        return f"a {role} belongs to a {level}, and this province has no {level} units"
    return f"a {role} belongs to a {level}; {unit.code} is a {unit.level}"


async def _checked_phone(
    session: AsyncSession, text: str | None, person: Person | None
) -> str | None:
    """The phone as stored, refused when it is no phone or another person's."""
    if not text:
        return None
    phone = normalize_phone(text)
    if phone is None:
        raise PeopleError("bad_phone", text)
    owner = await session.scalar(
        select(Person).where(
            Person.phone == phone,
            Person.active.is_(True),
            Person.id != (person.id if person else -1),
        )
    )
    if owner is not None:
        unit = await session.get(OrgUnit, owner.unit_id)
        raise PeopleError("phone_taken", phone, [owner.full_name, unit.code if unit else "?"])
    return phone


async def _check_role(session: AsyncSession, catalog: Catalog, role: str, unit: OrgUnit) -> None:
    if role not in Role.ALL:
        raise PeopleError("unknown_role", role, list(Role.ALL))
    levels = set((await session.scalars(select(OrgUnit.level).distinct())).all())
    misfit = role_misfit(catalog, role, unit, levels)
    if misfit:
        raise PeopleError("role_misfit", role, [misfit])


def _checked_name(text: str) -> str:
    name = tidy(text)
    if not name or any(ch.isdigit() for ch in name):
        raise PeopleError("no_name", text)
    return name


async def create_person(
    session: AsyncSession,
    catalog: Catalog,
    *,
    name: str,
    phone: str | None,
    role: str,
    unit: OrgUnit,
    by: Actor,
    now: datetime,
    note: str | None = None,
) -> Person:
    full_name = _checked_name(name)
    await _check_role(session, catalog, role, unit)
    stored = await _checked_phone(session, phone, None)
    person = Person(full_name=full_name, phone=stored, role=role, unit_id=unit.id, created_at=now)
    session.add(person)
    await session.flush()
    await record_change(
        session, person, "create", None, await snapshot(session, person), by, now, note
    )
    return person


async def edit_person(
    session: AsyncSession,
    catalog: Catalog,
    person: Person,
    *,
    by: Actor,
    now: datetime,
    name: str | None = None,
    phone: str | None = None,
    role: str | None = None,
    unit: OrgUnit | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Changes what is given; returns {field: (before, after)} of what changed (audited).
    Moving her to another unit ends her tracker links (they are signed with her unit)."""
    if not person.active:
        raise PeopleError("inactive", person.full_name)
    before = await snapshot(session, person)
    new_unit = unit or await session.get(OrgUnit, person.unit_id)
    assert new_unit is not None
    if name is not None:
        person.full_name = _checked_name(name)
    if phone is not None:
        person.phone = await _checked_phone(session, phone, person) if phone.strip() else None
    if role is not None or unit is not None:
        await _check_role(session, catalog, role or person.role, new_unit)
        person.role = role or person.role
        person.unit_id = new_unit.id
    await session.flush()
    after = await snapshot(session, person)
    changed = {k: (before[k], after[k]) for k in after if before.get(k) != after[k]}
    if changed:
        await record_change(session, person, "edit", before, after, by, now)
    return changed


async def deactivate(
    session: AsyncSession,
    person: Person,
    *,
    by: Actor,
    now: datetime,
    action: str = "deactivate",
    note: str | None = None,
) -> None:
    """She no longer uses the bot: her chat accounts are unlinked, her unused invitations
    end, and her tracker links stop working (they need an active person). What she reported
    stays her unit's, drafts included."""
    if not person.active:
        raise PeopleError("inactive", person.full_name)
    before = await snapshot(session, person)
    person.active = False
    await session.execute(delete(ChannelIdentity).where(ChannelIdentity.person_id == person.id))
    await session.execute(
        update(Invitation)
        .where(
            Invitation.person_id == person.id,
            Invitation.used_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(expires_at=now)
    )
    await session.execute(delete(ReminderSnooze).where(ReminderSnooze.person_id == person.id))
    conversation = await session.get(Conversation, person.id)
    if conversation is not None:
        conversation.flow, conversation.step, conversation.data = None, None, {}
        conversation.updated_at = now
    await session.flush()
    await record_change(
        session, person, action, before, await snapshot(session, person), by, now, note
    )


async def check_newcomer(
    session: AsyncSession, name: str, phone: str | None, replacing: Person | None
) -> tuple[str, str | None]:
    """The name and phone of someone about to take over, as they will be stored (PeopleError
    when they cannot be): checked before a handover is confirmed."""
    full_name = _checked_name(name)
    if replacing is not None and phone and normalize_phone(phone) == replacing.phone:
        unit = await session.get(OrgUnit, replacing.unit_id)
        taken = [replacing.full_name, unit.code if unit else "?"]
        raise PeopleError("phone_taken", replacing.phone or phone, taken)
    return full_name, await _checked_phone(session, phone, replacing)


async def replace(
    session: AsyncSession,
    catalog: Catalog,
    old: Person,
    *,
    name: str,
    phone: str | None,
    by: Actor,
    now: datetime,
) -> Person:
    """A handover in one step: `old` is deactivated and a new person takes her role and unit.
    The new person's fields are checked before anything changes."""
    if not old.active:
        raise PeopleError("inactive", old.full_name)
    full_name, _ = await check_newcomer(session, name, phone, old)
    unit = await session.get(OrgUnit, old.unit_id)
    assert unit is not None
    note = f"replaced by {full_name}"
    await deactivate(session, old, by=by, now=now, action="replace", note=note)
    return await create_person(
        session,
        catalog,
        name=full_name,
        phone=phone,
        role=old.role,
        unit=unit,
        by=by,
        now=now,
        note=f"replaces #{old.id} {old.full_name}",
    )
