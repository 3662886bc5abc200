"""Figures staff see at the edges, second walk: "năm nay" asked in early January says the new
year has nothing yet and shows last year's; /xuat, /bieudo and the tracker pages default to the
year /tong does; the "not due yet" line names the level's own units; a name typed beside a
capitalised code wins (or she is asked); twins of a merged commune picked by code are named as
the picker names them. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from io import BytesIO

from openpyxl import load_workbook

from handlers import staff
from storage.db.models import OrgUnit
from storage.db.units import create_unit, merge_units
from storage.plan import texts_vi as vi
from storage.plan.clock import vn_datetime
from storage.plan.periods import month
from tests import test_figure_edges, test_office_year
from tests.builders import report
from tests.test_figure_edges import FORM

# The fixtures of those modules, under the names the tests ask for.
staffed = test_figure_edges.staffed
office = test_office_year.office

NEW_YEAR = (
    "Năm 2027 chưa có báo cáo nào (kỳ đầu tiên đến hạn ngày 05/02/2027). "
    "Dưới đây là số liệu năm 2026 (báo cáo cuối năm đang về thêm):"
)


async def _year_2026(ctx, units) -> None:
    """Seven new members in 2026: three branches in November, one in December."""
    async with ctx.sessions() as session:
        for i in range(1, 4):
            await report(session, units[f"B{i}"], FORM, month(2026, 11), {"hv_moi": 2})
        await report(session, units["B1"], FORM, month(2026, 12), {"hv_moi": 1})


async def test_this_year_named_in_early_january_shows_last_year(ctx, staffed) -> None:
    units, user = staffed
    await _year_2026(ctx, units)
    ctx.clock.set(vn_datetime(2027, 1, 2, 9))  # nothing of 2027 is due before 05/02/2027
    await user.send("/tong hội viên mới năm nay")
    lines = user.text.splitlines()
    assert lines[0] == NEW_YEAR, user.text
    assert lines[1].startswith("Hội viên mới kết nạp – Tỉnh Khánh Hòa, năm 2026: 7 người")
    assert "cho năm 2027" not in user.text and "0/7" not in user.text
    assert await staff.cli_total(ctx, "hội viên mới", "năm nay", None) == user.text
    # A year named by its number is answered as asked (as the CLI and the pages do).
    await user.send("/tong hội viên mới năm 2027")
    assert user.text.startswith("Chưa có báo cáo nào đã gửi cho năm 2027"), user.text
    await user.send("/tong hội viên mới năm 2026")
    assert user.text.startswith("Hội viên mới kết nạp – Tỉnh Khánh Hòa, năm 2026: 7 người")
    # Once a report of the new year is in, "năm nay" is the new year.
    async with ctx.sessions() as session:
        await report(session, units["B2"], FORM, month(2027, 1), {"hv_moi": 4})
    await user.send("/tong hội viên mới năm nay")
    assert user.text.startswith("Hội viên mới kết nạp – Tỉnh Khánh Hòa, năm 2027: 4 người")


async def test_this_year_named_with_nothing_last_year_either_is_answered_as_asked(
    ctx, staffed
) -> None:
    _, user = staffed
    ctx.clock.set(vn_datetime(2027, 1, 2, 9))
    await user.send("/tong hội viên mới năm nay")
    assert user.text.startswith("Chưa có báo cáo nào đã gửi cho năm 2027 (0/7 chi hội)"), user.text


async def test_export_and_chart_default_to_the_year_tong_answers(ctx, staffed) -> None:
    units, user = staffed
    await _year_2026(ctx, units)
    ctx.clock.set(vn_datetime(2027, 1, 2, 9))
    await user.send("/xuat")
    assert user.last[0].text == "Bảng tổng hợp năm 2026 – Tỉnh Khánh Hòa.", user.last[0].text
    assert user.last[0].filename == "KH-2026.xlsx" or "2026" in (user.last[0].filename or "")
    await user.send("/bieudo hội viên mới")
    assert "năm 2026" in user.last[0].text and "2027" not in user.last[0].text, user.last[0].text
    await user.send("/xuat năm nay")
    assert user.last[0].text.startswith(NEW_YEAR.split(" Dưới", maxsplit=1)[0])
    assert "Bảng tổng hợp năm 2026" in user.last[0].text
    # Once January's report is due, the new year is the default everywhere.
    ctx.clock.set(vn_datetime(2027, 2, 6, 9))
    await user.send("/xuat")
    assert user.last[0].text == "Bảng tổng hợp năm 2027 – Tỉnh Khánh Hòa."
    await user.send("/bieudo hội viên mới")
    assert "năm 2027" in user.last[0].text


async def test_tracker_pages_default_to_the_year_tong_answers(site) -> None:
    ctx, people = site.ctx, site.people
    ctx.clock.set(vn_datetime(2027, 1, 2, 9))
    link = site.link(people.district_officer)
    status, html = await site.get(f"{link}chi-so/ho_thoat_ngheo")
    assert status == 200
    title = html.split("<title>")[1].split("</title>")[0] if "<title>" in html else html
    assert "năm 2026" in site.text(html) and "năm 2027" not in title, title
    async with site.http.get(f"{link}xuat.xlsx") as r:
        assert r.status == 200
        assert "2026" in r.headers["Content-Disposition"], r.headers["Content-Disposition"]
        load_workbook(BytesIO(await r.read()), read_only=True)
    ctx.clock.set(vn_datetime(2027, 2, 6, 9))
    link = site.link(people.district_officer)
    async with site.http.get(f"{link}xuat.xlsx") as r:
        assert "2027" in r.headers["Content-Disposition"]


async def test_not_due_line_names_the_levels_own_units(ctx, staffed) -> None:
    units, user = staffed
    ctx.clock.set(vn_datetime(2026, 12, 28, 9))  # December is due on 05/01/2027
    async with ctx.sessions() as session:
        await report(session, units["B1"], FORM, month(2026, 12), {"hv_moi": 1})
    await user.send("/chuanop tháng 12")
    assert "6 chi hội còn trong hạn" in user.text, user.text
    assert "đơn vị còn trong hạn" not in user.text
    cli = await staff.cli_missing(ctx, "tháng 12/2026", None, None)
    assert "6 chi hội còn trong hạn" in cli


async def test_a_name_beside_a_capitalised_code_wins_or_is_asked(ctx, staffed) -> None:
    units, user = staffed
    async with ctx.sessions() as session:
        for i in range(1, 4):
            await report(session, units[f"B{i}"], FORM, month(2026, 11), {"hv_moi": 2})
    ctx.clock.set(vn_datetime(2026, 12, 10, 9))
    # A code that is no unit's is a word: the name is the unit.
    await user.send("/tiendo xã Sơn Bình TP-HCM")
    assert "Xã Sơn Bình" in user.text.splitlines()[0], user.text
    await user.send("/tong hội viên mới xã Sơn Bình TP-HCM")
    assert user.text.startswith("Hội viên mới kết nạp – Xã Sơn Bình, năm 2026: 6 người"), user.text
    # A name with its own code: that unit.
    await user.send("/tong hội viên mới huyện Khánh Sơn KH-KS")
    assert user.text.startswith("Hội viên mới kết nạp – Huyện Khánh Sơn, năm 2026"), user.text
    # The code of another unit than the name's: she is asked, never answered for the code's.
    for asked in ("/tiendo xã Sơn Bình KH-KV", "/tong hội viên mới xã Sơn Bình KH-KV"):
        await user.send(asked)
        assert user.text.startswith("Có nhiều đơn vị khớp với «xã Sơn Bình KH-KV»"), user.text
        assert "Xã Sơn Bình (Huyện Khánh Sơn)" in user.text
        assert "Huyện Khánh Vĩnh (Tỉnh Khánh Hòa)" in user.text
    # The code alone is still the unit.
    await user.send("/tiendo KH-KV")
    assert "Huyện Khánh Vĩnh" in user.text.splitlines()[0]


async def test_a_twin_picked_by_code_is_named_as_the_picker_names_it(ctx, office) -> None:
    found, users, _ = office
    t = found.tree
    async with ctx.sessions() as session:
        c1, c2 = [await session.get(OrgUnit, u.id) for u in (t.c1, t.c2)]
        b3b = await create_unit(
            session, code="B3b", name="Chi hội thôn 1", level="branch", parent=c2
        )
        merged = await create_unit(
            session, code="C9", name="Xã Sơn Bình Hiệp", level="commune", parent=t.d1
        )
        await merge_units(session, ctx.catalog, [c1, c2], merged, date(2026, 7, 1))
        await session.commit()
        await report(session, b3b, FORM, month(2026, 10), {"hv_moi": 2})
    told = "Chi hội thôn 1 (Xã Sơn Bình Hiệp, trước thuộc Xã Sơn Hiệp, mã B3b)"
    province = users["province"]
    await province.send("/tiendo B3b")
    assert told in province.text.splitlines()[0], province.text
    await province.send("/tong hội viên mới B3b")
    assert told in province.text.splitlines()[0], province.text
    await province.send("/chuanop chi hội thôn 1 mã B3b")
    assert told in province.text.splitlines()[0], province.text
    await province.send("/xuat chi hội thôn 1 mã B3b")
    assert told in province.last[0].text
    await province.send("/bieudo hội viên mới B3b")
    assert told in province.last[0].text, province.last[0].text
    # A unit without a twin keeps its plain name.
    await province.send("/tiendo xã Sơn Bình Hiệp")
    assert "mã C9" not in province.text
    assert vi.UNIT_TWIN  # (the picker's own wording)
