"""A year in an office, from the chat: a handover, who has not joined, someone who left, what
waits for an officer (approvals, ratings), the weekly count of who joined; and a merge of two
communes, with totals and targets before and after. On SQLite and PostgreSQL.

Tree (tests.builders.small_tree): KH ─ KH-KS ─ C1 Xã Sơn Bình (B1, B2), C2 Xã Sơn Hiệp (B3);
KH-KV ─ C3 (B4); KH-D3 ─ C4 (B5)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.web.links import WebLinks
from handlers.engine import Engine
from schedules import reminders
from storage.db import aggregates
from storage.db.models import (
    Invitation,
    OrgUnit,
    Person,
    PersonChange,
    Role,
    SubmissionStatus,
)
from storage.db.units import children, create_unit, find_units, merge_units
from storage.measures import ratios, reporting, rollup, totals
from storage.measures.completeness import completeness
from storage.measures.progress import progress
from storage.plan import texts_vi as vi
from storage.plan.catalog import Target
from storage.plan.catalog_load import load_catalog
from storage.plan.clock import vn_datetime
from storage.plan.periods import half, month, quarter, year_period
from tests.builders import DEMO_CONFIG_DIR, linked, report, small_tree_with_people
from tests.chat import ChatUser
from tests.test_aggregates import assert_agree

FORM = "thang_chi_hoi"
OCT = month(2026, 10)


@pytest.fixture
async def office(ctx):
    """The small tree with its four people linked on Telegram, and two leaders not joined."""
    async with ctx.sessions() as session:
        found = await small_tree_with_people(session, ctx.clock.now())
        t = found.tree
        for name, unit in (("Võ Thị Bích", t.b2), ("Đinh Thị Cúc", t.b3)):
            session.add(
                Person(
                    full_name=name,
                    role=Role.BRANCH_LEADER,
                    unit_id=unit.id,
                    phone=f"09050000{unit.id:02d}",
                    created_at=ctx.clock.now(),
                )
            )
        for key, person in (
            ("leader", found.leader),
            ("commune", found.commune_officer),
            ("district", found.district_officer),
            ("province", found.provincial),
        ):
            await linked(session, person, "telegram", f"u-{key}", ctx.clock.now())
        await session.commit()
    engine = Engine(ctx)
    users = {k: ChatUser(engine, f"u-{k}") for k in ("leader", "commune", "district", "province")}
    return found, users, engine


async def _one(ctx, model, **where):
    async with ctx.sessions() as session:
        return await session.scalar(
            select(model).where(*(getattr(model, k) == v for k, v in where.items()))
        )


# ---- the handover -------------------------------------------------------------------------


async def test_handover_by_chat_keeps_the_branch_draft_for_the_new_leader(ctx, office) -> None:
    found, users, engine = office
    old = users["leader"]
    # She has begun November's report: two answers saved, then she steps down.
    await old.send("/baocao")
    await old.send("3")
    await old.send("1")
    assert "Câu 3/10" in old.text

    officer = users["commune"]
    await officer.send("thay chi hội thôn 1 bằng Trần Thị Mới 0912 345 678")
    assert officer.text == (
        "Thay Nguyễn Thị Lan bằng Trần Thị Mới (0912345678) làm chi hội trưởng Chi hội thôn 1?"
    )
    await officer.click("Đồng ý")
    done, forward = officer.last
    assert done.text.startswith(
        "Đã thay Nguyễn Thị Lan bằng Trần Thị Mới làm chi hội trưởng Chi hội thôn 1."
    )
    assert forward.text.startswith("Mời chị Trần Thị Mới (chi hội trưởng, Chi hội thôn 1)")
    new = await _one(ctx, Person, full_name="Trần Thị Mới")
    invitation = await _one(ctx, Invitation, person_id=new.id)
    assert invitation.code[:4] in forward.text and new.unit_id == found.tree.b1.id

    # The old leader can no longer report: her account is unlinked.
    await old.send("/baocao")
    assert old.text == vi.WELCOME_UNKNOWN
    # The new one joins with her code and finds the draft where it was left.
    newcomer = ChatUser(engine, "u-new")
    await newcomer.send(invitation.code)
    assert "Chào chị Trần Thị Mới" in newcomer.text and "Chi hội thôn 1" in newcomer.text
    await newcomer.click("Đồng ý")  # the personal-data notice
    await newcomer.send("/baocao")
    assert "Đã trả lời 2/10 câu" in newcomer.text and "Câu 3/10" in newcomer.text
    for answer in ["2", "10", "4", "5", "1", "2", "101"]:
        await newcomer.send(answer)
    await newcomer.click("Bỏ qua")
    await newcomer.click("Gửi")
    async with ctx.sessions() as session:
        sub = await reporting.find_submission(session, found.tree.b1.id, FORM, "2026-11")
        assert sub.status == SubmissionStatus.SUBMITTED and sub.submitted_by_id == new.id
        values = await reporting.answers(session, sub.id)
        assert (values["hv_moi"], values["hv_ra"], values["tong_hoi_vien"]) == (3, 1, 101)
        changes = (await session.scalars(select(PersonChange).order_by(PersonChange.id))).all()
    # Audited: who (the officer), what, before and after.
    assert [(c.action, c.person_id) for c in changes] == [
        ("replace", found.leader.id),
        ("create", new.id),
    ]
    assert all(c.by_person_id == found.commune_officer.id for c in changes)
    assert changes[0].before["channels"] == ["telegram"] and changes[0].after["active"] is False
    assert changes[1].after["phone"] == "0912345678"


async def test_handover_in_two_steps_and_its_refusals(ctx, office) -> None:
    found, users, _ = office
    officer = users["commune"]
    await officer.send("/thaythe chi hội thôn 2")
    assert officer.text.startswith("Chi hội trưởng Chi hội thôn 2 hiện là Võ Thị Bích")
    await officer.send("thay bằng Lê Thị Nụ")
    assert officer.text == vi.THAYTHE_NEED_PHONE.format(new="Lê Thị Nụ")
    # A short number is a wrong phone, not a wrong name.
    await officer.send("thay bằng Lê Thị Nụ 0912 34")
    assert officer.text == vi.PHONE_BAD.format(text="0912 34")
    await officer.send("thay bằng Lê Thị Hoa 12345")
    assert officer.text == vi.PHONE_BAD.format(text="12345")
    await officer.send("thay bằng 0912345678")
    assert officer.text == vi.THAYTHE_BAD_NAME
    await officer.send("thay bằng Lê Thị Nụ 0123 456 789")
    assert officer.text == vi.PHONE_BAD.format(text="0123 456 789")
    # A phone that belongs to someone else is refused, with whose it is.
    await officer.send(f"thay bằng Lê Thị Nụ 09050000{found.tree.b3.id:02d}")
    assert "đã là của Đinh Thị Cúc" in officer.text
    await officer.send("thay bằng Lê Thị Nụ 0987654321")
    assert officer.text == (
        "Thay Võ Thị Bích bằng Lê Thị Nụ (0987654321) làm chi hội trưởng Chi hội thôn 2?"
    )
    await officer.click("Hủy")
    assert officer.text == vi.OFFICE_CANCELLED
    assert (await _one(ctx, Person, full_name="Võ Thị Bích")).active
    assert await _one(ctx, Person, full_name="Lê Thị Nụ") is None
    # Outside her commune: the same as unknown; and a branch leader may not.
    await officer.send("thay chi hội thôn 4 bằng Lê Thị Nụ 0987654321")
    assert officer.text == vi.UNKNOWN_UNIT.format(text="chi hội thôn 4")
    await users["leader"].send("/thaythe chi hội thôn 2 bằng Lê Thị Nụ 0987654321")
    assert users["leader"].text == vi.STAFF_ONLY
    # A district officer hands a commune over (to its officer's role); a unit with nobody.
    district = users["district"]
    await district.send("thay xã Sơn Hiệp bằng Phan Thị Hà 0987000111")
    assert district.text == "Giao Phan Thị Hà (0987000111) làm cán bộ Hội cơ sở Xã Sơn Hiệp?"
    await district.click("Đồng ý")
    assert district.last[0].text.startswith("Đã giao Phan Thị Hà làm cán bộ Hội cơ sở")
    ha = await _one(ctx, Person, full_name="Phan Thị Hà")
    assert (ha.role, ha.unit_id, ha.active) == (Role.COMMUNE_OFFICER, found.tree.c2.id, True)
    # Her own unit is not below her.
    await officer.send("thay xã Sơn Bình bằng Phan Thị Hoa 0987000222")
    assert officer.text == vi.THAYTHE_NOT_BELOW.format(unit="Xã Sơn Bình")


async def test_a_district_names_a_branch_by_its_commune(ctx, office) -> None:
    found, users, _ = office
    async with ctx.sessions() as session:
        c2 = await session.get(OrgUnit, found.tree.c2.id)
        await create_unit(session, code="B3b", name="Chi hội thôn 1", level="branch", parent=c2)
        await session.commit()
    district = users["district"]
    await district.send("thay chi hội thôn 1 bằng Lê Thị Nụ 0987654321")
    assert district.text == vi.AMBIGUOUS_UNIT.format(
        text="chi hội thôn 1",
        names="Chi hội thôn 1 (Xã Sơn Bình), Chi hội thôn 1 (Xã Sơn Hiệp)",
        example="Chi hội thôn 1 Xã Sơn Bình",
    )
    await district.send("thay chi hội thôn 1  xa son hiep bằng Lê Thị Nụ 0987654321")
    assert district.text == "Giao Lê Thị Nụ (0987654321) làm chi hội trưởng Chi hội thôn 1?"
    await district.send("thay chi hoi thon 1 xã Sơn Bình bằng Lê Thị Nụ 0987654321")
    assert district.text.startswith("Thay Nguyễn Thị Lan bằng Lê Thị Nụ")


async def test_twin_branches_of_a_merged_commune_are_told_apart_by_code(ctx, office) -> None:
    """Two "Chi hội thôn 1" under one merged commune: listed with the commune each came from
    and its code, and picked by that code (alone, after the name, or after "mã")."""
    found, users, _ = office
    t = found.tree
    async with ctx.sessions() as session:
        c1, c2, c3 = [await session.get(OrgUnit, u.id) for u in (t.c1, t.c2, t.c3)]
        await create_unit(session, code="B3b", name="Chi hội thôn 1", level="branch", parent=c2)
        await create_unit(session, code="B4b", name="Chi hội thôn 1", level="branch", parent=c3)
        merged = await create_unit(
            session, code="C9", name="Xã Sơn Bình Hiệp", level="commune", parent=t.d1
        )
        await merge_units(session, ctx.catalog, [c1, c2], merged, date(2026, 7, 1))
        await session.commit()
    twins = (
        "Chi hội thôn 1 (Xã Sơn Bình Hiệp, trước thuộc Xã Sơn Bình, mã B1), "
        "Chi hội thôn 1 (Xã Sơn Bình Hiệp, trước thuộc Xã Sơn Hiệp, mã B3b)"
    )
    district, province = users["district"], users["province"]
    await district.send("thay chi hội thôn 1 xã sơn bình hiệp bằng Lê Thị Nụ 0987654321")
    assert district.text == vi.AMBIGUOUS_UNIT_SAME.format(
        text="chi hội thôn 1 xã sơn bình hiệp", names=twins, code="B1"
    )
    # With a namesake elsewhere, the name and parent pick that one; the code picks a twin.
    await province.send("/tiendo thôn 1")
    assert province.text == vi.AMBIGUOUS_UNIT_CODE.format(
        text="thôn 1",
        names=f"{twins}, Chi hội thôn 1 (Xã Khánh Bình)",
        example="Chi hội thôn 1 Xã Khánh Bình",
        code="B1",
    )
    for words in ("B3b", "chi hội thôn 1 B3b", "thôn 1 mã b3b", "mã B3b", "B3b, Sơn Bình Hiệp"):
        await district.send(f"thay {words} bằng Lê Thị Nụ 0987654321")
        assert district.text == "Giao Lê Thị Nụ (0987654321) làm chi hội trưởng Chi hội thôn 1?"
        await district.send("Hủy")
    await district.send("thay chi hội thôn 1 mã B1 bằng Lê Thị Nụ 0987654321")
    assert district.text.startswith("Thay Nguyễn Thị Lan bằng Lê Thị Nụ")
    await district.send("Hủy")
    # A code beside another unit's name is no pick: nothing is guessed.
    await district.send("thay chi hội thôn 2 B3b bằng Lê Thị Nụ 0987654321")
    assert district.text == vi.UNKNOWN_UNIT.format(text="chi hội thôn 2 B3b")
    async with ctx.sessions() as session:
        scope = await session.get(OrgUnit, t.d1.id)
        assert [u.code for u in await find_units(session, "thôn 1, B3b", scope)] == ["B3b"]
        assert await find_units(session, "thôn 3 B3b", scope) == []
        assert await find_units(session, "B4b thôn 1", scope) == []  # outside her district


# ---- who has joined -----------------------------------------------------------------------


async def test_not_joined_list_with_codes_and_a_new_code_on_request(ctx, office) -> None:
    found, users, _ = office
    district = users["district"]
    await district.send("chưa kết nối")
    lines = district.text.splitlines()
    assert lines[0] == "Chưa kết nối bot – Huyện Khánh Sơn: 2/4 người."
    assert lines[1].startswith("• Võ Thị Bích – chi hội trưởng, Chi hội thôn 2: mã ")
    assert lines[2].startswith("• Đinh Thị Cúc – chi hội trưởng, Chi hội thôn 3: mã ")
    bich = await _one(ctx, Person, full_name="Võ Thị Bích")
    first = await _one(ctx, Invitation, person_id=bich.id)
    assert first.code[:4] in lines[1]
    # Asked again: the same codes (an unused code is kept).
    await district.send("/chuaketnoi")
    assert first.code[:4] in district.text
    # A commune officer sees her commune only.
    await users["commune"].send("chua ket noi")
    assert "1/2 người" in users["commune"].text and "Đinh Thị Cúc" not in users["commune"].text
    # A new code on request: the old one stops working.
    await district.send("mã mới Võ Thị Bích")
    renewed, forward = district.last
    assert renewed.text.startswith("Đã cấp mã mời mới cho Võ Thị Bích")
    async with ctx.sessions() as session:
        codes = (
            await session.scalars(
                select(Invitation).where(Invitation.person_id == bich.id).order_by(Invitation.id)
            )
        ).all()
    assert len(codes) == 2 and codes[0].expires_at <= ctx.clock.now()
    assert codes[1].code[:4] in forward.text and "đến hết ngày 27/12/2026" in forward.text
    # Someone outside her scope is nobody.
    await users["commune"].send("/mamoi Đinh Thị Cúc")
    assert users["commune"].text == vi.PERSON_NOT_FOUND.format(text="Đinh Thị Cúc")


async def test_weekly_summary_counts_the_leaders_who_joined(ctx, office) -> None:
    monday = vn_datetime(2026, 11, 30, 8, 0)
    async with ctx.sessions() as session:
        plan = await reminders.plan(session, ctx.catalog, monday)
    weekly = {m.person_id: m.payload["text"] for m in plan.messages if m.key.startswith("week:")}
    found, _, _ = office
    # Khánh Sơn: B1 (joined), B2 and B3 (not); the province: B4, B5 have no leader at all.
    assert "1/3 chi hội trưởng đã kết nối." in weekly[found.district_officer.id]
    assert "Xem ai chưa kết nối: /chuaketnoi" in weekly[found.district_officer.id]
    assert "1/3 chi hội trưởng đã kết nối." in weekly[found.provincial.id]


# ---- someone who left ---------------------------------------------------------------------


async def test_stop_someone_who_left(ctx, office) -> None:
    found, users, _ = office
    links = WebLinks("http://hoi.example", b"secret", ctx.clock, timedelta(hours=72))
    token = links.token(found.leader)
    async with ctx.sessions() as session:
        assert await links.check(session, token) is not None
    officer = users["commune"]
    await officer.send("/ngung Trần Thị Mai")
    assert officer.text == vi.NGUNG_SELF
    await officer.send("ngừng tài khoản Đinh Thị Cúc")  # of another commune
    assert officer.text == vi.PERSON_NOT_FOUND.format(text="Đinh Thị Cúc")
    await officer.send("/ngung thị")  # several match: she picks
    assert "Có 2 người khớp" in officer.text
    await officer.click("Nguyễn Thị Lan – Chi hội thôn 1")
    assert officer.text.startswith("Ngừng tài khoản của Nguyễn Thị Lan (chi hội trưởng")
    await officer.click("Đồng ý")
    assert officer.text.startswith("Đã ngừng tài khoản của Nguyễn Thị Lan.")
    await users["leader"].send("tong thoat ngheo")
    assert users["leader"].text == vi.WELCOME_UNKNOWN
    async with ctx.sessions() as session:  # her tracker link ends too
        assert await links.check(session, token) is None
    change = await _one(ctx, PersonChange, person_id=found.leader.id)
    assert (change.action, change.by_person_id) == ("deactivate", found.commune_officer.id)


# ---- what waits for her -------------------------------------------------------------------


async def test_reports_waiting_for_approval(ctx, office) -> None:
    found, users, _ = office
    officer = users["commune"]
    await officer.send("cho duyet")
    assert officer.text == vi.CHODUYET_NONE_NO_FORM
    # The commune approves its branches' monthly reports.
    ctx.catalog = replace(
        ctx.catalog,
        forms={
            c: (f.model_copy(update={"approval": True}) if c == FORM else f)
            for c, f in ctx.catalog.forms.items()
        },
    )
    async with ctx.sessions() as session:
        t = found.tree
        await report(session, t.b1, FORM, OCT, {"hv_moi": 1})
        await report(session, t.b2, FORM, OCT, {"hv_moi": 2})
        await report(session, t.b3, FORM, OCT, {"hv_moi": 2})
        await report(session, t.b2, FORM, month(2026, 11), {"hv_moi": 2}, status="draft")
    await officer.send("chờ duyệt")
    assert officer.text.splitlines() == [
        "Báo cáo chờ chị duyệt (2):",
        "• Chi hội thôn 1 – Báo cáo tháng của chi hội tháng 10/2026 (gửi 31/10)",
        "• Chi hội thôn 2 – Báo cáo tháng của chi hội tháng 10/2026 (gửi 31/10)",
        "Duyệt: /duyet <đơn vị> <kỳ>, ví dụ: /duyet Chi hội thôn 1 tháng 10/2026",
    ]
    await officer.send("/duyet chi hội thôn 1 tháng 10")
    await officer.send("/choduyet")
    assert "(1)" in officer.text and "Chi hội thôn 2" in officer.text
    # The district approves communes' reports: none of those wait.
    await users["district"].send("/choduyet")
    assert users["district"].text == vi.CHODUYET_NONE


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


async def test_units_not_rated_yet_and_the_reminder_when_the_period_ends(
    ctx, office, tmp_path
) -> None:
    found, users, _ = office
    await users["district"].send("chưa xếp loại")
    assert users["district"].text == vi.CHUAXEPLOAI_NO_FORM
    folder = tmp_path / "cfg"
    shutil.copytree(DEMO_CONFIG_DIR, folder)
    for name, extra in (("forms.yaml", RATING_FORM), ("indicators.yaml", RATING_INDICATOR)):
        with (folder / name).open("a", encoding="utf-8") as f:
            f.write(extra)
    ctx.catalog = load_catalog(folder)
    district = users["district"]
    await district.send("chua xep loai nam 2026")
    assert district.text.splitlines() == [
        "Xếp loại cơ sở Hội năm 2026: còn 2/2 cơ sở Hội chưa xếp loại:",
        "Xã Sơn Bình, Xã Sơn Hiệp",
        "Xếp loại: /xeploai <mức> <đơn vị> năm 2026, các mức: «Hoàn thành xuất sắc nhiệm vụ», "
        "«Hoàn thành tốt nhiệm vụ», «Hoàn thành nhiệm vụ», «Không hoàn thành nhiệm vụ».",
    ]
    await district.send("/xeploai tốt xã Sơn Bình năm 2026")
    await district.send("/chuaxeploai năm 2026")
    assert "còn 1/2 cơ sở Hội chưa xếp loại:\nXã Sơn Hiệp" in district.text
    # The commune officer's level rates nothing.
    await users["commune"].send("chưa xếp loại")
    assert users["commune"].text == vi.CHUAXEPLOAI_NO_FORM
    # Nor can she rate: she is told so, not shown an example without a level or a unit.
    await users["commune"].send("/xeploai khá tổ dân phố 1")
    assert users["commune"].text == vi.XEPLOAI_NO_FORM
    # When the year ends, the district officer is reminded of the commune not rated.
    async with ctx.sessions() as session:
        before = await reminders.plan(session, ctx.catalog, vn_datetime(2026, 12, 31, 9, 0))
        plan = await reminders.plan(session, ctx.catalog, vn_datetime(2027, 1, 1, 9, 0))
    assert not [m for m in before.messages if m.key.startswith("rate:")]
    [rated] = [m for m in plan.messages if m.key.startswith("rate:")]
    assert rated.person_id == found.district_officer.id
    assert rated.key == f"rate:{found.district_officer.id}:xep_loai_co_so:2026"
    assert rated.payload["text"].startswith(
        "Kỳ năm 2026 đã kết thúc: chị xếp loại các cơ sở Hội giúp em nhé.\n"
        "Xếp loại cơ sở Hội năm 2026: còn 1/2 cơ sở Hội chưa xếp loại:\nXã Sơn Hiệp"
    )


async def test_help_names_the_office_commands(ctx, office) -> None:
    _, users, _ = office
    await users["district"].send("/trogiup")
    for name, line in vi.HELP_LINES_OFFICE.items():
        # No form of this plan is rated by a district: no rating command in her help.
        assert (line in users["district"].text) == (name != "chuaxeploai"), name
    await users["leader"].send("/trogiup")
    assert "/thaythe" not in users["leader"].text
    assert vi.HELP_LINES_PRIVACY["dulieu"] in users["leader"].text  # everyone's (#22)


# ---- a merge of two communes --------------------------------------------------------------


def _coverage_target(**kw: object) -> Target:
    base: dict[str, object] = dict(
        code="cov",
        label="Mỗi cơ sở Hội có ít nhất 1 hộ thoát nghèo",
        kind="coverage",
        source="KH thử",
        indicator="ho_thoat_ngheo",
        level="commune",
        threshold=1,
        target=100,
        period="2026",
    )
    return Target.model_validate(base | kw)


async def test_merge_carries_totals_and_targets_measure_the_merged_unit(
    ctx, session, catalog
) -> None:
    found = await small_tree_with_people(session, ctx.clock.now())
    t = found.tree
    # Khánh Sơn: Sơn Bình (B1, B2) and Sơn Hiệp (B3) report before and after the merge.
    await report(session, t.b1, FORM, month(2026, 3), {"ho_thoat_ngheo": 2, "tong_hoi_vien": 40})
    await report(session, t.b2, FORM, month(2026, 4), {"ho_thoat_ngheo": 3, "tong_hoi_vien": 60})
    await report(session, t.b3, FORM, month(2026, 5), {"hv_moi": 1})  # no poverty figure
    await report(session, t.b4, FORM, month(2026, 5), {"ho_thoat_ngheo": 1})
    year, q2, q3 = year_period(2026), quarter(2026, 2), quarter(2026, 3)

    async def figures() -> dict[str, object]:
        d1 = await session.get(OrgUnit, t.d1.id)
        rows = (await totals.indicator_total(session, catalog, "ho_thoat_ngheo", d1, year)).rows
        cov = await ratios.coverage(session, catalog, "ho_thoat_ngheo", "commune", 1, [d1], year)
        cov_q2 = await ratios.coverage(session, catalog, "ho_thoat_ngheo", "commune", 1, [d1], q2)
        return {
            "province": await rollup.total(session, catalog, "ho_thoat_ngheo", [t.province], year),
            "district": await rollup.total(session, catalog, "ho_thoat_ngheo", [d1], year),
            "members": await rollup.total(session, catalog, "tong_hoi_vien", [d1], year),
            "rows": {r.unit.name: r.figure.value for r in rows},
            "coverage": (cov.reached, cov.units),
            "coverage_q2": (cov_q2.reached, cov_q2.units),
        }

    before = await figures()
    assert before == {
        "province": 6,
        "district": 5,
        "members": 100,
        # Sơn Hiệp sent no poverty figure: no value, not 0 (#20).
        "rows": {"Xã Sơn Bình": 5, "Xã Sơn Hiệp": None},
        "coverage": (1, 2),
        "coverage_q2": (1, 2),
    }
    merged = await create_unit(
        session,
        code="C9",
        name="Xã Sơn Bình Hiệp",
        level="commune",
        parent=t.d1,
        valid_from=date(2026, 7, 1),
    )
    moved = await merge_units(session, catalog, [t.c1, t.c2], merged, date(2026, 7, 1))
    await session.commit()
    assert {u.code for u in moved} == {"B1", "B2", "B3"}
    # After the merge Sơn Bình Hiệp's branches report too.
    await report(session, t.b3, FORM, month(2026, 8), {"ho_thoat_ngheo": 4})
    after = await figures()
    assert after == {
        "province": 10,
        "district": 9,
        "members": 100,
        # The year is measured on the merged commune: one unit, all its history.
        "rows": {"Xã Sơn Bình Hiệp": 9},
        "coverage": (1, 1),
        # Figures are read on today's units: a quarter before the merge too.
        "coverage_q2": (1, 1),
    }
    assert await rollup.total(session, catalog, "ho_thoat_ngheo", [merged], year) == 9
    assert await rollup.total(session, catalog, "ho_thoat_ngheo", [merged], q2) == 3
    # A breakdown of a quarter before the merge shows the merged commune in their place.
    d1 = await session.get(OrgUnit, t.d1.id)
    assert [u.name for u in await children(session, d1, q2.start, q2.end)] == ["Xã Sơn Bình Hiệp"]
    assert [u.code for u in await children(session, merged, q3.start, q3.end)] == [
        "B1",
        "B2",
        "B3",
    ]
    assert await assert_agree(session, catalog, t.province.id)
    kept = await assert_agree(session, catalog, t.province.id)
    await aggregates.rebuild(session, catalog)
    assert await assert_agree(session, catalog, t.province.id) == kept

    # Targets: a coverage of the year counts the merged commune, a target naming an old
    # commune is measured on the merged one.
    today = date(2026, 9, 1)
    [cov] = await progress(session, replace(catalog, targets=[_coverage_target()]), d1, today)
    assert (cov.achieved, cov.counted) == (100, (1, 1))
    named = _coverage_target(
        code="sum_c1", kind="sum", units=["C1"], target=20, level=None, threshold=1
    )
    [on_merged] = await progress(session, replace(catalog, targets=[named]), t.province, today)
    assert [u.code for u in on_merged.scope] == ["C9"] and on_merged.achieved == 9
    # The old communes are closed, and stand only before the merge.
    c1 = await session.get(OrgUnit, t.c1.id)
    assert (c1.valid_to, c1.merged_into_id) == (date(2026, 6, 30), merged.id)


async def test_a_merged_unit_is_reminded_and_expected_in_its_place(ctx, session, catalog) -> None:
    found = await small_tree_with_people(session, ctx.clock.now())
    t = found.tree
    merged = await create_unit(
        session, code="C9", name="Xã Mới", level="commune", parent=t.d1, valid_from=date(2026, 7, 1)
    )
    await merge_units(session, catalog, [t.c1, t.c2], merged, date(2026, 7, 1))
    await session.commit()
    form = catalog.forms["sau_thang_co_so"]  # the communes' own six-monthly report
    first, second = half(2026, 1), half(2026, 2)
    done_first = await completeness(session, form, first, t.d1)
    done_second = await completeness(session, form, second, t.d1)
    assert sorted(u.code for u, _ in done_first.missing) == ["C1", "C2"]
    assert [u.code for u, _ in done_second.missing] == ["C9"]
    # Branches of the old communes report as before, now under the merged one.
    done = await completeness(session, catalog.forms[FORM], month(2026, 11), merged)
    assert done.expected == 3


@pytest.mark.parametrize(
    "words",
    [
        "thôn 1 sơn hiệp",
        "chi hội thôn 1, xã Sơn Hiệp",
        "Xã Sơn Hiệp thôn 1",
        "chi hoi thon 1 xa son hiep",
    ],
)
async def test_staff_name_a_branch_with_its_commune_in_any_order(ctx, office, words) -> None:
    found, users, _ = office
    async with ctx.sessions() as session:
        c2 = await session.get(OrgUnit, found.tree.c2.id)
        await create_unit(session, code="B3b", name="Chi hội thôn 1", level="branch", parent=c2)
        await session.commit()
    province = users["province"]
    await province.send("/tiendo thôn 1")
    assert "Chi hội thôn 1 (Xã Sơn Bình), Chi hội thôn 1 (Xã Sơn Hiệp)" in province.text
    assert "ví dụ: «Chi hội thôn 1 Xã Sơn Bình»" in province.text
    await province.send(f"/tiendo {words}")
    assert "Chi hội thôn 1" in province.text and "Có nhiều đơn vị" not in province.text
    assert "Không tìm thấy" not in province.text
    async with ctx.sessions() as session:
        scope = await session.get(OrgUnit, found.tree.province.id)
        named = await find_units(session, words, scope)
        assert [u.code for u in named] == ["B3b"]


async def test_many_not_joined_are_counted_by_unit_below_first(ctx, office) -> None:
    found, users, _ = office
    t = found.tree
    async with ctx.sessions() as session:
        for n in range(12):
            branch = (t.b1, t.b2, t.b3, t.b4)[n % 4]
            session.add(
                Person(
                    full_name=f"Lò Thị Số {n}",
                    role=Role.BRANCH_LEADER,
                    unit_id=branch.id,
                    phone=f"098800{n:04d}",
                    created_at=ctx.clock.now(),
                )
            )
        await session.commit()
    province = users["province"]
    await province.send("chưa kết nối")
    lines = province.text.splitlines()
    # 14 below the province have not joined: 12 new, Võ Thị Bích and Đinh Thị Cúc.
    assert lines[0].startswith("Chưa kết nối bot – Tỉnh Khánh Hòa: 14/")
    assert "• Huyện Khánh Sơn: 11/" in province.text
    assert "• Huyện Khánh Vĩnh: 3/3 người chưa kết nối" in province.text
    assert "Huyện Ba" not in province.text  # everyone there joined or nobody is there
    assert "Lò Thị Số" not in province.text
    assert lines[-1].startswith("Chị gõ «chưa kết nối» kèm tên đơn vị")
    # The unit she names: its people by name, with their codes.
    await province.send("chưa kết nối Huyện Khánh Vĩnh")
    assert "Lò Thị Số 3 – chi hội trưởng, Chi hội thôn 4: mã " in province.text
    # A short list is shown whole, as before.
    await users["commune"].send("chưa kết nối")
    assert "Võ Thị Bích – chi hội trưởng" in users["commune"].text
