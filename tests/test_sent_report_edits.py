"""A sent report changes only when she asks to edit it and confirms old → new (issue #19);
an officer approving a changed report sees the changes; the small items of the issue."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from handlers.engine import Engine
from storage.db.models import AuditEntry, Submission, UnitPeriodTotal
from storage.measures import report_audit, reporting
from storage.plan.periods import month
from tests.builders import invite, linked, report, small_tree_with_people
from tests.chat import ChatUser

SENT = "3 0 1 2 1 2 0 1 97 0"  # hvm 3 hvr 0 tn 1 tvn 2 cc 1 vl 2 ks 0 vn 1 thv 97 kt 0


@pytest.fixture
async def world(ctx):
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        code = await invite(session, people.leader, ctx.clock.now())
        await linked(session, people.commune_officer, "telegram", "officer", ctx.clock.now())
        await session.commit()
    engine = Engine(ctx)
    lan = ChatUser(engine, "701")
    await lan.join(code)
    return people, lan, ChatUser(engine, "officer")


async def send_report(lan: ChatUser, values: str = SENT) -> None:
    await lan.send(f"/baocao {values}")
    await lan.send("Gửi")
    assert "Cảm ơn chị" in lan.text


async def state(ctx, unit_id: int):
    """Her November values, the commune's kept totals, the audit trail."""
    async with ctx.sessions() as session:
        sub = await reporting.find_submission(session, unit_id, "thang_chi_hoi", "2026-11")
        values = await reporting.answers(session, sub.id) if sub else {}
        totals = {
            (row.ancestor_id, row.indicator_code): row.total
            for row in (
                await session.scalars(
                    select(UnitPeriodTotal).where(UnitPeriodTotal.period_key == "2026-11")
                )
            ).all()
        }
        trail = await report_audit.audit_trail(session, sub.id) if sub else []
    return values, totals, [(a.action, a.indicator_code, a.old_value, a.new_value) for a in trail]


async def test_phone_numbers_to_a_sent_report_change_nothing(ctx, world) -> None:
    """The issue's case: thanks and two phone numbers after her report was sent."""
    people, lan, officer = world
    await send_report(lan)
    before = await state(ctx, people.tree.b1.id)
    assert before[1][(people.tree.c1.id, "hv_moi")] == 3
    await lan.send("Em cảm ơn chị. Số điện thoại mới của em: 0905 123 456 hoặc 0912 345 678")
    assert "Em chưa hiểu ý chị" in lan.text
    await lan.send("/baocao")  # at her sent report's summary: the same, and nothing asked
    await lan.send("SĐT của em: 0905 123 456, chị gọi lại 0912 345 678 nhé")
    assert "em không đổi gì" in lan.text and "→" not in lan.text
    assert await state(ctx, people.tree.b1.id) == before
    await officer.send("/duyet chi hội thôn 1 tháng 11")  # nothing changed: approved at once
    assert "Đã duyệt" in officer.text


async def test_an_edit_of_a_report_closed_since_is_refused_at_once(ctx, world) -> None:
    """Left at her sent report's summary, she comes back after the books closed: «sửa 3» is
    refused there (not walked through to «Lưu thay đổi»), the form named once."""
    people, lan, _officer = world
    await send_report(lan)
    await lan.send("/baocao")  # her sent report's summary, while it may still be edited
    assert "sửa" in lan.text
    before = await state(ctx, people.tree.b1.id)
    ctx.clock.set(ctx.clock.now() + timedelta(days=60))
    await lan.send("sửa 3")
    assert "đã khóa sổ" in lan.text and "Báo cáo Báo cáo" not in lan.text, lan.text
    assert "→" not in lan.text and "Lưu thay đổi" not in lan.text
    await lan.send("5")
    assert "→" not in lan.text
    assert await state(ctx, people.tree.b1.id) == before


async def test_a_whole_form_changes_a_sent_report_only_after_sua_and_yes(ctx, world) -> None:
    people, lan, _ = world
    await send_report(lan)
    before = await state(ctx, people.tree.b1.id)
    await lan.send("hvm 4 tn 2")  # a plain form, but no "sửa": nothing changes
    assert "Báo cáo này đã gửi nên em không ghi các số chị vừa gửi" in lan.text
    assert "«sửa hvm 3 hvr 1»" in lan.text
    assert await state(ctx, people.tree.b1.id) == before
    await lan.send("sửa hvm 4 tn 2 vl 2")
    assert "Chị sửa Báo cáo tháng của chi hội – tháng 11/2026 đã gửi:" in lan.text
    assert "• Mục 1. Hội viên mới kết nạp: 3 người → 4 người" in lan.text
    assert "• Mục 3. Hộ phụ nữ nghèo, cận nghèo được giúp thoát nghèo: 1 hộ → 2 hộ" in lan.text
    assert "Mục 6" not in lan.text  # unchanged values are not listed
    assert await state(ctx, people.tree.b1.id) == before  # pending: no value, no total
    await lan.send("có")
    assert "Đã sửa mục 1: 3 người → 4 người." in lan.text
    assert "Đã sửa mục 3: 1 hộ → 2 hộ." in lan.text
    values, totals, trail = await state(ctx, people.tree.b1.id)
    assert values["hv_moi"] == 4 and values["ho_thoat_ngheo"] == 2
    assert totals[(people.tree.c1.id, "hv_moi")] == 4
    assert totals[(people.tree.province.id, "ho_thoat_ngheo")] == 2
    assert trail[-2:] == [
        ("edit", "hv_moi", "3", "4"),
        ("edit", "ho_thoat_ngheo", "1", "2"),
    ]
    async with ctx.sessions() as session:
        notes = (
            await session.scalars(select(AuditEntry.note).where(AuditEntry.action == "edit"))
        ).all()
    assert notes == ["«sửa hvm 4 tn 2 vl 2»; xác nhận: «có»"] * 2


async def test_sua_then_a_message_and_keeping_the_old_figures(ctx, world) -> None:
    people, lan, _ = world
    await send_report(lan)
    before = await state(ctx, people.tree.b1.id)
    await lan.send("/baocao")
    await lan.send("sửa")
    assert "Chị gửi các số cần sửa theo nhãn" in lan.text
    await lan.send("Dạ em cảm ơn chị")  # a thank-you while asked: a polite word, asked again
    assert "Dạ, không có gì ạ. Em chưa đổi gì" in lan.text
    assert "Chị gửi các số cần sửa theo nhãn" in lan.text
    await lan.send("Em gửi các chị nhé")  # chatter: nothing read, asked again
    assert "Em chưa thấy số nào để sửa" in lan.text
    await lan.send("3 0 1 2 1 2 0 1 99 0")  # the whole form again, in order: one change
    assert "• Mục 9. Tổng số hội viên hiện có: 97 người → 99 người" in lan.text
    await lan.send("3 0 1 2 1 2 0 1 9 0")  # another form while asked: it replaces the first
    assert "• Mục 9. Tổng số hội viên hiện có: 97 người → 9 người" in lan.text
    assert lan.text.count("→") == 1
    await lan.send("sửa 9 thành 99")
    assert "• Mục 9. Tổng số hội viên hiện có: 97 người → 99 người" in lan.text
    assert lan.text.count("→") == 1
    await lan.click("Giữ số cũ")
    assert "vẫn giữ nguyên số cũ" in lan.text
    assert await state(ctx, people.tree.b1.id) == before


async def test_a_doubtful_edit_is_held_until_confirmed(ctx, world) -> None:
    people, lan, officer = world
    async with ctx.sessions() as session:
        for m in range(1, 11):
            await report(session, people.tree.b1, "thang_chi_hoi", month(2026, m), {"hv_moi": 1})
    await send_report(lan, "1 0 1 2 1 2 0 1 97 0")
    before = await state(ctx, people.tree.b1.id)
    await lan.send("/baocao")
    await lan.send("sửa 1")
    await lan.send("905")
    assert "• Mục 1. Hội viên mới kết nạp: 1 người → 905 người" in lan.text
    # Her own total in this report (97), not the registered 100.
    assert (
        "Số này lớn hơn số hội viên của chi hội (theo câu 9 của báo cáo này: 97 hội viên)."
        in lan.text
    )
    assert await state(ctx, people.tree.b1.id) == before  # no value, no total, no audit row
    await lan.send("0905")  # a phone number as the new answer: refused as what it is
    assert "giống số điện thoại" in lan.text and "Chị trả lời «Lưu thay đổi» để lưu" in lan.text
    assert await state(ctx, people.tree.b1.id) == before
    await lan.send("40")
    await lan.click("Lưu thay đổi")
    values, totals, trail = await state(ctx, people.tree.b1.id)
    assert values["hv_moi"] == 40 and totals[(people.tree.c1.id, "hv_moi")] == 40
    assert trail[-2:] == [("edit", "hv_moi", "1", "40"), ("confirm", "hv_moi", None, "40")]
    async with ctx.sessions() as session:
        confirm = await session.scalar(select(AuditEntry).where(AuditEntry.action == "confirm"))
    assert confirm.new_value == "40" and "khác xa các kỳ trước" in confirm.note
    await officer.send("/duyet chi hội thôn 1 tháng 11")
    assert (
        "• Hội viên mới kết nạp: 1 người → 40 người (27/11, Nguyễn Thị Lan) – số khác thường, "
        "người sửa đã xác nhận" in officer.text
    )


async def test_sua_at_a_drafts_summary(ctx, world) -> None:
    people, lan, _ = world
    await lan.send(f"/baocao {SENT}")
    assert "Tóm tắt" in lan.text
    await lan.send("sửa 3 thành 2")  # a draft: taken at once
    assert "3. Hộ phụ nữ nghèo, cận nghèo được giúp thoát nghèo: 2 hộ" in lan.text
    await lan.send("sửa hvm 4 vl 3")
    assert "1. Hội viên mới kết nạp: 4 người" in lan.text and "Tóm tắt" in lan.text
    await lan.send("sửa")
    await lan.send("tn 1")
    assert "3. Hộ phụ nữ nghèo, cận nghèo được giúp thoát nghèo: 1 hộ" in lan.text
    await lan.send("Em cảm ơn chị")
    assert "em không đổi gì" in lan.text
    values, totals, trail = await state(ctx, people.tree.b1.id)
    assert (values["hv_moi"], values["ho_thoat_ngheo"], values["ld_viec_lam"]) == (4, 1, 3)
    assert totals == {} and trail == []  # a draft: no total, no audit


async def test_sua_at_a_question(ctx, world) -> None:
    people, lan, _ = world
    await lan.send("/baocao")
    await lan.send("3")
    await lan.send("sửa 1 thành 4")  # at question 2: item 1 changed, then back to question 2
    assert "Câu 2/10" in lan.text
    await lan.send("sửa 1")
    assert "Câu 1/10" in lan.text and "(Đã ghi: 4 người)" in lan.text
    values, _, _ = await state(ctx, people.tree.b1.id)
    assert values == {"hv_moi": 4}


async def test_a_rule_stops_an_edit(ctx, world) -> None:
    people, lan, _ = world
    await send_report(lan)
    before = await state(ctx, people.tree.b1.id)
    await lan.send("/baocao")
    await lan.send("sửa cc 5")  # certified (5) above counselled (2)
    assert "không thể nhiều hơn" in lan.text and "→" not in lan.text
    assert await state(ctx, people.tree.b1.id) == before


async def test_an_officer_sees_what_changed_before_approving(ctx, world) -> None:
    people, lan, officer = world
    await send_report(lan)
    ctx.clock.set(ctx.clock.now() + timedelta(days=1))
    await lan.send("/baocao")
    await lan.send("sửa 3 thành 2")
    await lan.click("Lưu thay đổi")
    await officer.send("/duyet chi hội thôn 1 tháng 11")
    assert "Lưu ý: báo cáo tháng của chi hội tháng 11/2026 của Chi hội thôn 1 đã được sửa" in (
        officer.text
    )
    assert (
        "• Hộ phụ nữ nghèo, cận nghèo được giúp thoát nghèo: 1 hộ → 2 hộ (28/11, Nguyễn Thị Lan)"
        in officer.text
    )
    assert officer.buttons == ["Duyệt", "Để sau"]
    await officer.click("Để sau")
    assert "chưa được duyệt" in officer.text
    await officer.send("/duyet chi hội thôn 1 tháng 11")
    await lan.send("sửa 6 thành 3")  # she changes it again before the officer's "Duyệt"
    await lan.click("Lưu thay đổi")
    await officer.click("Duyệt")
    assert "Báo cáo vừa được sửa thêm" in officer.text
    assert "Lao động nữ được giới thiệu, tạo việc làm: 2 người → 3 người" in officer.text
    await officer.send("duyệt")  # the button's label, typed
    assert "Đã duyệt" in officer.text
    async with ctx.sessions() as session:
        sub = await session.scalar(select(Submission))
    assert sub.approved_by_id == people.commune_officer.id
    await lan.send("/baocao sửa 3 thành 4")  # approved: nothing changes
    assert "đã được Hội cấp trên duyệt nên không sửa được nữa" in lan.text


async def test_duyet_far_periods_and_her_own_unit(ctx, world) -> None:
    _, lan, officer = world
    await send_report(lan)
    await officer.send("/duyet chi hội thôn 1 năm 1900")
    # A year names twelve monthly reports, not its December: she is asked which one.
    assert officer.text == (
        "Chi hội thôn 1 gửi nhiều báo cáo trong năm 1900; chị ghi rõ một kỳ, ví dụ: tháng 10/2026."
    )
    await officer.send("/duyet chi hội thôn 1 tháng 3/1900")
    assert "chưa gửi" in officer.text and "chưa có gì để duyệt" in officer.text
    assert "mở lại" not in officer.text
    await officer.send("/duyet xã Sơn Bình tháng 11")
    assert officer.text == (
        "Báo cáo của Xã Sơn Bình do Hội cấp trên duyệt; chị không tự duyệt báo cáo của đơn vị "
        "mình được."
    )
    await officer.send("/mobaocao xã Sơn Bình tháng 11")
    assert "do Hội cấp trên mở lại" in officer.text
    await officer.send("/duyet thôn 99 tháng 11")
    assert "Không tìm thấy đơn vị" in officer.text


async def test_web_and_xephang_in_the_middle_of_a_report(ctx, world) -> None:
    people, lan, _ = world
    await lan.send("/baocao")
    await lan.send("3")
    assert "Câu 2/10" in lan.text
    for command in ("/xephang", "/web", "xếp hạng"):
        await lan.send(command)
        assert lan.last[-1].text.startswith("Câu 2/10"), command  # asked again, last
    await lan.send("1")
    assert "Câu 3/10" in lan.text
    values, _, _ = await state(ctx, people.tree.b1.id)
    assert values == {"hv_moi": 3, "hv_ra": 1}


async def test_a_whole_form_while_a_figure_waits_for_her_word(ctx, world) -> None:
    people, lan, _ = world
    await lan.send("/baocao")
    await lan.send("300")  # above the member count: asked to confirm
    assert "Chị xác nhận 300 người là đúng?" in lan.text
    await lan.send("hvm 3 hvr 0 tn 1 tvn 2 cc 1 vl 2 ks 0 vn 1 thv 97 kt 0")
    # The whole form, as at a question: it fills only empty answers (300 was not saved), so
    # it is written at once and shown.
    assert "Chị muốn ghi các số này" not in lan.text
    assert "Tóm tắt" in lan.text and "1. Hội viên mới kết nạp: 3 người" in lan.text
    values, _, _ = await state(ctx, people.tree.b1.id)
    assert values["hv_moi"] == 3 and len(values) == 10


async def test_a_label_given_several_values_is_asked_about(ctx, world) -> None:
    people, lan, _ = world
    await lan.send("/baocao hvm 3 hvm 5 hvm 7 tn 1")
    assert "Mục hvm có nhiều số (3, 5, 7), em lấy số cuối: 7." in lan.text
    assert "Chị muốn ghi các số này" in lan.text
    assert await state(ctx, people.tree.b1.id) == ({}, {}, [])  # the draft is empty
    await lan.click("Có")
    values, _, _ = await state(ctx, people.tree.b1.id)
    assert values == {"hv_moi": 7, "ho_thoat_ngheo": 1}


async def test_the_issues_draft_and_meeting_note(ctx, world) -> None:
    people, lan, _ = world
    await lan.send("Chi hội họp ngày 3, có 25 chị dự, 4 chị vắng, thu 150 nghìn, 2 chị mới")
    assert "Em chưa hiểu ý chị" in lan.text
    async with ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Submission)) == 0
    await lan.send("/baocao")
    await lan.send("SĐT của em: 0905 123 456, chị gọi lại 0912 345 678 nhé")
    assert "Chưa hiểu" in lan.text and "Câu 1/10" in lan.text
    await lan.send("0905")
    assert "«0905» giống số điện thoại" in lan.text
    await lan.send("150 nghìn")
    assert "là số tiền" in lan.text
    await lan.send("8h")
    assert "là giờ" in lan.text
    await lan.send("3/12")
    assert "là ngày tháng" in lan.text
    await lan.send("25 chị dự 4 chị vắng 2 chị mới 1 chị chuyển đi 3 chị ốm")
    assert "Chị muốn ghi các số này" in lan.text  # five numbers in a sentence: asked
    await lan.send("không")
    assert "Câu 1/10" in lan.text
    assert (await state(ctx, people.tree.b1.id))[0] == {}


@pytest.mark.parametrize("where", ["idle", "question", "summary", "sent"])
async def test_a_very_long_message_gets_a_short_reply(ctx, world, where) -> None:
    _, lan, _ = world
    if where == "question":
        await lan.send("/baocao")
    elif where == "summary":
        await lan.send(f"/baocao {SENT}")
    elif where == "sent":
        await send_report(lan)
        await lan.send("/baocao")
    long = ("hvm 3 hvx 5 họp 25 chị, SĐT 0905 123 456, thu 150 nghìn " * 80)[:4000]
    await lan.send(long)
    assert len(lan.last) <= 2 and sum(len(m.text) for m in lan.last) <= 2000, lan.text
    await lan.send("sửa " + long)
    assert len(lan.last) <= 2 and sum(len(m.text) for m in lan.last) <= 2000, lan.text
