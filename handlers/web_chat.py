"""/web (a signed link to the tracker pages) and /xephang (thi đua rankings) in chat."""

from __future__ import annotations

import logging

from handlers.staff import FLOW
from handlers.staff_chat import WEB_CHOICE
from handlers.turn import Turn
from handlers.web_ranking_page import own_place, rule_lines
from schedules import thi_dua
from storage.db.models import Role
from storage.plan import texts_vi as vi
from storage.plan.thi_dua_rule import Rule

SHOWN = 5
log = logging.getLogger(__name__)


async def web(turn: Turn, _args: str) -> None:
    """Her own link: scoped to her unit (a branch leader: her branch), read-only."""
    assert turn.person is not None and turn.unit is not None
    links = turn.ctx.web_links
    if links is None:
        # The operator's hint goes to the log, in the operator's words; she gets plain Vietnamese.
        log.warning("/web asked but the tracker pages are off: set PUBLIC_BASE_URL")
        turn.say(vi.WEB_DISABLED)
        return
    hours = int(links.lifetime.total_seconds() // 3600)
    turn.say(vi.WEB_LINK.format(unit=turn.unit.name, url=links.url(turn.person), hours=hours))


def _heading(n: int, many: str, one: str) -> str:
    """ "3 đơn vị dẫn đầu:" with the real count of the lines below it ("Đơn vị …" for one)."""
    return one if n == 1 else many.format(n=n)


def _line(rank: int | None, name: str, points: float | None) -> str:
    return vi.XEPHANG_LINE.format(
        rank=rank or "–",
        name=name,
        points=vi.WEB_NO_DATA if points is None else vi.format_number(points, 1),
    )


def top_and_bottom(scored: list[tuple[int | None, str, float | None]]) -> list[str]:
    """The first SHOWN units (rank, name, points) and the last SHOWN of the rest, each list
    under a heading that says how many it holds (six units: five, then one)."""
    if not scored:
        return [vi.XEPHANG_NOTHING]
    top, rest = scored[:SHOWN], scored[SHOWN:][-SHOWN:]
    lines = [_heading(len(top), vi.XEPHANG_TOP, vi.XEPHANG_TOP_ONE)]
    lines += [_line(*s) for s in top]
    if rest:
        lines.append(_heading(len(rest), vi.XEPHANG_BOTTOM, vi.XEPHANG_BOTTOM_ONE))
        lines += [_line(*s) for s in rest]
    return lines


async def xephang(turn: Turn, _args: str) -> None:
    """Top and bottom five of the units below her, and her own unit's place among its peers."""
    assert turn.person is not None and turn.unit is not None
    catalog = turn.ctx.catalog
    rule = catalog.thi_dua or Rule()
    unit = turn.unit
    lines: list[str] = []
    if turn.person.role != Role.BRANCH_LEADER:
        ranked = await turn.ctx.rankings.get(
            turn.session, catalog, rule, unit, turn.today, turn.now
        )
        scored = [s for s in ranked.scores if s.points(rule) is not None]
        if ranked.scores:
            level = catalog.level_name(ranked.scores[0].unit.level).lower()
            lines.append(vi.XEPHANG_TITLE.format(level=level, unit=unit.name, rule=rule.name))
        lines += top_and_bottom([(s.rank, s.unit.name, s.points(rule)) for s in scored])
    own = await own_place(
        turn.session, turn.ctx.rankings, catalog, rule, unit, turn.today, turn.now
    )
    if own:
        lines.append(own)
    form = thi_dua.rule_form(rule, catalog)
    lines += ["", vi.XEPHANG_RULE, *(f"• {line}" for line in rule_lines(rule, form.name))]
    if turn.ctx.web_links is None:
        turn.say("\n".join(lines))
        return
    # A view like /tiendo's, so a typed "1" on a text-only channel opens the page too.
    turn.enter(FLOW, "view", view={})
    turn.ask("\n".join(lines), [WEB_CHOICE])
