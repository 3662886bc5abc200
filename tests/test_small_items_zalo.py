"""#19's smaller items, seen on Telegram and tested there (tests/test_sent_report_edits.py),
checked on Zalo too: text only, 2,000 characters a message, choices typed as numbers."""

from __future__ import annotations

import pytest

from handlers.engine import Engine
from schedules.messages import PLATFORMS
from storage.measures import reporting
from tests.builders import invite, small_tree_with_people
from tests.chat import ChatUser


@pytest.fixture
async def lan(ctx):
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        code = await invite(session, people.leader, ctx.clock.now())
    user = ChatUser(Engine(ctx), "5a1b2c", channel="zalo")
    await user.join(code)
    assert "đồng ý" in user.text
    return people, user


async def test_a_command_in_the_middle_of_a_report_asks_the_question_again(ctx, lan) -> None:
    people, user = lan
    await user.send("bao cao")
    await user.send("3")
    assert "Câu 2/10" in user.text
    for command in ("/xephang", "/web", "xếp hạng"):
        await user.send(command)
        assert user.last[-1].text.startswith("Câu 2/10"), (command, user.text)
    await user.send("1")
    assert "Câu 3/10" in user.text
    async with ctx.sessions() as session:
        sub = await reporting.find_submission(
            session, people.tree.b1.id, "thang_chi_hoi", "2026-11"
        )
        assert sub is not None
        assert await reporting.answers(session, sub.id) == {"hv_moi": 3, "hv_ra": 1}


async def test_a_very_long_message_gets_one_short_reply(ctx, lan) -> None:
    _, user = lan
    await user.send("bao cao")
    long = ("hvm 3 hvx 5 họp 25 chị, SĐT 0905 123 456, thu 150 nghìn " * 80)[:4000]
    await user.send(long)
    limit = PLATFORMS["zalo"].max_text
    assert len(user.last) <= 2 and sum(len(m.text) for m in user.last) <= limit, user.text
