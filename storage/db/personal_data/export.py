"""Everything held about a person, as one JSON document: her own request ("dữ liệu của tôi")
or `hoibot people export`."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import (
    AuditEntry,
    ChannelIdentity,
    Conversation,
    Invitation,
    OrgUnit,
    OutboxMessage,
    Person,
    PersonChange,
    ReminderSnooze,
    Submission,
)
from storage.db.personal_data.access import access_log
from storage.db.personal_data.her_accounts import chats_of, messages_to_her, pending_from
from storage.db.personal_data.inventory import DECREE
from storage.db.personal_data.notice import acceptance_of


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


async def export(session: AsyncSession, person: Person, now: datetime) -> dict[str, Any]:
    """Everything held about her, as one JSON-ready document."""
    unit = await session.get(OrgUnit, person.unit_id)
    chats = await chats_of(session, person)
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
            select(OutboxMessage).where(messages_to_her(person, chats)).order_by(OutboxMessage.id)
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
            for p in await pending_from(session, chats)
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
