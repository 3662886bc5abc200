"""A draft is as firm as a sent report against what is typed by chance (tester "walk",
2026-12-06, F1, F2, F9–F11, F17): a list, a whole form or a phrase report typed at a
question or at the summary is asked about (old → new) before anything is written; "Không"
is 0 only when it answers the question asked, and says so; a number with another unit's word
is refused; a year is named as one; /duyet waits for an edit in progress; a leader who missed
a closed period is told so; a confirmation says what it waits for."""

import pytest

from storage.plan import texts_vi as vi
from storage.plan.clock import vn_datetime
from storage.plan.periods import month
from tests.builders import report
from tests.test_sent_report_edits import send_report, state, world  # noqa: F401
from tests.test_typed_by_chance import PROSE, answers, values

SENT = "3 0 1 2 1 2 0 1 97 0"
ASKED = "Chị muốn ghi các số này"


async def test_a_numbered_list_at_a_question_is_asked_first(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    unit = people.tree.b1.id
    await lan.send("/baocao")
    await lan.send("3")
    assert await answers(ctx, unit) == {"hv_moi": 3}
    await lan.send("1. hvm 5\n2. hvr 0")  # at question 2: the list would overwrite question 1
    assert ASKED in lan.text and "3 người → 5 người" in lan.text
    assert await answers(ctx, unit) == {"hv_moi": 3}
    await lan.send("Có")
    assert await answers(ctx, unit) == {"hv_moi": 5, "hv_ra": 0}
    for answer in ("1", "2", "1"):
        await lan.send(answer)
    assert "Câu 6/10" in lan.text
    before = await answers(ctx, unit)
    await lan.send("1) 5\n2) 1\n3) 2")  # at question 6: items 1–3 again, asked first
    assert ASKED in lan.text and "0 người → 1 người" in lan.text
    assert await answers(ctx, unit) == before
    await lan.send("Không")  # no to the proposal: nothing written, question 6 not 0
    assert vi.WHOLE_NOT_WRITTEN in lan.text and "Câu 6/10" in lan.text
    assert await answers(ctx, unit) == before
    await lan.send("Không")  # said again right after: still a no, never 0
    assert await answers(ctx, unit) == before and "Câu 6/10" in lan.text
    await lan.send("Không")  # now it answers the question asked: 0, and said
    assert (await answers(ctx, unit))["ld_viec_lam"] == 0
    assert "Đã ghi: 0 người" in lan.text


async def test_a_list_or_phrases_at_the_summary_is_asked_first(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    unit = people.tree.b1.id
    await lan.send(f"/baocao {SENT}")  # the form sent with /baocao is taken at once
    assert "Tóm tắt" in lan.text or "Gửi" in lan.buttons
    before = await answers(ctx, unit)
    assert before["hv_moi"] == 3
    await lan.send("1. hvm 2\n2. hvr 3")
    assert ASKED in lan.text and "3 người → 2 người" in lan.text
    assert await answers(ctx, unit) == before
    await lan.send("Dạ")  # a reflex is not a yes
    assert await answers(ctx, unit) == before
    await lan.send("Có")
    now = await answers(ctx, unit)
    assert now["hv_moi"] == 2 and now["hv_ra"] == 3
    await lan.send(PROSE)  # phrases that overwrite items 1 and 2
    assert ASKED in lan.text and "2 người → 3 người" in lan.text
    assert await answers(ctx, unit) == now


async def test_a_phrase_report_at_a_question_is_asked_first(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    unit = people.tree.b1.id
    await lan.send("/baocao")
    await lan.send(PROSE)
    assert ASKED in lan.text
    assert await answers(ctx, unit) == {}
    await lan.send("Có")
    assert (await answers(ctx, unit))["tong_hoi_vien"] == 120


async def test_one_answer_to_the_question_asked_stays_instant(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    unit = people.tree.b1.id
    await lan.send("/baocao")
    await lan.send("2")
    await lan.send("hvr 1")  # the current question's own label: just its answer
    assert ASKED not in lan.text and "Câu 3/10" in lan.text
    assert await answers(ctx, unit) == {"hv_moi": 2, "hv_ra": 1}


async def test_khong_after_an_unclear_reply_is_not_zero(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    unit = people.tree.b1.id
    await lan.send("/baocao")
    await lan.send("Họp chi hội ngày 3/12, 25 chị dự, kết nạp 2 hội viên mới")
    assert "Câu 1/10" in lan.text
    await lan.send("Không")
    assert await answers(ctx, unit) == {}
    assert "Câu 1/10" in lan.text and "0" in lan.text
    await lan.send("không có")  # now an answer to the question asked
    assert await answers(ctx, unit) == {"hv_moi": 0}
    assert "Đã ghi: 0 người" in lan.text and "Câu 2/10" in lan.text
    await lan.send("0")  # a plain 0 needs no echo
    assert await answers(ctx, unit) == {"hv_moi": 0, "hv_ra": 0}


@pytest.mark.parametrize(
    ("typed", "asked", "unit_asked"),
    [("3 hộ", 1, "người"), ("3 người", 3, "hộ"), ("3 ng", 3, "hộ"), ("2 hộ", 8, "hoạt động")],
)
async def test_a_number_with_another_units_word_is_refused(
    ctx,
    world,  # noqa: F811
    typed,
    asked,
    unit_asked,
) -> None:
    people, lan, _ = world
    unit = people.tree.b1.id
    await lan.send("/baocao")
    for answer in ("1", "0", "1", "2", "1", "2", "0")[: asked - 1]:
        await lan.send(answer)
    before = await answers(ctx, unit)
    await lan.send(typed)
    assert f"Câu này tính theo {unit_asked}" in lan.text, lan.text
    assert await answers(ctx, unit) == before and f"Câu {asked}/10" in lan.text
    await lan.send(f"3 {unit_asked}")  # the question's own unit is taken
    assert (await answers(ctx, unit)) != before


async def test_another_units_word_is_refused_in_a_sent_reports_edit(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await send_report(lan)
    before = await state(ctx, people.tree.b1.id)
    await lan.send("sửa 3")
    await lan.send("4 người")
    assert "Câu này tính theo hộ" in lan.text and "→" not in lan.text
    await lan.send("sửa 3 thành 4 người")
    assert "Câu này tính theo hộ" in lan.text and "→" not in lan.text
    assert await state(ctx, people.tree.b1.id) == before
    await lan.send("sửa 3 thành 4 hộ")
    assert "1 hộ → 4 hộ" in lan.text


async def test_a_year_at_a_count_is_named_as_one(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await lan.send("/baocao")
    await lan.send("2026")
    assert "Chị xác nhận 2.026 người là đúng?" in lan.text
    assert "giống số năm" in lan.text
    assert await answers(ctx, people.tree.b1.id) == {}


async def test_the_usual_value_of_a_count_is_whole(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    async with ctx.sessions() as session:
        for m, v in ((9, 1.0), (10, 0.0)):
            await report(
                session, people.tree.b1, "thang_chi_hoi", month(2026, m), {"ho_thoat_ngheo": v}
            )
        await session.commit()
    await lan.send("/baocao")
    for answer in ("3", "0", "12"):
        await lan.send(answer)
    assert "thường khoảng" in lan.text, lan.text
    assert "0,5" not in lan.text


async def test_duyet_waits_for_an_edit_in_progress(ctx, world) -> None:  # noqa: F811
    people, lan, officer = world
    await send_report(lan)
    before = await state(ctx, people.tree.b1.id)
    await lan.send("sửa 3")
    await lan.send("5")  # waiting for «Lưu thay đổi»
    await officer.send("/duyet chi hội thôn 1 tháng 11")
    assert "đang sửa" in officer.text and "Đã duyệt" not in officer.text
    assert officer.buttons == ["Duyệt", "Để sau"]
    await officer.click("Duyệt")
    assert "Đã duyệt" in officer.text
    await lan.send("Lưu thay đổi")
    assert vi.EDIT_APPROVED_MEANWHILE in lan.text
    assert (await state(ctx, people.tree.b1.id))[:2] == before[:2]


async def test_a_missed_closed_period_is_named(ctx, world) -> None:  # noqa: F811
    people, lan, officer = world
    ctx.clock.set(vn_datetime(2026, 12, 21, 9))  # November closed on 20/12, never sent
    await lan.send("/baocao")
    assert "chưa đến kỳ" not in lan.text
    assert "tháng 11/2026" in lan.text and "20/12/2026" in lan.text and "/mobaocao" in lan.text
    await lan.send(SENT)
    assert "Em chưa hiểu" not in lan.text
    assert "tháng 11/2026" in lan.text and "/mobaocao" in lan.text
    assert await answers(ctx, people.tree.b1.id) == {}
    # Her officer reopens it for a late report: she reports, it is sent late and locks.
    await officer.send("/mobaocao chi hội thôn 1 tháng 11")
    assert "báo cáo bù" in officer.text, officer.text
    await lan.send(f"/baocao {SENT}")
    assert "Câu" in lan.text or "Gửi" in lan.buttons, lan.text
    await lan.send("Gửi")
    assert "Cảm ơn chị" in lan.text
    sub, _ = await values(ctx, people.tree.b1.id)
    assert sub is not None and sub.late and not sub.reopened
    await lan.send("/baocao")  # sent: locked again, nothing more to fill
    assert "Câu 1/10" not in lan.text and "/mobaocao" not in lan.text


async def test_a_confirmation_says_what_it_waits_for(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    unit = people.tree.b1.id
    await lan.send("/baocao")
    await lan.send("2026")
    for typed in ("Gửi", "ngày 15", "👍", "sửa 3"):
        await lan.send(typed)
        assert "«Đúng»" in lan.text, typed
        assert await answers(ctx, unit) == {}, typed
    await lan.send("3")
    await lan.send("Em gửi 5 3 chị nhé, 4 1 2 hội viên mới")
    assert ASKED in lan.text
    await lan.send("👍")  # a thumbs-up is not a yes: asked again, numbers kept
    assert "Chị bấm «Có» để ghi" in lan.text and vi.WHOLE_DROPPED not in lan.text
    assert await answers(ctx, unit) == {"hv_moi": 3}
    await lan.send("Có")
    assert (await answers(ctx, unit))["hv_moi"] == 5


async def test_a_sent_reports_change_says_what_it_waits_for(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await send_report(lan)
    before = await state(ctx, people.tree.b1.id)
    await lan.send("sửa 3 thành 5")
    for typed, why in (("Gửi", "Em chưa lưu"), ("👍", "Em chưa lưu"), ("ngày 15", "ngày tháng")):
        await lan.send(typed)
        assert "«Lưu thay đổi»" in lan.text and why in lan.text, typed
        assert await state(ctx, people.tree.b1.id) == before, typed


async def test_a_form_with_baocao_asks_before_overwriting(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    unit = people.tree.b1.id
    await lan.send("/baocao")
    await lan.send("3")
    await lan.send("/huy")
    await lan.send("/baocao 5 0 1 2 1 2 0 1 97 0")  # over her answer to question 1: asked
    assert ASKED in lan.text and "3 người → 5 người" in lan.text
    assert await answers(ctx, unit) == {"hv_moi": 3}
    await lan.send("Có")
    assert (await answers(ctx, unit))["hv_moi"] == 5
