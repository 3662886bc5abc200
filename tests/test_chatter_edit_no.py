"""«sửa N» then "Không" never writes 0 over a figure at once (tester walk 2026-12-06b, N2a):
in a draft as in a sent report she is asked (old → 0); "0" changes it, «Giữ số cũ» keeps it."""

from storage.plan import texts_vi as vi
from tests.test_draft_firm import SENT, answers
from tests.test_sent_report_edits import send_report, state, world  # noqa: F401


async def test_no_after_an_edit_of_a_draft_is_asked_about(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    unit = people.tree.b1.id
    await lan.send(f"/baocao {SENT}")
    before = await answers(ctx, unit)
    assert before["ho_thoat_ngheo"] == 1
    await lan.send("sửa 3")
    await lan.send("Không")
    assert "Đã ghi: 0" not in lan.text and "từ 1 hộ thành 0 hộ" in lan.text, lan.text
    assert await answers(ctx, unit) == before
    await lan.send("Giữ số cũ")
    assert vi.DRAFT_EDIT_KEPT in lan.text
    assert await answers(ctx, unit) == before
    await lan.send("sửa 3")
    await lan.send("không có")
    assert await answers(ctx, unit) == before
    await lan.send("0")  # said plainly: written
    assert (await answers(ctx, unit))["ho_thoat_ngheo"] == 0


async def test_no_after_an_edit_of_a_sent_report_is_asked_about(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await send_report(lan)
    before = await state(ctx, people.tree.b1.id)
    await lan.send("sửa 3")
    await lan.send("Không")
    assert "thành 0" in lan.text and "→" not in lan.text, lan.text
    await lan.send("Giữ số cũ")
    assert await state(ctx, people.tree.b1.id) == before
