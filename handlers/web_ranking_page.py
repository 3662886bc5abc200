"""The thi đua page (bot/web): the rule in words, the units below ranked, and a unit's own
place among its siblings (as /xephang gives it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.web_pages import Crumb, crumbs
from schedules import thi_dua
from storage.db.models import OrgUnit
from storage.plan import texts_vi as vi
from storage.plan.catalog import Catalog
from storage.plan.clock import VN
from storage.plan.thi_dua_rule import Rule

# ---- thi đua ------------------------------------------------------------------------------


@dataclass
class RankRow:
    rank: int | None
    unit: Crumb
    points: str
    parts: dict[str, str]
    drill: bool


@dataclass
class RankingPage:
    unit: OrgUnit
    crumbs: list[Crumb]
    rule: Rule
    rule_lines: list[str]
    periods: str
    rows: list[RankRow]
    level_below: str
    computed_at: str
    own: str = ""  # her unit's place among its siblings, as /xephang says it


def rule_lines(rule: Rule, form_name: str) -> list[str]:
    """The rule in words, as the page and /xephang show it."""
    w = rule.weights
    lines = []
    if w.timeliness:
        lines.append(
            vi.THIDUA_RULE_TIMELINESS.format(
                points=vi.format_number(w.timeliness),
                form=form_name[:1].lower() + form_name[1:],
                periods=rule.periods,
                late=vi.format_percent(rule.late_credit * 100),
            )
        )
    if w.targets:
        lines.append(vi.THIDUA_RULE_TARGETS.format(points=vi.format_number(w.targets)))
    if w.growth and rule.growth:
        lines.append(
            vi.THIDUA_RULE_GROWTH.format(
                points=vi.format_number(w.growth),
                full=vi.format_number(rule.growth.full_percent, 1),
            )
        )
    lines.append(vi.THIDUA_RULE_NO_DATA)
    return lines


def rank_row(catalog: Catalog, rule: Rule, s: thi_dua.Score) -> RankRow:
    points = s.points(rule)
    parts = {}
    for part in ("timeliness", "targets", "growth"):
        value = s.parts.get(part)
        parts[part] = "–" if value is None else vi.format_number(value * 100)
    return RankRow(
        s.rank or None,
        Crumb(s.unit.id, s.unit.name),
        vi.WEB_NO_DATA if points is None else vi.format_number(points, 1),
        parts,
        s.unit.level != catalog.leaf_level,
    )


async def ranking_page(
    session: AsyncSession,
    rankings: thi_dua.Rankings,
    catalog: Catalog,
    unit: OrgUnit,
    scope: OrgUnit,
    now: datetime,
) -> RankingPage:
    rule = catalog.thi_dua or Rule()
    today = now.astimezone(VN).date()
    # Kept apart: the page's own session is never committed (pages write nothing else).
    ranked = await rankings.get(session, catalog, rule, unit, today, now, keep_apart=True)
    form = thi_dua.rule_form(rule, catalog)
    first, last = ranked.periods[0], ranked.periods[-1]
    # A unit with none below to rank (a branch) gets its place among its siblings instead, as
    # /xephang gives it; not every page: the parent's ranking may have to be computed (for a
    # province, the whole country's), a cost only worth paying when the page has nothing else.
    own = None
    if not ranked.scores:
        own = await own_place(session, rankings, catalog, rule, unit, today, now, keep_apart=True)
    return RankingPage(
        unit,
        await crumbs(session, unit, scope),
        rule,
        rule_lines(rule, form.name),
        f"{first.label} – {last.label}" if first != last else first.label,
        [rank_row(catalog, rule, s) for s in ranked.scores],
        catalog.level_word(ranked.scores[0].unit.level) if ranked.scores else "",
        (ranked.computed_at or now).astimezone(VN).strftime("%H:%M %d/%m/%Y"),
        own or "",
    )


async def own_place(
    session: AsyncSession,
    rankings: thi_dua.Rankings,
    catalog: Catalog,
    rule: Rule,
    unit: OrgUnit,
    today: date,
    now: datetime,
    *,
    keep_apart: bool = False,
) -> str | None:
    """ "Chi hội thôn 1 đứng thứ 3/12 trong Xã Sơn Bình, với 71,5 điểm." (None at the top)."""
    if unit.parent_id is None:
        return None
    parent = await session.get(OrgUnit, unit.parent_id)
    assert parent is not None
    peers = await rankings.get(session, catalog, rule, parent, today, now, keep_apart=keep_apart)
    mine = peers.place_of(unit.id)
    points = mine.points(rule) if mine else None
    if mine is None or points is None:
        return vi.XEPHANG_OWN_NONE.format(unit=unit.name, parent=parent.name)
    return vi.XEPHANG_OWN.format(
        unit=unit.name,
        rank=mine.rank,
        total=len(peers.scores),
        parent=parent.name,
        points=vi.format_number(points, 1),
    )
