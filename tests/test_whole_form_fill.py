"""A plain whole form typed at a question (or while a figure waits for her word) that fills
only the question asked and items not answered yet is written at once, and every value is
shown back; one that would overwrite an answer, or that fills items by a guess (a report in
phrases, fewer numbers in order than the required questions, more than the form has), is
asked about first with old → new (README, "The whole report in one message"). Before, the
first kind also cost a «Có»."""

from tests.test_sent_report_edits import world  # noqa: F401
from tests.test_typed_by_chance import PROSE, answers

FORM = "3 0 1 2 1 2 0 1 97 0"
ASKED = "Chị muốn ghi các số này"
WANT = {
    "hv_moi": 3, "hv_ra": 0, "ho_thoat_ngheo": 1, "ld_tu_van_nghe": 2, "ld_chung_chi": 1,
    "ld_viec_lam": 2, "ho_5k3s": 0, "hd_vhvn": 1, "tong_hoi_vien": 97, "pn_kt_ho_tro": 0,
}  # fmt: skip


async def test_the_form_after_baocao_is_written_at_once(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await lan.send("/baocao")
    assert "Câu 1/10" in lan.text
    await lan.send(FORM)
    assert ASKED not in lan.text
    assert "Tóm tắt" in lan.text and "9. Tổng số hội viên hiện có: 97 người" in lan.text
    assert "Gửi" in lan.buttons  # sending still takes her «Gửi»
    assert await answers(ctx, people.tree.b1.id) == WANT


async def test_the_form_repeating_answers_given_is_written_at_once(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await lan.send("/baocao")
    for answer in ("3", "0", "1"):
        await lan.send(answer)
    assert "Câu 4/10" in lan.text
    await lan.send("hvm 3 hvr 0 tn 1 tvn 2 cc 1 vl 2 ks 0 vn 1 thv 97 kt 0")  # by label
    assert ASKED not in lan.text and "Tóm tắt" in lan.text
    assert await answers(ctx, people.tree.b1.id) == WANT


async def test_overwriting_or_guessing_is_asked_first(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    unit = people.tree.b1.id
    await lan.send("/baocao")
    await lan.send("5")
    await lan.send(FORM)  # question 1 was 5: asked, old → new
    assert ASKED in lan.text and "5 người → 3 người" in lan.text
    assert await answers(ctx, unit) == {"hv_moi": 5}
    await lan.send("Không")
    for guess in (PROSE, "3 0 1 2 1", FORM + " 4 5"):  # phrases; too few; too many
        await lan.send(guess)
        assert ASKED in lan.text, guess
        assert await answers(ctx, unit) == {"hv_moi": 5}, guess
        await lan.send("Không")
