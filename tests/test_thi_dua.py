"""Thi đua: the rule file is checked on load, scores are worked out by hand on the small tree,
and the weekly summary names the most improved unit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config import DEMO_CONFIG_DIR
from schedules import thi_dua
from schedules.reminders import from_payload, plan
from storage import progress
from storage.catalog import ConfigError, load_catalog
from storage.clock import vn_datetime
from storage.models import OrgUnit
from storage.thi_dua import Rule
from tests.web_site import build_world


def _config_with(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG_DIR, folder)
    (folder / "thi_dua.yaml").write_text(text, encoding="utf-8")
    return folder


def test_the_rule_file_is_checked_with_file_line_and_field(tmp_path: Path) -> None:
    folder = _config_with(
        tmp_path,
        "thi_dua:\n  weights:\n    timeliness: 50\n    targets: 30\n  periods: 6\n",
    )
    with pytest.raises(ConfigError) as err:
        load_catalog(folder)
    assert f"{folder / 'thi_dua.yaml'}:2: weights: " in str(err.value)
    assert "add up to 100" in str(err.value)
    folder = _config_with(
        tmp_path / "b",
        "thi_dua:\n"
        "  weights: {timeliness: 50, targets: 30, growth: 20}\n"
        "  growth:\n"
        "    indicator: hv_moi\n"
        "    base: khong_co\n",
    )
    with pytest.raises(ConfigError) as err:
        load_catalog(folder)
    assert f"{folder / 'thi_dua.yaml'}:5: growth.base: unknown indicator 'khong_co'" in str(
        err.value
    )
    folder = _config_with(tmp_path / "c", "thi_dua:\n  weights: {timeliness: 100}\n  form: x\n")
    with pytest.raises(ConfigError, match=r"thi_dua.yaml:3: form: unknown form 'x'"):
        load_catalog(folder)
    # Without the file: half timeliness, half targets.
    folder = _config_with(tmp_path / "d", "")
    (folder / "thi_dua.yaml").unlink()
    assert load_catalog(folder).thi_dua == Rule()


async def test_scores_by_hand(ctx) -> None:
    people = await build_world(ctx)
    t = people.tree
    rule = ctx.catalog.thi_dua
    assert rule is not None and rule.periods == 6 and rule.late_credit == 0.5
    today = ctx.clock.today()  # 27/11/2026: October is the latest month due; May–October
    async with ctx.sessions() as session:
        d1 = await session.get(OrgUnit, t.d1.id)
        assert d1 is not None
        ranked = await thi_dua.ranking(session, ctx.catalog, rule, d1, today)
        by_name = {s.unit.name: s for s in ranked.scores}
        c1, c2 = by_name[t.c1.name], by_name[t.c2.name]
        # Sơn Bình: 2 branches × 6 months; B1 on time in Sep and Oct, B2 late in Oct.
        assert c1.parts["timeliness"] == pytest.approx((2 + 0.5 * 1) / 12)
        # Sơn Hiệp: 1 branch × 6 months; B3 on time in Oct, late in Sep.
        assert c2.parts["timeliness"] == pytest.approx((1 + 0.5 * 1) / 6)
        # Growth: (new − left) this year over the members; 2% earns everything.
        members = (40 + t.b1.id) + (40 + t.b2.id)
        grown = (2 - 1) + (2 - 1) + 1
        assert c1.parts["growth"] == pytest.approx(min(1, grown / members * 100 / 2))
        # Targets: the share of /tiendo's targets with data that are not behind.
        for score, unit in ((c1, t.c1), (c2, t.c2)):
            items = await progress.progress(session, ctx.catalog, unit, today)
            known = [p for p in items if p.achieved is not None]
            good = [p for p in known if p.status != progress.Status.BEHIND]
            assert score.parts["targets"] == pytest.approx(len(good) / len(known))
        for s in (c1, c2):
            parts = s.parts
            points = (
                40 * parts["timeliness"] + 40 * parts["targets"] + 20 * parts["growth"]  # type: ignore[operator]
            )
            assert s.points(rule) == pytest.approx(points)
        assert [s.rank for s in ranked.scores] == [1, 2]
        assert ranked.scores[0].points(rule) >= ranked.scores[1].points(rule)  # type: ignore[operator]
        # A unit with no data at all has no score and no place, not zero.
        d3 = await session.get(OrgUnit, t.d3.id)
        assert d3 is not None
        only = (await thi_dua.ranking(session, ctx.catalog, Rule(), d3, today)).scores
        assert [s.unit.name for s in only] == [t.c4.name]
        assert only[0].parts["timeliness"] == 0  # B5 never reported: that is known, and bad
        assert only[0].parts["growth"] is None


async def test_weekly_summary_names_the_most_improved_unit(ctx) -> None:
    people = await build_world(ctx)
    monday = vn_datetime(2026, 11, 30, 8, 0)
    async with ctx.sessions() as session:
        planned = await plan(session, ctx.catalog, monday, web=True)
        d1 = await session.get(OrgUnit, people.tree.d1.id)
        assert d1 is not None and ctx.catalog.thi_dua is not None
        best = await thi_dua.most_improved(
            session, ctx.catalog, ctx.catalog.thi_dua, d1, monday.date()
        )
    assert best is not None and best.now > best.before
    weekly = {
        m.person_id: from_payload(m.payload) for m in planned.messages if m.key.startswith("week:")
    }
    message = weekly[people.district_officer.id]
    assert f"Tiến bộ nhất: {best.unit.name}" in message.text
    assert [c.data for c in message.choices] == ["g:web"]


async def test_rankings_are_kept_a_few_minutes(ctx) -> None:
    from datetime import timedelta

    people = await build_world(ctx)
    cache = thi_dua.RankingCache(seconds=600)
    rule = ctx.catalog.thi_dua
    now, today = ctx.clock.now(), ctx.clock.today()
    async with ctx.sessions() as session:
        d1 = await session.get(OrgUnit, people.tree.d1.id)
        assert d1 is not None and rule is not None
        first = await cache.get(session, ctx.catalog, rule, d1, today, now)
        again = await cache.get(session, ctx.catalog, rule, d1, today, now + timedelta(minutes=9))
        later = await cache.get(session, ctx.catalog, rule, d1, today, now + timedelta(minutes=11))
        fresh = await thi_dua.ranking(session, ctx.catalog, rule, d1, today)
    assert again is first and later is not first
    assert later.computed_at == now + timedelta(minutes=11)
    assert [(s.unit.name, s.points(rule)) for s in later.scores] == [
        (s.unit.name, s.points(rule)) for s in fresh.scores
    ]
