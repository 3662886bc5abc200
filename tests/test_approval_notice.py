"""The leader is told when her report is approved (a tester's finding N10): a message owed
through the outbox, and, when she had an edit of it open, that her edit was not saved and
what to do."""

from datetime import timedelta

from sqlalchemy import select

from storage.db.models import OutboxMessage
from storage.plan import texts_vi as vi
from tests.test_sent_report_edits import send_report, world  # noqa: F401


async def approval_notices(ctx, person_id: int) -> list[str]:
    async with ctx.sessions() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.person_id == person_id, OutboxMessage.kind == "notice"
                )
            )
        ).all()
    return [m.payload["text"] for m in rows if m.key.startswith("approved:")]


async def test_she_is_told_when_her_report_is_approved(ctx, world) -> None:  # noqa: F811
    people, lan, officer = world
    await send_report(lan)
    await officer.send("/duyet chi hội thôn 1 tháng 11")
    assert "Đã duyệt" in officer.text
    [text] = await approval_notices(ctx, people.leader.id)
    assert text == (
        "Chị Trần Thị Mai đã duyệt báo cáo tháng của chi hội tháng 11/2026; báo cáo đã khóa lại."
    )


async def test_an_edit_she_had_open_is_said_not_saved(ctx, world) -> None:  # noqa: F811
    people, lan, officer = world
    await send_report(lan)
    await lan.send("sửa 3 thành 5")  # waiting for her «Lưu thay đổi»
    await officer.send("/duyet chi hội thôn 1 tháng 11")
    assert "đang sửa" in officer.text
    assert await approval_notices(ctx, people.leader.id) == []  # not approved yet
    await officer.click("Duyệt")
    [text] = await approval_notices(ctx, people.leader.id)
    assert text.splitlines() == [
        vi.APPROVED_FOR_LEADER.format(
            officer="Trần Thị Mai",
            form="báo cáo tháng của chi hội",
            period="tháng 11/2026",
        ),
        vi.APPROVED_EDIT_NOT_SAVED.format(officer="Trần Thị Mai"),
    ]
    # Approved again after a reopening (later): told again.
    ctx.clock.set(ctx.clock.now() + timedelta(hours=1))
    await officer.send("/mobaocao chi hội thôn 1 tháng 11")
    await officer.send("/duyet chi hội thôn 1 tháng 11")
    await officer.click("Duyệt")
    assert len(await approval_notices(ctx, people.leader.id)) == 2
