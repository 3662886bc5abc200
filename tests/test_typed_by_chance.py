"""What a branch leader typed by chance in h19try's session (issue #19): a reflexive "dạ" never
writes figures, list numbering and numbers in an item's name are no answers, a report written
as phrases is read by the items' names, a pending proposal does not swallow what follows, a
reopened report locks itself again, and the words said are true."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from handlers.engine import Engine
from storage.db.models import Submission
from storage.measures import reporting
from storage.plan.periods import month
from tests.builders import invite, linked, report, small_tree_with_people
from tests.chat import ChatUser

SENT = "3 0 1 2 1 2 0 1 97 0"
LIST = (
    "Danh sách hộ khó khăn: 1. Nguyễn Thị An 2. Trần Thị Bình 3. Lê Thị Cúc 4. Phạm Thị Dung "
    "5. Võ Thị Em"
)
NOTICE = (
    "Kính gửi các chi hội: Thực hiện Kế hoạch số 15/KH-HPN ngày 20/11/2026 của Hội LHPN xã về "
    "tổ chức các hoạt động hưởng ứng Tháng hành động vì bình đẳng giới (từ 15/11 đến 15/12), đề "
    "nghị các chi hội: 1. Tổ chức ít nhất 1 buổi tuyên truyền; 2. Treo 2 băng rôn; 3. Báo cáo "
    "kết quả về Hội trước ngày 10/12/2026. Mọi chi tiết liên hệ đ/c Loan 0900 000 061."
)
PROSE = (
    "Báo cáo tháng 11: hội viên mới 3, ra 0, thoát nghèo 1 hộ, tư vấn nghề 2, chứng chỉ 1, "
    "việc làm 2, 5 không 3 sạch 1, văn nghệ 1, tổng hội viên 120, khuyết tật 4"
)


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


async def values(ctx, unit_id: int) -> tuple[Submission | None, dict]:
    async with ctx.sessions() as session:
        sub = await reporting.find_submission(session, unit_id, "thang_chi_hoi", "2026-11")
        return sub, (await reporting.answers(session, sub.id) if sub else {})


async def answers(ctx, unit_id: int) -> dict:
    return (await values(ctx, unit_id))[1]


async def test_numbered_lists_are_no_answers(ctx, world) -> None:
    people, lan, _ = world
    await lan.send(NOTICE)  # no report open: not a form at all
    assert "Chị muốn ghi" not in lan.text
    assert (await values(ctx, people.tree.b1.id))[0] is None
    await lan.send(f"/baocao {SENT}")
    await lan.send("sửa 3")
    before = await answers(ctx, people.tree.b1.id)
    for text in (LIST, NOTICE, LIST.replace(": ", ":\n").replace(" 2.", "\n2.")):
        await lan.send(text)
        assert "Chị muốn ghi" not in lan.text and "→" not in lan.text, text
        assert "Câu 3/10" in lan.text  # the question asked is asked again
        assert await answers(ctx, people.tree.b1.id) == before


async def test_a_reflexive_yes_writes_no_doubtful_figures(ctx, world) -> None:
    people, lan, _ = world
    await lan.send(f"/baocao {SENT}")
    before = await answers(ctx, people.tree.b1.id)
    await lan.send("Em gửi 5 3 chị nhé, 4 1 2 hội viên mới")  # a doubtful form at the summary
    assert "Chị muốn ghi các số này" in lan.text
    assert "3 người → 5 người" in lan.text  # what it would overwrite: old → new
    for reflex in ("Dạ", "ok", "ừ", "vâng", "rồi", "Đã", "Dạ vâng ạ"):
        await lan.send(reflex)
        assert "chị trả lời rõ «Có»" in lan.text, reflex
        assert await answers(ctx, people.tree.b1.id) == before
    await lan.send("Có")
    sub, now = await values(ctx, people.tree.b1.id)
    assert now["hv_moi"] == 5 and "Em đã đổi: mục 1: 3 người → 5 người" in lan.text
    assert "trả lời tiếp các câu còn thiếu" not in lan.text  # nothing is missing


async def test_a_reflexive_yes_does_not_confirm_a_doubtful_figure(ctx, world) -> None:
    people, lan, _ = world
    async with ctx.sessions() as session:
        for m in range(6, 11):
            await report(
                session, people.tree.b1, "thang_chi_hoi", month(2026, m), {"tong_hoi_vien": 170}
            )
        await session.commit()
    await lan.send("/baocao")
    for answer in ("3", "0", "1", "2", "1", "2", "0", "1"):
        await lan.send(answer)
    await lan.send("97")  # far from 170: asked to confirm
    assert "Chị xác nhận 97 người là đúng?" in lan.text
    await lan.send("Dạ")
    assert "chị trả lời «Đúng»" in lan.text
    assert "tong_hoi_vien" not in (await values(ctx, people.tree.b1.id))[1]
    await lan.send("Đúng")
    assert (await values(ctx, people.tree.b1.id))[1]["tong_hoi_vien"] == 97


async def test_a_report_in_phrases_is_read_by_name(ctx, world) -> None:
    people, lan, _ = world
    await lan.send("/baocao")
    await lan.send(PROSE)  # beyond the question asked: proposed, then written on her yes
    assert "Chị muốn ghi các số này" in lan.text
    await lan.send("Có")
    _, got = await values(ctx, people.tree.b1.id)
    want = {
        "hv_moi": 3, "hv_ra": 0, "ho_thoat_ngheo": 1, "ld_tu_van_nghe": 2, "ld_chung_chi": 1,
        "ld_viec_lam": 2, "ho_5k3s": 1, "hd_vhvn": 1, "tong_hoi_vien": 120, "pn_kt_ho_tro": 4,
    }  # fmt: skip
    assert got == want, lan.text


async def test_numbers_not_used_are_named_before_she_confirms(ctx, world) -> None:
    people, lan, _ = world
    await lan.send("/baocao")
    await lan.send("Tháng này chi hội có 3 chị mới vào hội, 1 chị ra, giúp 2 hộ thoát nghèo")
    assert "Chị muốn ghi các số này" in lan.text
    assert "«có 3»" in lan.text  # not placed: said before her yes
    assert (await values(ctx, people.tree.b1.id))[1] == {}
    await lan.send("3 2 1 0 1 2 3 4 5 6 7 8 9")  # in order, too many: the rest named
    assert "Em không ghi các số ở tin trước." in lan.text


async def test_a_pending_proposal_does_not_swallow_what_follows(ctx, world) -> None:
    people, lan, _ = world
    await lan.send("/baocao")
    await lan.send("Em gửi 5 3 chị nhé, 4 1 2 hội viên mới")
    assert "Chị muốn ghi các số này" in lan.text
    await lan.send("Chiều nay 14:30 em lên xã nộp sổ nha chị")  # chatter: dropped, read as usual
    assert "Em không ghi các số ở tin trước." in lan.text and "Câu 1/10" in lan.text
    await lan.send("Em gửi 5 3 chị nhé, 4 1 2 hội viên mới")
    await lan.send("2")  # a real answer to the question she was at
    assert (await values(ctx, people.tree.b1.id))[1] == {"hv_moi": 2}
    assert "Câu 2/10" in lan.text


async def test_sua_works_with_no_report_open(ctx, world) -> None:
    people, lan, _ = world
    await lan.send(f"/baocao {SENT}")
    await lan.send("Gửi")
    await lan.send("sửa 3")
    assert "Câu 3/10" in lan.text and "Đã ghi: 1 hộ" in lan.text
    await lan.send("/huy")
    assert "giữ nguyên số cũ" in lan.text and "vẫn được lưu" not in lan.text
    await lan.send("sửa 3 thành 4")
    assert "1 hộ → 4 hộ" in lan.text
    await lan.send("Hủy")
    assert "giữ nguyên số cũ" in lan.text and "vẫn được lưu" not in lan.text
    assert (await values(ctx, people.tree.b1.id))[1]["ho_thoat_ngheo"] == 1
    await lan.send("sửa 3 thành 4")
    await lan.click("Giữ số cũ")
    await lan.send("Xong")
    assert "Đã lưu" not in lan.text and "không có gì thay đổi" in lan.text


async def test_a_reopened_report_locks_itself_again(ctx, world) -> None:
    people, lan, officer = world
    await lan.send(f"/baocao {SENT}")
    await lan.send("Gửi")
    await officer.send("/duyet chi hội thôn 1 tháng 11")
    assert "Đã duyệt" in officer.text
    await officer.send("/mobaocao chi hội thôn 1 tháng 11")
    assert "báo cáo tự khóa lại" in officer.text
    await lan.send("/baocao")
    await lan.send("Xong")  # nothing changed: approved again, as before
    assert "vẫn được duyệt" in lan.text
    sub, _ = await values(ctx, people.tree.b1.id)
    assert sub.approved_at is not None and not sub.reopened
    await officer.send("/mobaocao chi hội thôn 1 tháng 11")
    ctx.clock.set(ctx.clock.now() + timedelta(days=1))
    await lan.send("sửa 3 thành 2")
    await lan.click("Lưu thay đổi")
    await lan.send("Xong")
    assert "duyệt lại" in lan.text
    sub, _ = await values(ctx, people.tree.b1.id)
    assert sub.approved_at is None and not sub.reopened
    await lan.send("sửa 3 thành 4")  # locked: nothing changes
    assert "chờ Hội cấp trên duyệt lại" in lan.text
    await lan.send("/baocao")
    assert "chờ Hội cấp trên duyệt lại" in lan.text
    assert (await values(ctx, people.tree.b1.id))[1]["ho_thoat_ngheo"] == 2
    await officer.send("/duyet chi hội thôn 1 tháng 11")
    assert "1 hộ → 2 hộ" in officer.text  # she sees the change
    await officer.send("Có")
    assert "Đã duyệt" in officer.text
    async with ctx.sessions() as session:
        assert (await session.scalar(select(Submission))).approved_at is not None


async def test_yes_and_no_words_at_an_approval(ctx, world) -> None:
    _, lan, officer = world
    await lan.send(f"/baocao {SENT}")
    await lan.send("Gửi")
    ctx.clock.set(ctx.clock.now() + timedelta(days=1))
    await lan.send("sửa 3 thành 2")
    await lan.click("Lưu thay đổi")
    await officer.send("/duyet chi hội thôn 1 tháng 11")
    await officer.send("Cảm ơn em")  # a thanks is no yes: answered, and the question again
    assert "không có gì" in officer.text
    await officer.send("Mai chị họp")  # chatter: the staff hint, and the question again
    assert "Em chưa hiểu ý chị" in officer.text and "/trogiup" in officer.text
    assert "Chị vẫn duyệt báo cáo này?" in officer.text
    await officer.send("Dạ")
    assert "Chị trả lời rõ «Duyệt» hoặc «Để sau»" in officer.text
    await officer.send("Không")
    assert "chưa được duyệt" in officer.text
    await officer.send("/duyet chi hội thôn 1 tháng 11")
    await officer.send("Có")
    assert "Đã duyệt" in officer.text


async def test_an_open_edit_survives_lists_and_notes(ctx, world) -> None:
    """h19try: "sửa 3" of the sent report, then a numbered list: a rule error about figures
    she never typed, and her edit silently dropped."""
    people, lan, _ = world
    await lan.send(f"/baocao {SENT}")
    await lan.send("Gửi")
    await lan.send("/baocao")
    await lan.send("sửa 3")
    for text in (LIST, NOTICE, "Em gửi 5 3 chị nhé, 4 1 2 hội viên mới"):
        await lan.send(text)
        assert "Câu 3/10" in lan.text and "Đã ghi: 1 hộ" in lan.text, text
        assert "→" not in lan.text and "không thể nhiều hơn" not in lan.text, text
        assert "vẫn được lưu" not in lan.text, text  # a sent report: nothing is saved here
    await lan.send("2")
    assert "• Mục 3. Hộ phụ nữ nghèo, cận nghèo được giúp thoát nghèo: 1 hộ → 2 hộ" in lan.text
    await lan.send("Danh sách: 1. An 2. Bình 3. Cúc")  # at the change to confirm: kept
    assert "1 hộ → 2 hộ" in lan.text
    await lan.send("Dạ")  # a reflex word saves no edit of a sent report (h19fix2)
    assert "Em chưa lưu" in lan.text and "Đã sửa" not in lan.text
    await lan.send("Dạ có")
    assert "Đã sửa mục 3: 1 hộ → 2 hộ." in lan.text
    assert (await answers(ctx, people.tree.b1.id))["ho_thoat_ngheo"] == 2


async def test_a_doubtful_edit_needs_a_plain_yes(ctx, world) -> None:
    people, lan, _ = world
    async with ctx.sessions() as session:
        for m in range(1, 11):
            await report(session, people.tree.b1, "thang_chi_hoi", month(2026, m), {"hv_moi": 1})
        await session.commit()
    await lan.send("/baocao 1 0 1 2 1 2 0 1 97 0")
    await lan.send("Gửi")
    await lan.send("sửa 1 thành 40")
    assert "1 người → 40 người" in lan.text and "khác xa các kỳ trước" in lan.text
    await lan.send("ok")
    assert "Em chưa lưu" in lan.text and "1 người → 40 người" in lan.text
    assert (await answers(ctx, people.tree.b1.id))["hv_moi"] == 1
    await lan.send("Có")
    assert (await answers(ctx, people.tree.b1.id))["hv_moi"] == 40


async def test_chatter_drops_an_unasked_proposal(ctx, world) -> None:
    people, lan, _ = world
    await lan.send("3 0 1 2 1 2 0 1 97")  # unasked, no reminder: asked about
    assert "Chị muốn ghi các số này" in lan.text
    await lan.send("Chiều nay 14:30 em lên xã nộp sổ nha chị")
    assert "Em không ghi các số ở tin trước." in lan.text and "Em chưa hiểu ý chị" in lan.text
    await lan.send("Có")  # nothing is asked any more: no report opens
    assert "Em chưa hiểu ý chị" in lan.text
    assert (await values(ctx, people.tree.b1.id))[0] is None


async def test_numbers_beyond_the_form_are_named_in_the_proposal(ctx, world) -> None:
    people, lan, _ = world
    await lan.send("/baocao")
    await lan.send("Em gửi chị số liệu tháng này: 3 0 1 2 1 2 0 1 97 0 5 6, chị xem giúp em với")
    assert "Chị muốn ghi các số này" in lan.text
    assert "em sẽ không ghi 5, 6" in lan.text
    assert (await answers(ctx, people.tree.b1.id)) == {}


async def test_a_labelled_form_at_a_drafts_summary_says_what_changed(ctx, world) -> None:
    people, lan, _ = world
    await lan.send(f"/baocao {SENT}")
    await lan.send("hvm 5 thv 98")  # overwrites: asked first, old → new
    assert "3 người → 5 người" in lan.text and "97 người → 98 người" in lan.text
    await lan.send("Có")
    assert "Em đã đổi: mục 1: 3 người → 5 người; mục 9: 97 người → 98 người." in lan.text
    got = await answers(ctx, people.tree.b1.id)
    assert got["hv_moi"] == 5 and got["tong_hoi_vien"] == 98


@pytest.mark.parametrize(
    "text",
    [
        PROSE,
        "bao cao thang 11: hoi vien moi 3, ra 0, thoat ngheo 1 ho, tu van nghe 2, chung chi 1, "
        "viec lam 2, 5 khong 3 sach 1, van nghe 1, tong hoi vien 120, khuyet tat 4",
        "Hội viên mới 3; ra 0; thoát nghèo 1; tư vấn nghề 2; chứng chỉ 1; việc làm 2; "
        '"5 không, 3 sạch" 1; văn nghệ 1; tổng hội viên 120; khuyết tật 4',
        "Hội viên mới: 3\nRa: 0\nThoát nghèo: 1 hộ\nTư vấn nghề: 2\nChứng chỉ: 1\nViệc làm: 2\n"
        "5 không 3 sạch: 1\nVăn nghệ: 1\nTổng hội viên: 120\nKhuyết tật: 4",
    ],
)
def test_items_named_in_phrases(catalog, text: str) -> None:
    from handlers.report_flow import whole_form

    found = whole_form(catalog, catalog.forms["thang_chi_hoi"], text)
    assert found is not None and found.plain, found
    assert found.answers == {
        "hv_moi": "3", "hv_ra": "0", "ho_thoat_ngheo": "1", "ld_tu_van_nghe": "2",
        "ld_chung_chi": "1", "ld_viec_lam": "2", "ho_5k3s": "1", "hd_vhvn": "1",
        "tong_hoi_vien": "120", "pn_kt_ho_tro": "4",
    }  # fmt: skip
