"""A person talking to the engine in-process: tests that read like a chat session."""

from __future__ import annotations

import itertools

from handlers.engine import Engine
from schedules.messages import Inbound, Outbound

_update_ids = itertools.count(1)


class ChatUser:
    def __init__(self, engine: Engine, user_id: str, channel: str = "telegram") -> None:
        self.engine = engine
        self.user_id = user_id
        self.channel = channel
        self.last: list[Outbound] = []

    async def send(self, text: str, *, update_key: str | None = None) -> list[Outbound]:
        key = update_key or str(next(_update_ids))
        self.last = await self.engine.handle(
            Inbound(self.channel, self.user_id, self.user_id, text=text, update_key=key)
        )
        return self.last

    async def join(self, code: str) -> list[Outbound]:
        """Joins with an invitation code and accepts the personal-data notice it shows."""
        await self.send(f"/start {code}")
        assert "Đồng ý" in self.buttons, self.text
        return await self.click("Đồng ý")

    async def click(self, label: str) -> list[Outbound]:
        for message in reversed(self.last):
            for choice in message.choices + message.button_only:
                if choice.label == label:
                    return await self.press(choice.data)
        raise AssertionError(f"no button {label!r} in {[m.text for m in self.last]}")

    async def press(self, data: str) -> list[Outbound]:
        self.last = await self.engine.handle(
            Inbound(
                self.channel,
                self.user_id,
                self.user_id,
                choice=data,
                update_key=str(next(_update_ids)),
            )
        )
        return self.last

    @property
    def text(self) -> str:
        return "\n".join(m.text for m in self.last)

    @property
    def buttons(self) -> list[str]:
        return [c.label for m in self.last for c in m.choices + m.button_only]
