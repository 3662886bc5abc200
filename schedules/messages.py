"""The channel-neutral shapes of messages in and out, and what each channel can do.

The conversation engine speaks only these; adapters translate them to a platform's API.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from storage.db.delivery import QUOTA_ERROR

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Choice:
    label: str
    data: str  # what comes back when it is chosen; short (Telegram allows 64 bytes)


@dataclass
class Outbound:
    text: str
    choices: list[Choice] = field(default_factory=list)
    # The question expects typed text (a number); choices are shortcuts. A text-only channel
    # must then not number them, or "1" would be ambiguous.
    free_text: bool = False
    # Shortcuts only worth showing as buttons (e.g. "Sửa mục 3"); a text-only channel leaves
    # them out, since the text already says what to type.
    button_only: list[Choice] = field(default_factory=list)
    photo: bytes | None = None
    document: bytes | None = None
    filename: str | None = None


@dataclass(frozen=True)
class Inbound:
    channel: str
    user_id: str
    chat_id: str
    text: str | None = None
    choice: str | None = None  # data of a pressed button
    update_key: str | None = None  # for deduplication of redelivered updates
    display_name: str = ""
    message_id: str | None = None  # her message, so an edit of it is recognised
    edited: bool = False  # an edit of message_id, not a new message
    callback_id: str | None = None  # a pressed button, to stop its spinner

    def to_payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Inbound:
        return cls(**payload)

    @property
    def command(self) -> tuple[str, str] | None:
        """("baocao", "args") for "/baocao args" or "/baocao@SomeBot args"."""
        if not self.text:
            return None
        m = re.match(r"^/([A-Za-z_]+)(?:@\w+)?(?:\s+(.*))?$", self.text.strip(), re.S)
        if not m:
            return None
        return m.group(1).lower(), (m.group(2) or "").strip()


class ChannelError(Exception):
    """A send that did not go through; the subclass says what to do about it."""


class RetryLater(ChannelError):
    def __init__(self, seconds: float, message: str = "") -> None:
        super().__init__(message or f"retry after {seconds}s")
        self.seconds = seconds


class Unreachable(ChannelError):
    """The person blocked the bot or left: stop writing to this account."""


class TemporaryFailure(ChannelError):
    """Server error, timeout or network: try again later."""


class PermanentFailure(ChannelError):
    """The platform refused the message itself: retrying will not help."""


@dataclass(frozen=True)
class Capabilities:
    buttons: bool
    max_text: int
    files: bool  # can upload a document; otherwise files go as links


# What each platform takes in one API call. The channels declare theirs from here, and the
# outbox queues a long message as parts by them, each owed on its own.
TELEGRAM = Capabilities(buttons=True, max_text=4096, files=True)
ZALO = Capabilities(buttons=False, max_text=2000, files=False)
PLATFORMS = {"telegram": TELEGRAM, "zalo": ZALO}


class Channel(Protocol):
    name: str
    capabilities: Capabilities

    async def send(self, chat_id: str, message: Outbound) -> None: ...


async def answer(
    handle: Callable[[Inbound], Awaitable[list[Outbound]]], channel: Channel, inbound: Inbound
) -> None:
    """Runs one inbound message through the engine and sends the replies on its channel.

    For the terminal chat only: the platforms' replies are owed through the outbox
    (bot.channels.intake)."""
    for out in await handle(inbound):
        try:
            await channel.send(inbound.chat_id, out)
        except ChannelError as exc:
            logger.warning("reply on %s failed: %s", channel.name, exc)


def one_call_parts(message: Outbound, capabilities: Capabilities) -> list[Outbound]:
    """The message as parts the channel sends in one API call each, so a retry after a
    failure resends only the part that failed (never the first half of a long text again)."""
    if capabilities.buttons:
        pieces = split_text(message.text, capabilities.max_text) if message.text else []
        parts = [Outbound(piece) for piece in pieces[:-1]]
        if pieces:  # the buttons go with the last piece, as the channel shows them
            parts.append(dataclasses.replace(message, text=pieces[-1], photo=None, document=None))
        for name in ("photo", "document"):
            if getattr(message, name) is not None:
                parts.append(
                    Outbound("", filename=message.filename, **{name: getattr(message, name)})
                )
        return parts
    if message.photo is not None or message.document is not None:
        return [message]  # a photo with its caption, or a file's link: one message
    text = render_text_only(message)
    return [Outbound(piece) for piece in split_text(text, capabilities.max_text)]


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at line breaks where possible."""
    pieces: list[str] = []
    current = ""
    for whole_line in text.split("\n"):
        line = whole_line
        while len(line) > limit:  # a single line longer than the limit: cut at a space
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current or not pieces:
        pieces.append(current)
    return pieces


def render_text_only(message: Outbound) -> str:
    """A message for a channel without buttons: choices as numbered lines or reply words."""
    from storage.plan import texts_vi as vi

    if not message.choices:
        return message.text
    if message.free_text:
        # Words the text already quotes ("chị trả lời «Gửi»") are not listed again.
        new = [c for c in message.choices if f"«{c.label}»" not in message.text]
        if not new:
            return message.text
        words = ", ".join(f"«{c.label}»" for c in new)
        return f"{message.text}\n{vi.WORD_REPLY.format(words=words)}"
    lines = [message.text, ""]
    lines += [f"{i}. {c.label}" for i, c in enumerate(message.choices, start=1)]
    numbers = [str(i) for i in range(1, len(message.choices) + 1)]
    joined = (
        numbers[0]
        if len(numbers) == 1
        else f"{', '.join(numbers[:-1])} {vi.NUMBERED_OR} {numbers[-1]}"
    )
    lines.append(vi.NUMBERED_REPLY.format(numbers=joined))
    return "\n".join(lines)


class QuotaExceeded(RetryLater):
    """The channel's plan allows no more messages for now (Zalo's 429 "quota exceeded"): not
    this chat's pace but the whole channel's, so every chat waits."""

    def __init__(self, seconds: float, message: str = "") -> None:
        super().__init__(seconds, f"{QUOTA_ERROR}: {message}" if message else QUOTA_ERROR)
