"""Her erasure at her request: her name, phone and chat ids removed or replaced in every
table ("Người đã xóa"), wherever and however they were written, while her unit's reports,
figures and audit trail stay whole. A dry run counts what would go."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import JSON, String, Text, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import (
    Base,
    ChannelIdentity,
    CodeAttempt,
    Conversation,
    Invitation,
    OrgUnit,
    OutboxMessage,
    OutboxStatus,
    Person,
    PersonChange,
    ReminderSnooze,
)
from storage.db.people import Actor, normalize_phone, record_change
from storage.db.personal_data.access import record_access
from storage.db.personal_data.her_accounts import chats_of, messages_to_her, pending_from
from storage.db.personal_data.inventory import NO_PERSONAL_DATA
from storage.plan.text import fold, spelled_any_way

ERASED_NAME = "Người đã xóa"


def needles_of(person: Person, chats: Iterable[tuple[str, str, str]]) -> list[str]:
    """The strings that identify her: her name, her phone as it may be written, her ids."""
    found: list[str] = []
    if person.full_name and person.erased_at is None:
        found.append(person.full_name)
    if person.phone:
        phone = person.phone
        found.append(phone)
        international = normalize_phone(phone)
        if phone.startswith("0") and len(phone) > 8:
            found += ["+84" + phone[1:], "84" + phone[1:]]
        elif international:
            found.append(international)
    for _, external, chat in chats:
        found += [external, chat]
    return sorted({n for n in found if n and len(n) >= 3}, key=len, reverse=True)


# Letters that are the same however a name is typed: kept in the database's first look.
_PLAIN = frozenset("bcfghjklmnpqrstvwxz0123456789")


def _skeleton(name: str) -> str:
    """A LIKE pattern (case-insensitive) that every spelling of the name matches: its letters
    that no diacritic changes, in order ("Nguyễn Thị Lan" → "%ng%n%th%l%n%")."""
    return re.sub("%+", "%", "%" + "".join(c if c in _PLAIN else "%" for c in fold(name)) + "%")


def _whole(body: str, edge: str) -> str:
    return rf"(?<!{edge})(?:{body})(?!{edge})"


@dataclass(frozen=True)
class Traces:
    """What identifies her in a text: her name however typed, her phone and chat ids as
    stored, each as a whole word or number ("Lan" is not inside "Lanh" or "Lành"; a number
    is not inside a longer one, "501" in "15012", but is found glued to words,
    "ĐT0912345678"). Another person's name that holds hers ("Nguyễn Thị Lan Anh") or is
    spelled like it with other diacritics ("Nguyễn Thị Lân") is hers to keep."""

    needles: list[str]
    name: str | None
    others: tuple[str, ...] = ()

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        parts = []
        for needle in self.needles:
            if needle == self.name:
                parts.append(_whole(spelled_any_way(needle), r"\w"))
            else:
                edge = r"\d" if needle.lstrip("+").isdigit() else r"\w"
                parts.append(_whole(re.escape(needle), edge))
        return re.compile("|".join(parts))

    @cached_property
    def _kept(self) -> re.Pattern[str] | None:
        if not self.name or not self.others:
            return None
        mine = fold(self.name)
        parts = [
            # the same letters: kept only as she spelled hers; a longer name however typed
            _whole(re.escape(other) if fold(other) == mine else spelled_any_way(other), r"\w")
            for other in self.others
        ]
        return re.compile("|".join(parts))

    def likes(self) -> list[tuple[str, bool]]:
        """What the database looks for first: (pattern, case-insensitive)."""
        out = [(n, False) for n in self.needles if n != self.name]
        return out + ([(_skeleton(self.name), True)] if self.name else [])

    def scrub(self, value: Any) -> Any:
        """The value with every trace of her replaced by "Người đã xóa" (JSON walked)."""
        if isinstance(value, str):
            kept = [m.span() for m in self._kept.finditer(value)] if self._kept else []

            def replace(match: re.Match[str]) -> str:
                inside = any(a <= match.start() and match.end() <= b for a, b in kept)
                return match.group(0) if inside else ERASED_NAME

            return self.pattern.sub(replace, value)
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        return value


async def _traces_of(
    session: AsyncSession, person: Person, chats: Iterable[tuple[str, str, str]]
) -> Traces | None:
    needles = needles_of(person, chats)
    if not needles:
        return None
    name = person.full_name if person.erased_at is None else None
    others: list[str] = []
    if name:
        mine = re.compile(_whole(re.escape(fold(name)), r"\w"))
        names = await session.scalars(
            select(Person.full_name).where(Person.id != person.id, Person.erased_at.is_(None))
        )
        others = sorted(
            {o for o in names if o and o != name and mine.search(fold(o))}, key=len, reverse=True
        )
    return Traces(needles, name, tuple(others))


def _text_columns(table: Any) -> list[Any]:
    return [
        c for c in table.columns if not c.primary_key and isinstance(c.type, String | Text | JSON)
    ]


@dataclass
class ErasePlan:
    """What an erasure changes, counted (a dry run shows it)."""

    person: Person
    needles: list[str]
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, n: int) -> None:
        if n:
            self.counts[what] = self.counts.get(what, 0) + n


async def _mentions(session: AsyncSession, traces: Traces, *, apply: bool) -> dict[str, int]:
    """Rows anywhere that still mention her (name, phone, ids), per table; replaced by
    "Người đã xóa" when `apply`. A database LIKE finds the candidates (JSON as stored, with
    its \\u escapes; her name by the letters no diacritic changes, in any case); the
    whole-token match decides."""
    found: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        # People's records are matched by id, never by name: a namesake keeps hers.
        if table.name in NO_PERSONAL_DATA or table.name in ("people", "person_changes"):
            continue
        columns = _text_columns(table)
        if not columns:
            continue
        likes = []
        for column in columns:
            is_json = isinstance(column.type, JSON)
            text = cast(column, Text) if is_json else column
            for needle, any_case in traces.likes():
                if any_case:
                    likes.append(text.ilike(needle))
                    continue
                likes.append(text.contains(needle, autoescape=True))
                escaped = json.dumps(needle)[1:-1]
                if is_json and escaped != needle:
                    likes.append(text.contains(escaped, autoescape=True))
        keys = list(table.primary_key.columns)
        rows = (await session.execute(select(*keys, *columns).where(or_(*likes)))).all()
        changed = 0
        for row in rows:
            values = dict(zip([c.name for c in keys + columns], row, strict=True))
            new = {c.name: traces.scrub(values[c.name]) for c in columns}
            new = {k: v for k, v in new.items() if v != values[k]}
            if not new:
                continue
            changed += 1
            if apply:
                where = [k == values[k.name] for k in keys]
                await session.execute(update(table).where(*where).values(**new))
        if changed:
            found[table.name] = changed
    return found


async def _scrub_changes(
    session: AsyncSession, person: Person, traces: Traces, *, apply: bool
) -> int:
    """The audit of changes to people: her own entries (snapshots of her name and phone),
    and the notes of others' that name her (a handover: "replaces #12 Nguyễn Thị Lan")."""
    rows = (
        await session.scalars(
            select(PersonChange).where(
                or_(PersonChange.person_id == person.id, PersonChange.note.is_not(None))
            )
        )
    ).all()
    changed = 0
    for row in rows:
        new = {"note": traces.scrub(row.note)}
        if row.person_id == person.id:
            new |= {"before": traces.scrub(row.before), "after": traces.scrub(row.after)}
            # (a snapshot from before an edit may hold a name or phone she no longer has)
            for key in ("before", "after"):
                if isinstance(new[key], dict) and "full_name" in new[key]:
                    new[key] = {**new[key], "full_name": ERASED_NAME, "phone": None}
        new = {k: v for k, v in new.items() if v != getattr(row, k)}
        if new:
            changed += 1
            if apply:
                for k, v in new.items():
                    setattr(row, k, v)
    if apply:
        await session.flush()
    return changed


async def erase(
    session: AsyncSession,
    person: Person,
    *,
    by: Actor,
    now: datetime,
    apply: bool,
) -> ErasePlan:
    """Removes or replaces everything that identifies her (`apply`; else only counts it).
    Her unit's reports, figures, totals, rankings and audit trail stay whole: they point to
    her row, now "Người đã xóa" with her role and unit."""
    chats = await chats_of(session, person)
    traces = await _traces_of(session, person, chats)
    plan = ErasePlan(person, traces.needles if traces else [])

    async def count(query: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    plan.add("name and phone", 1 if person.erased_at is None else 0)
    plan.add(
        "chat accounts",
        await count(select(ChannelIdentity.id).where(ChannelIdentity.person_id == person.id)),
    )
    plan.add(
        "messages to her (texts)",
        await count(select(OutboxMessage.id).where(messages_to_her(person, chats))),
    )
    plan.add("messages from her not yet handled", len(await pending_from(session, chats)))
    plan.add(
        "conversation state",
        await count(select(Conversation.person_id).where(Conversation.person_id == person.id)),
    )
    plan.add(
        "reminders put off",
        await count(select(ReminderSnooze.person_id).where(ReminderSnooze.person_id == person.id)),
    )
    chat_pairs = [(c, chat) for c, _, chat in chats]
    attempts = [
        (CodeAttempt.channel == c) & (CodeAttempt.chat_id == chat) for c, chat in chat_pairs
    ]
    if attempts:
        plan.add("wrong codes typed", await count(select(CodeAttempt.id).where(or_(*attempts))))
    unused = (
        select(Invitation.id)
        .where(Invitation.person_id == person.id, Invitation.used_at.is_(None))
        .where(Invitation.expires_at > now)
    )
    plan.add("unused invitations ended", await count(unused))
    if not apply:
        if traces is not None:
            for table, n in (await _mentions(session, traces, apply=False)).items():
                plan.add(f"rows naming her in {table}", n)
            plan.add(
                "audit entries of people naming her",
                await _scrub_changes(session, person, traces, apply=False),
            )
        return plan

    for pending in await pending_from(session, chats):
        await session.delete(pending)
    await session.execute(
        update(OutboxMessage)
        .where(
            messages_to_her(person, chats),
            OutboxMessage.status.in_((OutboxStatus.QUEUED, OutboxStatus.SENDING)),
        )
        .values(status=OutboxStatus.FAILED, error="erased", claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(OutboxMessage)
        .where(messages_to_her(person, chats))
        .values(payload={"text": ""}, chat_id="-")
        .execution_options(synchronize_session=False)
    )
    if attempts:
        await session.execute(delete(CodeAttempt).where(or_(*attempts)))
    await session.execute(delete(ChannelIdentity).where(ChannelIdentity.person_id == person.id))
    await session.execute(delete(Conversation).where(Conversation.person_id == person.id))
    await session.execute(delete(ReminderSnooze).where(ReminderSnooze.person_id == person.id))
    await session.execute(
        update(Invitation)
        .where(Invitation.person_id == person.id, Invitation.expires_at > now)
        .values(expires_at=now)
    )
    # Her record: the row stays (reports and audit point to it), nothing in it names her;
    # wherever her name was shown, her role and unit then were say who it was.
    unit = await session.get(OrgUnit, person.unit_id)
    if person.erased_at is None:
        from storage.plan.texts_vi import ROLE_NAMES

        role = ROLE_NAMES.get(person.role, person.role)
        person.full_name = f"{ERASED_NAME} ({role}, {unit.name if unit else '?'})"[:200]
    person.phone = None
    person.active, person.erased_at = False, person.erased_at or now
    person.preferred_channel = person.last_channel = None
    await session.flush()
    if traces is not None:
        for table, n in (await _mentions(session, traces, apply=True)).items():
            plan.add(f"rows naming her in {table}", n)
        plan.add(
            "audit entries of people naming her",
            await _scrub_changes(session, person, traces, apply=True),
        )
    await record_change(
        session,
        person,
        "erase",
        None,
        {"role": person.role, "unit": unit.code if unit else None, "erased": True},
        by,
        now,
    )
    await record_access(session, by, "erase", now, subject=person)
    return plan
