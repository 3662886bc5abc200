"""A terminal chat with the same engine: try every flow without a token."""

from __future__ import annotations

import asyncio
import select
import sys
from collections.abc import Callable
from pathlib import Path

from handlers.engine import Engine
from schedules.messages import Capabilities, Inbound, Outbound, answer, render_text_only

EXIT_WORDS = {"/thoat", "/exit", "/quit"}


class TerminalChannel:
    name = "terminal"
    capabilities = Capabilities(buttons=False, max_text=100_000, files=False)

    def __init__(self, write: Callable[[str], None] = print, files_dir: Path = Path("exports")):
        self.write = write
        self.files_dir = files_dir

    async def send(self, chat_id: str, message: Outbound) -> None:
        if message.text:
            self.write(render_text_only(message))
        for blob, default in ((message.photo, "chart.png"), (message.document, "file.xlsx")):
            if blob:
                self.files_dir.mkdir(parents=True, exist_ok=True)
                path = self.files_dir / (message.filename or default)
                path.write_bytes(blob)
                self.write(f"[tệp đã lưu: {path}]")
        self.write("")


def read_message(prompt: str = "> ", paste_seconds: float = 0.05) -> str:
    """One message from the keyboard. Lines pasted together (a report written one answer a
    line) arrive within milliseconds of each other and make one message, as on a phone; a
    line typed and sent is a message of its own. Piped input stays one message a line."""
    first = input(prompt)
    if not sys.stdin.isatty():
        return first
    lines = [first]
    while select.select([sys.stdin], [], [], paste_seconds)[0]:
        line = sys.stdin.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
    return "\n".join(lines)


async def chat_loop(
    engine: Engine,
    channel: TerminalChannel,
    user_id: str,
    read: Callable[[], str] = read_message,
) -> None:
    """Reads lines until end of input or /thoat; each line goes through the engine."""
    while True:
        try:
            line = await asyncio.to_thread(read)
        except EOFError:
            return
        if line.strip().lower() in EXIT_WORDS:
            return
        await answer(engine.handle, channel, Inbound(channel.name, user_id, user_id, text=line))
