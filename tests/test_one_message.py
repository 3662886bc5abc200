"""The whole form in one message, the form's rules and the outlier check, through the engine."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.scheduler import plan_and_queue
from handlers.engine import Engine
from storage.db.models import OutboxMessage, Person
from storage.measures import report_audit, reporting
from storage.plan.clock import vn_datetime
from storage.plan.periods import month
from tests.builders import invite, linked, report, small_tree_with_people
from tests.chat import ChatUser

ALL = "3 0 1 2 1 2 0 1 97"
COPY_LINE = "Lần sau chị có thể gửi một tin: hvm 3 hvr 0 tn 1 tvn 2 cc 1 vl 2 ks 0 vn 1 thv 97"


@pytest.fixture
async def world(ctx):
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        code = await invite(session, people.leader, ctx.clock.now())
    return people, code


async def leader(ctx, world) -> ChatUser:
    user = ChatUser(Engine(ctx), "701")
    await user.join(world[1])
    return user


async def stored(ctx, unit_id: int, period_key: str = "2026-11"):
    async with ctx.sessions() as session:
        sub = await reporting.find_submission(session, unit_id, "thang_chi_hoi", period_key)
        return sub, (await reporting.answers(session, sub.id) if sub else {})


async def history(ctx, unit, values_by_month: dict[int, dict[str, float]]) -> None:
    async with ctx.sessions() as session:
        for m, values in values_by_month.items():
            await report(session, unit, "thang_chi_hoi", month(2026, m), values)


async def test_all_values_in_one_message_take_three_actions(ctx, world) -> None:
    people, _ = world
    user = await leader(ctx, world)
    await user.send(f"/baocao {ALL}")  # action 1: the message
    # Action 2: a look at the summary, each value named, the optional question left out.
    assert "Tóm tắt Báo cáo tháng của chi hội – tháng 11/2026" in user.text
    assert "1. Hội viên mới kết nạp: 3 người" in user.text
    assert "9. Tổng số hội viên hiện có: 97 người" in user.text
    assert "10. Phụ nữ khuyết tật được hỗ trợ (lũy kế từ đầu năm): bỏ qua" in user.text
    assert COPY_LINE in user.text
    assert user.buttons[0] == "Gửi" and len(user.last) == 1
    await user.click("Gửi")  # action 3
    assert "báo cáo đúng hạn" in user.text
    sub, values = await stored(ctx, people.tree.b1.id)
    assert sub.status == "submitted"
    assert values["tong_hoi_vien"] == 97 and values["ld_viec_lam"] == 2
    assert values["pn_kt_ho_tro"] is None


async def test_one_message_without_the_command_and_by_lines(ctx, world) -> None:
    people, _ = world
    user = await leader(ctx, world)
    # Unasked, with nothing open, even a plain form is only asked about: nothing is written.
    form_by_lines = "3 người\n0\n1 hộ\n2\n1\n2\nkhông\n1\n1 200\n4"
    await user.send(form_by_lines)
    assert "Chị muốn ghi các số này vào Báo cáo tháng của chi hội – tháng 11/2026?" in user.text
    assert "9. Tổng số hội viên hiện có: 1.200 người" in user.text
    assert await stored(ctx, people.tree.b1.id) == (None, {})
    await user.click("Không")
    assert "em không ghi gì" in user.text
    assert await stored(ctx, people.tree.b1.id) == (None, {})
    # As a reply to a reminder: no /baocao; one answer a line, "1 500"-style groups and units.
    ctx.clock.set(vn_datetime(2026, 12, 3, 8, 0))  # two days before the due date
    await plan_and_queue(ctx)
    ctx.clock.set(vn_datetime(2026, 12, 3, 8, 20))
    await user.send(form_by_lines)
    assert "9. Tổng số hội viên hiện có: 1.200 người" in user.text
    assert "10. Phụ nữ khuyết tật được hỗ trợ (lũy kế từ đầu năm): 4 người" in user.text
    _, values = await stored(ctx, people.tree.b1.id)
    assert values["ho_5k3s"] == 0 and values["pn_kt_ho_tro"] == 4


async def test_some_missing_by_label_asks_only_those(ctx, world) -> None:
    people, _ = world
    user = await leader(ctx, world)
    await user.send("/baocao")
    assert "Câu 1/10" in user.text
    await user.send("hvm 3 người, hvr: 0 tn=1 tvn 2 cc 1 vl 2 thv 97")
    # Only question 1 and items not answered yet: written at once, every value shown.
    assert "Chị muốn ghi các số này" not in user.text
    assert '7. Hộ hội viên đạt tiêu chí "5 không, 3 sạch": chưa trả lời' in user.text
    assert "Câu 7/10" in user.text  # only what is missing
    await user.send("0")
    assert "Câu 8/10" in user.text
    await user.send("1")
    assert "Câu 10/10" in user.text  # the optional one, asked since not given
    await user.click("Bỏ qua")
    assert "Tóm tắt" in user.text and user.buttons[0] == "Gửi"
    _, values = await stored(ctx, people.tree.b1.id)
    assert values["hv_moi"] == 3 and values["hd_vhvn"] == 1


async def test_too_few_and_too_many_keep_what_was_read(ctx, world) -> None:
    people, _ = world
    user = await leader(ctx, world)
    await user.send("/baocao")
    await user.send("12 hộ 3")  # two numbers at a question: a muddled answer, not a report
    assert "Chưa hiểu «12 hộ 3»" in user.text and "Câu 1/10" in user.text
    await user.send("3 0 1 2 1 2 0 1")
    await user.send("Có")
    assert "Chị gửi 8 số, mẫu có 10 câu. Em đã ghi lần lượt vào câu 1 đến câu 8" in user.text
    assert "8. Hoạt động văn hóa, văn nghệ, thể dục thể thao: 1 hoạt động" in user.text
    assert "Câu 9/10" in user.text
    _, values = await stored(ctx, people.tree.b1.id)
    assert len(values) == 8 and values["hd_vhvn"] == 1
    await user.send("3 0 1 2 1 2 0 1 97 4 5 6")
    assert "em sẽ không ghi 5, 6" in user.text
    await user.send("Có")
    assert "Chị gửi 12 số, mẫu chỉ có 10 câu. Em đã ghi 10 số đầu, chưa ghi: 5, 6." in user.text
    assert "10. Phụ nữ khuyết tật được hỗ trợ (lũy kế từ đầu năm): 4 người" in user.text
    assert user.buttons[0] == "Gửi"


async def test_words_unknown_labels_and_refused_values(ctx, world) -> None:
    people, _ = world
    user = await leader(ctx, world)
    await user.send("/baocao tháng này: hvm 3 hvx 5 hvr ba tn 1,5 tvn 2 cc 1 vl 2 ks 0 vn 1 thv 97")
    assert "Em chưa biết số này thuộc mục nào: «hvx 5»" in user.text
    assert "hvm: Hội viên mới kết nạp" in user.text  # the labels are listed
    assert "Câu 2: Chưa hiểu «ba»" in user.text
    assert "Câu 3: Mục này là số nguyên" in user.text
    assert "Câu 2/10" in user.text  # asked again, the rest kept
    _, values = await stored(ctx, people.tree.b1.id)
    assert values["hv_moi"] == 3 and "hv_ra" not in values and "ho_thoat_ngheo" not in values


async def test_a_doubtful_value_among_them_is_confirmed_and_audited(ctx, world) -> None:
    people, _ = world
    await history(ctx, people.tree.b1, {m: {"tong_hoi_vien": 170} for m in range(6, 11)})
    user = await leader(ctx, world)
    await user.send("3 0 1 2 1 2 0 1 120")  # unasked: she is asked first
    assert "Chị muốn ghi các số này vào Báo cáo tháng" in user.text
    await user.click("Có")
    assert "9. Tổng số hội viên hiện có: 120 người" in user.text  # every value, named
    assert (
        "Tổng số hội viên thay đổi hơn 20% so với kỳ trước (câu 9: 120; câu 9 kỳ trước: 170)."
        in user.text
    )
    assert "Chị xác nhận 120 người là đúng?" in user.text
    await user.click("Đúng")
    assert "Tóm tắt" in user.text and user.buttons[0] == "Gửi"
    await user.click("Gửi")
    assert "báo cáo đúng hạn" in user.text
    sub, values = await stored(ctx, people.tree.b1.id)
    assert values["tong_hoi_vien"] == 120
    async with ctx.sessions() as session:
        trail = await report_audit.audit_trail(session, sub.id)
    confirm = next(a for a in trail if a.action == "confirm")
    assert (confirm.indicator_code, confirm.new_value) == ("tong_hoi_vien", "120")
    assert "thay đổi hơn 20%" in (confirm.note or "")
    assert confirm.changed_by_id == people.leader.id
    # Her commune officer's digest after the due date lists it for a look.
    async with ctx.sessions() as session:
        officer = await session.get(Person, people.commune_officer.id)
        await linked(session, officer, "telegram", "702", ctx.clock.now())
        await session.commit()
    ctx.clock.set(vn_datetime(2026, 12, 6, 8, 30))
    await plan_and_queue(ctx)
    async with ctx.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    digest = next(r for r in rows if r.key.startswith(f"dig:{people.commune_officer.id}:"))
    assert "Số liệu khác thường chi hội trưởng đã xác nhận" in digest.payload["text"]
    assert "• Chi hội thôn 1 – Tổng số hội viên hiện có: 120 (" in digest.payload["text"]


async def test_retyped_doubtful_value_is_not_confirmed(ctx, world) -> None:
    people, _ = world
    await history(ctx, people.tree.b1, {m: {"hv_moi": m % 3} for m in range(1, 11)})
    user = await leader(ctx, world)
    await user.send("/baocao")
    await user.send("30")
    assert "Số này khác xa các kỳ trước của chi hội (thường khoảng 1 người)." in user.text
    await user.click("Nhập lại")
    assert "Câu 1/10" in user.text
    await user.send("3")
    assert "Câu 2/10" in user.text
    sub, values = await stored(ctx, people.tree.b1.id)
    assert values["hv_moi"] == 3
    async with ctx.sessions() as session:
        trail = await report_audit.audit_trail(session, sub.id)
    assert trail == []


async def test_stop_rules_at_the_answer_and_in_the_message(ctx, world) -> None:
    people, _ = world
    # 50 members in October: enough for every answer below (a per-member answer above her
    # last reported total would be asked to confirm).
    await history(ctx, people.tree.b1, {10: {"tong_hoi_vien": 50, "pn_kt_ho_tro": 4}})
    user = await leader(ctx, world)
    await user.send("/baocao")
    await user.send("0")
    await user.send("60")  # more members left than the branch had
    assert "không thể nhiều hơn tổng số hội viên kỳ trước (câu 2: 60; câu 9 kỳ trước: 50)" in (
        user.text
    )
    assert "Câu 2/10" in user.text
    await user.send("1")
    await user.send("0")
    await user.send("10")
    await user.send("12")  # "of those" above the whole
    assert "(câu 5: 12; câu 4: 10)" in user.text and "Câu 5/10" in user.text
    _, values = await stored(ctx, people.tree.b1.id)
    assert "ld_chung_chi" not in values
    # The whole form at once (the answers given, the one asked and the rest): the doubtful
    # answers are saved, then asked again one by one.
    await user.send("0 1 0 10 12 0 0 0 40 1")
    assert "5. Lao động nữ có bằng cấp, chứng chỉ: 12 người" in user.text
    assert "(câu 5: 12; câu 4: 10)" in user.text and "Câu 5/10" in user.text
    await user.send("4")
    assert "không thể ít hơn kỳ trước" in user.text and "(câu 10: 1; câu 10 kỳ trước: 4)" in (
        user.text
    )
    assert "Câu 10/10" in user.text
    await user.send("5")
    assert "Tóm tắt" in user.text
    await user.click("Gửi")
    _, values = await stored(ctx, people.tree.b1.id)
    assert values["ld_chung_chi"] == 4 and values["pn_kt_ho_tro"] == 5


async def test_send_checks_again_and_help_shows_the_line(ctx, world) -> None:
    people, _ = world
    user = await leader(ctx, world)
    await user.send(f"/baocao {ALL}")
    assert user.buttons[0] == "Gửi"
    # A previous report corrected meanwhile makes a figure wrong: "Gửi" asks again.
    await history(ctx, people.tree.b1, {10: {"pn_kt_ho_tro": 3, "tong_hoi_vien": 97}})
    async with ctx.sessions() as session:
        sub, _ = await stored(ctx, people.tree.b1.id)
        await reporting.save_answer(
            session, ctx.catalog, sub, "pn_kt_ho_tro", 1.0, people.leader, ctx.clock.now()
        )
        await session.commit()
    user.engine = Engine(ctx)
    await user.send("/baocao")
    assert "Câu 10/10" in user.text and "không thể ít hơn kỳ trước" in user.text
    await user.send("/trogiup")
    assert "Báo cáo tháng của chi hội – gửi cả báo cáo trong một tin" in user.text
    # Her last sent figures fill the line.
    assert "hvm 0 hvr 0 tn 0 tvn 0 cc 0 vl 0 ks 0 vn 0 thv 97 kt 3" in user.text
    assert "thv: Tổng số hội viên hiện có" in user.text


async def test_several_forms_open_labels_choose_the_form(ctx, world) -> None:
    ctx.clock.set(vn_datetime(2026, 10, 2, 9))  # September's month and Q3 are both open
    people, _ = world
    user = await leader(ctx, world)
    await user.send("pkt 4 tt 30 gtd 1 cntt có gc Thôn mới có nhà văn hóa")
    assert "Chị muốn ghi các số này vào Báo cáo quý của chi hội – quý III/2026?" in user.text
    await user.send("có")
    assert "Tóm tắt Báo cáo quý của chi hội – quý III/2026" in user.text
    assert "4. Chi hội ứng dụng CNTT trong sinh hoạt: Có" in user.text
    assert "5. Ghi chú của chi hội: Thôn mới có nhà văn hóa" in user.text
    assert "gtd 1 cntt có gc Thôn mới có nhà văn hóa" in user.text
    await user.click("Gửi")
    # In order, nine answers fit only the monthly form (the quarterly one has five).
    await user.send("3 0 1 2 1 2 0 1 97")
    assert "Chị muốn ghi các số này vào Báo cáo tháng của chi hội – tháng 9/2026?" in user.text
    await user.click("Có")
    assert "9. Tổng số hội viên hiện có: 97 người" in user.text
    # Five answers fit both: the form is asked after her yes, then the message is applied.
    await user.send("/huy")
    await user.send("3 0 1 2 1")
    assert "Chị muốn ghi các số trong tin vừa rồi vào báo cáo?" in user.text
    await user.click("Có")
    assert "Đang mở nhiều kỳ báo cáo" in user.text
    await user.click("Báo cáo tháng của chi hội – tháng 9/2026")
    assert "5. Lao động nữ có bằng cấp, chứng chỉ: 1 người" in user.text
    ctx.clock.set(ctx.clock.now() + timedelta(minutes=1))
    _, values = await stored(ctx, people.tree.b1.id, "2026-09")
    assert values["tong_hoi_vien"] == 97


@pytest.mark.parametrize("mode", ["telegram-webhook", "zalo-webhook"])
async def test_one_message_report_on_telegram_and_zalo(ctx, world, tmp_path, mode) -> None:
    from tests.test_channels_e2e import start

    people, code = world
    await history(ctx, people.tree.b1, {m: {"hv_moi": m % 2} for m in range(1, 11)})
    running = await start(mode, ctx, tmp_path)
    try:
        lan = running.user("5001" if mode.startswith("telegram") else "51a7e")
        await running.link(lan, code)
        await lan.send("hvm 40 hvr 0 tn 1 tvn 2 cc 1 vl 2 ks 0 vn 1 thv 97 kt 0")
        assert "Chị muốn ghi các số này vào Báo cáo tháng" in lan.text  # unasked
        await lan.click("Có")
        assert "1. Hội viên mới kết nạp: 40 người" in lan.text
        assert "Số này khác xa các kỳ trước của chi hội (thường khoảng 1 người)." in lan.text
        assert "Chị xác nhận 40 người là đúng?" in lan.text
        await lan.click("Đúng")
        assert "Lần sau chị có thể gửi một tin: hvm 40 hvr 0 tn 1" in lan.text
        await lan.click("Gửi")
        assert "báo cáo đúng hạn" in lan.text
        sub, values = await stored(ctx, people.tree.b1.id)
        assert sub.status == "submitted" and values["hv_moi"] == 40
        async with ctx.sessions() as session:
            trail = await report_audit.audit_trail(session, sub.id)
        assert [(a.action, a.indicator_code, a.new_value) for a in trail] == [
            ("confirm", "hv_moi", "40"),
            ("submit", None, None),
        ]
        if mode.startswith("zalo"):
            assert all(len(m["text"]) <= 2000 for m in running.fake.sent)
    finally:
        await running.stop()
