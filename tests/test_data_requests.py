"""A request to erase one's data typed in chat (a tester's finding N9, Decree 13/2023): heard
with or without diacritics, before the personal-data notice is accepted too; asked once
more; then recorded, told to her officer and listed for the operator. Nothing is erased."""

from __future__ import annotations

from sqlalchemy import select

from handlers.data_requests import asks_erasure
from handlers.engine import Engine
from storage.db.models import OutboxMessage, Person
from storage.db.personal_data.requests import open_erase_requests
from storage.plan import texts_vi as vi
from tests.builders import invite, linked, small_tree_with_people
from tests.chat import ChatUser
from tests.test_personal_data import TG_ID, cli, world  # noqa: F401


def test_the_ways_she_may_ask() -> None:
    for text in (
        "xóa dữ liệu của tôi",
        "tôi muốn xóa thông tin cá nhân",
        "xoa du lieu cua toi",
        "Em muốn XOÁ HẾT dữ liệu của em",
        "xin hủy tài khoản",
        "chị xóa giúp em thông tin cá nhân nhé",
    ):
        assert asks_erasure(text), text
    for text in ("xóa", "dữ liệu của tôi", "sửa 3 thành 5", "thông tin họp chi hội", "3"):
        assert not asks_erasure(text), text


async def officer_notices(ctx, officer_id: int) -> list[str]:
    async with ctx.sessions() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.person_id == officer_id)
            )
        ).all()
    return [m.payload["text"] for m in rows if m.key.startswith("erase-request:")]


async def test_a_leader_asks_to_be_erased_before_accepting_the_notice(ctx) -> None:
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        await linked(session, people.commune_officer, "telegram", "officer", ctx.clock.now())
        code = await invite(session, people.leader, ctx.clock.now())
    lan = ChatUser(Engine(ctx), "110")
    await lan.send(f"/start {code}")
    assert "Đồng ý" in lan.buttons  # the notice, not accepted
    await lan.send("xóa dữ liệu của tôi")
    assert lan.text == vi.ERASE_ASK and "Chưa hiểu" not in lan.text
    assert lan.buttons == [vi.BUTTON_ERASE_SEND, vi.BUTTON_ERASE_KEEP]
    await lan.click(vi.BUTTON_ERASE_KEEP)  # changed her mind: nothing recorded
    assert lan.text == vi.ERASE_KEPT
    await lan.send("xóa dữ liệu của tôi")
    await lan.send("dạ")  # not a deciding yes: nothing recorded
    await lan.send("Không ạ")
    assert lan.text == vi.ERASE_KEPT
    async with ctx.sessions() as session:
        assert await open_erase_requests(session) == []
    await lan.send("tôi muốn xóa thông tin cá nhân")
    await lan.click(vi.BUTTON_ERASE_SEND)
    assert "Em đã ghi yêu cầu xóa dữ liệu cá nhân của chị" in lan.text
    assert "Trần Thị Mai" in lan.text  # her commune's officer, told
    [told] = await officer_notices(ctx, people.commune_officer.id)
    assert f"hoibot people erase {people.leader.id}" in told and "Nguyễn Thị Lan" in told
    async with ctx.sessions() as session:
        [(entry, whose)] = await open_erase_requests(session)
        assert whose.id == people.leader.id and entry.detail == "tôi muốn xóa thông tin cá nhân"
        person = await session.get(Person, people.leader.id)
        assert person is not None and person.erased_at is None and person.active  # not erased
    # Asked again: told it is waiting, not recorded twice.
    await lan.send("xoa du lieu cua toi")
    assert lan.text.startswith("Yêu cầu xóa dữ liệu của chị đã được ghi ngày")
    assert len(await officer_notices(ctx, people.commune_officer.id)) == 1


async def test_asked_in_the_middle_of_a_report_the_report_goes_on(ctx) -> None:
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        code = await invite(session, people.leader, ctx.clock.now())
    lan = ChatUser(Engine(ctx), "111")
    await lan.join(code)
    await lan.send("/baocao")
    await lan.send("3")
    assert "Câu 2/" in lan.text
    await lan.send("xoá dữ liệu của tôi")
    assert vi.ERASE_ASK in lan.text
    await lan.send("2")  # Zalo's numbered choice: «Không xóa»
    assert vi.ERASE_KEPT in lan.text and "Câu 2/" in lan.text
    await lan.send("0")  # her answer to question 2, as before
    assert "Câu 3/" in lan.text


async def test_the_operator_lists_open_requests(ctx, world) -> None:  # noqa: F811
    """`hoibot people erase-requests` lists who asked and the command that erases her; once
    she is erased her request is no longer waiting."""
    people, code = world
    lan = ChatUser(Engine(ctx), TG_ID)
    await lan.join(code)
    await lan.send("Xoá thông tin của tôi")
    await lan.click(vi.BUTTON_ERASE_SEND)
    listed = await cli("people", "erase-requests")
    assert listed.exit_code == 0, listed.output
    [line, total] = listed.output.splitlines()
    assert f"#{people.leader.id} Nguyễn Thị Lan, Chi hội thôn 1" in line
    assert "'Xoá thông tin của tôi'" in line and line.endswith(
        f"hoibot people erase {people.leader.id}"
    )
    assert total == "1 request to erase waiting."
    erased = await cli("people", "erase", str(people.leader.id), "--yes")
    assert erased.exit_code == 0, erased.output
    listed = await cli("people", "erase-requests")
    assert listed.output.splitlines() == ["0 requests to erase waiting."]
