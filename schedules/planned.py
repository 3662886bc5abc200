"""A message the bot plans to send unasked (a reminder, a digest, a nudge), and the form it
is kept in the outbox (a payload: text, buttons, a chart or a file, until sent)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from schedules.messages import Choice, Outbound


@dataclass
class Planned:
    key: str
    kind: str  # reminder | digest | nudge
    person_id: int
    payload: dict[str, Any]


@dataclass
class Plan:
    messages: list[Planned] = field(default_factory=list)
    unreachable: list[int] = field(default_factory=list)  # people with no account to write to


# ---- payloads -----------------------------------------------------------------------------


def to_payload(message: Outbound) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "text": message.text,
        "choices": [[c.label, c.data] for c in message.choices],
        "free": message.free_text,
    }
    if message.button_only:
        payload["extra"] = [[c.label, c.data] for c in message.button_only]
    # Charts and workbooks are owed like any reply: kept in the row until sent.
    for name in ("photo", "document"):
        blob = getattr(message, name)
        if blob is not None:
            payload[name] = base64.b64encode(blob).decode()
    if message.filename:
        payload["filename"] = message.filename
    return payload


def from_payload(payload: dict[str, Any]) -> Outbound:
    photo, document = (
        base64.b64decode(payload[name]) if payload.get(name) is not None else None
        for name in ("photo", "document")
    )
    return Outbound(
        payload["text"],
        [Choice(label, data) for label, data in payload.get("choices", [])],
        free_text=bool(payload.get("free")),
        button_only=[Choice(label, data) for label, data in payload.get("extra", [])],
        photo=photo,
        document=document,
        filename=payload.get("filename"),
    )
