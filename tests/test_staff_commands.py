"""Staff questions by chat on a small tree whose answers are worked out by hand."""

import warnings
from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook

from handlers import charts
from handlers.engine import Engine
from handlers.export_xlsx import build_workbook
from storage.measures import rollup
from storage.plan.periods import month, quarter, year_period
from tests.builders import linked, report, small_tree_with_people
from tests.chat import ChatUser

OCT, SEP = month(2026, 10), month(2026, 9)
FORM = "thang_chi_hoi"


@pytest.fixture
async def world(ctx):
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        t = people.tree
        await report(session, t.b1, FORM, SEP, {"ho_thoat_ngheo": 2, "hv_moi": 1})
        await report(
            session,
            t.b1,
            FORM,
            OCT,
            {"ho_thoat_ngheo": 3, "hv_moi": 2, "hv_ra": 1, "tong_hoi_vien": 40},
        )
        await report(
            session, t.b2, FORM, OCT, {"ho_thoat_ngheo": 4, "tong_hoi_vien": 60}, late=True
        )
        await report(session, t.b3, FORM, OCT, {"ho_thoat_ngheo": 1})
        await report(session, t.b4, FORM, OCT, {"ho_thoat_ngheo": 5, "hv_moi": 3})
        # B5 has not reported October.
        users = {}
        for key, person in [
            ("leader", people.leader),
            ("commune", people.commune_officer),
            ("district", people.district_officer),
            ("province", people.provincial),
        ]:
            await linked(session, person, "telegram", f"u-{key}", ctx.clock.now())
            users[key] = f"u-{key}"
        await session.commit()
    engine = Engine(ctx)
    return people, {k: ChatUser(engine, v) for k, v in users.items()}


async def test_total_breakdown_share_and_change(world) -> None:
    _, users = world
    staff = users["province"]
    await staff.send("/tong thoát nghèo tháng 10")
    assert (
        "Hộ phụ nữ nghèo, cận nghèo được giúp thoát nghèo – Tỉnh Khánh Hòa, tháng 10/2026: 13 hộ"
        in staff.text
    )
    # Four of the five branches reported October; B5 did not: not a 0, and said so.
    assert "Tính trên 4/5 chi hội đã báo cáo (1 chi hội chưa báo cáo)." in staff.text
    # Only B1 reported September: the change is B1's alone (not 13 against 2), and says so.
    assert (
        "So với tháng 9/2026, chỉ tính 1 chi hội báo cáo cả hai kỳ: 2 → 3 (+1, +50%)." in staff.text
    )
    assert "1. Huyện Khánh Sơn: 8 (61,5%)" in staff.text
    assert "2. Huyện Khánh Vĩnh: 5 (38,5%)" in staff.text
    assert "3. Huyện Ba: chưa báo cáo" in staff.text
    assert "0 (0%)" not in staff.text
    # Plain words without diacritics, with a unit inside the scope.
    await staff.send("tong ho thoat ngheo thang 10 huyen khanh son")
    assert "Huyện Khánh Sơn, tháng 10/2026: 8 hộ" in staff.text
    assert "1. Xã Sơn Bình: 7 (87,5%)" in staff.text and "2. Xã Sơn Hiệp: 1 (12,5%)" in staff.text


async def test_drill_down_and_up(world) -> None:
    _, users = world
    staff = users["province"]
    await staff.send("/tong thoát nghèo tháng 10")
    await staff.click("⬇ Huyện Khánh Sơn")
    assert "Huyện Khánh Sơn, tháng 10/2026: 8 hộ" in staff.text
    await staff.click("⬇ Xã Sơn Bình")
    assert "Xã Sơn Bình, tháng 10/2026: 7 hộ" in staff.text
    assert "1. Chi hội thôn 2: 4 (57,1%)" in staff.text
    assert not [b for b in staff.buttons if b.startswith("⬇")]  # branches are the bottom
    await staff.click("⬆ Huyện Khánh Sơn")
    assert "Huyện Khánh Sơn, tháng 10/2026: 8 hộ" in staff.text


async def test_scope_refusals_reveal_nothing(world) -> None:
    _, users = world
    district = users["district"]
    await district.send("/tong thoát nghèo tháng 10")
    assert "Huyện Khánh Sơn, tháng 10/2026: 8 hộ" in district.text
    await district.send("/tong thoát nghèo tháng 10 huyện Khánh Vĩnh")
    outside = district.text
    await district.send("/tong thoát nghèo tháng 10 huyện Không Có")
    unknown = district.text
    assert outside.replace("huyện Khánh Vĩnh", "X") == unknown.replace("huyện Không Có", "X")
    assert "Không tìm thấy đơn vị" in outside
    await district.send("/tiendo KH-KV")
    assert "Không tìm thấy đơn vị «KH-KV»" in district.text
    # A drill-down button forged for a unit outside the scope is refused too.
    await district.send("/tong thoát nghèo tháng 10")
    turn = district.last[-1].choices[0].data.split(":")[0]
    await district.press(f"{turn}:unit:{world[0].tree.d2.id}")
    assert "Không tìm thấy đơn vị" in district.text


async def test_branch_leader_sees_her_branch_only(world) -> None:
    _, users = world
    leader = users["leader"]
    await leader.send("/tong thoát nghèo tháng 10")
    assert "Chi hội thôn 1, tháng 10/2026: 3 hộ" in leader.text
    await leader.send("/chuanop")
    assert "dành cho cán bộ Hội" in leader.text
    await leader.send("/xuat")
    assert "dành cho cán bộ Hội" in leader.text
    await leader.send("/tong thoát nghèo tháng 10 xã Sơn Bình")
    assert "Không tìm thấy đơn vị" in leader.text
    await leader.send("/trogiup")
    assert "/chuanop" not in leader.text and "/tong" in leader.text


async def test_ambiguous_indicator_and_empty_period(world) -> None:
    _, users = world
    staff = users["province"]
    await staff.send("/tong hội viên tháng 10")
    assert "khớp với nhiều chỉ số" in staff.text
    assert staff.buttons[:2] == ["Hội viên mới kết nạp", "Hội viên ra khỏi tổ chức"]
    await staff.click("Hội viên mới kết nạp")
    assert "Hội viên mới kết nạp – Tỉnh Khánh Hòa, tháng 10/2026: 5 người" in staff.text
    await staff.send("/tong tăng thực hội viên tháng 10")
    assert "Tăng thực hội viên (mới trừ ra) – Tỉnh Khánh Hòa, tháng 10/2026: 4 người" in staff.text
    await staff.send("/tong tổng số hội viên tháng 10")
    assert "Tổng số hội viên hiện có – Tỉnh Khánh Hòa, tháng 10/2026: 100 người" in staff.text
    await staff.send("/tong thoát nghèo tháng 1/2020")
    assert "Chưa có báo cáo nào đã gửi cho tháng 1/2020" in staff.text
    await staff.send("/tong thoát nghèo quý 9")
    assert "Quý phải từ 1 đến 4" in staff.text
    await staff.send("/tong")
    assert "Chị ghi tên chỉ số" in staff.text


async def test_missing_units_grouped_by_parent(world) -> None:
    people, users = world
    staff = users["province"]
    await staff.send("/chuanop tháng 10")
    assert "Báo cáo tháng của chi hội – tháng 10/2026 – Tỉnh Khánh Hòa" in staff.text
    assert "Đã nộp 4/5 (80%): đúng hạn 3, trễ hạn 1. Chưa nộp: 1." in staff.text
    assert "• Xã Bốn: Chi hội thôn 5" in staff.text
    assert staff.buttons[0] == "Nhắc ngay"
    await staff.click("Nhắc ngay")  # B5 has no leader in this tree: nobody to remind
    assert "Không có ai cần nhắc" in staff.text
    commune = users["commune"]
    await commune.send("chưa nộp tháng 10")
    assert "Đã nộp 2/2 (100%)" in commune.text and "Tất cả đã nộp" in commune.text


async def test_progress_by_chat_for_each_role(world) -> None:
    _, users = world
    await users["province"].send("/tiendo")
    text = users["province"].text
    assert "Tiến độ chỉ tiêu – Tỉnh Khánh Hòa" in text and "(trang 1/" in text
    assert users["province"].buttons[0] == "Xem thêm"
    summary = text.splitlines()[1]  # counts over every target, on every page
    assert " chỉ tiêu: " in summary and "chậm tiến độ" in summary
    await users["province"].click("Xem thêm")
    assert "(trang 2/" in users["province"].text
    assert users["province"].text.splitlines()[1] == summary
    district = users["district"]
    await district.send("tiến độ")
    seen = district.text
    assert "Tiến độ chỉ tiêu – Huyện Khánh Sơn" in seen and "(trang 1/2)" in seen
    await district.click("Xem thêm")
    seen += district.text
    # The group target, the percent targets on her own district, no province-only sums.
    assert "Khánh Sơn và Khánh Vĩnh giúp ít nhất 1.000 hộ thoát nghèo" in seen
    assert "Tính chung: Huyện Khánh Sơn, Huyện Khánh Vĩnh" in seen
    assert "80% phụ nữ khuyết tật" in seen
    assert "5.000 hộ phụ nữ nghèo" not in seen
    await users["leader"].send("/tiendo")
    assert "Tiến độ chỉ tiêu – Chi hội thôn 1" in users["leader"].text


async def test_the_workbook_is_written_off_the_event_loop(world, ctx, monkeypatch) -> None:
    # The figures are read on the loop; the seconds of CPU writing a province's sheets run in
    # a thread, so chats go on meanwhile.
    import threading

    from handlers import export_xlsx

    people, _ = world
    threads: list[int] = []
    write = export_xlsx._write

    def spy(book):  # type: ignore[no-untyped-def]
        threads.append(threading.get_ident())
        return write(book)

    monkeypatch.setattr(export_xlsx, "_write", spy)
    async with ctx.sessions() as session:
        data = await build_workbook(
            session, ctx.catalog, people.tree.province, quarter(2026, 4), ctx.clock.today()
        )
    assert threads and threads[0] != threading.get_ident()
    assert load_workbook(BytesIO(data)).sheetnames[-1] == "Chỉ tiêu"


async def test_workbook_matches_the_rollup_cell_by_cell(world, ctx) -> None:
    people, _ = world
    t = people.tree
    async with ctx.sessions() as session:
        data = await build_workbook(
            session, ctx.catalog, t.province, quarter(2026, 4), ctx.clock.today()
        )
        data_oct = await build_workbook(
            session, ctx.catalog, t.province, year_period(2026), ctx.clock.today()
        )
        wb = load_workbook(BytesIO(data_oct))
        ws = wb["Báo cáo tháng của chi hội"]
        header = [c.value for c in ws[2]]
        assert header[:5] == ["Tỉnh", "Huyện", "Cơ sở Hội", "Chi hội", "Mã đơn vị"]
        assert ws.freeze_panes == "F3"
        codes = [q.indicator for q in ctx.catalog.forms[FORM].questions]
        checked = 0
        from sqlalchemy import func, select

        from storage.db.models import OrgUnit, SubmissionValue, UnitAncestor

        by_code = {u.code: u for u in (await session.scalars(select(OrgUnit))).all()}
        empty = 0
        for row in ws.iter_rows(min_row=3, values_only=True):
            unit = by_code[row[4]]
            for i, code in enumerate(codes):
                expected = await rollup.total(session, ctx.catalog, code, [unit], year_period(2026))
                reports = await session.scalar(
                    select(func.count())
                    .select_from(SubmissionValue)
                    .join(UnitAncestor, UnitAncestor.unit_id == SubmissionValue.unit_id)
                    .where(
                        UnitAncestor.ancestor_id == unit.id,
                        SubmissionValue.indicator_code == code,
                        SubmissionValue.submitted.is_(True),
                        SubmissionValue.value_num.is_not(None),
                        SubmissionValue.period_start >= date(2026, 1, 1),
                    )
                )
                # No data is an empty cell, never 0.
                assert row[5 + i] == (expected if reports else None), (row[4], code)
                empty += not reports
                checked += 1
        assert empty > 0
        assert ws.cell(ws.max_row, 1).value == "Tổng cộng"
        assert checked == len(codes) * (5 + 4 + 3 + 1)  # branches, communes, districts, total
        labels = [r[2] for r in ws.iter_rows(min_row=3, values_only=True) if r[2]]
        assert "Cộng Xã Sơn Bình" in labels
        targets = wb["Chỉ tiêu"]
        assert targets.cell(1, 1).value == "Chỉ tiêu"
        assert targets.max_row == 1 + len(ctx.catalog.targets)
        assert load_workbook(BytesIO(data)).sheetnames[-1] == "Chỉ tiêu"


async def test_chart_is_a_png_with_real_vietnamese_glyphs(world, ctx) -> None:
    from matplotlib import ft2font
    from matplotlib.font_manager import FontProperties, findfont

    people, _ = world
    async with ctx.sessions() as session:
        indicator = ctx.catalog.indicators["ho_thoat_ngheo"]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            png, title = await charts.chart(
                session, ctx.catalog, indicator, people.tree.province, year_period(2026), 100
            )
            bar, _ = await charts.chart(session, ctx.catalog, indicator, people.tree.province, OCT)
    assert not [w for w in caught if "missing from" in str(w.message)]
    for image in (png, bar):
        assert image[:8] == b"\x89PNG\r\n\x1a\n" and 5_000 < len(image) < 1_000_000
    font = ft2font.FT2Font(findfont(FontProperties(family=charts.FONT), fallback_to_default=False))
    charmap = font.get_charmap()
    text = title + "Huyện Khánh Sơn Xã Sơn Bình đạt Lũy kế Chỉ tiêu ỹ ự ằ ẵ ỡ"
    assert all(ord(ch) in charmap for ch in text if not ch.isspace())


def _drawn_axes(monkeypatch) -> list[dict[str, object]]:
    """What each chart drawn from now on shows: its axes, and the ticks and tick labels of
    its value axis (y for a trend, x for a breakdown) inside the limits drawn."""
    seen: list[dict[str, object]] = []
    real = charts._png

    def recorded(plt, fig) -> bytes:  # type: ignore[no-untyped-def]
        fig.canvas.draw()
        ax = fig.axes[0]
        names = [t.get_text() for t in ax.get_yticklabels()]
        across = any(name and not name[0].isdigit() for name in names)  # units' names
        axis, (low, high) = (ax.xaxis, ax.get_xlim()) if across else (ax.yaxis, ax.get_ylim())
        ticks = [t for t in axis.get_majorticklocs() if low <= t <= high]
        labels = [t.get_text() for t in axis.get_ticklabels() if t.get_text()]
        seen.append({"axes": len(fig.axes), "ticks": ticks, "labels": labels, "top": high})
        return real(plt, fig)

    monkeypatch.setattr(charts, "_png", recorded)
    return seen


async def test_a_chart_has_one_value_axis_with_whole_ticks_for_counts(
    world, ctx, monkeypatch
) -> None:
    """A trend (with a target: the running total against it, on the same axis), a trend of
    a branch's few members, a breakdown: one axis of figures each, whole-number ticks for a
    count; a rate's axis in percent."""
    people, _ = world
    seen = _drawn_axes(monkeypatch)
    hv_moi, ho = ctx.catalog.indicators["hv_moi"], ctx.catalog.indicators["ho_thoat_ngheo"]
    async with ctx.sessions() as session:
        year = year_period(2026)
        await charts.chart(session, ctx.catalog, ho, people.tree.province, year, 100)
        await charts.chart(session, ctx.catalog, hv_moi, people.tree.b1, year)  # 1, then 2
        await charts.chart(session, ctx.catalog, hv_moi, people.tree.province, OCT)
    assert len(seen) == 3
    for drawn in seen:
        assert drawn["axes"] == 1, drawn
        ticks = drawn["ticks"]
        assert len(ticks) >= 3 and all(float(t).is_integer() for t in ticks), drawn
        assert all("," not in label for label in drawn["labels"]), drawn
    assert seen[0]["top"] >= 100  # the target's line is inside the axis
    charts.trend_png("Tỷ lệ", ["1/26", "2/26", "3/26"], [45.5, 80, 92.25], "%", None)
    assert seen[3]["axes"] == 1 and seen[3]["top"] >= 100
    assert seen[3]["labels"] and all(label.endswith("%") for label in seen[3]["labels"])


async def test_files_by_chat(world) -> None:
    _, users = world
    staff = users["province"]
    await staff.send("/xuat năm 2026")
    [message] = staff.last
    assert message.filename == "bao-cao-KH-2026.xlsx" and message.document[:2] == b"PK"
    await staff.send("biểu đồ thoát nghèo năm 2026")
    [picture] = staff.last
    assert picture.photo and picture.photo[:4] == b"\x89PNG"


async def test_a_text_indicator_has_no_total(world) -> None:
    _, users = world
    staff = users["province"]
    await staff.send("/tong ghi_chu năm 2026")
    assert "«Ghi chú của chi hội» là câu trả lời bằng chữ nên không có tổng số." in staff.text
    assert "Chưa có báo cáo" not in staff.text
    await staff.send("/bieudo ghi_chu")
    assert "không có tổng số" in staff.text and not staff.last[-1].photo


RATING_FORM = """
  - code: xep_loai_co_so
    name: Xếp loại cơ sở Hội
    level: commune
    filled_by: district
    periodicity: year
    questions: [xep_loai]
"""
RATING_INDICATOR = """
  - code: xep_loai
    label: Xếp loại cơ sở Hội
    question: Cơ sở Hội được xếp loại mức nào?
    type: choice
    choices:
      - {value: 4, label: Hoàn thành xuất sắc nhiệm vụ}
      - {value: 3, label: Hoàn thành tốt nhiệm vụ}
      - {value: 2, label: Hoàn thành nhiệm vụ}
      - {value: 1, label: Không hoàn thành nhiệm vụ}
"""
RATING_TARGET = """
  - code: xep_loai_tot
    label: 95% cơ sở Hội xếp loại hoàn thành tốt nhiệm vụ trở lên
    kind: coverage
    indicator: xep_loai
    level: commune
    threshold: 3
    period: yearly
    expect: end
    target: 95
    source: CTr 11/CTr-BTV, mục II.1.(4)
"""


async def test_the_level_above_rates_each_commune(ctx, world, tmp_path) -> None:
    import shutil

    from bot.config import DEMO_CONFIG_DIR
    from storage.plan.catalog_load import load_catalog

    folder = tmp_path / "cfg"
    shutil.copytree(DEMO_CONFIG_DIR, folder)
    for name, extra in (
        ("forms.yaml", RATING_FORM),
        ("indicators.yaml", RATING_INDICATOR),
        ("targets.yaml", RATING_TARGET),
    ):
        with (folder / name).open("a", encoding="utf-8") as f:
            f.write(extra)
    ctx.catalog = load_catalog(folder)
    assert [f.code for f in ctx.catalog.forms_for_level("commune")] == ["sau_thang_co_so"]
    _, users = world
    district = users["district"]  # Khánh Sơn: communes C1 (Sơn Bình), C2 (Sơn Hiệp)
    await district.send("/xeploai tốt xã Sơn Bình năm 2026")
    assert (
        "Đã ghi Xếp loại cơ sở Hội năm 2026 của Xã Sơn Bình: Hoàn thành tốt nhiệm vụ."
        in district.text
    )
    await district.send("xep loai hoan thanh nhiem vu xa son hiep nam 2026")
    assert "Xã Sơn Hiệp: Hoàn thành nhiệm vụ." in district.text
    await district.send("/xeploai giỏi xã Sơn Hiệp năm 2026")
    assert (
        "Em chưa rõ chị chọn mức nào" in district.text
        and "«Hoàn thành tốt nhiệm vụ»" in district.text
    )
    await district.send("/xeploai xuất sắc xã Sơn Hiệp năm 2026")
    assert "Hoàn thành nhiệm vụ → Hoàn thành xuất sắc nhiệm vụ" in district.text
    # A commune officer cannot rate (her level does not fill the form), nor a branch.
    await users["commune"].send("/xeploai tốt chi hội thôn 1 năm 2026")
    assert "Cấp của chị không có biểu xếp loại nào" in users["commune"].text
    # Both Khánh Sơn communes rated good or better: 2/2 from the district, 2/4 province-wide.
    await district.send("/tiendo")
    assert "95% cơ sở Hội xếp loại hoàn thành tốt nhiệm vụ trở lên" in district.text
    assert "(2/2 cơ sở Hội đạt)" in district.text
    await users["province"].send("/tiendo")
    pages = [users["province"].text]
    while "Xem thêm" in users["province"].buttons and len(pages) < 6:
        await users["province"].click("Xem thêm")
        pages.append(users["province"].text)
    # C3 and C4 are not rated yet: no data, not "not good".
    assert "(2/4 cơ sở Hội đạt; 2 cơ sở Hội chưa có số liệu)" in "\n".join(pages)
    await district.send("/tong xếp loại năm 2026")
    assert "là mức đánh giá nên không cộng thành tổng số" in district.text
