""" "Đồng ý" to the personal-data notice while a report's question is open asks that question
again, so her next number answers what she sees (tester walk 2026-12-06b, N3)."""

from handlers.engine import Engine
from storage.db.invitations import link_directly
from tests.builders import small_tree_with_people
from tests.chat import ChatUser
from tests.test_draft_firm import answers


async def test_accepting_the_notice_at_a_question_asks_it_again(ctx) -> None:
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        await link_directly(session, people.leader, "telegram", "lan", ctx.clock.now())
        await session.commit()
    lan = ChatUser(Engine(ctx), "lan")
    await lan.send("/baocao")  # joined before the notice: told it under question 1
    assert "Câu 1/10" in lan.text and "Đồng ý" in lan.buttons, lan.text
    await lan.send("đồng ý")
    assert "Câu 1/10" in lan.text and "/baocao" not in lan.text, lan.text
    await lan.send("2")
    assert await answers(ctx, people.tree.b1.id) == {"hv_moi": 2}
    assert "Câu 2/10" in lan.text
