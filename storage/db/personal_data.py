"""Personal data, as Decree 13/2023/NĐ-CP asks: what is held about a person (`export`), her
erasure (`erase`), keeping no more than needed (`prune`), who looked at whose data
(`record_access`), and her acceptance of the notice told at joining (its text: privacy_notice).

The inventory of what is held and why is `INVENTORY`; README ("Dữ liệu cá nhân / Personal
data") and docs/personal-data.md say it in words.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import JSON, String, Text, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import (
    AuditEntry,
    Base,
    ChannelIdentity,
    CodeAttempt,
    Conversation,
    DataAccess,
    Invitation,
    NoticeAcceptance,
    OrgUnit,
    OutboxMessage,
    OutboxStatus,
    PendingUpdate,
    Person,
    PersonChange,
    ProcessedUpdate,
    ReminderSnooze,
    Submission,
)
from storage.db.people import Actor, normalize_phone, record_change
from storage.plan.text import fold

DECREE = "Nghị định 13/2023/NĐ-CP"
# What an erased person is called wherever her name was (her role and unit stay beside it).
ERASED_NAME = "Người đã xóa"
DEFAULT_RETENTION_DAYS = 90

# ---- the inventory -----------------------------------------------------------------------

# Every column that holds personal data: (table, columns) → (what for, how long). A test
# checks that every text column of every table is either here or in NO_PERSONAL_DATA, so a
# new column cannot hold personal data unnoticed.
INVENTORY: dict[tuple[str, str], tuple[str, str]] = {
    ("people", "full_name, phone, role, unit_id, preferred_channel, last_channel"): (
        "who reports for which unit, and how to reach her",
        "while she holds the role; erased on request (the row stays as 'Người đã xóa')",
    ),
    ("channel_identities", "external_id, chat_id, linked_at, last_seen_at"): (
        "her Telegram or Zalo account, to answer and remind her",
        "until she is deactivated or erased",
    ),
    ("invitations", "code, person_id, used_at"): (
        "the single-use code she joins with",
        "pruned once expired longer than the retention",
    ),
    ("code_attempts", "chat_id"): (
        "wrong codes typed, to slow down guessing",
        "pruned after the retention (only the last 15 minutes count)",
    ),
    ("conversations", "data"): (
        "where she is in a report (her draft answers, the last question)",
        "while she is active; deleted on erasure",
    ),
    ("pending_updates", "payload"): (
        "a message received but not handled yet (her name, ids, text)",
        "deleted as soon as it is handled",
    ),
    ("processed_updates", "key"): (
        "platform message ids already handled, so a redelivery changes nothing",
        "pruned after the retention",
    ),
    ("outbox", "chat_id, payload, error"): (
        "messages owed or sent to her (text, buttons, files)",
        "files dropped a day after delivery; texts of delivered or given-up messages blanked "
        "after the retention",
    ),
    ("person_changes", "before, after, note, by_operator"): (
        "the audit of changes to people (created, edited, replaced, erased)",
        "kept; her name and phone in it are replaced on erasure",
    ),
    ("audit_entries", "changed_by_id, note, old_value, new_value"): (
        "the audit trail of reports (who changed which figure)",
        "kept with the reports; her name is replaced on erasure",
    ),
    ("submissions", "submitted_by_id, approved_by_id"): (
        "who sent and who approved a report",
        "kept with the reports (pointing to 'Người đã xóa' after erasure)",
    ),
    ("submission_values", "value_text"): (
        "the unit's text answers (they may name people)",
        "kept with the reports; her name is replaced on erasure",
    ),
    ("reminder_snoozes", "person_id"): ("'nhắc lại sau': a reminder put off", "until it is due"),
    ("notice_acceptances", "person_id, shown_at, accepted_at"): (
        "proof she was told what is held and accepted it",
        "kept (no name in it)",
    ),
    ("data_access_log", "by_person_id, by_operator, subject_id, detail"): (
        "who looked at or handled whose personal data",
        "kept (no name in it)",
    ),
}
# Tables with text columns that hold no personal data by design (codes, names of units,
# figures, worker ids).
NO_PERSONAL_DATA = (
    "org_units",
    "unit_ancestors",
    "unit_parent_history",
    "unit_period_totals",
    "unit_stock_totals",
    "kept_rankings",
    "workers",
)


# ---- the notice ----------------------------------------------------------------------------


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


# ---- who looked ----------------------------------------------------------------------------


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


# ---- what is held about her ----------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _message(row: OutboxMessage) -> dict[str, Any]:
    payload = row.payload or {}
    out: dict[str, Any] = {
        "kind": row.kind,
        "channel": row.channel,
        "status": row.status,
        "created_at": _iso(row.created_at),
        "sent_at": _iso(row.sent_at),
        "text": payload.get("text", ""),
    }
    if payload.get("filename"):
        out["file"] = payload["filename"]
    if payload.get("choices"):
        out["choices"] = [c[0] for c in payload["choices"]]
    return out


_WEB_LINK = re.compile(r"https?://\S+/web/(\d+)\.\d+\.\S+")


async def _chats_of(session: AsyncSession, person: Person) -> list[tuple[str, str, str]]:
    """(channel, external id, chat id) of her accounts."""
    rows = await session.execute(
        select(ChannelIdentity.channel, ChannelIdentity.external_id, ChannelIdentity.chat_id).where(
            ChannelIdentity.person_id == person.id
        )
    )
    return [tuple(r) for r in rows.all()]  # type: ignore[misc]


def _to_her(person: Person, chats: list[tuple[str, str, str]]) -> Any:
    """Outbox rows of hers: queued for her, or replies to one of her chats before she joined."""
    conditions = [OutboxMessage.person_id == person.id]
    for channel, _, chat in chats:
        conditions.append((OutboxMessage.channel == channel) & (OutboxMessage.chat_id == chat))
    return or_(*conditions)


async def _pending_of(
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


async def export(session: AsyncSession, person: Person, now: datetime) -> dict[str, Any]:
    """Everything held about her, as one JSON-ready document."""
    unit = await session.get(OrgUnit, person.unit_id)
    chats = await _chats_of(session, person)
    identities = (
        await session.scalars(
            select(ChannelIdentity)
            .where(ChannelIdentity.person_id == person.id)
            .order_by(ChannelIdentity.linked_at)
        )
    ).all()
    invitations = (
        await session.scalars(
            select(Invitation).where(Invitation.person_id == person.id).order_by(Invitation.id)
        )
    ).all()
    conversation = await session.get(Conversation, person.id)
    acceptance = await acceptance_of(session, person.id)
    changes = (
        await session.scalars(
            select(PersonChange)
            .where(or_(PersonChange.person_id == person.id, PersonChange.by_person_id == person.id))
            .order_by(PersonChange.id)
        )
    ).all()
    messages = (
        await session.scalars(
            select(OutboxMessage).where(_to_her(person, chats)).order_by(OutboxMessage.id)
        )
    ).all()
    sent = (
        await session.execute(
            select(Submission, OrgUnit)
            .join(OrgUnit, OrgUnit.id == Submission.unit_id)
            .where(
                or_(Submission.submitted_by_id == person.id, Submission.approved_by_id == person.id)
            )
            .order_by(Submission.id)
        )
    ).all()
    audit = (
        await session.execute(
            select(AuditEntry, Submission, OrgUnit)
            .join(Submission, Submission.id == AuditEntry.submission_id)
            .join(OrgUnit, OrgUnit.id == Submission.unit_id)
            .where(AuditEntry.changed_by_id == person.id)
            .order_by(AuditEntry.id)
        )
    ).all()
    snoozes = (
        await session.scalars(select(ReminderSnooze).where(ReminderSnooze.person_id == person.id))
    ).all()
    looked = await access_log(session, subject=person, limit=10_000)
    links = sorted(
        {m.group(0) for r in messages for m in _WEB_LINK.finditer((r.payload or {}).get("text", ""))
         if int(m.group(1)) == person.id}
    )  # fmt: skip
    return {
        "exported_at": now.isoformat(),
        "law": DECREE,
        "person": {
            "id": person.id,
            "full_name": person.full_name,
            "phone": person.phone,
            "role": person.role,
            "unit": {"code": unit.code, "name": unit.name} if unit else None,
            "active": person.active,
            "preferred_channel": person.preferred_channel,
            "last_channel": person.last_channel,
            "created_at": _iso(person.created_at),
            "erased_at": _iso(person.erased_at),
        },
        "notice": {
            "shown_at": _iso(acceptance.shown_at),
            "accepted_at": _iso(acceptance.accepted_at),
            "text_version": acceptance.notice_hash,
            "channel": acceptance.channel,
        }
        if acceptance
        else None,
        "identities": [
            {
                "channel": i.channel,
                "external_id": i.external_id,
                "chat_id": i.chat_id,
                "linked_at": _iso(i.linked_at),
                "last_seen_at": _iso(i.last_seen_at),
                "unreachable": i.unreachable,
            }
            for i in identities
        ],
        "invitations": [
            {
                "code": i.code,
                "created_at": _iso(i.created_at),
                "expires_at": _iso(i.expires_at),
                "used_at": _iso(i.used_at),
            }
            for i in invitations
        ],
        "links_issued": links,
        "conversation": {
            "flow": conversation.flow,
            "step": conversation.step,
            "data": conversation.data,
            "updated_at": _iso(conversation.updated_at),
        }
        if conversation
        else None,
        "reminders_put_off": [
            {"form": s.form_code, "period": s.period_key, "until": _iso(s.until)} for s in snoozes
        ],
        "messages_received_not_yet_handled": [
            {"received_at": _iso(p.received_at), "text": (p.payload or {}).get("text")}
            for p in await _pending_of(session, chats)
        ],
        "messages_sent_to_her": [_message(m) for m in messages],
        "reports_sent_or_approved": [
            {
                "unit": u.code,
                "form": s.form_code,
                "period": s.period_key,
                "status": s.status,
                "submitted_at": _iso(s.submitted_at) if s.submitted_by_id == person.id else None,
                "approved_at": _iso(s.approved_at) if s.approved_by_id == person.id else None,
            }
            for s, u in sent
        ],
        "report_changes_by_her": [
            {
                "unit": u.code,
                "form": s.form_code,
                "period": s.period_key,
                "action": a.action,
                "indicator": a.indicator_code,
                "old_value": a.old_value,
                "new_value": a.new_value,
                "note": a.note,
                "at": _iso(a.changed_at),
            }
            for a, s, u in audit
        ],
        "changes_to_her_record": [
            {
                "action": c.action,
                "before": c.before,
                "after": c.after,
                "by": c.by_operator or (f"#{c.by_person_id}" if c.by_person_id else None),
                "note": c.note,
                "at": _iso(c.changed_at),
            }
            for c in changes
            if c.person_id == person.id
        ],
        "changes_made_by_her": [
            {"action": c.action, "person": c.person_id, "note": c.note, "at": _iso(c.changed_at)}
            for c in changes
            if c.by_person_id == person.id and c.person_id != person.id
        ],
        "who_accessed_her_data": [
            {
                "at": _iso(entry.at),
                "action": entry.action,
                "by": entry.by_operator
                or (f"#{entry.by_person_id}" if entry.by_person_id else None),
            }
            for entry, _, _ in looked
        ],
    }


def export_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2, default=str).encode()


# ---- erasure -------------------------------------------------------------------------------


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


# Every letter as it may be typed: for each folded letter (storage/plan/text.fold), the
# letters of Latin and Vietnamese that fold to it, in either case ("e": e E é Ễ ệ …).
_SPELLINGS: dict[str, str] = {}
for _code in (*range(0x41, 0x250), *range(0x1E00, 0x1F00)):
    _folded = fold(chr(_code))
    if len(_folded) == 1 and _folded.isalpha():
        _SPELLINGS[_folded] = _SPELLINGS.get(_folded, "") + chr(_code)
# Diacritics typed as separate marks (text in NFD, as some Vietnamese keyboards send it).
_MARKS = "[\u0300-\u036f]*"
# Letters that are the same however a name is typed: kept in the database's first look.
_PLAIN = frozenset("bcfghjklmnpqrstvwxz0123456789")


def spelled_any_way(name: str) -> str:
    """A regular expression for a name however it was typed: in any case, with or without
    its diacritics, composed or not, words apart by any spaces ("Nguyễn Thị Lan",
    "nguyen thi lan", "NGUYỄN THỊ LAN")."""
    parts = []
    for char in fold(name):
        if char == " ":
            parts.append(r"\s+")
        elif char in _SPELLINGS:
            parts.append(f"[{re.escape(_SPELLINGS[char])}]{_MARKS}")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


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
    chats = await _chats_of(session, person)
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
        await count(select(OutboxMessage.id).where(_to_her(person, chats))),
    )
    plan.add("messages from her not yet handled", len(await _pending_of(session, chats)))
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

    for pending in await _pending_of(session, chats):
        await session.delete(pending)
    await session.execute(
        update(OutboxMessage)
        .where(
            _to_her(person, chats),
            OutboxMessage.status.in_((OutboxStatus.QUEUED, OutboxStatus.SENDING)),
        )
        .values(status=OutboxStatus.FAILED, error="erased", claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(OutboxMessage)
        .where(_to_her(person, chats))
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


# ---- keeping no more than needed -----------------------------------------------------------


@dataclass
class Pruned:
    files: int = 0  # workbooks, charts, exports of delivered messages: dropped at once
    message_texts: int = 0
    handled_updates: int = 0
    invitations: int = 0
    code_attempts: int = 0

    @property
    def total(self) -> int:
        return (
            self.files
            + self.message_texts
            + self.handled_updates
            + self.invitations
            + self.code_attempts
        )


DONE = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.BLOCKED, OutboxStatus.CAPPED)
BLANK = {"text": ""}


FILES_KEPT = timedelta(days=1)


async def prune(session: AsyncSession, now: datetime, days: int) -> Pruned:
    """Drops what is older than the retention and no longer needed: the texts (and files) of
    messages delivered or given up on (the row and its key stay, so nothing is sent twice),
    the ids of handled updates, invitations expired, wrong codes typed. Reports, figures,
    totals and the audit trails are not touched."""
    cutoff = now - timedelta(days=days)
    out = Pruned()
    # A file once delivered is the recipient's: the copy in the outbox (a workbook, a chart,
    # someone's own data) goes at the first pruning a day after, whatever the retention (the
    # day: the row is settled by then, and a send and its record are never told apart).
    with_files = select(OutboxMessage).where(
        OutboxMessage.status.in_(DONE),
        func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at) < now - FILES_KEPT,
        or_(
            cast(OutboxMessage.payload, Text).contains('"document": "'),
            cast(OutboxMessage.payload, Text).contains('"photo": "'),
        ),
    )
    for row in (await session.scalars(with_files)).all():
        payload = dict(row.payload or {})
        dropped = [payload.pop(name, None) for name in ("document", "photo")]
        if any(dropped):
            row.payload = payload
            out.files += 1
    old_messages = select(OutboxMessage.id).where(
        OutboxMessage.status.in_(DONE),
        func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at) < cutoff,
        cast(OutboxMessage.payload, Text) != json.dumps(BLANK),
    )
    ids = list((await session.scalars(old_messages)).all())
    for start in range(0, len(ids), 5000):
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids[start : start + 5000]))
            .values(payload=BLANK)
            .execution_options(synchronize_session=False)
        )
    out.message_texts = len(ids)

    def rows(result: Any) -> int:
        return int(getattr(result, "rowcount", 0) or 0)

    out.handled_updates = rows(
        await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < cutoff))
    )
    out.invitations = rows(
        await session.execute(delete(Invitation).where(Invitation.expires_at < cutoff))
    )
    out.code_attempts = rows(
        await session.execute(delete(CodeAttempt).where(CodeAttempt.at < cutoff))
    )
    return out
