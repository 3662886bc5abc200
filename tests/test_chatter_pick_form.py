"""At the choice of a report (several open), a meeting note is no report and a date, phone
number, year or numbered list is no choice: she is told why, nothing is proposed or written
(tester walk 2026-12-06b, N2, N17)."""

import pytest

from storage.plan.clock import vn_datetime
from tests.test_draft_firm import answers
from tests.test_report_flow import linked_leader, world  # noqa: F401


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("họp ngày 3 có 25 chị dự, kết nạp 2 chị", "thuộc câu nào"),
        ("3/12", "ngày tháng"),
        ("0905 123 456", "số điện thoại"),
        ("2026", "số năm"),
        ("1. 3\n2. 0", "Em chưa ghi gì"),
    ],
)
async def test_numbers_at_the_choice_are_no_choice(ctx, world, typed, why) -> None:  # noqa: F811
    people, _ = world
    ctx.clock.set(vn_datetime(2026, 10, 2, 9))  # September's month and Q3 are both open
    user = await linked_leader(ctx, world)
    await user.send("/baocao")
    assert "Đang mở nhiều kỳ báo cáo" in user.text
    await user.send(typed)
    assert why in user.text and "Em chưa ghi gì" in user.text, user.text
    assert "Đang mở nhiều kỳ báo cáo" in user.text and "Chị muốn ghi" not in user.text
    await user.send("Có")
    assert await answers(ctx, people.tree.b1.id) == {}
    await user.click("Báo cáo quý của chi hội – quý III/2026")  # the choice still works
    assert "Câu 1/5" in user.text


async def test_a_typed_number_still_picks(ctx, world) -> None:  # noqa: F811
    ctx.clock.set(vn_datetime(2026, 10, 2, 9))
    user = await linked_leader(ctx, world)
    await user.send("/baocao")
    await user.send("2")
    assert "Câu 1/5" in user.text, user.text
