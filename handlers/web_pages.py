"""What the tracker pages show (bot/web renders it): the same services as the chat answers.
Here the pieces every page shares (the path of units, a target's line), the tracker and a
target broken down by unit; a unit's page, an indicator's and the ranking beside it
(web_unit_page, web_indicator_page, web_ranking_page).

Every function takes the viewer's scope and a unit already checked to lie inside it, reads
only, and returns plain data with the numbers formatted the way the chat formats them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.views import (
    progress_lines,
    progress_summary,
    rate_notes,
    row_note,
    value_text,
)
from storage.db.models import OrgUnit
from storage.db.units import ancestors, children, is_within
from storage.measures import progress as progress_service
from storage.measures import target_scopes, totals
from storage.measures.target_status import BEHIND, Status, TargetProgress
from storage.plan import texts_vi as vi
from storage.plan.catalog import Catalog, Target


@dataclass
class Crumb:
    id: int
    name: str


@dataclass
class TargetRow:
    """One target as the page shows it: the chat's own lines for it (achieved / target /
    expected by now / source), its verdict as a coloured badge, and a bar."""

    code: str
    label: str
    lines: list[str]
    verdict: str
    status: str  # a Status value, for the colour
    period_key: str
    indicator: str | None = None  # the indicator page to open
    bar: float = 0.0  # 0..100, the bar's width


def verdict(status: str) -> str:
    """The chat's verdict words; the page shows the colour instead of the emoji (a phone or
    an intranet PC may have no emoji font)."""
    words = vi.STATUS.get(status, str(status))
    return words.split(" ", 1)[1] if not words[:1].isalnum() and " " in words else words


def target_row(catalog: Catalog, p: TargetProgress) -> TargetRow:
    t = p.target
    return TargetRow(
        code=t.code,
        label=t.label,
        lines=[line.strip() for line in progress_lines(catalog, p)[1:]],  # [0]: verdict, label
        verdict=verdict(p.status),
        status=str(p.status),
        period_key=p.period.key,
        indicator=t.indicator or t.numerator,
        bar=max(0.0, min(100.0, p.percent or 0.0)),
    )


def _basis(catalog: Catalog, p: TargetProgress) -> str:
    """What a unit's percentage rests on: units reached, or the two figures of a rate (and
    which of its units' pairs are from an earlier period)."""
    if p.counted:
        return f"{p.counted[0]}/{p.counted[1]}"
    if p.ratio:
        notes = [n.strip() for n in rate_notes(catalog, p)]
        return " ".join([f"{vi.format_number(p.ratio[0])}/{vi.format_number(p.ratio[1])}", *notes])
    return ""


async def crumbs(session: AsyncSession, unit: OrgUnit, scope: OrgUnit) -> list[Crumb]:
    """The way up from `unit` to the top of the viewer's scope (not above it)."""
    chain = [*await ancestors(session, unit), unit]
    return [Crumb(u.id, u.name) for u in chain if is_within(u, scope)]


async def full_name(session: AsyncSession, unit: OrgUnit) -> str:
    """The unit's name with its parent's: many branches share a name ("Chi hội thôn 1")."""
    parent = await session.get(OrgUnit, unit.parent_id) if unit.parent_id else None
    return vi.WEB_UNIT_IN.format(unit=unit.name, parent=parent.name) if parent else unit.name


@dataclass
class Tracker:
    unit: OrgUnit
    crumbs: list[Crumb]
    rows: list[TargetRow]
    children: list[Crumb]
    level_below: str
    today: date
    summary: str = ""  # the counts line of /tiendo: "20 chỉ tiêu: 10 chậm tiến độ, …"
    name: str = ""  # with its parent's name when no breadcrumb shows it


async def tracker(
    session: AsyncSession, catalog: Catalog, unit: OrgUnit, scope: OrgUnit, today: date
) -> Tracker:
    """Every target of the unit, behind first: the same list as /tiendo."""
    items = await progress_service.progress(session, catalog, unit, today)
    kids = await children(session, unit, today)
    trail = await crumbs(session, unit, scope)
    return Tracker(
        unit,
        trail,
        [target_row(catalog, p) for p in items],
        [Crumb(k.id, k.name) for k in kids],
        level_below_word(catalog, unit, kids),
        today,
        progress_summary(items) if items else "",
        unit.name if len(trail) > 1 else await full_name(session, unit),
    )


def level_below_word(catalog: Catalog, unit: OrgUnit, kids: list[OrgUnit]) -> str:
    """The level below as a word inside a sentence ("cơ sở Hội", as the chat writes it)."""
    return catalog.level_word(kids[0].level) if kids else ""


# ---- a target by child unit ---------------------------------------------------------------


@dataclass
class ChildRow:
    unit: Crumb
    value: float | None  # for sorting: the figure, or the percent of target
    achieved: str
    share: str = ""
    verdict: str = ""
    status: str = ""
    detail: str = ""
    drill: bool = False  # has units below


SORTS = ("tien_do", "ten", "so")
STATUS_ORDER = {str(s): 0 for s in BEHIND} | {
    Status.ON_TRACK: 1,
    Status.NOT_YET: 1,
    Status.PENDING: 1,
    Status.ACHIEVED: 2,
    Status.DONE: 2,
    Status.DONE_LATE: 2,
    Status.NO_DATA: 3,
}


@dataclass
class TargetBreakdown:
    unit: OrgUnit
    crumbs: list[Crumb]
    row: TargetRow
    rows: list[ChildRow]
    sort: str
    per_unit_verdict: bool  # percent targets are judged per unit; a sum has no per-unit share
    level_below: str
    period_label: str = ""  # the window every figure of the page is from


async def target_breakdown(
    session: AsyncSession,
    catalog: Catalog,
    target: Target,
    unit: OrgUnit,
    scope: OrgUnit,
    today: date,
    sort: str = "tien_do",
) -> TargetBreakdown | None:
    """The target measured on each unit below `unit`; None if it does not apply to `unit`."""
    where = await target_scopes.target_scope(session, catalog, target, unit)
    if where is None:
        return None
    own = await progress_service.measure(session, catalog, target, where, today)
    kids = [k for k in await children(session, unit, today) if is_within(k, scope)]
    rows: list[ChildRow] = []
    if target.kind == "sum":
        assert target.indicator
        # The named units of a group target, when the viewer sees them all; else the units
        # below (from inside one named unit, the others' figures are not hers to see). Each
        # unit's figure from the same function as /tong: one that did not report has none.
        named = where != [unit] and all(is_within(u, scope) for u in where)
        parts = where if named else kids
        total = await totals.group_total(
            session,
            catalog,
            target.indicator,
            unit,
            parts,
            own.period,
            reported_at=target.reported_levels,  # (several: their own answers added up)
            approved_only=target.approved_only,
        )
        for r in total.rows:
            share = total.share(r)
            rows.append(
                ChildRow(
                    Crumb(r.unit.id, r.unit.name),
                    r.figure.value if r.figure.reported else None,
                    value_text(total, r.figure, leaf=r.leaf, unit_word=True),
                    share=vi.format_percent(share) if share is not None else "",
                    detail=row_note(catalog, total, r) if r.figure.reported else "",
                    drill=r.unit.level != catalog.leaf_level and is_within(r.unit, scope),
                )
            )
    else:
        named_units = await target_scopes.named_units(session, target)
        applies = [(k, target_scopes.scope_of(catalog, target, k, named_units)) for k in kids]
        measured = [(k, kid_scope) for k, kid_scope in applies if kid_scope is not None]
        found = await progress_service.measure_many(
            session, catalog, target, [kid_scope for _, kid_scope in measured], today
        )
        for (k, _), p in zip(measured, found, strict=True):
            rows.append(
                ChildRow(
                    Crumb(k.id, k.name),
                    p.percent,
                    vi.format_percent(p.achieved),
                    verdict=verdict(p.status),
                    status=str(p.status),
                    detail=_basis(catalog, p),
                    drill=k.level != catalog.leaf_level,
                )
            )
    _sort_rows(rows, sort)
    return TargetBreakdown(
        unit,
        await crumbs(session, unit, scope),
        target_row(catalog, own),
        rows,
        sort if sort in SORTS else "tien_do",
        target.kind != "sum",
        level_below_word(catalog, unit, kids),
        own.period.label,
    )


def _sort_rows(rows: list[ChildRow], sort: str) -> None:
    if sort == "ten":
        rows.sort(key=lambda r: r.unit.name)
    elif sort == "so":
        rows.sort(key=lambda r: (r.value is None, -(r.value or 0), r.unit.name))
    else:
        # Behind first, the furthest behind at the top; no data last (it is not "behind").
        rows.sort(
            key=lambda r: (
                r.status == Status.NO_DATA or (r.value is None and not r.status),
                STATUS_ORDER.get(r.status, 0),
                r.value or 0,
                r.unit.name,
            )
        )
