"""Nothing typed by chance changes a report (issue #19).

Each message of a corpus of real-looking messages that are not reports (thanks, phone numbers,
money, dates, meeting notes with figures, questions to the officer, forwarded text, with and
without diacritics: tests/data/not_reports.yaml; a share of them also in decomposed Unicode
at each state) is sent at every state of the reporting conversation, from no report open to
an approved one. After each message the database must hold exactly what it held before for
her unit: every stored value, her reports' states, the kept totals, every audit row.

Her conversation is put back as it was after each message that moved it, so every message
meets the same state; one database serves every state. Four leaders of four branches walk
the states, each checking only her own unit's rows: on PostgreSQL the four walks run at once.
"""

import asyncio
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import case, func, select, update

from bot.scheduler import plan_and_queue
from handlers.engine import Engine
from storage.db.invitations import link_directly
from storage.db.models import (
    AuditEntry,
    Conversation,
    OrgUnit,
    Person,
    Role,
    Submission,
    SubmissionValue,
    UnitPeriodTotal,
    UnitStockTotal,
)
from storage.plan.clock import vn_datetime
from storage.plan.periods import month
from tests.builders import invite, report, small_tree_with_people
from tests.chat import ChatUser

CORPUS_FILE = Path(__file__).parent / "data" / "not_reports.yaml"
CORPUS = [
    text.strip() for texts in yaml.safe_load(CORPUS_FILE.read_text()).values() for text in texts
]
MAX_REPLY_CHARS = 3000
MAX_REPLIES = 4
# What asking the same question again changes in a conversation (the buttons' turn number,
# the prompt): after a message that changed only these, she is where she was.
_ASKED_AGAIN = {"turn", "prompt", "offered", "extra", "free", "numeric", "last_in"}


def test_the_corpus_is_large_and_varied() -> None:
    assert len(CORPUS) >= 200
    assert len(set(CORPUS)) == len(CORPUS)
    assert len([t for t in CORPUS if t.isascii()]) >= 30  # written without diacritics


def _rows(unit_id: int) -> list:  # type: ignore[type-arg]
    """Her unit's rows of every table a message must not change."""
    mine = select(Submission.id).where(Submission.unit_id == unit_id)
    return [
        select(Submission.__table__).where(Submission.unit_id == unit_id),
        select(SubmissionValue.__table__).where(SubmissionValue.unit_id == unit_id),
        select(AuditEntry.__table__).where(AuditEntry.submission_id.in_(mine)),
        select(UnitPeriodTotal.__table__).where(UnitPeriodTotal.ancestor_id == unit_id),
        select(UnitStockTotal.__table__).where(UnitStockTotal.ancestor_id == unit_id),
    ]


def _fingerprint(unit_id: int):  # type: ignore[no-untyped-def]
    """One statement that moves with any change to those rows (weighted sums, so that two
    changes do not cancel out): checked after every message, to name the one that changed
    something; the rows themselves are compared after each state's last message."""

    def total(column, weight=1):  # type: ignore[no-untyped-def]
        return func.coalesce(func.sum(column * weight), 0)

    values = SubmissionValue.unit_id == unit_id
    subs = Submission.unit_id == unit_id
    mine = select(Submission.id).where(subs)
    return select(
        select(func.count()).where(values).scalar_subquery(),
        select(total(SubmissionValue.value_num, SubmissionValue.id))
        .where(values)
        .scalar_subquery(),
        select(total(func.length(SubmissionValue.value_text), SubmissionValue.id))
        .where(values)
        .scalar_subquery(),
        select(total(case((SubmissionValue.submitted, SubmissionValue.id), else_=0)))
        .where(values)
        .scalar_subquery(),
        select(func.count()).where(subs).scalar_subquery(),
        select(func.max(Submission.updated_at)).where(subs).scalar_subquery(),
        select(total(case((Submission.status == "submitted", Submission.id), else_=0)))
        .where(subs)
        .scalar_subquery(),
        select(func.count(Submission.approved_at)).where(subs).scalar_subquery(),
        select(func.count()).where(AuditEntry.submission_id.in_(mine)).scalar_subquery(),
        select(func.max(AuditEntry.id)).where(AuditEntry.submission_id.in_(mine)).scalar_subquery(),
        select(total(UnitPeriodTotal.total))
        .where(UnitPeriodTotal.ancestor_id == unit_id)
        .scalar_subquery(),
        select(total(UnitStockTotal.total) + total(UnitStockTotal.reports))
        .where(UnitStockTotal.ancestor_id == unit_id)
        .scalar_subquery(),
    )


@dataclass
class Walk:
    """One leader's chat, and the corpus sent at each state she is brought to."""

    ctx: object
    user: ChatUser
    person_id: int
    unit_id: int

    def __post_init__(self) -> None:
        self.states: list[str] = []
        self.seconds = 0.0

    async def _kept(self) -> list[list[tuple]]:  # type: ignore[type-arg]
        async with self.ctx.sessions() as session:  # type: ignore[attr-defined]
            return [
                sorted(tuple(row) for row in (await session.execute(q)).all())
                for q in _rows(self.unit_id)
            ]

    async def _where(self, session) -> tuple:  # type: ignore[no-untyped-def, type-arg]
        found = await session.get(Conversation, self.person_id, populate_existing=True)
        data = {k: v for k, v in (found.data or {}).items() if k not in _ASKED_AGAIN}
        return found.flow, found.step, data, found.updated_at

    async def corpus_at(self, state: str) -> None:
        started = time.perf_counter()
        fingerprint = _fingerprint(self.unit_id)
        async with self.ctx.sessions() as session:  # type: ignore[attr-defined]
            saved = await session.get(Conversation, self.person_id)
            assert saved is not None
            put_back = (
                update(Conversation)
                .where(Conversation.person_id == self.person_id)
                .values(
                    flow=saved.flow,
                    step=saved.step,
                    data=dict(saved.data or {}),
                    updated_at=saved.updated_at,
                )
            )
            where = await self._where(session)
            print_before = (await session.execute(fingerprint)).one()
        before = await self._kept()
        texts = list(CORPUS)
        # Decomposed Unicode (as some phone keyboards type it): a share of the corpus at each
        # state, another share at the next.
        offset = (len(self.states) * 5 + self.unit_id) % 9
        texts += [unicodedata.normalize("NFD", t) for t in CORPUS[offset::9] if not t.isascii()]
        self.states.append(state)
        for text in texts:
            replies = await self.user.send(text)
            sent = sum(len(r.text) for r in replies)
            assert len(replies) <= MAX_REPLIES and sent <= MAX_REPLY_CHARS, (state, text, sent)
            async with self.ctx.sessions() as session:  # type: ignore[attr-defined]
                # One statement, committing itself: no transaction around a read.
                await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
                assert (await session.execute(fingerprint)).one() == print_before, (
                    state,
                    text,
                    self.user.text,
                )
                if await self._where(session) != where:  # it moved her on: put her back
                    await session.execute(put_back)
        assert await self._kept() == before, state
        self.user.last = []
        self.seconds += time.perf_counter() - started


async def _leader(session, unit: OrgUnit, name: str, now) -> Person:  # type: ignore[no-untyped-def]
    person = Person(full_name=name, role=Role.BRANCH_LEADER, unit_id=unit.id, created_at=now)
    session.add(person)
    await session.flush()
    return person


async def test_no_chatter_changes_a_report_at_any_state(ctx) -> None:
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, now)
        tree = people.tree
        leaders = [
            people.leader,
            await _leader(session, tree.b2, "Trần Thị Bình", now),
            await _leader(session, tree.b3, "Lê Thị Cúc", now),
            await _leader(session, tree.b4, "Phạm Thị Dung", now),
        ]
        codes = [await invite(session, p, now) for p in leaders]
        # Earlier months of B4: a member count of 170, so 97 now is doubtful (asks to confirm).
        for m in range(6, 11):
            await report(session, tree.b4, "thang_chi_hoi", month(2026, m), {"tong_hoi_vien": 170})
        await link_directly(session, people.commune_officer, "telegram", "officer", now)
        await session.commit()
    engine = Engine(ctx)
    walks = []
    for i, (person, code, unit) in enumerate(
        zip(leaders, codes, [tree.b1, tree.b2, tree.b3, tree.b4], strict=True)
    ):
        user = ChatUser(engine, f"50{i}")
        await user.join(code)
        await user.send("/start")  # her conversation starts
        walks.append(Walk(ctx, user, person.id, unit.id))
    # A reminder comes two days before the due date: each one's next message answers it.
    ctx.clock.set(vn_datetime(2026, 12, 3, 8, 0))
    await plan_and_queue(ctx)
    ctx.clock.set(vn_datetime(2026, 12, 3, 8, 20))

    async def no_report_open(walk: Walk) -> None:
        user = walk.user
        await walk.corpus_at("after a reminder")
        await user.send("/start")
        await walk.corpus_at("nothing open, nothing asked")
        await user.send("3 0 1 2 1 2 0 1 97")  # a whole form, unasked
        assert "Chị muốn ghi các số này" in user.text
        await walk.corpus_at("asked whether an unasked form is her report")
        await user.send("không")
        await user.send("/baocao")
        for i, answer in enumerate(["3", "0", "1"], start=1):
            assert f"Câu {i}/10" in user.text
            await walk.corpus_at(f"question {i}")
            await user.send(answer)

    async def middle_questions(walk: Walk) -> None:
        user = walk.user
        await user.send("/baocao")
        for answer in ["3", "0", "1"]:
            await user.send(answer)
        for i, answer in enumerate(["2", "1", "2", "0", "1"], start=4):
            assert f"Câu {i}/10" in user.text
            await walk.corpus_at(f"question {i}")
            await user.send(answer)

    async def end_of_a_draft(walk: Walk) -> None:
        user = walk.user
        await user.send("/baocao")
        for answer in ["3", "0", "1", "2", "1", "2", "0", "1"]:
            await user.send(answer)
        assert "Câu 9/10" in user.text
        await walk.corpus_at("question 9")
        await user.send("97")  # far from 170
        assert "Chị xác nhận 97 người là đúng?" in user.text
        await walk.corpus_at("a figure to confirm")
        await user.send("đúng")
        assert "Câu 10/10" in user.text
        await walk.corpus_at("question 10")
        await user.send("Bỏ qua")  # the button's label, typed
        assert "Tóm tắt" in user.text
        await walk.corpus_at("summary")
        await user.send("hvm 3 hvm 5")  # a label given twice: asked about
        assert "Chị muốn ghi các số này" in user.text
        await walk.corpus_at("asked whether a doubtful form is her report")

    async def sent_and_approved(walk: Walk) -> None:
        user = walk.user
        await user.send("/baocao 3 0 1 2 1 2 0 1 97 0")
        await user.send("Gửi")
        assert "Cảm ơn chị" in user.text
        await walk.corpus_at("sent")
        await user.send("/baocao")
        assert "đã gửi ngày" in user.text
        await walk.corpus_at("sent, at its summary")
        await user.send("sửa")
        await walk.corpus_at("sent, after «sửa»")
        await user.send("3")
        assert "Câu 3/10" in user.text
        await walk.corpus_at("sent, at an item to correct")
        await user.send("5")
        assert "1 hộ → 5 hộ" in user.text
        await walk.corpus_at("sent, a correction to confirm")
        await user.send("Giữ số cũ")
        await user.send("Xong")
        officer = ChatUser(engine, "officer")
        await officer.send("/duyet chi hội thôn 2 tháng 11")
        assert "Đã duyệt" in officer.text
        await walk.corpus_at("approved")

    parts = [
        no_report_open(walks[0]),
        middle_questions(walks[2]),
        end_of_a_draft(walks[3]),
        sent_and_approved(walks[1]),
    ]
    if ctx.engine.dialect.name == "postgresql":
        await asyncio.gather(*parts)
    else:  # one writer at a time on SQLite: the walks one after the other
        for part in parts:
            await part
    states = [state for walk in walks for state in walk.states]
    assert len(states) == 22 and len(set(states)) == 22
