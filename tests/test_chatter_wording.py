"""Small wording of the tester walk 2026-12-06b: "không có" after a refusal is not told to
type «không có» (N13); numbers after a bare «sửa» that are too few are counted and explained
(N13b); a meeting note at a question is not called a date (N19)."""

from storage.plan import texts_vi as vi
from tests.test_draft_firm import SENT, answers
from tests.test_sent_report_edits import world  # noqa: F401


async def test_none_after_a_refusal_asks_for_0_only(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await lan.send("/baocao")
    await lan.send("1")
    await lan.send("3 hộ")  # refused at question 2: the next "không có" is not taken for 0
    await lan.send("không có")
    assert "em chưa ghi gì cho câu 2" in lan.text and "«không có»" not in lan.text, lan.text
    assert await answers(ctx, people.tree.b1.id) == {"hv_moi": 1}


async def test_too_few_numbers_after_a_bare_edit_are_explained(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await lan.send(f"/baocao {SENT}")
    before = await answers(ctx, people.tree.b1.id)
    await lan.send("sửa")
    await lan.send("3 0 1")
    assert vi.EDIT_NOTHING_READ not in lan.text, lan.text
    assert "Em thấy 3 số" in lan.text and "đủ 10 số" in lan.text, lan.text
    assert await answers(ctx, people.tree.b1.id) == before


async def test_a_meeting_note_at_a_question_is_not_called_a_date(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await lan.send("/baocao")
    await lan.send("họp ngày 3, 25 chị dự, thu 150 nghìn")
    assert "là ngày tháng" not in lan.text and "Câu 1/10" in lan.text, lan.text
    assert await answers(ctx, people.tree.b1.id) == {}
