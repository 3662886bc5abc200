"""A sent report's edit is as firm as the rest (issue #19, h19try2): only an explicit yes
saves it; "Không" is not 0; a row of numbers is not one item; an approval voids an edit
begun before it; /duyet does not approve a report she is correcting; /choduyet lists the
reports waiting for re-approval."""

from storage.plan import texts_vi as vi
from tests.test_sent_report_edits import send_report, state, world  # noqa: F401

SAVE_ASK = "«Lưu thay đổi»"


async def test_only_an_explicit_yes_saves_an_edit(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await send_report(lan)
    before = await state(ctx, people.tree.b1.id)
    await lan.send("sửa 3 thành 5")
    assert SAVE_ASK in lan.text
    for reflex in ("Dạ", "vâng", "đã", "ok chị"):
        await lan.send(reflex)
        assert vi.EDIT_SAY_YES_PLAINLY in lan.text, reflex
        assert "Đã sửa" not in lan.text
        assert await state(ctx, people.tree.b1.id) == before
    await lan.send("Thông báo: họp chi hội lúc 8 giờ sáng thứ Hai tại nhà văn hóa thôn.")
    await lan.send("Dạ")  # a forwarded notice in between changes nothing
    assert vi.EDIT_SAY_YES_PLAINLY in lan.text
    assert await state(ctx, people.tree.b1.id) == before
    await lan.send("Dạ có")
    assert "Đã sửa mục 3: 1 hộ → 5 hộ." in lan.text
    await lan.send("sửa 3 thành 6")
    await lan.send("Lưu thay đổi")  # the button's label, typed
    assert "Đã sửa mục 3: 5 hộ → 6 hộ." in lan.text


async def test_khong_at_an_items_edit_is_not_zero(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await send_report(lan)
    before = await state(ctx, people.tree.b1.id)
    await lan.send("sửa 6")
    await lan.send("Không")
    assert "Chị muốn sửa mục 6 thành 0?" in lan.text
    assert "→" not in lan.text and "Câu 6/10" in lan.text
    await lan.send("Dạ không ạ")
    assert "Chị muốn sửa mục 6 thành 0?" in lan.text
    assert await state(ctx, people.tree.b1.id) == before
    await lan.send("0")  # a plain number 0 is an answer
    assert "• Mục 6. Lao động nữ được giới thiệu, tạo việc làm: 2 người → 0 người" in lan.text
    await lan.send("Có")
    assert "Đã sửa mục 6: 2 người → 0 người." in lan.text


async def test_a_row_at_one_items_edit_is_asked_again(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await send_report(lan)
    before = await state(ctx, people.tree.b1.id)
    await lan.send("sửa 3")
    await lan.send("4 0 1 3 2 2 0 1 52 3")
    assert "Chị đang sửa mục 3: chị gõ một số." in lan.text
    assert "→" not in lan.text and "Câu 3/10" in lan.text
    assert await state(ctx, people.tree.b1.id) == before
    await lan.send("2")
    assert "• Mục 3. Hộ phụ nữ nghèo, cận nghèo được giúp thoát nghèo: 1 hộ → 2 hộ" in lan.text


async def test_keep_or_done_at_an_items_edit_leaves_it(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await send_report(lan)
    before = await state(ctx, people.tree.b1.id)
    for word in ("Giữ số cũ", "Xong"):
        await lan.send("sửa 6")
        await lan.send(word)
        assert "Em chưa hiểu" not in lan.text, word
        assert vi.EDIT_KEPT in lan.text and "Tóm tắt" in lan.text
    assert await state(ctx, people.tree.b1.id) == before


async def test_an_approval_voids_an_edit_begun_before_it(ctx, world) -> None:  # noqa: F811
    people, lan, officer = world
    await send_report(lan)
    before = await state(ctx, people.tree.b1.id)
    await lan.send("sửa 3 thành 5")  # waiting for her word
    await officer.send("/duyet chi hội thôn 1 tháng 11")  # she is editing it: asked first
    assert "đang sửa" in officer.text and "Đã duyệt" not in officer.text
    await officer.click("Duyệt")
    assert "Đã duyệt" in officer.text
    await lan.send("Có")
    assert vi.EDIT_APPROVED_MEANWHILE in lan.text and "Đã sửa" not in lan.text
    assert (await state(ctx, people.tree.b1.id))[:2] == before[:2]
    # Approved, then reopened: an item question open before the approval is void too.
    await officer.send("/mobaocao chi hội thôn 1 tháng 11")
    assert "trả lời «Xong»" in officer.text and "bấm" not in officer.text
    await lan.send("/baocao")
    await lan.send("sửa 3")
    await officer.send("/duyet chi hội thôn 1 tháng 11")  # she is correcting it: asked first
    assert "đang sửa" in officer.text and "Đã duyệt" not in officer.text
    assert officer.buttons == ["Duyệt", "Để sau"]
    await officer.click("Duyệt")
    assert "Đã duyệt" in officer.text
    await officer.send("/mobaocao chi hội thôn 1 tháng 11")
    await lan.send("5")
    assert vi.EDIT_APPROVED_MEANWHILE in lan.text
    assert SAVE_ASK not in lan.text and "→" not in lan.text
    assert (await state(ctx, people.tree.b1.id))[:2] == before[:2]
    await lan.send("sửa 3 thành 5")  # reopened: a new edit is taken
    assert SAVE_ASK in lan.text
    await lan.send("Lưu thay đổi")
    assert "Đã sửa mục 3: 1 hộ → 5 hộ." in lan.text


async def test_choduyet_lists_reports_waiting_for_reapproval(ctx, world) -> None:  # noqa: F811
    _people, lan, officer = world
    await send_report(lan)
    await officer.send("/choduyet")
    assert officer.text == vi.CHODUYET_NONE_NO_FORM
    await officer.send("/duyet chi hội thôn 1 tháng 11")
    await officer.send("/mobaocao chi hội thôn 1 tháng 11")
    await lan.send("/baocao sửa 3 thành 5")
    await lan.send("Lưu thay đổi")
    await lan.send("Xong")
    assert vi.RELOCKED_WAITING in lan.text
    await officer.send("/choduyet")
    assert "Báo cáo chờ chị duyệt (1):" in officer.text
    assert "Chi hội thôn 1" in officer.text
    await officer.send("/duyet chi hội thôn 1 tháng 11")
    await officer.click("Duyệt")
    assert "Đã duyệt" in officer.text
    await officer.send("/choduyet")
    assert officer.text == vi.CHODUYET_NONE_NO_FORM
