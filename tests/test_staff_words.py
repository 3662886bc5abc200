"""What the chat says in words (#20): examples from the province's own indicators and units,
an indicator called "chỉ số" (a target is a "chỉ tiêu"), and ratings of past years changed
only when the year is named. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEMO_CONFIG_DIR
from handlers.engine import Engine
from storage.db.importing import import_units
from storage.db.models import Person, Role
from storage.db.units import unit_by_code
from storage.measures import reporting
from storage.plan import texts_vi as vi
from storage.plan.catalog_load import load_catalog
from storage.plan.clock import vn_datetime
from tests.builders import linked, small_tree
from tests.chat import ChatUser

LAO_CAI = DEMO_CONFIG_DIR.parent / "lao_cai"
NAM_DINH = Path(__file__).parent / "configs" / "nam_dinh"
ELSEWHERE = ("Khánh Sơn", "Sơn Bình", "Khánh Hòa", "Son Binh", "Khanh Son")


async def staff_of(ctx, unit_code: str, user: str, role: Role = Role.PROVINCIAL_STAFF) -> ChatUser:
    async with ctx.sessions() as session:
        unit = await unit_by_code(session, unit_code)
        assert unit is not None
        person = Person(
            full_name="Nguyễn Thị Hương",
            role=role,
            unit_id=unit.id,
            created_at=ctx.clock.now(),
        )
        session.add(person)
        await session.flush()
        await linked(session, person, "telegram", user, ctx.clock.now())
        await session.commit()
    return ChatUser(Engine(ctx), user)


@pytest.fixture
async def lao_cai(ctx):
    ctx.catalog = load_catalog(LAO_CAI)
    async with ctx.sessions() as session:
        await import_units(session, ctx.catalog, LAO_CAI / "units.csv")
        await session.commit()
    return await staff_of(ctx, "LC", "u-lc")


async def test_help_and_examples_come_from_the_province(lao_cai) -> None:
    staff = lao_cai
    await staff.send("/trogiup")
    help_text = staff.text
    assert not any(name in help_text for name in ELSEWHERE)
    # Its first commune in Vietnamese order, its six-monthly period, its own indicators.
    assert "• tiến độ phường Cam Đường" in help_text
    assert "/tong <chỉ số> [kỳ] [đơn vị] – tổng số, ví dụ: /tong thoát nghèo 6 tháng" in help_text
    assert "/xeploai tốt phường Cam Đường" in help_text
    for usage in ("/tong", "/bieudo", "/duyet", "/mobaocao", "/xeploai"):
        await staff.send(usage)
        assert not any(name in staff.text for name in ELSEWHERE), staff.text
        assert "chỉ tiêu" not in staff.text  # an indicator is a "chỉ số"
    await staff.send("/tong")
    assert staff.text == (
        "Chị ghi tên chỉ số, có thể thêm kỳ và đơn vị. Ví dụ:\n"
        "/tong thoát nghèo 6 tháng đầu năm 2026\n"
        "/tong hội viên mới năm 2026 phường Cam Đường"
    )


async def test_help_names_my_data_for_everyone(ctx, lao_cai) -> None:
    """ "dữ liệu của tôi" (#22) is in the help of every role that may use it, in the help
    drawn from the province's own words, and does what the help says."""
    commune = await staff_of(ctx, "LC-02", "u-lc-commune", Role.COMMUNE_OFFICER)
    for user in (lao_cai, commune):
        await user.send("/trogiup")
        assert vi.HELP_LINES_PRIVACY["dulieu"] in user.text
        assert user.text.index("/dulieu") < user.text.index("/trogiup – ")
        assert not any(name in user.text for name in ELSEWHERE)
        await user.send("dữ liệu của tôi")
        assert user.text.startswith(vi.MY_DATA_TITLE)
        await user.send("/dulieu")
        assert user.text.startswith(vi.MY_DATA_TITLE)


async def test_an_indicator_named_from_its_level_word_in_lao_cai(ctx, lao_cai) -> None:
    """ "Cơ sở Hội ứng dụng CNTT, mạng xã hội…" starts with a level word and holds another:
    typed whole, in part, without diacritics, with a period and a unit, it is the indicator."""
    staff = lao_cai
    label = "Cơ sở Hội ứng dụng CNTT, mạng xã hội trong sinh hoạt"
    for typed in (
        f"/tong {label} năm 2026 xã Y Tý",
        "/tong co so hoi ung dung cntt mang xa hoi nam 2026 xa y ty",
        "tổng cơ sở hội ứng dụng CNTT xã Y Tý năm 2026",
    ):
        await staff.send(typed)
        assert staff.text.startswith("Chưa có báo cáo nào đã gửi cho năm 2026"), (typed, staff.text)
        assert "(0/1 cơ sở Hội)" in staff.text, (typed, staff.text)
    await staff.send(f"/tong {label}")
    assert "(0/8 cơ sở Hội)" in staff.text, staff.text
    await staff.send("/bieudo Cơ sở Hội ứng dụng CNTT năm 2026")
    assert staff.last[0].photo and staff.last[0].text.startswith(label)
    await staff.send("/tong Cơ sở Hội ứng dụng CNTT xã Lương Hòa")  # not a unit of hers
    assert staff.text == "Không tìm thấy đơn vị «xã Lương Hòa» trong phạm vi của chị."


async def test_an_unknown_indicator_suggests_this_provinces_own(ctx) -> None:
    ctx.catalog = load_catalog(NAM_DINH)
    async with ctx.sessions() as session:
        await small_tree(session)  # a province KH with the levels Nam Định's plan uses
    staff = await staff_of(ctx, "KH", "u-nd")
    await staff.send("/tong thoát nghèo")
    assert staff.text.startswith("Không tìm thấy chỉ số «thoát nghèo»")
    assert "ví dụ: «tập huấn», «website»." in staff.text  # Nam Định reports no poverty figure


async def test_a_past_years_rating_changes_only_when_named(ctx, lao_cai) -> None:
    staff = lao_cai

    async def rating(year: int) -> float | None:
        async with ctx.sessions() as session:
            unit = await unit_by_code(session, "LC-04")
            assert unit is not None
            sub = await reporting.find_submission(session, unit.id, "xep_loai_co_so", str(year))
            if sub is None:
                return None
            value = (await reporting.answers(session, sub.id)).get("xep_loai")
            return value if isinstance(value, float) else None

    await staff.send("/xeploai xuất sắc LC-04 năm 2025")
    assert staff.text == (
        "Đã ghi Xếp loại cơ sở Hội năm 2025 của Xã Bát Xát: Hoàn thành xuất sắc nhiệm vụ."
    )
    # No year named, in November: this year's rating, never last year's.
    await staff.send("/xeploai tốt LC-04")
    assert (
        staff.text == "Đã ghi Xếp loại cơ sở Hội năm 2026 của Xã Bát Xát: Hoàn thành tốt nhiệm vụ."
    )
    assert (await rating(2025), await rating(2026)) == (4.0, 3.0)
    # In January the year just ended is being rated: a first rating goes there, but one
    # already given is not changed unless the year is named.
    ctx.clock.set(vn_datetime(2027, 1, 5, 9))
    await staff.send("/xeploai hoàn thành nhiệm vụ Bát Xát")
    assert staff.text.startswith(
        "Xếp loại cơ sở Hội năm 2026 của Xã Bát Xát đã ghi: Hoàn thành tốt nhiệm vụ. Em chưa sửa."
    )
    assert "/xeploai hoàn thành nhiệm vụ LC-04 năm 2026" in staff.text
    assert await rating(2026) == 3.0
    await staff.send("/xeploai hoàn thành nhiệm vụ LC-04 năm 2026")
    assert staff.text == (
        "Đã sửa Xếp loại cơ sở Hội năm 2026 của Xã Bát Xát: Hoàn thành tốt nhiệm vụ → "
        "Hoàn thành nhiệm vụ."
    )
    await staff.send("/xeploai tốt Y Tý")  # a commune named without its level word
    assert staff.text == "Đã ghi Xếp loại cơ sở Hội năm 2026 của Xã Y Tý: Hoàn thành tốt nhiệm vụ."
    await staff.send("/xeploai tốt Lương Hòa")
    assert staff.text == "Không tìm thấy đơn vị «Lương Hòa» trong phạm vi của chị."


async def test_help_lists_no_rating_command_where_her_level_rates_no_one(ctx, lao_cai) -> None:
    # In Lào Cai the province rates the communes; a commune officer rates no one.
    officer = await staff_of(ctx, "LC-02", "u-lc-02", Role.COMMUNE_OFFICER)
    await officer.send("/trogiup")
    assert "/tiendo" in officer.text
    assert "/xeploai" not in officer.text and "/chuaxeploai" not in officer.text
    assert "ví dụ: /xeploai \n" not in officer.text


async def test_the_offices_words_for_late_units_ask_what_chuanop_answers(ctx) -> None:
    """A tester's "/tre", "ai chưa nộp", "đơn vị trễ hạn" were not understood; the first even
    told provincial staff to type /baocao."""
    async with ctx.sessions() as session:
        await small_tree(session)
    staff = await staff_of(ctx, "KH", "u-late")
    await staff.send("/chuanop")
    expected = staff.text
    assert "/baocao" not in expected
    for words in ("/tre", "/trehan", "ai chưa nộp", "Đơn vị trễ hạn", "trễ hạn", "don vi chua nop"):
        await staff.send(words)
        assert staff.text == expected, words
