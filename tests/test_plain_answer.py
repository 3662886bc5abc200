"""The plain answer's own statements (#25) store exactly what the general path stores: the same
conversation walked by a worker both ways, on a fresh database each time, leaves every row of
every table the same (conversation, drafts, outbox, update log, kept totals, audit trail), a
redelivered update changes nothing, and "sent" is recorded without a commit of its own. The
walk has an earlier month's report (corrected between the summary and the submit, so the
thanks' year to date and the chain of latest values read it as it is then), the submit (on
the plain path: its statements on the driver) and a correction of the sent report after it."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import select, text

from handlers.engine import Engine
from schedules.messages import PLATFORMS, Inbound, Outbound
from schedules.outbox import IN_FLIGHT
from schedules.replies import deliver_replies
from storage.db import aggregates, answer_path
from storage.db.delivery import store_pending
from storage.db.models import Base, OutboxMessage, OutboxStatus
from storage.db.sessions import is_postgres, one_statement
from storage.measures import reporting
from storage.plan.periods import month
from tests.builders import invite, small_tree_with_people

# Plain answers, a refused one ("nhiều lắm": asked again), a doubtful one (far above the
# members: a confirmation, the general path), a word that ends the report's questions.
WALK = ["/baocao", "3", "1", "nhiều lắm", "2 hộ", "10", "4", "5", "1", "2", "101", "bỏ qua"]
WALK += ["gửi"]
SUMMARY_AT = WALK.index("bỏ qua")  # the summary shown: October is corrected after this turn
# A correction of the sent report (the general path: a proposal and her confirmation).
AFTER = ["/baocao", "sửa 1 thành 4", "có"]
OCTOBER = {"hv_moi": 2.0, "hv_ra": 1.0, "tong_hoi_vien": 90.0, "pn_kt_ho_tro": 5.0}
CORRECTED = {**OCTOBER, "hv_moi": 7.0, "pn_kt_ho_tro": 6.0}


class Recording:
    """A channel that takes everything (the Telegram capabilities)."""

    name = "telegram"
    capabilities = PLATFORMS["telegram"]

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, chat_id: str, message: Outbound) -> None:
        self.sent.append(message.text)


async def _reset(ctx) -> None:
    async with ctx.engine.begin() as conn:
        if is_postgres(ctx.engine):
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(table.delete())


async def _october(ctx, unit_id: int, values: dict[str, float]) -> None:
    """The unit's October report, sent (or corrected) as imported from a workbook."""
    form = ctx.catalog.forms["thang_chi_hoi"]
    async with ctx.sessions() as session:
        period = month(2026, 10)
        await reporting.import_report(
            session, ctx.catalog, unit_id, form, period, dict(values), ctx.clock.now()
        )
        await session.commit()


async def _walk(ctx, *, plain: bool) -> tuple[dict[str, list[Any]], list[str]]:
    """The leader joins and reports through a worker's intake; every table's rows after."""
    await _reset(ctx)
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        code = await invite(session, people.leader, ctx.clock.now())
    await _october(ctx, people.leader.unit_id, OCTOBER)
    engine = Engine(ctx, "w1", plain=plain)
    channel = Recording()
    engine.capabilities["telegram"] = channel.capabilities
    keys = itertools.count(1)

    async def send(inbound: Inbound) -> None:
        async with one_statement(ctx.sessions) as session:
            fresh = await store_pending(
                session, "telegram", [(inbound.update_key or "", inbound.to_payload())], "w1",
                ctx.clock.now(),
            )  # fmt: skip
        if not fresh:
            return
        taken = await engine.take(inbound)
        if taken.owed:
            await deliver_replies(ctx.sessions, ctx.clock, channel, "77", taken.owed, engine.marks)

    def typed(words: str, key: str | None = None) -> Inbound:
        return Inbound("telegram", "77", "77", text=words, update_key=key or str(next(keys)))

    await send(typed(f"/start {code}"))
    await send(Inbound("telegram", "77", "77", choice="g:privacy_ok", update_key="ok"))
    for i, words in enumerate(WALK):
        inbound = typed(words)
        await send(inbound)
        if i == 3:  # a redelivery the intake missed (stored again after a crash): nothing
            await engine.take(typed("999", key=inbound.update_key))
        if i == SUMMARY_AT:
            await _october(ctx, people.leader.unit_id, CORRECTED)
    for words in AFTER:
        await send(typed(words))
    if engine.marks is not None:
        await engine.marks.close()
    found = await _rows(ctx)
    async with ctx.sessions() as session:  # the kept totals are those of a full rebuild
        await aggregates.rebuild(session, ctx.catalog)
        await session.flush()
        for table in Base.metadata.sorted_tables:
            if table.name in ("unit_period_totals", "unit_stock_totals"):
                query = select(table).order_by(*table.primary_key.columns)
                rebuilt = [row._asdict() for row in (await session.execute(query)).all()]
                assert found[table.name] == rebuilt, table.name
        await session.rollback()
    return found, channel.sent


async def _rows(ctx) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    async with ctx.sessions() as session:
        for table in Base.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            rows = [row._asdict() for row in (await session.execute(query)).all()]
            for row in rows:
                row.pop("code", None) if table.name == "invitations" else None  # random
            found[table.name] = rows
    return found


async def test_the_plain_path_stores_what_the_general_path_stores(ctx, monkeypatch) -> None:
    taken: list[int] = []
    submits: list[int] = []
    write, mark_sent = answer_path.Turn.write, answer_path.Turn.mark_sent

    async def counted(self: answer_path.Turn, written: answer_path.Written) -> Any:
        taken.append(1)
        return await write(self, written)

    async def sent(self: answer_path.Turn, sub: Any) -> Any:
        submits.append(1)
        return await mark_sent(self, sub)

    monkeypatch.setattr(answer_path.Turn, "write", counted)
    monkeypatch.setattr(answer_path.Turn, "mark_sent", sent)
    plain_rows, plain_sent = await _walk(ctx, plain=True)
    # The plain answers (and the refused one), the summary's and the submit took the new path.
    assert len(taken) >= 11 and submits == [1]
    general_rows, general_sent = await _walk(ctx, plain=False)
    assert len(taken) >= 11 and submits == [1] and plain_sent == general_sent
    thanks = next(s for s in plain_sent if "Em đã nhận" in s)
    # The year to date: November's 3 new members and October's as corrected (7, not 2).
    assert "hội viên mới kết nạp 10 người" in thanks, thanks
    assert plain_sent[-1] != thanks  # the correction after the submit was answered
    for name, rows in general_rows.items():
        assert plain_rows[name] == rows, name
    audit = [(row["action"], row["new_value"]) for row in plain_rows["audit_entries"]]
    assert ("submit", None) in audit and ("edit", "4") in audit, audit
    outbox = plain_rows["outbox"]
    assert outbox and all(row["status"] == OutboxStatus.SENT for row in outbox)
    assert len(plain_rows["processed_updates"]) == len(WALK) + len(AFTER) + 2
    assert not plain_rows["pending_updates"] and not IN_FLIGHT


async def test_sent_is_recorded_with_the_next_turn(ctx) -> None:
    """A reply the channel took waits (in flight) until the next turn's transaction or the
    timer records it; a redelivered plain answer changes nothing."""
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        code = await invite(session, people.leader, ctx.clock.now())
    engine = Engine(ctx, "w1")
    channel = Recording()
    engine.capabilities["telegram"] = channel.capabilities
    assert engine.marks is not None

    async def say(words: str, key: str, choice: str | None = None) -> list[Outbound]:
        inbound = Inbound("telegram", "9", "9", text=words, choice=choice, update_key=key)
        taken = await engine.take(inbound)
        if taken.owed:
            await deliver_replies(ctx.sessions, ctx.clock, channel, "9", taken.owed, engine.marks)
        return taken.replies

    await say(f"/start {code}", "1")
    await say("", "2", choice="g:privacy_ok")
    await engine.marks.close()
    await say("/baocao", "3")
    waiting = dict(engine.marks.waiting)
    assert waiting and set(waiting) <= IN_FLIGHT
    replies = await say("3", "4")  # the plain path: records the question's "sent" with it
    assert "Câu 2/10" in replies[-1].text
    assert all(row_id not in IN_FLIGHT for row_id in waiting)
    async with ctx.sessions() as session:
        statuses = dict(
            (await session.execute(select(OutboxMessage.id, OutboxMessage.status))).all()
        )
    assert all(statuses[row_id] == OutboxStatus.SENT for row_id in waiting)
    await engine.marks.close()  # the answer's own reply recorded (else within 50 ms)
    before = await _rows(ctx)
    assert await say("5", "4") == []  # the same update again: nothing changes
    assert await _rows(ctx) == before
    await engine.marks.close()
    assert not IN_FLIGHT
