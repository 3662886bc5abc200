"""The reporting conversation through the engine, as a branch leader lives it."""

from dataclasses import replace
from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select

from handlers.engine import Engine
from storage.db.models import (
    AuditEntry,
    CodeAttempt,
    OutboxMessage,
    Submission,
    SubmissionStatus,
)
from storage.measures import report_audit, reporting
from storage.plan.clock import vn_datetime
from storage.plan.periods import month
from tests.builders import invite, report, small_tree_with_people
from tests.chat import ChatUser

ANSWERS = ["3", "1", "2 hộ", "10", "4", "5", "1", "2", "101"]  # the 9 required questions


@pytest.fixture
async def world(ctx):
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        code = await invite(session, people.leader, ctx.clock.now())
    return people, code


async def linked_leader(ctx, world, user_id: str = "501") -> ChatUser:
    _people, code = world
    user = ChatUser(Engine(ctx), user_id)
    await user.send(f"/start {code}")
    assert "Chào chị Nguyễn Thị Lan" in user.text
    assert "Nghị định 13/2023/NĐ-CP" in user.text  # told what is kept, before anything else
    await user.click("Đồng ý")
    assert "ghi nhận chị đồng ý" in user.text and "/baocao" in user.text
    return user


async def send_full_report(user: ChatUser) -> None:
    await user.send("/baocao")
    for answer in ANSWERS:
        await user.send(answer)
    await user.click("Bỏ qua")
    await user.click("Gửi")


async def stored(ctx, unit_id: int, period_key: str = "2026-11"):
    async with ctx.sessions() as session:
        sub = await reporting.find_submission(session, unit_id, "thang_chi_hoi", period_key)
        return sub, (await reporting.answers(session, sub.id) if sub else {})


async def test_full_report_from_start_to_thanks(ctx, world) -> None:
    people, _ = world
    user = await linked_leader(ctx, world)
    await user.send("/baocao")
    assert "Báo cáo tháng của chi hội – tháng 11/2026 (hạn nộp 05/12/2026)" in user.text
    assert "Câu 1/10" in user.text and "0" in user.buttons
    for answer in ANSWERS:
        await user.send(answer)
    assert "Câu 10/10" in user.text and "(Không bắt buộc)" in user.text
    await user.click("Bỏ qua")
    assert "Tóm tắt" in user.text and "10. Phụ nữ khuyết tật" in user.text
    assert "bỏ qua" in user.text
    assert user.buttons[0] == "Gửi" and "Sửa mục 10" in user.buttons
    await user.click("Gửi")
    assert "Cảm ơn chị, báo cáo đúng hạn" in user.text
    assert "Từ đầu năm 2026, chi hội đã có: hội viên mới kết nạp 3 người; " in user.text
    assert "Em đã nhận báo cáo tháng của chi hội – tháng 11/2026" in user.text
    sub, values = await stored(ctx, people.tree.b1.id)
    assert sub.status == SubmissionStatus.SUBMITTED and not sub.late
    assert values["ho_thoat_ngheo"] == 2 and values["tong_hoi_vien"] == 101
    assert values["pn_kt_ho_tro"] is None


async def test_resume_after_restart_back_and_edit(ctx, world) -> None:
    people, _ = world
    user = await linked_leader(ctx, world)
    await user.send("báo cáo")
    await user.send("3")
    await user.send("1")
    # A new engine is a restarted bot: everything it knows is in the database.
    user.engine = Engine(ctx)
    await user.send("/baocao")
    assert "Đã trả lời 2/10 câu" in user.text and "Câu 3/10" in user.text
    await user.click("Quay lại")
    assert "Câu 2/10" in user.text and "(Đã ghi: 1 người)" in user.text
    await user.send("2")
    assert "Câu 3/10" in user.text
    for answer in ANSWERS[2:]:
        await user.send(answer)
    await user.click("Bỏ qua")
    await user.send("sửa 1")
    assert "Câu 1/10" in user.text and "(Đã ghi: 3 người)" in user.text
    await user.send("4")
    assert "Tóm tắt" in user.text and "1. Hội viên mới kết nạp: 4 người" in user.text
    await user.click("Sửa mục 3")
    await user.click("Quay lại")  # back from an edit returns to the summary, unchanged
    assert "3. Hộ phụ nữ nghèo, cận nghèo được giúp thoát nghèo: 2 hộ" in user.text
    await user.send("gửi")
    assert "đúng hạn" in user.text
    _, values = await stored(ctx, people.tree.b1.id)
    assert values["hv_moi"] == 4 and values["hv_ra"] == 2


async def test_cancel_keeps_the_draft(ctx, world) -> None:
    people, _ = world
    user = await linked_leader(ctx, world)
    await user.send("/baocao")
    await user.send("7")
    await user.send("/huy")
    assert "vẫn được lưu" in user.text
    await user.send("5")
    assert "Em chưa hiểu" in user.text
    _, values = await stored(ctx, people.tree.b1.id)
    assert values == {"hv_moi": 7}
    await user.send("/huy")
    assert "Không có việc gì đang làm dở" in user.text


async def test_refusals_explain_and_ask_again(ctx, world) -> None:
    people, _ = world
    user = await linked_leader(ctx, world)
    await user.send("/baocao")
    await user.send("ba người")
    assert "Chưa hiểu «ba người»" in user.text and "Câu 1/10" in user.text
    await user.send("-2")
    assert "không được âm" in user.text
    await user.send("2,5")
    assert "số nguyên" in user.text
    for answer in ANSWERS[:7]:
        await user.send(answer)
    await user.send("150")  # hd_vhvn has max 100
    assert "Số lớn nhất cho mục này là 100" in user.text
    _, values = await stored(ctx, people.tree.b1.id)
    assert "hd_vhvn" not in values


async def test_implausible_value_is_confirmed_not_refused(ctx, world) -> None:
    people, _ = world
    async with ctx.sessions() as session:
        await report(
            session, people.tree.b1, "thang_chi_hoi", month(2026, 10), {"ho_thoat_ngheo": 2}
        )
    user = await linked_leader(ctx, world)
    await user.send("/baocao")
    await user.send("3")
    await user.send("1")
    assert "(Kỳ trước: 2 hộ)" in user.text
    await user.send("300 hộ")
    assert "lớn hơn số hội viên của chi hội (theo danh sách đơn vị: 100 hội viên)" in user.text
    assert "Chị xác nhận 300 hộ là đúng?" in user.text
    await user.click("Nhập lại")
    assert "Câu 3/10" in user.text
    await user.send("300")
    await user.send("đúng")
    assert "Câu 4/10" in user.text
    _, values = await stored(ctx, people.tree.b1.id)
    assert values["ho_thoat_ngheo"] == 300


async def test_late_submission_is_accepted_and_marked(ctx, world) -> None:
    people, _ = world
    user = await linked_leader(ctx, world)
    ctx.clock.set(vn_datetime(2026, 12, 8, 10))  # due 5/12, closes 20/12
    await send_full_report(user)
    assert "trễ hạn (05/12/2026)" in user.text
    sub, _ = await stored(ctx, people.tree.b1.id)
    assert sub.late


async def test_correction_after_submission_goes_to_the_audit_trail(ctx, world) -> None:
    people, _ = world
    user = await linked_leader(ctx, world)
    await send_full_report(user)
    ctx.clock.set(ctx.clock.now() + timedelta(days=2))
    await user.send("/baocao")
    assert "đã gửi ngày 27/11/2026" in user.text and user.buttons[0] == "Xong"
    await user.click("Sửa mục 3")
    await user.send("5")
    # Old → new, and nothing saved before she confirms.
    assert "• Mục 3. Hộ phụ nữ nghèo, cận nghèo được giúp thoát nghèo: 2 hộ → 5 hộ" in user.text
    assert user.buttons == ["Lưu thay đổi", "Giữ số cũ"]
    _, values = await stored(ctx, people.tree.b1.id)
    assert values["ho_thoat_ngheo"] == 2
    await user.click("Lưu thay đổi")
    assert "Đã sửa mục 3: 2 hộ → 5 hộ" in user.text
    await user.click("Xong")
    sub, values = await stored(ctx, people.tree.b1.id)
    assert values["ho_thoat_ngheo"] == 5 and sub.status == SubmissionStatus.SUBMITTED
    async with ctx.sessions() as session:
        trail = await report_audit.audit_trail(session, sub.id)
    assert [(a.action, a.indicator_code, a.old_value, a.new_value) for a in trail] == [
        ("submit", None, None, None),
        ("edit", "ho_thoat_ngheo", "2", "5"),
    ]
    assert trail[1].changed_by_id == people.leader.id
    assert trail[1].note == "sửa mục 3: «5»; xác nhận: «Lưu thay đổi»"
    # After the period closes (20/12), the report is locked.
    ctx.clock.set(vn_datetime(2026, 12, 21, 9))
    await user.send("/baocao")
    assert "Kỳ tới: Báo cáo quý của chi hội, quý IV/2026, mở từ ngày 24/12/2026" in user.text


async def test_several_open_forms_she_picks_one(ctx, world) -> None:
    ctx.clock.set(vn_datetime(2026, 10, 2, 9))  # September's month and Q3 are both open
    user = await linked_leader(ctx, world)
    await user.send("/baocao")
    assert "Đang mở nhiều kỳ báo cáo" in user.text
    assert user.buttons == [
        "Báo cáo tháng của chi hội – tháng 9/2026",
        "Báo cáo quý của chi hội – quý III/2026",
    ]
    await user.click("Báo cáo quý của chi hội – quý III/2026")
    assert "Câu 1/5" in user.text


async def test_no_open_period_says_when_the_next_opens(ctx, world) -> None:
    ctx.clock.set(vn_datetime(2026, 11, 22, 9))  # October closed on 20/11; November opens 25/11
    user = await linked_leader(ctx, world)
    await user.send("/baocao")
    assert "Kỳ tới: Báo cáo tháng của chi hội, tháng 11/2026, mở từ ngày 25/11/2026" in user.text


async def test_duplicate_update_changes_nothing_and_sends_nothing(ctx, world) -> None:
    people, _ = world
    user = await linked_leader(ctx, world)
    await user.send("/baocao", update_key="u-1")
    await user.send("3", update_key="u-2")
    assert "Câu 2/10" in user.text
    assert await user.send("3", update_key="u-2") == []
    assert await user.send("/baocao", update_key="u-1") == []
    await user.send("1", update_key="u-3")
    assert "Câu 3/10" in user.text
    _, values = await stored(ctx, people.tree.b1.id)
    assert values == {"hv_moi": 3, "hv_ra": 1}


async def test_old_button_is_recognised(ctx, world) -> None:
    user = await linked_leader(ctx, world)
    await user.send("/baocao")
    first = user.last[-1].choices[0].data  # "0" on question 1
    await user.send("3")
    await user.press(first)
    assert "Nút này thuộc câu hỏi trước" in user.text and "Câu 2/10" in user.text


async def test_wrong_codes_are_rate_limited(ctx, world) -> None:
    _, code = world
    user = ChatUser(Engine(ctx), "666")
    await user.send("/baocao")
    assert "cần mã mời" in user.text
    for _ in range(5):
        await user.send("/start ABCD2345XY")
        assert "không đúng" in user.text
    await user.send(f"/start {code}")  # even the right code waits now
    assert "chờ 15 phút" in user.text
    async with ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CodeAttempt)) == 5
    ctx.clock.set(ctx.clock.now() + timedelta(minutes=16))
    await user.send(code.lower()[:4] + "-" + code.lower()[4:])  # typed, with a dash
    assert "Chào chị Nguyễn Thị Lan" in user.text


async def test_one_person_on_two_channels_and_used_codes(ctx, world) -> None:
    people, code = world
    await linked_leader(ctx, world)
    other = ChatUser(Engine(ctx), "777")
    await other.send(f"/start {code}")
    assert "đã được dùng" in other.text
    async with ctx.sessions() as session:
        second = await invite(session, people.leader, ctx.clock.now())
    zalo = ChatUser(Engine(ctx), "a1b2c3", channel="zalo")
    await zalo.send(second)
    assert "Chào chị Nguyễn Thị Lan" in zalo.text
    await zalo.send("báo cáo")
    await zalo.send("9")
    tg = ChatUser(Engine(ctx), "501")
    await tg.send("/baocao")  # she continues on Telegram where she left off on Zalo
    assert "Đã trả lời 1/10" in tg.text
    async with ctx.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(Submission))
    assert count == 1


async def test_expired_code_and_person_without_forms(ctx, world) -> None:
    people, _ = world
    async with ctx.sessions() as session:
        code = await invite(session, people.provincial, ctx.clock.now(), days=1)
    ctx.clock.set(ctx.clock.now() + timedelta(days=2))
    staff = ChatUser(Engine(ctx), "900")
    await staff.send(f"/start {code}")
    assert "hết hạn" in staff.text
    ctx.clock.set(ctx.clock.now() - timedelta(days=2))
    await staff.send(f"/start {code}")
    assert "Chào chị Phạm Thị Hương" in staff.text
    await staff.click("Đồng ý")
    assert "/trogiup" in staff.text
    await staff.send("/baocao")  # the province's own yearly form opens on 16/12
    assert "Kỳ tới: Báo cáo năm của Hội LHPN tỉnh, năm 2026" in staff.text
    # In a configuration with no form at the province's level:
    forms = {k: f for k, f in ctx.catalog.forms.items() if f.level != "province"}
    ctx.catalog = replace(ctx.catalog, forms=forms)
    await staff.send("/baocao")
    assert "không có mẫu báo cáo" in staff.text
    async with ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0


async def test_officer_reopens_a_closed_report_for_a_correction(ctx, world) -> None:
    people, _ = world
    user = await linked_leader(ctx, world)
    await send_full_report(user)
    ctx.clock.set(vn_datetime(2026, 12, 22, 9))  # November closed on 20/12
    await user.send("/baocao")
    assert "Kỳ tới" in user.text  # nothing open for her
    async with ctx.sessions() as session:
        from storage.db.invitations import link_directly

        await link_directly(session, people.commune_officer, "telegram", "officer", ctx.clock.now())
        await session.commit()
    officer = ChatUser(user.engine, "officer")
    await officer.send("/mobaocao Chi hội thôn 2 tháng 11")  # never sent by B2: a late one
    assert "để báo cáo bù" in officer.text
    await officer.send("/mobaocao KH-D3 tháng 11")  # outside her commune: unknown
    assert "Không tìm thấy đơn vị" in officer.text
    await officer.send("/mobaocao chi hội thôn 1 tháng 11")
    assert "Đã mở lại báo cáo tháng của chi hội tháng 11/2026 của Chi hội thôn 1" in officer.text
    # She is told by the bot, not left to learn it from the officer (a tester's finding).
    assert "Em đã nhắn cho Nguyễn Thị Lan." in officer.text
    async with ctx.sessions() as session:
        told = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.person_id == people.leader.id)
            )
        ).all()
    notices = [m for m in told if m.key.startswith("reopen:")]
    assert len(notices) == 1 and notices[0].kind == "nudge"
    assert (
        "Chị Trần Thị Mai đã mở lại báo cáo tháng của chi hội tháng 11/2026"
        in (notices[0].payload["text"])
    )
    await user.send("/baocao")
    assert "Tóm tắt" in user.text
    await user.send("sửa 3")
    await user.send("6")
    await user.send("đúng")
    assert "Đã sửa mục 3: 2 hộ → 6 hộ" in user.text
    await user.click("Xong")
    await user.send("/baocao")
    assert "Kỳ tới" in user.text  # locked again
    sub, values = await stored(ctx, people.tree.b1.id)
    assert values["ho_thoat_ngheo"] == 6 and not sub.reopened
    async with ctx.sessions() as session:
        trail = await report_audit.audit_trail(session, sub.id)
    assert [a.action for a in trail] == ["submit", "reopen", "edit"]
    assert trail[1].changed_by_id == people.commune_officer.id


async def test_approval_by_the_level_above_locks_until_reopened(ctx, world) -> None:
    people, _ = world
    user = await linked_leader(ctx, world)
    await send_full_report(user)  # November, still open until 20/12
    async with ctx.sessions() as session:
        from storage.db.invitations import link_directly

        await link_directly(session, people.commune_officer, "telegram", "officer", ctx.clock.now())
        await session.commit()
    officer = ChatUser(user.engine, "officer")
    await officer.send("duyet chi hoi thon 1 thang 11")
    assert "Đã duyệt báo cáo tháng của chi hội tháng 11/2026 của Chi hội thôn 1" in officer.text
    await officer.send("/duyet chi hội thôn 1 tháng 11")
    assert "đã được duyệt từ trước" in officer.text
    # The period is open, yet the approved report cannot be changed.
    await user.send("/baocao")
    assert "đã được Hội cấp trên duyệt nên không sửa được nữa" in user.text
    assert "cán bộ Hội cơ sở" in user.text
    sub, _values = await stored(ctx, people.tree.b1.id)
    assert sub.approved_by_id == people.commune_officer.id
    # Reopening lifts the approval; she corrects; the trail keeps every step.
    await officer.send("/mobaocao chi hội thôn 1 tháng 11")
    await user.send("/baocao")
    await user.send("sửa 3")
    await user.send("7")
    await user.click("Lưu thay đổi")
    assert "Đã sửa mục 3: 2 hộ → 7 hộ" in user.text
    sub, values = await stored(ctx, people.tree.b1.id)
    assert values["ho_thoat_ngheo"] == 7 and sub.approved_at is None
    async with ctx.sessions() as session:
        trail = await report_audit.audit_trail(session, sub.id)
    assert [a.action for a in trail] == ["submit", "approve", "unapprove", "reopen", "edit"]


async def test_a_choice_question_gets_a_button_per_choice(ctx, world) -> None:
    from storage.plan.catalog import Indicator, Question

    people, _ = world
    rating = Indicator.model_validate(
        {
            "code": "muc_do",
            "label": "Mức độ sinh hoạt",
            "question": "Chi hội sinh hoạt đều đặn ở mức nào?",
            "type": "choice",
            "choices": [
                {"value": 3, "label": "Hằng tháng"},
                {"value": 2, "label": "Hằng quý"},
                {"value": 1, "label": "Chưa đều"},
            ],
        }
    )
    form = ctx.catalog.forms["thang_chi_hoi"]
    only = form.model_copy(update={"questions": [Question(indicator="muc_do")]})
    ctx.catalog = replace(
        ctx.catalog,
        indicators={**ctx.catalog.indicators, "muc_do": rating},
        forms={**ctx.catalog.forms, "thang_chi_hoi": only},
    )
    user = await linked_leader(ctx, world)
    await user.send("/baocao")
    assert user.buttons[:3] == ["Hằng tháng", "Hằng quý", "Chưa đều"]
    await user.send("giỏi lắm")
    assert "Chị chọn một trong: «Hằng tháng», «Hằng quý», «Chưa đều»." in user.text
    await user.send("hang quy")
    assert "1. Mức độ sinh hoạt: Hằng quý" in user.text
    await user.click("Gửi")
    _sub, values = await stored(ctx, people.tree.b1.id)
    assert values["muc_do"] == 2


async def test_dates_she_sees_are_local_even_before_dawn(ctx, world) -> None:
    # 04:46 on 6/12 in Việt Nam is still 5/12 in UTC, the real clock's zone: the date she
    # reads is the local one.
    user = await linked_leader(ctx, world)
    ctx.clock.set(vn_datetime(2026, 12, 6, 4, 46).astimezone(UTC))
    await send_full_report(user)
    assert "trễ hạn (05/12/2026)" in user.text
    await user.send("/baocao")
    assert "đã gửi ngày 06/12/2026" in user.text


async def test_kept_totals_written_last_in_the_turn_stay_exact(ctx, world) -> None:
    # A submit and a correction through the chat: the unit's own kept rows are written at
    # once, the shared rows above it just before the commit (#25); both agree with the raw
    # reports and with a full rebuild.
    from sqlalchemy import event

    from storage.db import aggregates
    from storage.db.models import UnitPeriodTotal, UnitStockTotal
    from tests.test_aggregates import assert_agree, kept_stock_rows

    people, _ = world
    user = await linked_leader(ctx, world)
    statements: list[str] = []
    engine = ctx.sessions.kw["bind"]

    def seen(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        await send_full_report(user)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    # The submit's turn: the shared rows (an INSERT into the kept totals whose ancestors are
    # not the unit itself) come after the reply owed and the conversation's update.
    last_writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    shared = [i for i, s in enumerate(last_writes) if "ancestor_id <>" in s]
    assert shared, "the rows above the unit were written apart"
    assert all(
        "unit_period_totals" in last_writes[i] or "unit_stock_totals" in last_writes[i]
        for i in range(shared[0], len(last_writes))
    )
    ctx.clock.set(ctx.clock.now() + timedelta(days=2))
    await user.send("/baocao")
    await user.click("Sửa mục 1")
    await user.send("7")
    await user.click("Lưu thay đổi")
    await user.click("Xong")
    _, values = await stored(ctx, people.tree.b1.id)
    assert values["hv_moi"] == 7
    async with ctx.sessions() as session:
        assert await assert_agree(session, ctx.catalog, people.tree.province.id) > 0
        flows = {
            (r.ancestor_id, r.indicator_code, r.period_key): r.total
            for r in (await session.scalars(select(UnitPeriodTotal))).all()
        }
        stocks = await kept_stock_rows(session)
        await aggregates.rebuild(session, ctx.catalog)
        rebuilt = {
            (r.ancestor_id, r.indicator_code, r.period_key): r.total
            for r in (await session.scalars(select(UnitPeriodTotal))).all()
        }
        assert rebuilt == flows and await kept_stock_rows(session) == stocks
        assert await session.scalar(select(func.count()).select_from(UnitStockTotal))


async def test_a_thank_you_is_answered_politely_not_corrected(ctx, world) -> None:
    user = await linked_leader(ctx, world)
    for thanks in ("Cảm ơn em", "cam on em nhieu a", "Dạ em cám ơn chị 🙏", "thanks"):
        await user.send(thanks)
        assert user.text == "Dạ, không có gì ạ. Khi cần, chị cứ nhắn em.", thanks
    await user.send("Cảm ơn em, mai chị họp chi hội")  # more than thanks: what she can do
    assert user.text.startswith("Em chưa hiểu ý chị.")


async def test_the_member_count_quoted_is_her_latest_report_then_her_own_answer(ctx, world) -> None:
    """Tester's finding 9: the count a per-member answer is held against is her latest sent
    member total (not the registered 100), and once she answers the total in this report,
    that answer; the message says which."""
    people, _ = world
    async with ctx.sessions() as session:
        await report(
            session, people.tree.b1, "thang_chi_hoi", month(2026, 9), {"tong_hoi_vien": 110}
        )
        await report(
            session, people.tree.b1, "thang_chi_hoi", month(2026, 10), {"tong_hoi_vien": 125}
        )
    user = await linked_leader(ctx, world)
    await user.send("/baocao")
    await user.send("3")
    await user.send("1")
    await user.send("130")
    assert (
        "Số này lớn hơn số hội viên của chi hội (theo báo cáo tháng 10/2026: 125 hội viên)."
        in user.text
    )
    await user.click("Nhập lại")
    await user.send("120")  # above the registered 100, within her October 125: no question
    assert "Câu 4/10" in user.text
    for answer in ANSWERS[3:8]:
        await user.send(answer)
    await user.send("118")  # her member total now: her 120 households are more
    await user.click("Bỏ qua")
    assert (
        "Số này lớn hơn số hội viên của chi hội (theo câu 9 của báo cáo này: 118 hội viên)."
        in user.text
    )
    assert "Chị xác nhận 120 hộ là đúng?" in user.text
    await user.send("đúng")
    assert "Tóm tắt" in user.text
    await user.click("Gửi")
    assert "Cảm ơn chị" in user.text
