"""A number with another indicator's unit word is refused, whatever the unit (tester walk
2026-12-06b, N1): "2 hoạt động" or "1 chị" where households are counted, "3 hoạt động" where
people are; the unit words come from the units of the config's indicators and their
synonyms; a pronoun after other words is no unit."""

import pytest

from handlers.parsing import parse_number
from tests.test_draft_firm import answers
from tests.test_sent_report_edits import send_report, state, world  # noqa: F401


@pytest.mark.parametrize(
    ("text", "unit", "value"),
    [
        ("2 hoạt động", "hộ", None),
        ("3 hoạt động", "người", None),
        ("1 chị", "hộ", None),
        ("3 chị ạ", "hộ", None),
        ("2 chi hội", "người", None),
        ("2 buổi", "mô hình", None),
        ("2 chị", "người", 2),
        ("3 chị ạ", "người", 3),
        ("4 hội viên", "người", 4),
        ("2 gia đình", "hộ", 2),
        ("2 hoạt động", "hoạt động", 2),
        ("2 chi hội", "chi hội", 2),
        ("3 người", "lượt người", 3),
        ("3 nhé", "hộ", 3),
        ("5", "hoạt động", 5),
    ],
)
def test_unit_words_of_every_unit(text: str, unit: str, value: float | None) -> None:
    result = parse_number(text, unit=unit)
    assert result.value == value and (value is not None or result.error == "wrong_unit")


@pytest.mark.parametrize(
    ("typed", "asked", "unit_asked"),
    [("2 hoạt động", 3, "hộ"), ("3 hoạt động", 2, "người"), ("1 chị", 7, "hộ")],
)
async def test_another_units_word_at_a_question_writes_nothing(
    ctx,
    world,  # noqa: F811
    typed,
    asked,
    unit_asked,
) -> None:
    people, lan, _ = world
    unit = people.tree.b1.id
    await lan.send("/baocao")
    for answer in ("1", "0", "1", "2", "1", "2")[: asked - 1]:
        await lan.send(answer)
    before = await answers(ctx, unit)
    await lan.send(typed)
    assert f"Câu này tính theo {unit_asked}" in lan.text, lan.text
    assert await answers(ctx, unit) == before and f"Câu {asked}/10" in lan.text


async def test_a_sent_reports_edit_refuses_another_units_word(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await send_report(lan)
    before = await state(ctx, people.tree.b1.id)
    await lan.send("sửa 3")
    await lan.send("2 chị")
    assert "Câu này tính theo hộ" in lan.text and "→" not in lan.text, lan.text
    await lan.send("sửa 7 thành 2 chị")
    assert "Câu này tính theo hộ" in lan.text and "→" not in lan.text, lan.text
    assert await state(ctx, people.tree.b1.id) == before
