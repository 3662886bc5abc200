"""Slash commands (and their plain-word forms): what each one does, in one table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers import onboarding, report_flow
from handlers import texts_vi as vi
from handlers.turn import Turn
from storage.models import Role


async def _start(turn: Turn, args: str) -> None:
    if args:
        await onboarding.link(turn, args)
        return
    assert turn.person and turn.unit
    turn.say(
        vi.GREETING.format(name=turn.person.full_name, unit=turn.unit.name)
        + "\n"
        + onboarding.hint_for(turn.person.role)
    )


async def _report(turn: Turn, _args: str) -> None:
    await report_flow.start(turn)


async def _cancel(turn: Turn, _args: str) -> None:
    await report_flow.cancel(turn)


async def _help(turn: Turn, _args: str) -> None:
    assert turn.person
    names = ["baocao", "huy"]
    if turn.person.role != Role.BRANCH_LEADER:
        names += ["tong", "tiendo", "chuanop"]
    names.append("trogiup")
    turn.say("\n".join([vi.HELP_TITLE] + [vi.HELP_LINES[n] for n in names]))


COMMANDS: dict[str, Callable[[Turn, str], Awaitable[None]]] = {
    "start": _start,
    "baocao": _report,
    "huy": _cancel,
    "trogiup": _help,
    "help": _help,
}

# The Telegram command menu, in the order shown.
MENU = [
    ("baocao", "Báo cáo số liệu kỳ này"),
    ("huy", "Dừng lại giữa chừng"),
    ("trogiup", "Hướng dẫn"),
]


async def run(turn: Turn, name: str, args: str) -> None:
    handler = COMMANDS.get(name)
    if handler is None:
        turn.say(vi.NOT_UNDERSTOOD)
        return
    await handler(turn, args)


def plain_staff_command(text: str) -> tuple[str, str] | None:
    """Staff questions typed without a slash ("tong thoat ngheo quy 3"); none yet."""
    return None


async def on_action(turn: Turn, action: str) -> None:
    """A pressed button outside the reporting flow; none yet."""
    turn.say(vi.BUTTON_EXPIRED)
