"""A year on the calendar, for each shipped province and for a plan written from CONFIG.md
alone (tests/configs/nam_dinh): the synthetic history of `hoibot demo`, seen as it stood on
the 5th, the 20th and the last day of every month, and on the first days of the next
January. Only the reports sent by each date are in the database then: the demo is built once
to the walk's last day, and its reports are added day by day as they were sent.

At every date, for the province and every unit above the branches:
- each target is listed once, and the summary counts exactly the targets listed;
- no target is behind (chậm, không đạt, quá hạn) for reports that are not due yet: what it
  is held to comes only from the periods of its forms whose due date has passed, worked out
  here from the calendar (schedules.calendar), not from the code under test;
- no unit without a report is shown as 0: a coverage says how many have no data, a target
  with nothing reported is "chưa có số liệu", a task names the units that sent nothing.

On a sample of the dates (every eighth date measured, and the turn of the year: 31/12, 1/1,
6/1 and 16/1, where offices look hardest), the figures of each target's indicator, over the
province (and, on 31/12 and 16/1, one commune too), in the target's window, are read
everywhere a person reads them: the CLI (`report total`), the chat (/tong, and /tiendo
against the tracker page), the workbook (XLSX export) and the pages (the indicator page and
the target's breakdown, rendered by the web server): they name the same period and agree,
and a unit with nothing reported under it is "chưa báo cáo" (an empty cell), never 0, which
is checked against the reports themselves, not against the code under test. The workbook
(the costliest read) is the province's only.

The walk is one test per province and database; the database is built once for it.
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from html import unescape
from io import BytesIO
from pathlib import Path

import aiohttp
import pytest
from openpyxl import load_workbook
from sqlalchemy import and_, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import WebServer
from bot.config import DEMO_CONFIG_DIR
from bot.context import AppContext
from bot.web.routes import register as register_pages
from handlers import staff, web_pages
from handlers.engine import Engine
from handlers.export_xlsx import build_workbook
from handlers.views import progress_lines, progress_text, value_text
from schedules.calendar import window as form_window
from schedules.demo import build_demo
from storage.db import aggregates
from storage.db.invitations import link_directly
from storage.db.models import OrgUnit, Person, Role, Submission, SubmissionValue
from storage.db.sessions import is_postgres
from storage.db.units import is_within
from storage.measures import totals
from storage.measures.progress import progress_many
from storage.measures.target_scopes import scope_of
from storage.measures.target_status import BEHIND, Status, TargetProgress
from storage.measures.target_windows import cover, target_forms, windows_of
from storage.measures.unit_readings import Kind, reporting_levels
from storage.plan import texts_vi as vi
from storage.plan.catalog import Catalog, Expect, IndicatorType, Target
from storage.plan.catalog_load import load_catalog
from storage.plan.clock import VN, vn_datetime
from storage.plan.periods import Period, next_period, period_of
from tests.chat import ChatUser

CONFIGS = Path(__file__).parent / "configs"


@dataclass(frozen=True)
class Walk:
    folder: Path
    year: int
    # The months walked (the 5th, 20th and last day of each). Khánh Hòa is large (71
    # communes, monthly reports): fewer branches, and the months around the turn of each
    # half-year and of the year. On PostgreSQL (the same verdicts, computed in Python, on
    # another database) the larger provinces walk their December only, with the January
    # after it.
    months: tuple[int, ...] = tuple(range(1, 13))
    postgres_months: tuple[int, ...] = tuple(range(1, 13))
    branches: tuple[int, int] | None = None


WALKS = {
    "khanh_hoa": Walk(DEMO_CONFIG_DIR.parent / "khanh_hoa", 2026, (1, 6, 7, 12), (12,), (1, 2)),
    "lao_cai": Walk(DEMO_CONFIG_DIR.parent / "lao_cai", 2026),
    "soc_trang": Walk(DEMO_CONFIG_DIR.parent / "soc_trang", 2026, postgres_months=(12,)),
    "nam_dinh": Walk(CONFIGS / "nam_dinh", 2024),
}


def walk_dates(year: int, months: tuple[int, ...] = tuple(range(1, 13))) -> list[date]:
    """The 5th, 20th and last day of each month of the year, then the next January's first
    days (its reports of December fall due then) and its 20th and last day."""
    days = [date(year, m, d) for m in months for d in (5, 20, calendar.monthrange(year, m)[1])]
    return days + [date(year + 1, 1, d) for d in (1, 5, 6, 11, 16, 20, 31)]


def history_months(days: list[date]) -> int:
    """Months of reports the walk needs, to its last day: from the January of the year the
    first day looks at (in January, the year before: its result is still shown)."""
    first, last = days[0], days[-1]
    start = first.year - 1 if first.month == 1 else first.year
    return (last.year - start) * 12 + last.month


# ---- the database as it stood on each date ------------------------------------------------


@dataclass
class Pending:
    """The reports sent after the day the database shows, to add as the walk reaches them."""

    submissions: list[dict]
    values: dict[int, list[dict]]

    def sent_by(self, day: date) -> list[dict]:
        due = [s for s in self.submissions if _day(s["submitted_at"]) <= day]
        self.submissions = [s for s in self.submissions if _day(s["submitted_at"]) > day]
        return due


def _day(at: datetime) -> date:
    return (at if at.tzinfo else at.replace(tzinfo=VN)).astimezone(VN).date()


async def _hold_back(session: AsyncSession, catalog: Catalog, after: date) -> Pending:
    """Takes out every report sent after `after` (kept aside to be added back later)."""
    subs = [
        {c.name: getattr(s, c.name) for c in Submission.__table__.columns}
        for s in (await session.scalars(select(Submission).order_by(Submission.id))).all()
    ]
    later = sorted(
        (s for s in subs if _day(s["submitted_at"]) > after),
        key=lambda s: (s["submitted_at"], s["id"]),
    )
    ids = [s["id"] for s in later]
    values: dict[int, list[dict]] = defaultdict(list)
    for i in range(0, len(ids), 500):
        rows = await session.scalars(
            select(SubmissionValue).where(SubmissionValue.submission_id.in_(ids[i : i + 500]))
        )
        for v in rows.all():
            values[v.submission_id].append(
                {c.name: getattr(v, c.name) for c in SubmissionValue.__table__.columns}
            )
        await session.execute(
            delete(SubmissionValue).where(SubmissionValue.submission_id.in_(ids[i : i + 500]))
        )
        await session.execute(delete(Submission).where(Submission.id.in_(ids[i : i + 500])))
    await aggregates.rebuild(session, catalog)
    await session.commit()
    session.expunge_all()
    return Pending(later, values)


async def _send(session: AsyncSession, catalog: Catalog, pending: Pending, day: date) -> int:
    """Adds the reports sent up to `day`, and the kept totals recomputed from the reports
    (one rebuild per day: cheaper here than following each report)."""
    sent = pending.sent_by(day)
    if not sent:
        return 0
    await session.execute(insert(Submission), sent)
    rows = [v for s in sent for v in pending.values[s["id"]]]
    if rows:
        await session.execute(insert(SubmissionValue), rows)
    await aggregates.rebuild(session, catalog)
    await session.commit()
    return len(sent)


# ---- what is due, from the calendar -------------------------------------------------------


def _inside(periodicity: str, window: Period) -> list[Period]:
    found, p = [], period_of(periodicity, window.start)
    while p.start <= window.end:
        if p.start >= window.start and p.end <= window.end:
            found.append(p)
        p = next_period(p)
    return found


def owed_until(catalog: Catalog, target: Target, window: Period, day: date) -> date | None:
    """How far into the window the reports whose due date has passed by `day` reach (the
    end of the window when all are due; None when none is)."""
    ends: list[date | None] = []
    for form in target_forms(catalog, target):
        inside = _inside(form.periodicity, window)
        if not inside:
            continue
        owed = [p for p in inside if form_window(form, p).is_late(day)]
        ends.append(window.end if len(owed) == len(inside) else (owed[-1].end if owed else None))
    if not ends or any(e is None for e in ends):
        return None
    return min(e for e in ends if e is not None)


def _check_not_behind_for_what_is_not_due(catalog: Catalog, p: TargetProgress, day: date) -> None:
    t, window = p.target, p.period
    until = owed_until(catalog, t, window, day)
    where = f"{t.code} on {day} ({window.key}, {p.status})"
    if t.kind == "task":
        assert t.deadline is not None
        assert until is not None and (until >= t.deadline or until == window.end), where
        return
    if p.status == Status.MISSED:
        # Final: the window is over and every report of it is due, or (a year of yearly
        # forms) every unit counted has given its value.
        decided = p.counted is not None and p.reported == p.counted[1]
        assert (day > window.end and until == window.end) or decided, where
        return
    assert until is not None, where  # behind with nothing due
    assert p.expected is not None and p.goal is not None, where
    if not t.compare.upward:
        return  # a ceiling crossed is crossed, whatever is due
    how = t.expectation
    if how == Expect.LINEAR:
        share = ((until - window.start).days + 1) / ((window.end - window.start).days + 1)
        assert p.expected <= p.goal * share + 1e-6, where
    elif how == Expect.END:
        assert until == window.end, where
    elif how == Expect.MILESTONES:
        assert p.expected <= max(m.value for m in t.milestones if m.date <= until), where


# ---- what is shown ------------------------------------------------------------------------


def _check_listing(catalog: Catalog, name: str, items: list[TargetProgress], day: date) -> str:
    codes = [p.target.code for p in items]
    assert len(codes) == len(set(codes)), f"{name} on {day}: a target listed twice"
    text = progress_text(catalog, name, items, day)
    # This year's tally, then (while nothing of this year is due) last year's verdicts apart.
    summary, _, past = text.splitlines()[1].partition(" Trong đó ")
    found = re.fullmatch(r"(\d+) chỉ tiêu: (.*)\.", summary)
    assert found, summary
    assert int(found.group(1)) == len(items), f"{name} on {day}: {summary}"
    parts = [int(n) for n in re.findall(r"(\d+) [^,]+", found.group(2))]
    assert sum(parts) == len(items), f"{name} on {day}: {summary}"
    if past:
        found = re.fullmatch(r"(\d+) chỉ tiêu [^:]+: (.*)\.", past)
        assert found, past
        parts = [int(n) for n in re.findall(r"(\d+) [^,]+", found.group(2))]
        assert sum(parts) == int(found.group(1)) <= len(items), f"{name} on {day}: {past}"
    return text


def _check_no_zero_for_nothing(catalog: Catalog, p: TargetProgress, day: date) -> None:
    from handlers.views import progress_lines

    lines = "\n".join(progress_lines(catalog, p))
    where = f"{p.target.code} on {day}: {lines}"
    if p.status == Status.NO_DATA:
        assert p.achieved is None and "Đạt " not in lines, where
    if p.target.kind == "coverage" and p.counted:
        if p.reported == 0:
            assert p.achieved is None, where
        level = catalog.level_word(p.basis_level) if p.basis_level else vi.UNITS_WORD
        if p.silent and p.achieved is not None:
            assert f"{p.silent} {level} chưa có số liệu" in lines, where
    if p.target.kind == "rate" and p.basis is not None:
        assert (p.achieved is None) == (p.basis[0] == 0 or not p.ratio or not p.ratio[1]), where
    if p.target.kind == "task" and p.silent:
        assert "chưa báo cáo" in lines or "chưa có báo cáo" in lines, where
        assert p.status != Status.OVERDUE or (p.reported or 0) > 0, where


# ---- the same figures everywhere ----------------------------------------------------------


@dataclass
class Surfaces:
    """What a provincial office reads the figures through: the CLI's wrapper, the chat, the
    web server's pages (a link for a staff member of the province) and the workbook."""

    ctx: AppContext
    user: ChatUser
    staff: Person
    http: aiohttp.ClientSession
    base: str

    def link(self) -> str:
        assert self.ctx.web_links is not None
        self.ctx.web_links.public_base = self.base  # (links expire: made afresh each day)
        return self.ctx.web_links.url(self.staff)

    async def page(self, path: str) -> str:
        async with self.http.get(self.link() + path, allow_redirects=False) as r:
            assert r.status == 200, (path, r.status)
            html = unescape(await r.text())
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


async def _reported_units(
    session: AsyncSession, catalog: Catalog, code: str, period: Period
) -> list[OrgUnit]:
    """The units of the indicator's reporting levels that sent a value of any of its parts in
    the period: read from the reports themselves."""
    levels = reporting_levels(catalog, code)
    query = (
        select(OrgUnit)
        .join(SubmissionValue, SubmissionValue.unit_id == OrgUnit.id)
        .where(
            OrgUnit.level.in_(levels),
            SubmissionValue.indicator_code.in_(catalog.components(code)),
            and_(
                SubmissionValue.period_start >= period.start,
                SubmissionValue.period_end <= period.end,
            ),
            SubmissionValue.submitted.is_(True),
            SubmissionValue.value_num.is_not(None),
        )
        .distinct()
    )
    return list((await session.scalars(query)).all())


def _is_zero(text: str) -> bool:
    return re.match(r"0(\s|$|\()", text) is not None


async def _check_surfaces(
    session: AsyncSession,
    catalog: Catalog,
    surfaces: Surfaces,
    unit: OrgUnit,
    items: list[TargetProgress],
    sums: list[TargetProgress],
    day: date,
) -> int:
    """The chat and the pages on the unit's targets; the CLI, the chat, the pages and the
    workbook on the indicators of the province's sum targets (`sums`), over the unit, each in
    its target's window: the same figures, the same period named, no 0 for a unit that sent
    nothing."""
    checked = 0
    where = f"{unit.name} on {day}"
    await session.commit()  # (the chat writes: no read left open)
    # /tiendo in the chat and the tracker page: the same verdicts.
    await surfaces.user.send(f"/tiendo {unit.name}")
    chat = surfaces.user.text.splitlines()
    text = progress_text(catalog, unit.name, items, day).splitlines()
    assert chat[:2] == text[:2], (where, chat[:2], text[:2])
    tracker = await surfaces.page(f"?don_vi={unit.id}")
    for p in items:
        for line in progress_lines(catalog, p)[1:]:
            assert _one_line(line) in tracker, (where, line)
    every = {u.code: u for u in (await session.scalars(select(OrgUnit))).all()}
    books: dict[Period, object] = {}
    seen: set[tuple[str, Period]] = set()
    for p in sums:
        code, period = p.target.indicator or p.target.numerator, p.period
        assert code is not None
        if p.target.reported_at is not None or (code, period) in seen:
            continue  # (a level's own answers only: not what /tong adds up)
        seen.add((code, period))
        if catalog.indicators[code].type in (IndicatorType.TEXT, IndicatorType.CHOICE):
            continue  # (a rating has no total)
        # The CLI (the command's own wrapper) and the chat, word for word.
        cli = await staff.cli_total(surfaces.ctx, code, period.key, unit.code)
        await session.commit()
        # (By its code: a label may hold a level's word, "mạng xã hội", "Cơ sở Hội …".)
        await surfaces.user.send(f"/tong {code} {period.label} {unit.name}")
        assert surfaces.user.text == cli, (where, cli, surfaces.user.text)
        assert period.label in cli.splitlines()[0], (where, cli)
        # A unit with nothing reported under it is "chưa báo cáo", and a 0 is reported.
        total = await totals.indicator_total(session, catalog, code, unit, period, compare=False)
        sent = await _reported_units(session, catalog, code, period)
        lines = cli.splitlines()
        rows = [r for r in lines if re.match(r"\d+\. ", r)]
        head = [r for r in lines if r not in rows]
        assert len(rows) == len(total.rows), (where, cli)
        if not any(is_within(u, unit) for u in sent):
            assert head[0].startswith("Chưa có báo cáo"), (where, cli)
        for row, line in zip(total.rows, rows, strict=True):
            value = line.split(": ", 1)[1]
            has = any(is_within(u, row.unit) for u in sent)
            assert has or value == vi.TOTAL_NOT_REPORTED, (where, line)
            assert not _is_zero(value) or has, (where, line)
        # The indicator page: the same headline and figures, in the same period.
        page = await surfaces.page(f"chi-so/{code}?don_vi={unit.id}&ky={period.key}")
        for line in head:
            assert _one_line(line) in page, (where, line)
        for line in rows:
            name, value = line.split(". ", 1)[1].split(": ", 1)
            value = value.split(" (")[0].split(" – ")[0]
            assert _one_line(f"{name} {value}") in page, (where, line, page)
        # The target's breakdown, where it applies to the unit: the same figure for each
        # unit below as the indicator page of its window.
        if p.target.kind == "sum" and p.scope == [unit]:
            breakdown = await web_pages.target_breakdown(
                session, catalog, p.target, unit, unit, day
            )
            assert breakdown is not None and breakdown.row.period_key == period.key, where
            assert {r.unit.name: r.achieved for r in breakdown.rows} == {
                r.unit.name: value_text(total, r.figure, leaf=r.leaf, unit_word=True)
                for r in total.rows
            }, where
            html = await surfaces.page(f"chi-tieu/{p.target.code}?don_vi={unit.id}")
            for r in breakdown.rows:
                assert _one_line(f"{r.unit.name} {r.achieved}") in html, (where, r)
        # The workbook of the window: each form sheet asking it at its reporting level.
        # (The province's only: a workbook is the costliest read of all.)
        asked = catalog.indicators[code].type != IndicatorType.DERIVED  # (a form's column)
        if unit.depth == 0 and asked and len(reporting_levels(catalog, code)) == 1:
            if period not in books:
                data = await build_workbook(session, catalog, unit, period, day)
                books[period] = load_workbook(BytesIO(data), read_only=True)
            _check_workbook(books[period], catalog, code, unit, total, sent, every, where)
        checked += 1
    return checked


def _check_workbook(
    book: object,
    catalog: Catalog,
    code: str,
    unit: OrgUnit,
    total: totals.Total,
    sent: list[OrgUnit],
    every: dict[str, OrgUnit],
    where: str,
) -> None:
    indicator = catalog.indicators[code]
    column = f"{indicator.label} ({indicator.unit})".replace(" ()", "")
    found = 0
    for sheet in book.worksheets:  # type: ignore[attr-defined]
        rows = list(sheet.iter_rows(values_only=True))
        if len(rows) < 2 or column not in rows[1]:
            continue
        header = list(rows[1])
        col, at = header.index(column), header.index(vi.EXPORT_CODE)
        by_code = {r[at]: r for r in rows[2:]}
        grand, f = by_code[unit.code][col], total.figure
        if not f.reported:
            assert grand is None, (where, sheet.title)
        elif total.kind == Kind.YES_NO and unit.level == total.level:  # its own
            assert grand == (vi.WEB_YES if f.yes else vi.WEB_NO), (where, sheet.title)
        elif total.kind == Kind.YES_NO:
            assert grand == vi.TOTAL_YES_COUNT.format(yes=f.yes, reported=f.reported), where
        elif total.kind != Kind.EACH:
            assert grand == pytest.approx(f.value), (where, sheet.title)
        for row_code, row in by_code.items():
            has = any(is_within(u, every[row_code]) for u in sent)
            assert has or row[col] is None, (where, sheet.title, row)
            assert row[col] != 0 or has, (where, sheet.title, row)
        found += 1
    assert found, (where, column)


async def _surfaces(ctx: AppContext, catalog: Catalog, province: OrgUnit, http) -> Surfaces:
    """A staff member of the province, linked in the chat, and the web server's pages."""
    ctx.catalog = catalog
    ctx.settings.public_base_url = "http://127.0.0.1"
    async with ctx.sessions() as session:
        person = Person(
            full_name="Phạm Thị Hương",
            role=Role.PROVINCIAL_STAFF,
            unit_id=province.id,
            created_at=ctx.clock.now(),
        )
        session.add(person)
        await session.flush()
        await link_directly(session, person, "telegram", "u-walk", ctx.clock.now())
        await session.commit()
    server = WebServer()
    register_pages(server.app, ctx)
    port = await server.start("127.0.0.1", 0)
    surfaces = Surfaces(
        ctx, ChatUser(Engine(ctx), "u-walk"), person, http, f"http://127.0.0.1:{port}"
    )
    surfaces.server = server  # type: ignore[attr-defined]
    return surfaces


# ---- the walk -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(WALKS))
async def test_a_year_on_the_calendar(session: AsyncSession, ctx: AppContext, name: str) -> None:
    async with aiohttp.ClientSession() as http:
        await _walk(session, ctx, http, name)


async def _walk(session: AsyncSession, ctx: AppContext, http, name: str) -> None:  # type: ignore[no-untyped-def]
    walk = WALKS[name]
    catalog = load_catalog(walk.folder)
    days = walk_dates(walk.year, walk.postgres_months if is_postgres(session) else walk.months)
    await build_demo(
        session,
        catalog,
        walk.folder,
        days[-1],
        branches_per_commune=walk.branches,
        months=history_months(days),
    )
    await session.commit()
    pending = await _hold_back(session, catalog, days[0])
    units = list(
        (
            await session.scalars(
                select(OrgUnit).where(OrgUnit.level != catalog.leaf_level).order_by(OrgUnit.id)
            )
        ).all()
    )
    province = next(u for u in units if u.depth == 0)
    named = {t.code: [u for u in units if u.code in t.units] for t in catalog.targets}
    seen: dict[Status, int] = defaultdict(int)
    before: tuple | None = None
    measured = 0
    surfaces = await _surfaces(ctx, catalog, province, http)
    # The commune whose name comes first: the figures over a unit below the province too.
    commune = min((u for u in units if u.level == catalog.levels[-2].code), key=lambda u: u.code)
    crossed = 0  # (indicator, period) figures read through every surface
    # The turn of the year: its last day, the day after it, the day December's reports
    # fall due and the day after the year's last ones are due.
    turn = {date(walk.year, 12, 31), date(walk.year + 1, 1, 1)}
    turn |= {date(walk.year + 1, 1, 6), date(walk.year + 1, 1, 16)}
    turn_first, turn_last = min(turn), max(turn)  # (the commune: on these two)
    for day in days:
        sent = await _send(session, catalog, pending, day)
        # Nothing sent since the last date and nothing fell due: the same verdicts (and the
        # same checks); measured again only when something changed.
        now = tuple(
            (t.code, w, cover(catalog, t, w.period, day))
            for t in catalog.targets
            for w in windows_of(t, catalog, day)
        )
        if not sent and now == before:
            continue
        before, measured = now, measured + 1
        found = await progress_many(session, catalog, units, day)
        for unit in units:
            items = found[unit.id]
            applies = [t for t in catalog.targets if scope_of(catalog, t, unit, named[t.code])]
            assert sorted(p.target.code for p in items) == sorted(t.code for t in applies)
            _check_listing(catalog, unit.name, items, day)
            for p in items:
                if p.status in BEHIND:
                    _check_not_behind_for_what_is_not_due(catalog, p, day)
                _check_no_zero_for_nothing(catalog, p, day)
                if unit.id == province.id:
                    seen[p.status] += 1
        if measured % 8 == 1 or day in turn:
            ctx.clock.set(vn_datetime(day.year, day.month, day.day, 12))
            # The province's targets' indicators, each in its target's window.
            sums = [p for p in found[province.id] if p.target.kind != "task"]
            below = day in (turn_first, turn_last)
            for unit in (province, commune) if below else (province,):
                crossed += await _check_surfaces(
                    session, catalog, surfaces, unit, found[unit.id], sums, day
                )
    await surfaces.server.stop()  # type: ignore[attr-defined]
    assert crossed >= measured // 8, (name, crossed)
    assert not pending.submissions  # every report of the history was added on its day
    assert measured >= len(days) // 3
    # The walk saw real verdicts, not only "no data".
    assert len(set(seen) - {Status.NO_DATA}) >= 3, seen
