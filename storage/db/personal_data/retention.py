"""Keeping no more than needed: what is older than the retention
(PERSONAL_DATA_RETENTION_DAYS) and no longer needed is pruned by the scheduler; reports,
figures, totals and the audit trails are not touched."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import (
    CodeAttempt,
    Invitation,
    OutboxMessage,
    OutboxStatus,
    ProcessedUpdate,
)


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
