"""Personal data (Decree 13/2023/NĐ-CP): the notice and its acceptance, what is held about a
person (export, "dữ liệu của tôi"), her erasure, the pruning past the retention, and who
looked at whose data."""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String, Text, func, select
from sqlalchemy.types import JSON
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.config import get_settings
from handlers.engine import Engine
from storage.db.invitations import link_directly
from storage.db.models import (
    AuditEntry,
    Base,
    ChannelIdentity,
    CodeAttempt,
    DataAccess,
    Invitation,
    NoticeAcceptance,
    OutboxMessage,
    OutboxStatus,
    PendingUpdate,
    Person,
    PersonChange,
    ProcessedUpdate,
    Submission,
    SubmissionValue,
)
from storage.db.people import Actor, edit_person
from storage.db.personal_data import erasure, inventory, notice
from storage.db.sessions import transaction
from storage.plan import privacy_notice
from storage.plan import texts_vi as vi
from storage.plan.periods import month
from storage.plan.text import fold
from tests.builders import invite, report, small_tree_with_people
from tests.chat import ChatUser
from tests.test_office_cli import _stamp

NAME = "Nguyễn Thị Lan"
PHONE = "0912345678"
TG_ID = "7304918265"
ZALO_ID = "zl9f3k2q8w"
ANSWERS = ["3", "1", "2 hộ", "10", "4", "5", "1", "2", "101"]
OCT = month(2026, 10)


async def cli(*args: str) -> Result:
    """The command line, in a thread of its own (it runs its own event loop)."""
    get_settings.cache_clear()
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


@pytest.fixture
async def world(ctx, db_url, tmp_path, monkeypatch):
    await _stamp(ctx.engine)  # the CLI reads the same database
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("HOIBOT_NOW", "2026-11-27T09:00:00+07:00")
    for name in ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN", "HOIBOT_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "HoiKhanhHoa_bot")
    monkeypatch.chdir(tmp_path)
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        await report(
            session,
            people.tree.b2,
            "thang_chi_hoi",
            OCT,
            {"ho_thoat_ngheo": 4, "hv_moi": 2, "tong_hoi_vien": 60},
        )
        code = await invite(session, people.leader, ctx.clock.now())
        await link_directly(session, people.provincial, "telegram", "u-province", ctx.clock.now())
        await session.commit()
    async with transaction(ctx.sessions) as session:
        lan = await session.get(Person, people.leader.id)
        await edit_person(
            session, ctx.catalog, lan, by=Actor(operator="cli:test"), now=ctx.clock.now(),
            phone=PHONE,
        )  # fmt: skip
    yield people, code
    get_settings.cache_clear()  # the next test reads its own settings, not these


async def joined_and_reported(ctx, world) -> tuple[ChatUser, ChatUser]:
    """Lan joins on Telegram and Zalo, accepts the notice and sends November's report."""
    _, code = world
    engine = Engine(ctx)
    tg = ChatUser(engine, TG_ID)
    await tg.join(code)
    await tg.send("/baocao")
    for answer in ANSWERS:
        await tg.send(answer)
    await tg.click("Bỏ qua")
    await tg.click("Gửi")
    assert "Cảm ơn chị" in tg.text, tg.text
    async with ctx.sessions() as session:
        lan = await session.get(Person, world[0].leader.id)
        second = await invite(session, lan, ctx.clock.now())
    zalo = ChatUser(engine, ZALO_ID, channel="zalo")
    await zalo.send(second)
    assert "Chào chị Nguyễn Thị Lan" in zalo.text and "Nghị định" not in zalo.text
    return tg, zalo


async def plant(ctx, world) -> dict[str, Any]:
    """What the bot holds about her besides her own chat: messages sent to her and about her,
    a message of hers not handled yet, a wrong code from her chat, a text answer and an
    audit note naming her, a handover note."""
    people, _ = world
    now = ctx.clock.now()
    async with transaction(ctx.sessions) as session:
        common = dict(attempts=1, next_attempt_at=now, created_at=now)
        session.add_all(
            [
                OutboxMessage(
                    key="rem:test:1", kind="reminder", person_id=people.leader.id,
                    channel="telegram", chat_id=TG_ID, status=OutboxStatus.SENT, sent_at=now,
                    payload={"text": f"Chào chị {NAME}, nhắc báo cáo tháng 11."}, **common,
                ),
                OutboxMessage(
                    key="rem:test:2", kind="reminder", person_id=people.leader.id,
                    channel="zalo", chat_id=ZALO_ID, status=OutboxStatus.QUEUED,
                    payload={"text": "Nhắc lần 2"}, **common,
                ),
                OutboxMessage(
                    key="digest:test", kind="digest", person_id=people.commune_officer.id,
                    channel="telegram", chat_id="u-commune", status=OutboxStatus.SENT,
                    sent_at=now, payload={"text": f"Chưa nộp: Chi hội thôn 1 ({NAME}, {PHONE})"},
                    **common,
                ),
                PendingUpdate(
                    channel="telegram", key="999", received_at=now,
                    payload={"channel": "telegram", "user_id": TG_ID, "chat_id": TG_ID,
                             "text": "Tôi là Lan", "display_name": "Lan"},
                ),
                CodeAttempt(channel="zalo", chat_id=ZALO_ID, at=now),
            ]
        )  # fmt: skip
        sub = await session.scalar(
            select(Submission).where(Submission.unit_id == people.tree.b1.id).limit(1)
        )
        assert sub is not None
        session.add(
            AuditEntry(
                submission_id=sub.id, action="confirm", indicator_code="hv_moi",
                note=f"{NAME} xác nhận số liệu", changed_by_id=people.leader.id, changed_at=now,
            )
        )  # fmt: skip
        session.add(
            SubmissionValue(
                submission_id=sub.id, indicator_code="ghi_chu_test", unit_id=sub.unit_id,
                period_start=sub.period_start, period_end=sub.period_end, submitted=True,
                value_text=f"Chị {NAME} (ĐT {PHONE}) tổ chức sinh hoạt",
            )
        )  # fmt: skip
        session.add(
            PersonChange(
                person_id=people.commune_officer.id, action="edit", before={}, after={},
                by_operator="cli:test", note=f"replaces #{people.leader.id} {NAME}",
                changed_at=now,
            )
        )  # fmt: skip
    return {"outbox_to_her": 2}


async def figures(ctx, staff: ChatUser) -> list[str]:
    """What staff read of the province: totals, progress, late units and rankings."""
    out = []
    for question in (
        "/tong thoát nghèo năm nay",
        "/tong hội viên mới tháng 11",
        "/tong thoát nghèo tháng 10 KH-CT",
        "/tiendo",
        "/chuanop",
        "/xephang",
    ):
        await staff.send(question)
        out.append(staff.text)
    async with ctx.sessions() as session:
        for table in ("unit_period_totals", "unit_stock_totals", "submissions"):
            rows = (await session.execute(select(Base.metadata.tables[table]))).all()
            out.append(repr(sorted(tuple(str(v) for v in r) for r in rows)))
        numbers = (
            await session.execute(
                select(SubmissionValue.submission_id, SubmissionValue.indicator_code,
                       SubmissionValue.value_num).order_by(SubmissionValue.id)
            )
        ).all()  # fmt: skip
        out.append(repr(numbers))
        audit = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.indicator_code, AuditEntry.old_value,
                       AuditEntry.new_value, AuditEntry.changed_by_id).order_by(AuditEntry.id)
            )
        ).all()  # fmt: skip
        out.append(repr(audit))
    return out


async def dump(ctx) -> list[tuple[str, str, str]]:
    """Every text of every table: (table, column, text), JSON decoded."""
    out = []
    async with ctx.sessions() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            if not columns:
                continue
            for row in (await session.execute(select(*columns))).all():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    text = (
                        value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                    )
                    out.append((table.name, column.name, text))
    return out


def naming_her(texts: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    needles = (NAME, PHONE, "+84912345678", TG_ID, ZALO_ID)
    return [t for t in texts if any(n in t[2] for n in needles)]


async def test_erase_leaves_nothing_naming_her_and_every_figure_whole(ctx, world) -> None:
    people, code = world
    await joined_and_reported(ctx, world)
    await plant(ctx, world)
    staff = ChatUser(Engine(ctx), "u-province")
    await staff.send("/trogiup")  # she is told the notice once, here
    before = await figures(ctx, staff)
    assert naming_her(await dump(ctx))  # the test plants what it looks for

    dry = await cli("people", "erase", PHONE)
    assert dry.exit_code == 0, dry.output
    assert "Would erase" in dry.output and "chat accounts: 2" in dry.output
    assert "rows naming her in submission_values: 1" in dry.output
    assert naming_her(await dump(ctx))  # a dry run changes nothing

    done = await cli("people", "erase", PHONE, "--yes")
    assert done.exit_code == 0, done.output
    assert f"Erased #{people.leader.id} (was {NAME})" in done.output
    assert 'attributed to "Người đã xóa (chi hội trưởng, Chi hội thôn 1)"' in done.output
    assert naming_her(await dump(ctx)) == []
    assert await figures(ctx, staff) == before

    async with ctx.sessions() as session:
        lan = await session.get(Person, people.leader.id)
        assert lan.full_name == "Người đã xóa (chi hội trưởng, Chi hội thôn 1)"
        assert lan.role == "branch_leader"
        assert lan.unit_id == people.tree.b1.id and not lan.active and lan.erased_at
        sent = (
            await session.scalars(select(Submission).where(Submission.submitted_by_id == lan.id))
        ).all()
        assert len(sent) == 1  # her unit's report stays, attributed to "Người đã xóa"
        queued = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.key == "rem:test:2")
        )
        assert queued.status == OutboxStatus.FAILED  # nothing more goes to her
        assert await session.scalar(select(func.count()).select_from(PendingUpdate)) == 0
        assert await session.scalar(select(func.count()).select_from(ChannelIdentity)) == 1

    # Her old codes and links no longer work, whoever uses them.
    again = ChatUser(Engine(ctx), TG_ID)
    await again.send(f"/start {code}")
    assert "đã được xóa dữ liệu" in again.text
    await again.send("/baocao")
    assert "cần mã mời" in again.text

    log = await cli("people", "access-log")
    assert log.exit_code == 0 and "cli:" in log.output and "erased" in log.output


async def test_export_lists_everything_planted(ctx, world, tmp_path: Path) -> None:
    people, _ = world
    await joined_and_reported(ctx, world)
    await plant(ctx, world)
    out = tmp_path / "lan.json"
    result = await cli("people", "export", NAME, "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["law"] == inventory.DECREE
    assert doc["person"]["full_name"] == NAME and doc["person"]["phone"] == PHONE
    assert {(i["channel"], i["external_id"]) for i in doc["identities"]} == {
        ("telegram", TG_ID),
        ("zalo", ZALO_ID),
    }
    assert len(doc["invitations"]) == 2 and all(i["used_at"] for i in doc["invitations"])
    assert doc["notice"]["accepted_at"] and doc["notice"]["channel"] == "telegram"
    texts = [m["text"] for m in doc["messages_sent_to_her"]]
    assert f"Chào chị {NAME}, nhắc báo cáo tháng 11." in texts and "Nhắc lần 2" in texts
    assert all("Chưa nộp" not in t for t in texts)  # the officer's digest is not hers
    assert [m["text"] for m in doc["messages_received_not_yet_handled"]] == ["Tôi là Lan"]
    assert [(r["form"], r["period"]) for r in doc["reports_sent_or_approved"]] == [
        ("thang_chi_hoi", "2026-11")
    ]
    assert any(a["note"] == f"{NAME} xác nhận số liệu" for a in doc["report_changes_by_her"])
    assert [c["action"] for c in doc["changes_to_her_record"]] == ["edit"]
    assert doc["conversation"] is not None
    # The export itself is recorded, and listed as an access to her data.
    assert doc["who_accessed_her_data"][0]["action"] == "export"
    async with ctx.sessions() as session:
        logged = (await session.scalars(select(DataAccess))).all()
    assert [(e.action, e.subject_id) for e in logged] == [("export", people.leader.id)]


async def test_my_data_in_chat(ctx, world) -> None:
    people, _ = world
    tg, zalo = await joined_and_reported(ctx, world)
    await tg.send("Dữ liệu của tôi")
    assert "Dữ liệu bot đang lưu về chị" in tg.text and PHONE in tg.text
    assert "Telegram" in tg.text and "Zalo" in tg.text and "1 báo cáo" in tg.text
    files = [m for m in tg.last if m.document]
    assert files and files[0].filename == "du-lieu-cua-toi.json"
    doc = json.loads(files[0].document.decode())
    assert doc["person"]["full_name"] == NAME
    await zalo.send("du lieu cua toi")  # without diacritics, on Zalo: the same
    assert "Dữ liệu bot đang lưu về chị" in zalo.text
    async with ctx.sessions() as session:
        actions = (await session.scalars(select(DataAccess.action))).all()
    assert actions == ["self_export", "self_export"]


async def test_notice_waits_for_her_acceptance(ctx, world) -> None:
    people, code = world
    user = ChatUser(Engine(ctx), ZALO_ID, channel="zalo")
    await user.send(code)
    assert "Chào chị Nguyễn Thị Lan" in user.text and "Nghị định 13/2023/NĐ-CP" in user.text
    assert "dữ liệu của tôi" in user.text and "90 ngày" in user.text
    await user.send("/baocao")  # nothing else before she accepts
    assert "cần đồng ý" in user.text and "Câu 1" not in user.text
    await user.send("dữ liệu của tôi")  # but she may see what is held
    assert "Dữ liệu bot đang lưu về chị" in user.text
    async with ctx.sessions() as session:
        row = await session.get(NoticeAcceptance, people.leader.id)
        assert row.asked_at_joining and row.accepted_at is None
    ctx.clock.set(ctx.clock.now() + timedelta(minutes=5))
    await user.send("Đồng ý")  # typed, as on Zalo
    assert "ghi nhận chị đồng ý lúc 09:05 27/11/2026" in user.text
    async with ctx.sessions() as session:
        row = await session.get(NoticeAcceptance, people.leader.id)
        assert row.accepted_at == ctx.clock.now() and row.channel == "zalo"
        assert row.notice_hash == notice.notice_hash(
            notice.notice_text(ctx.catalog.privacy_notice, 90)
        )
    await user.send("/baocao")
    assert "Câu 1/10" in user.text
    await user.send("đồng ý")  # an answer now, not the notice
    assert "ghi nhận" not in user.text and "Câu 1/10" in user.text


async def test_joined_before_the_notice_is_told_once(ctx, world) -> None:
    people, _ = world
    user = ChatUser(Engine(ctx), "u-province")
    await user.send("/trogiup")
    assert "Nghị định 13/2023/NĐ-CP" in user.text and "Chị có thể dùng" in user.text
    await user.send("/trogiup")
    assert "Nghị định" not in user.text  # once
    await user.click("Đồng ý") if "Đồng ý" in user.buttons else await user.send("đồng ý")
    assert "ghi nhận chị đồng ý" in user.text
    async with ctx.sessions() as session:
        row = await session.get(NoticeAcceptance, people.provincial.id)
        assert not row.asked_at_joining and row.accepted_at is not None


async def test_joined_before_the_notice_chatter_is_reminded_to_accept(ctx, world) -> None:
    """Staff (and a leader) who joined before the notice, told it once, then chatting: the
    notice again with «Đồng ý», as a leader who joined with a code gets it, not the hint."""
    people, _ = world
    async with ctx.sessions() as session:
        await link_directly(session, people.commune_officer, "zalo", "z-commune", ctx.clock.now())
        await link_directly(session, people.leader, "telegram", "u-leader", ctx.clock.now())
        await session.commit()
    engine = Engine(ctx)
    province = ChatUser(engine, "u-province")
    commune = ChatUser(engine, "z-commune", channel="zalo")
    leader = ChatUser(engine, "u-leader")
    for user in (province, commune, leader):
        await user.send("chào em")  # told once, after the answer
        assert "Nghị định 13/2023/NĐ-CP" in user.text and vi.NOTICE_TOLD in user.text
        for chatter in ("chào em", "ok", "trời mưa to quá"):
            await user.send(chatter)
            assert user.text.startswith(vi.NOTICE_REMIND), user.text
            assert "Nghị định 13/2023/NĐ-CP" in user.text and vi.NOTICE_TOLD in user.text
            assert user.buttons == ["Đồng ý"] and vi.HINT_STAFF not in user.text
        await user.send("/trogiup")  # a question is answered as usual, no reminder
        assert vi.HELP_TITLE in user.text and "Nghị định" not in user.text
    await province.send("vâng")
    await province.click("Đồng ý")
    await commune.send("đồng ý")
    for user in (province, commune):
        assert "ghi nhận chị đồng ý" in user.text
        await user.send("chào em")
        assert user.text.endswith(vi.HINT_STAFF) and "Nghị định" not in user.text


async def test_prune_removes_what_is_past_retention_and_nothing_else(ctx, world) -> None:
    people, _ = world
    await joined_and_reported(ctx, world)
    now = ctx.clock.now()
    old, recent = now - timedelta(days=91), now - timedelta(days=89)
    async with transaction(ctx.sessions) as session:
        for key, status, at in [
            ("old-sent", OutboxStatus.SENT, old),
            ("old-failed", OutboxStatus.FAILED, old),
            ("recent-sent", OutboxStatus.SENT, recent),
            ("old-queued", OutboxStatus.QUEUED, old),  # still owed: kept whole
            ("recent-file", OutboxStatus.SENT, recent),
            ("todays-file", OutboxStatus.SENT, now - timedelta(hours=2)),
            ("queued-file", OutboxStatus.QUEUED, recent),
        ]:
            payload: dict[str, Any] = {"text": f"text of {key}"}
            if key.endswith("file"):
                payload |= {"document": "UEsDBBQ=", "filename": "bao-cao.xlsx"}
            session.add(
                OutboxMessage(
                    key=key, kind="reminder", person_id=people.leader.id, channel="telegram",
                    chat_id=TG_ID, payload=payload, status=status,
                    attempts=1, next_attempt_at=at, created_at=at,
                    sent_at=at if status == OutboxStatus.SENT else None,
                )
            )  # fmt: skip
        session.add_all(
            [
                ProcessedUpdate(channel="telegram", key="old-update", at=old),
                ProcessedUpdate(channel="telegram", key="recent-update", at=recent),
                Invitation(code="OLDEXPIRED", person_id=people.commune_officer.id,
                           created_at=old - timedelta(days=30), expires_at=old),
                Invitation(code="RECENTEXPD", person_id=people.commune_officer.id,
                           created_at=recent - timedelta(days=30), expires_at=recent),
                CodeAttempt(channel="zalo", chat_id="x", at=old),
                CodeAttempt(channel="zalo", chat_id="y", at=recent),
            ]
        )  # fmt: skip
    async with ctx.sessions() as session:
        keep_before = await figures_only(session)
        updates_before = await session.scalar(select(func.count()).select_from(ProcessedUpdate))
    result = await cli("people", "prune")
    assert result.exit_code == 0, result.output
    assert "1 delivered file dropped from the outbox." in result.output
    assert "2 message texts blanked, 1 handled update, 1 expired invitation and 1 wrong code" in (
        result.output
    )
    async with ctx.sessions() as session:
        texts = dict(
            (await session.execute(select(OutboxMessage.key, OutboxMessage.payload))).all()
        )
        assert texts["old-sent"] == {"text": ""} and texts["old-failed"] == {"text": ""}
        assert texts["recent-sent"] == {"text": "text of recent-sent"}
        assert texts["old-queued"] == {"text": "text of old-queued"}
        # A delivered file goes at once (its text stays until the retention); an owed one stays.
        assert texts["recent-file"] == {"text": "text of recent-file", "filename": "bao-cao.xlsx"}
        assert texts["queued-file"]["document"] == "UEsDBBQ="
        assert texts["todays-file"]["document"] == "UEsDBBQ="  # kept for its first day
        keys = set((await session.scalars(select(ProcessedUpdate.key))).all())
        assert "old-update" not in keys and "recent-update" in keys
        assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)) == (
            updates_before - 1
        )
        codes = set((await session.scalars(select(Invitation.code))).all())
        assert "OLDEXPIRED" not in codes and "RECENTEXPD" in codes
        assert set((await session.scalars(select(CodeAttempt.chat_id))).all()) == {"y"}
        assert await figures_only(session) == keep_before
    again = await cli("people", "prune")
    assert "0 delivered files" in again.output and "0 message texts" in again.output


async def figures_only(session) -> list[Any]:
    out = []
    for table in ("submissions", "submission_values", "audit_entries", "unit_period_totals",
                  "unit_stock_totals", "person_changes"):  # fmt: skip
        rows = (await session.execute(select(Base.metadata.tables[table]))).all()
        out.append(sorted(repr(tuple(r)) for r in rows))
    return out


def test_inventory_covers_every_text_column() -> None:
    """A new table or column with text must be classified: personal (INVENTORY) or not."""
    listed = {table for table, _ in inventory.INVENTORY}
    for table in Base.metadata.sorted_tables:
        has_text = any(isinstance(c.type, String | Text | JSON) for c in table.columns)
        if has_text and table.name not in inventory.NO_PERSONAL_DATA:
            assert table.name in listed, (
                f"{table.name}: add it to personal_data.inventory.INVENTORY"
            )


def test_notice_file_is_checked(tmp_path: Path) -> None:
    text, problems = privacy_notice.load_notice(tmp_path)  # none there: the shipped default
    assert "Nghị định 13/2023/NĐ-CP" in text and problems == []
    (tmp_path / privacy_notice.NOTICE_FILE).write_text("Bot lưu tên chị {ten}.", encoding="utf-8")
    _, problems = privacy_notice.load_notice(tmp_path)
    assert any("unknown placeholder {ten}" in p for p in problems)
    assert any("dữ liệu của tôi" in p for p in problems)
    (tmp_path / privacy_notice.NOTICE_FILE).write_bytes("Dữ liệu".encode("utf-16"))
    _, problems = privacy_notice.load_notice(tmp_path)
    assert problems and "UTF-8" in problems[0]


async def test_staff_lists_and_operator_looks_are_logged(ctx, world) -> None:
    people, _ = world
    staff = ChatUser(Engine(ctx), "u-province")
    await staff.send("/chuaketnoi")
    assert "Nguyễn Thị Lan" in staff.text
    assert (await cli("people", "list")).exit_code == 0
    assert (await cli("people", "show", NAME)).exit_code == 0
    log = await cli("people", "access-log")
    assert log.exit_code == 0, log.output
    lines = log.output.splitlines()
    # (each command's clock starts at HOIBOT_NOW: their order within the minute is not known)
    assert any(
        f"#{people.provincial.id} Phạm Thị Hương  listed people (chưa kết nối KH" in line
        for line in lines
    )
    assert any("cli:" in line and "listed people (everyone: 4 people)" in line for line in lines)
    assert any("cli:" in line and f"looked at #{people.leader.id} {NAME}" in line for line in lines)
    assert lines[-1] == "3 accesses in the last 90 days."
    only_hers = await cli("people", "access-log", "--person", NAME)
    assert only_hers.output.splitlines()[-1] == "1 access in the last 90 days."


def test_only_whole_names_and_numbers_are_replaced() -> None:
    lan = Person(full_name=NAME, phone=PHONE)
    traces = erasure.Traces(erasure.needles_of(lan, [("x", "501", "501")]), NAME)
    text = f"{NAME}, Nguyễn Thị Lành, Nguyễn Thị Lanh, 15012, 501. ĐT{PHONE} (+84912345678)"
    assert traces.pattern.sub("X", text) == "X, Nguyễn Thị Lành, Nguyễn Thị Lanh, 15012, X. ĐTX (X)"


# Her name as people type it in free text: another case, no diacritics, marks typed apart.
HER_NAME_TYPED = [
    "nguyen thi lan",
    "NGUYỄN THỊ LAN",
    "Nguyen Thi Lan",
    "NGUYEN THI LAN",
    "nguyễn thị lan",
    "Nguyễn  Thị   Lan",
    unicodedata.normalize("NFD", NAME),
    unicodedata.normalize("NFD", "NGUYỄN THỊ LAN"),
]
# Not her: longer names, one of them a known person's that holds hers.
NOT_HER = ["Nguyễn Thị Lành", "nguyen thi lanh", "Nguyễn Thị Lan Anh", "NGUYEN THI LAN ANH"]


def test_her_name_is_found_however_typed_and_no_longer_name_is() -> None:
    traces = erasure.Traces([NAME], NAME, others=("Nguyễn Thị Lan Anh", "Nguyễn Thị Lân"))
    for typed in HER_NAME_TYPED:
        assert traces.scrub(f"Chị {typed}, thôn 1") == f"Chị {erasure.ERASED_NAME}, thôn 1", typed
        assert traces.scrub({"text": [f"({typed})"]}) == {"text": [f"({erasure.ERASED_NAME})"]}
    for other in [*NOT_HER, "Nguyễn Thị Lân"]:  # (Lân: a known person spelled so)
        assert traces.scrub(f"Chị {other} báo") == f"Chị {other} báo", other
    # a name that holds hers but belongs to nobody known is hers (it may be her, mistyped)
    assert traces.scrub("Trần Nguyễn Thị Lan") == f"Trần {erasure.ERASED_NAME}"
    # a known longer name keeps its letters only where it is written whole
    assert traces.scrub("Nguyễn Thị Lan Anh và nguyen thi lan") == (
        f"Nguyễn Thị Lan Anh và {erasure.ERASED_NAME}"
    )


async def test_erase_finds_her_name_typed_in_another_case_or_without_diacritics(ctx, world) -> None:
    """Free text (a report's text answer, an audit note, a handover note, a digest) that
    names her however typed is scrubbed; a longer name of someone else stays."""
    people, _ = world
    now = ctx.clock.now()
    lines = [f"{i}. {typed} (thôn 1)" for i, typed in enumerate(HER_NAME_TYPED)]
    async with transaction(ctx.sessions) as session:
        anh = Person(full_name="Nguyễn Thị Lan Anh", role="branch_leader",
                     unit_id=people.tree.b2.id, created_at=now)  # fmt: skip
        session.add(anh)
        sub = await session.scalar(
            select(Submission).where(Submission.unit_id == people.tree.b2.id).limit(1)
        )
        assert sub is not None
        session.add_all(
            [
                SubmissionValue(
                    submission_id=sub.id, indicator_code="ghi_chu_test", unit_id=sub.unit_id,
                    period_start=sub.period_start, period_end=sub.period_end, submitted=True,
                    value_text="; ".join(lines + NOT_HER),
                ),
                AuditEntry(
                    submission_id=sub.id, action="edit", indicator_code="hv_moi",
                    note="chi hoi truong NGUYEN THI LAN sua so", changed_at=now,
                    old_value="nguyễn thị lan", new_value="2",
                ),
                PersonChange(
                    person_id=people.commune_officer.id, action="edit", before={}, after={},
                    by_operator="cli:test", note="thay chị nguyen thi lan", changed_at=now,
                ),
                OutboxMessage(
                    key="digest:typed", kind="digest", person_id=people.commune_officer.id,
                    channel="telegram", chat_id="u-commune", status=OutboxStatus.SENT,
                    sent_at=now, attempts=1, next_attempt_at=now, created_at=now,
                    payload={"text": "Ghi chú: " + "\n".join(lines)},
                ),
            ]
        )  # fmt: skip
    async with transaction(ctx.sessions) as session:
        lan = await session.get(Person, people.leader.id)
        dry = await erasure.erase(session, lan, by=Actor(operator="cli:test"), now=now, apply=False)
        assert dry.counts["rows naming her in submission_values"] == 1
        assert dry.counts["rows naming her in audit_entries"] == 1
        assert dry.counts["rows naming her in outbox"] == 1
        # the note "thay chị nguyen thi lan", and her own phone's edit
        assert dry.counts["audit entries of people naming her"] == 2
        await erasure.erase(session, lan, by=Actor(operator="cli:test"), now=now, apply=True)

    her = re.compile(r"(?<!\w)nguyen thi lan(?!\w)(?! anh)")
    texts = await dump(ctx)
    assert [t for t in texts if her.search(fold(t[2]))] == []
    async with ctx.sessions() as session:
        answer = await session.scalar(
            select(SubmissionValue.value_text).where(
                SubmissionValue.indicator_code == "ghi_chu_test"
            )
        )
        assert answer is not None
        assert answer.count(erasure.ERASED_NAME) == len(HER_NAME_TYPED)
        assert all(other in answer for other in NOT_HER)
        assert (await session.get(Person, anh.id)).full_name == "Nguyễn Thị Lan Anh"
