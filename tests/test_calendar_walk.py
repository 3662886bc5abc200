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

The walk is one test per province and database; the database is built once for it.
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import DEMO_CONFIG_DIR
from handlers.views import progress_text
from schedules.calendar import window as form_window
from schedules.demo import build_demo
from storage import aggregates
from storage import texts_vi as vi
from storage.catalog import Catalog, Expect, Target
from storage.catalog_load import load_catalog
from storage.clock import VN
from storage.db import is_postgres
from storage.models import OrgUnit, Submission, SubmissionValue
from storage.periods import Period, next_period, period_of
from storage.progress import (
    BEHIND,
    Status,
    TargetProgress,
    cover,
    progress_many,
    scope_of,
    target_forms,
    windows_of,
)

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
    summary = text.splitlines()[1]
    found = re.fullmatch(r"(\d+) chỉ tiêu: (.*)\.", summary)
    assert found, summary
    assert int(found.group(1)) == len(items), f"{name} on {day}: {summary}"
    parts = [int(n) for n in re.findall(r"(\d+) [^,]+", found.group(2))]
    assert sum(parts) == len(items), f"{name} on {day}: {summary}"
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


# ---- the walk -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(WALKS))
async def test_a_year_on_the_calendar(session: AsyncSession, name: str) -> None:
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
    assert not pending.submissions  # every report of the history was added on its day
    assert measured >= len(days) // 3
    # The walk saw real verdicts, not only "no data".
    assert len(set(seen) - {Status.NO_DATA}) >= 3, seen
