"""A whole form keeps the unit word written after each answer ("3 hộ 0 1 …") and checks it
as a single answer is: a count written in another unit than the question's ("3 hộ" where
people are counted) is refused, naming the unit asked, whether the form is written in order,
one answer a line, by label or by item number (before, the in-order reader dropped the unit
words, so "3 hộ" was written as 3 people)."""

import pytest

from tests.test_sent_report_edits import world  # noqa: F401
from tests.test_typed_by_chance import answers

REST = ["0", "1", "2", "1", "2", "0", "1", "97", "0"]  # questions 2–10
WRONG = "Câu này tính theo người, mà chị gõ «3 hộ», nên em chưa ghi."


@pytest.mark.parametrize(
    "form",
    [
        "3 hộ " + " ".join(REST),  # in order
        "\n".join(["3 hộ", *REST]),  # one answer a line
        "\n".join(f"{n}. {v}" for n, v in enumerate(["3 hộ", *REST], start=1)),  # numbered
        "hvm 3 hộ hvr 0 tn 1 tvn 2 cc 1 vl 2 ks 0 vn 1 thv 97 kt 0",  # by label
    ],
    ids=["in_order", "one_a_line", "numbered", "by_label"],
)
async def test_a_wrong_unit_in_a_whole_form_is_refused_as_alone(ctx, world, form) -> None:  # noqa: F811
    people, lan, _ = world
    await lan.send(f"/baocao {form}")
    assert WRONG in lan.text  # named, as a single answer is refused
    assert "Câu 1/10" in lan.text  # and asked again
    got = await answers(ctx, people.tree.b1.id)
    assert "hv_moi" not in got  # not written as 3 people
    assert got["ho_thoat_ngheo"] == 1 and got["tong_hoi_vien"] == 97  # the others are
    await lan.send("3 hộ")  # the same answer alone: the same refusal
    assert WRONG in lan.text and "hv_moi" not in await answers(ctx, people.tree.b1.id)


async def test_the_right_units_in_order_are_taken(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await lan.send("/baocao 3 người 0 1 hộ 2 1 2 0 hộ 1 97 người 0")
    assert "Tóm tắt" in lan.text and "chưa ghi" not in lan.text
    got = await answers(ctx, people.tree.b1.id)
    assert got["hv_moi"] == 3 and got["ho_thoat_ngheo"] == 1 and got["tong_hoi_vien"] == 97


async def test_a_wrong_unit_in_order_at_a_question_is_refused(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await lan.send("/baocao")
    await lan.send("2")
    await lan.send("3 hộ " + " ".join(REST))  # «3 hộ» overwrites nothing: it is refused
    assert WRONG in lan.text
    got = await answers(ctx, people.tree.b1.id)
    assert got["hv_moi"] == 2 and got["tong_hoi_vien"] == 97  # kept, not 3; the rest written
    await lan.send("3 người " + " ".join(REST))  # would overwrite question 1: asked first
    assert "Chị muốn ghi các số này" in lan.text and "2 người → 3 người" in lan.text
    await lan.send("Có")
    assert (await answers(ctx, people.tree.b1.id))["hv_moi"] == 3
