"""An indicator's total as staff read it: the figure, what it rests on, and each unit below.

`indicator_total` is the one answer to "how many … in this unit and period" that /tong,
`hoibot report total`, the indicator page, a sum target's breakdown, the workbook and the Word
report show, so they agree by construction. It reads each reporting unit's own figure (the
units of the levels whose forms ask the indicator) and adds them up per unit above, so every
figure knows what it rests on:

- how many of the units that should report it did (k/n); a unit with no report has no value
  (shown as "chưa báo cáo"), never 0: a 0 is only ever a reported zero;
- a yes/no is counted as "k of n units yes", never added up;
- a ratio (a derived indicator with a division) is recomputed from its parts, over the units
  that gave every part in one period; a percentage reported as such is shown per unit, never
  added up;
- a stock (member count) takes each unit's latest report in the period, and says which period
  that is when it is not the same for every unit;
- the change from the previous period counts only the units that reported in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import OrgUnit, Submission, SubmissionStatus
from storage.db.units import children, successor
from storage.measures.figures import Figure, figure_of
from storage.measures.ratios import period_at
from storage.measures.unit_readings import Kind, Levels, Reading, kind_of, read, reporting_levels
from storage.plan import texts_vi as vi
from storage.plan.catalog import Aggregation, Catalog, Indicator
from storage.plan.periods import (
    Period,
    Periodicity,
    month,
    next_period,
    period_of,
    periods_inside,
    previous_period,
    span,
)
from storage.plan.text import vi_sort_key


@dataclass
class Row:
    unit: OrgUnit
    figure: Figure
    own: bool = False  # the unit's own answer, beside the subtrees of the units below it
    leaf: bool = False  # a reporting unit with nothing below that reports: its own figure


@dataclass
class Change:
    """The figure against the previous period, over the units that reported in both."""

    period: Period
    before: Figure | None  # None: nothing reported in the previous period
    now: Figure | None  # over the units in common (None when there are none)
    common: int  # units that reported in both periods (a flow: every reporting period of each)
    all_common: bool  # every unit that reported in either reported in both
    partial: bool = False  # some units that reported in both were left out for a missed period
    stretch: bool = False  # the same stretch of a year before, the period being still reported


@dataclass
class Total:
    """`indicator_total`'s answer."""

    indicator: Indicator
    kind: Kind
    unit: OrgUnit
    period: Period
    level: str | None  # the level of the reporting units, when one
    figure: Figure
    rows: list[Row]
    stock: bool  # each unit's latest report counts (a member count), not the sum of periods
    level_word: str = vi.UNITS_WORD  # how the reporting units are named: "chi hội"
    change: Change | None = None
    until: Period | None = None  # a flow reported so far only up to this period
    year_change: Change | None = None  # against the same period a year before (`year_ago`)
    # The period's reports are still within their due date (given `today`): this one.
    due: date | None = None
    # A flow over several periods whose first due periods have no report in the records:
    # the first period with one, and how many due before it have none (given `today`).
    since: tuple[Period, int] | None = None
    # A unit merged into another: the one that carries its branches' history now, and from when.
    merged_into: tuple[OrgUnit, date] | None = None

    def share(self, row: Row) -> float | None:
        """A row's percent of the total (sums only: a share of a ratio means nothing)."""
        if self.kind != Kind.SUM or row.figure.value is None or not self.figure.value:
            return None
        if self.figure.value < 0 or row.figure.value < 0:
            return None
        return row.figure.value / self.figure.value * 100


async def indicator_total(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    unit: OrgUnit,
    period: Period,
    *,
    compare: bool = True,
    year_ago: bool = False,
    today: date | None = None,
) -> Total:
    """An indicator's total over `unit`'s subtree in `period`, with what it rests on (k of
    the n units that should report it did), each unit below it (a unit that did not report
    has no value, shown as not reported, never as 0), and the change from the previous
    period over the units that reported in both (with `year_ago`, from the same period a
    year before too, likewise).

    The one function behind /tong, `hoibot report total`, the indicator page, the workbook
    and the Word report: call it rather than adding up `rollup` totals yourself."""
    # The units below as they stand now: a merged unit shows as its successor, which carries
    # its history (`storage.db.units.children`).
    kids = await children(session, unit, period.start, period.end)
    reading = await read(
        session, catalog, code, [unit.id], period, roots=[unit.id, *(k.id for k in kids)]
    )
    lowest = reading.levels[-1] if reading.levels else None
    rows: list[Row] = []
    if unit.level in reading.levels and unit.level != lowest:
        # It answers itself too (a province about its own office): its answer is a row.
        rows.append(Row(unit, figure_of(catalog, code, reading, {unit.id}), own=True))
    for kid in kids:
        members = reading.members.get(kid.id, set())
        if members:  # (nothing below it reports this indicator: no row)
            rows.append(
                Row(kid, figure_of(catalog, code, reading, members), leaf=kid.level == lowest)
            )
    total = _total(catalog, code, unit, period, reading, reading.members.get(unit.id, set()), rows)
    if compare and total.kind != Kind.EACH and total.figure.reported:
        total.change = await _change(session, catalog, code, unit, period, reading, total.stock)
    if year_ago and total.kind != Kind.EACH and total.figure.reported:
        total.year_change = await _change(
            session, catalog, code, unit, period, reading, total.stock, a_year_before(period)
        )
    if unit.merged_into_id is not None and unit.valid_to is not None:
        total.merged_into = (await successor(session, unit), unit.valid_to + timedelta(days=1))
    if today is not None:
        due = last_due(catalog, code, period, reading.levels)
        total.due = due if due is not None and today < due else None
        if not total.stock and total.figure.reported:
            await _against_due(session, catalog, code, total, reading, today)
    return total


async def _against_due(
    session: AsyncSession, catalog: Catalog, code: str, total: Total, reading: Reading, today: date
) -> None:
    """A flow over several periods (a year, a term) is measured against the periods due by
    `today`, not the most any unit gave: "k chưa báo cáo đủ 59 kỳ", and since when the
    records go when the first due periods have no report at all (an office that started
    mid-term)."""
    forms = [
        catalog.forms[name]
        for c in catalog.components(code)
        for name in catalog.forms_of_indicator.get(c, [])
        if catalog.forms[name].level == (reading.levels[-1] if reading.levels else None)
    ]
    kinds = {f.periodicity for f in forms}
    if len(kinds) != 1:
        return
    days = timedelta(days=min(f.schedule.due_days_after_end for f in forms))
    due = [p for p in periods_inside(kinds.pop(), total.period) if p.end + days < today]
    f = total.figure
    if len(due) > f.most_periods:
        members = reading.members.get(total.unit.id, set())
        f.most_periods = len(due)
        f.partial = sum(
            1 for u in members if u in reading.values and reading.values[u].periods < len(due)
        )
    if len(due) < 2:
        return
    first = await session.scalar(
        select(func.min(Submission.period_start)).where(
            Submission.unit_id.in_(sorted(reading.members.get(total.unit.id, set()))),
            Submission.form_code.in_([f.code for f in forms]),
            Submission.status == SubmissionStatus.SUBMITTED,
            Submission.period_start >= total.period.start,
            Submission.period_end <= total.period.end,
        )
    )
    if first is not None:
        before = [p for p in due if p.end < first]
        if before:
            total.since = (period_of(due[0].kind, first), len(before))


def last_due(catalog: Catalog, code: str, period: Period, levels: list[str]) -> date | None:
    """When the last reports of `period` that give `code` fall due (the forms of `levels`
    asking its parts; None when no form's period fits in it)."""
    dues = []
    for c in catalog.components(code):
        for name in catalog.forms_of_indicator.get(c, []):
            form = catalog.forms[name]
            inside = periods_inside(form.periodicity, period)
            if inside and (not levels or form.level in levels):
                dues.append(inside[-1].end + timedelta(days=form.schedule.due_days_after_end))
    return max(dues, default=None)


def a_year_before(period: Period) -> Period:
    """The same period a year before ("tháng 11/2025" for "tháng 11/2026")."""
    if period.kind in {k.value for k in Periodicity}:
        return period_of(period.kind, period.start.replace(year=period.start.year - 1))

    def back(day: date) -> date:  # (29 February a year before is the 28th)
        return day.replace(year=day.year - 1, day=min(day.day, 28 if day.month == 2 else 31))

    return Period(back(period.start), back(period.end), f"{period.key}-1y", "range")


async def group_total(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    unit: OrgUnit,
    parts: list[OrgUnit],
    period: Period,
    *,
    reported_at: Levels = None,
    approved_only: bool = False,
) -> Total:
    """`indicator_total` over the union of `parts`' subtrees, a row for each that has units
    reporting the indicator (a target on a group of districts, or a sum target's figure by
    unit below `unit`), without a change."""
    ids = [u.id for u in parts]
    reading = await read(
        session,
        catalog,
        code,
        ids,
        period,
        roots=ids,
        reported_at=reported_at,
        approved_only=approved_only,
    )
    lowest = reading.levels[-1] if reading.levels else None
    rows = [
        Row(
            u,
            figure_of(catalog, code, reading, reading.members.get(u.id, set())),
            leaf=u.level == lowest,
        )
        for u in parts
        if reading.members.get(u.id)  # (nothing under it reports this indicator: no row)
    ]
    everyone = set().union(*(reading.members.get(i, set()) for i in ids))
    return _total(catalog, code, unit, period, reading, everyone, rows)


def _total(
    catalog: Catalog,
    code: str,
    unit: OrgUnit,
    period: Period,
    reading: Reading,
    members: set[int],
    rows: list[Row],
) -> Total:
    components = catalog.components(code)
    total = Total(
        catalog.indicators[code],
        kind_of(catalog, code),
        unit,
        period,
        reading.levels[0] if len(reading.levels) == 1 else None,
        figure_of(catalog, code, reading, members),
        rows,
        stock=all(catalog.indicators[c].agg == Aggregation.LAST for c in components),
    )
    if total.level is not None:
        total.level_word = catalog.level_word(total.level)
    _sort(total)
    counted = [reading.values[u] for u in members if u in reading.values]
    if not total.stock and counted:
        last = max(counted, key=lambda v: v.end)
        if last.end < period.end:
            total.until = period_at(catalog, code, last.level, last.end)
    return total


def _sort(total: Total) -> None:
    """The unit's own answer first, then the largest first; then those with some figures but
    no value (a ratio without all its parts); no report last; by name."""

    def key(row: Row) -> tuple:
        f = row.figure
        if total.kind == Kind.YES_NO:
            size = f.yes / f.reported if f.reported else 0.0
        else:
            size = f.value or 0.0
        rank = 0 if f.value is not None else 1 if f.reported or f.incomplete else 2
        return (not row.own, rank, -size, vi_sort_key(row.unit.name))

    total.rows.sort(key=key)


async def _change(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    unit: OrgUnit,
    period: Period,
    now: Reading,
    stock: bool,
    earlier: Period | None = None,
) -> Change:
    """The previous period (or `earlier`) against this one over the units that reported in
    both; a flow over a quarter, half-year or year still being reported against the same
    stretch a year before ("cùng kỳ": quý IV reported to November against October–November
    of last year, never against the first two months of quý III)."""
    previous = earlier or previous_period(period)
    stretch = False
    if not stock and now.values:
        latest = max(v.end for v in now.values.values())
        if latest < period.end:
            if earlier is None and period.kind in {k.value for k in Periodicity}:
                previous = a_year_before(period)
            previous = same_stretch(period, previous, latest)
            stretch = previous.start == a_year_before(period).start
    # The same units (those under the unit now), in the previous period.
    before = await read(session, catalog, code, [unit.id], previous, units_of=now)
    members = now.members.get(unit.id, set())
    was = figure_of(catalog, code, before, members)
    if not was.reported:
        return Change(previous, None, None, 0, False, stretch=stretch)

    def counted(reading: Reading) -> set[int]:
        return {u for u, v in reading.values.items() if v.complete and u in members}

    def whole(reading: Reading, within: Period) -> set[int]:
        """A flow: the units that gave every reporting period of `within` up to the last one
        reported (8 months against 9 would not be like with like)."""
        found = counted(reading)
        if stock or not found:
            return found
        horizon = max(v.end for v in reading.values.values())
        out = set()
        for u in found:
            v = reading.values[u]
            kind = reading.period_at(catalog, code, v.level, v.end).kind
            if v.periods >= sum(1 for p in periods_inside(kind, within) if p.end <= horizon):
                out.add(u)
        return out

    both = counted(now) & counted(before)
    common = whole(now, period) & whole(before, previous)
    partial = common != both
    if not common:
        return Change(previous, was, None, 0, False, partial, stretch)
    return Change(
        previous,
        figure_of(catalog, code, before, common),
        figure_of(catalog, code, now, common),
        len(common),
        common == counted(now) | counted(before),
        partial,
        stretch,
    )


def same_stretch(period: Period, previous: Period, latest: date) -> Period:
    """The part of `previous` as long as `period` up to `latest` (whole months): named as a
    month, quarter, half-year or year when it is one."""
    months = (latest.year - period.start.year) * 12 + latest.month - period.start.month
    first = month(previous.start.year, previous.start.month)
    last = first
    for _ in range(months):
        last = next_period(last)
    if last.end >= previous.end:
        return previous
    for kind in Periodicity:
        whole = period_of(kind, first.start)
        if whole.start == first.start and whole.end == last.end:
            return whole
    return span(first, last)


async def bases(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    scopes: list[list[OrgUnit]],
    period: Period,
    *,
    levels: list[str] | None = None,
    approved_only: bool = False,
) -> list[tuple[int, int, str | None]]:
    """For each scope (a unit, or a group of units counted together): how many of the units
    that should report the indicator did, how many should, and their level when one: what a
    sum target's line rests on, read as `indicator_total` reads it. `levels`: only these
    levels' own answers (a target's `reported_at`), added up."""
    ids = sorted({u.id for scope in scopes for u in scope})
    reading = await read(
        session,
        catalog,
        code,
        ids,
        period,
        roots=ids,
        reported_at=levels,
        approved_only=approved_only,
    )
    one_level = reading.levels[0] if len(reading.levels) == 1 else None
    out = []
    for scope in scopes:
        members = set().union(*(reading.members.get(u.id, set()) for u in scope))
        figure = figure_of(catalog, code, reading, members)
        out.append((figure.reported, figure.expected, one_level))
    return out


def reporting_periodicity(catalog: Catalog, code: str) -> Periodicity | None:
    """The shortest period in which the indicator's reporting units give it (a month when
    a monthly form asks it): a trend's step."""
    levels = set(reporting_levels(catalog, code))
    kinds = {
        catalog.forms[f].periodicity
        for part in catalog.components(code)
        for f in catalog.forms_of_indicator.get(part, [])
        if catalog.forms[f].level in levels
    }
    order = list(Periodicity)
    found = sorted((Periodicity(k) for k in kinds), key=order.index)
    return found[0] if found else None


async def series(
    session: AsyncSession, catalog: Catalog, code: str, unit: OrgUnit, period: Period
) -> list[tuple[Period, Figure]]:
    """The indicator's figure over `unit`'s subtree in each reporting period inside `period`,
    oldest first, each with its own basis (k of the n units that should report it did): a
    trend compares like with like only where the same units reported, and says where not."""
    kind = reporting_periodicity(catalog, code)
    if kind is None:
        return []
    out = []
    for step in periods_inside(kind, period):
        reading = await read(session, catalog, code, [unit.id], step, roots=[unit.id])
        out.append((step, figure_of(catalog, code, reading, reading.members.get(unit.id, set()))))
    return out
