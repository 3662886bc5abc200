"""One inbound message being handled: who sent it, the conversation state, and the replies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import HandlerContext
from schedules.messages import Capabilities, Choice, Inbound, Outbound, one_call_parts
from storage.db.models import Conversation, OrgUnit, Person, Submission

Answer = float | str | None


@dataclass
class Taken:
    """What one update gave: the replies, and those of them this worker owes and sends now
    (outbox id, message); replies owed behind an earlier one are left to the dispatcher."""

    replies: list[Outbound]
    owed: list[tuple[int, Outbound]] = field(default_factory=list)
    recorded: bool = False  # the replies are in the outbox (else: send them as they are)
    asks: bool = False  # her conversation was left at a report's question (a plain answer next)


def reply_parts(replies: list[Outbound], capabilities: Capabilities | None) -> list[Outbound]:
    """The replies as the channel sends them, one API call a part (none: not recorded)."""
    if capabilities is None:
        return []
    return [part for reply in replies for part in one_call_parts(reply, capabilities)]


@dataclass
class Turn:
    ctx: HandlerContext
    session: AsyncSession
    inbound: Inbound
    now: datetime
    today: date
    person: Person | None = None
    unit: OrgUnit | None = None
    conversation: Conversation | None = None
    replies: list[Outbound] = field(default_factory=list)
    # What a flow read from the database during this turn, so it is read once.
    cache: dict[Any, Any] = field(default_factory=dict)
    # Set by the plain answer's path (handlers/plain_answer.py): a draft's answers, written
    # with the turn's own statement instead of through the session.
    answers_out: list[tuple[Submission, str, Answer]] | None = None

    @property
    def data(self) -> Mapping[str, Any]:
        """Read-only: read many times a turn, so not copied (it holds the unit's history)."""
        assert self.conversation is not None
        return MappingProxyType(self.conversation.data or {})

    def save(self, **changes: Any) -> None:
        """Merges changes into the conversation data (a new dict, so the JSON is saved)."""
        assert self.conversation is not None
        self.conversation.data = {**(self.conversation.data or {}), **changes}
        self.conversation.updated_at = self.now

    def enter(self, flow: str | None, step: str | None, **data: Any) -> None:
        assert self.conversation is not None
        self.conversation.flow, self.conversation.step = flow, step
        old = self.conversation.data or {}
        keep = {"turn": old.get("turn", 0)}
        if "notice" in old:  # the personal-data notice's outcome (handlers/privacy.py)
            keep["notice"] = old["notice"]
        self.conversation.data = keep | data
        self.conversation.updated_at = self.now

    def goto(self, step: str, **changes: Any) -> None:
        assert self.conversation is not None
        self.conversation.step = step
        self.save(**changes)

    def say(self, text: str) -> None:
        self.replies.append(Outbound(text))

    def ask(
        self,
        text: str,
        choices: Sequence[tuple[str, str]] = (),
        *,
        free_text: bool = False,
        button_only: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Asks something; button data carry a turn number so an old button is recognised."""
        turn = int(self.data.get("turn", 0)) + 1
        self.save(
            turn=turn,
            offered=[[label, action] for label, action in choices],
            extra=[[label, action] for label, action in button_only],
            free=free_text,
            prompt=text,
        )
        self.replies.append(
            Outbound(
                text,
                [Choice(label, f"{turn}:{action}") for label, action in choices],
                free_text=free_text,
                button_only=[Choice(label, f"{turn}:{action}") for label, action in button_only],
            )
        )
