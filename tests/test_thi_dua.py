"""Thi đua: the rule file is checked on load, scores are worked out by hand on the small tree,
and the weekly summary names the most improved unit."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.config import DEMO_CONFIG_DIR
from bot.scheduler import refresh_rankings
from schedules import thi_dua
from schedules.planned import from_payload
from schedules.reminders import plan
from storage.db.models import KeptRanking, OrgUnit
from storage.measures import progress
from storage.measures.target_status import Status
from storage.measures.thi_dua import rule_key
from storage.plan.catalog_load import load_catalog
from storage.plan.clock import vn_datetime
from storage.plan.config_files import ConfigError
from storage.plan.periods import month
from storage.plan.thi_dua_rule import Rule, Weights
from tests.builders import report
from tests.web_site import FORM, build_world


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
            good = [p for p in known if p.status != Status.BEHIND]
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


async def test_the_most_improved_reads_todays_kept_ranking(ctx, monkeypatch) -> None:
    # With today's ranking kept (the scheduler keeps the officers' ones fresh), the weekly
    # summary takes today's scores from it instead of measuring every unit again.
    people = await build_world(ctx)
    rule = ctx.catalog.thi_dua
    assert rule is not None
    today = ctx.clock.today()
    async with ctx.sessions() as session:
        d1 = await session.get(OrgUnit, people.tree.d1.id)
        assert d1 is not None
        computed = await thi_dua.most_improved(session, ctx.catalog, rule, d1, today)
        await ctx.rankings.get(session, ctx.catalog, rule, d1, today, ctx.clock.now())
        await session.commit()
    assert computed is not None

    async def no_ranking(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("today's ranking was computed again")

    monkeypatch.setattr(thi_dua, "ranking", no_ranking)
    async with ctx.sessions() as session:
        d1 = await session.get(OrgUnit, people.tree.d1.id)
        assert d1 is not None
        kept = await thi_dua.most_improved(session, ctx.catalog, rule, d1, today)
    assert kept is not None
    assert (kept.unit.id, kept.before, kept.now) == (
        computed.unit.id,
        computed.before,
        computed.now,
    )


def _points(ranked: thi_dua.Ranking, rule: Rule) -> list[tuple[str, float | None]]:
    return [(s.unit.name, s.points(rule)) for s in ranked.scores]


async def test_rankings_are_kept_in_the_database_and_refreshed_after_reports(ctx) -> None:
    people = await build_world(ctx)
    t = people.tree
    rule = ctx.catalog.thi_dua
    assert rule is not None
    ctx.clock.set(ctx.clock.now() + timedelta(hours=1))  # the world's reports are older
    computed = ctx.clock.now()
    async with ctx.sessions() as session:
        d1 = await session.get(OrgUnit, t.d1.id)
        assert d1 is not None
        first = await ctx.rankings.get(session, ctx.catalog, rule, d1, ctx.clock.today(), computed)
        for other_district in (t.d2, t.d3):
            unit = await session.get(OrgUnit, other_district.id)
            assert unit is not None
            await ctx.rankings.get(session, ctx.catalog, rule, unit, ctx.clock.today(), computed)
        await session.commit()
        assert await session.scalar(select(func.count()).select_from(KeptRanking)) == 3
    # Another worker (or the same after a restart) reads it back instead of computing it.
    other = thi_dua.Rankings(ctx.sessions)
    ctx.clock.set(computed + timedelta(minutes=30))
    async with ctx.sessions() as session:
        d1 = await session.get(OrgUnit, t.d1.id)
        assert d1 is not None
        again = await other.get(session, ctx.catalog, rule, d1, ctx.clock.today(), ctx.clock.now())
        fresh = await thi_dua.ranking(session, ctx.catalog, rule, d1, ctx.clock.today())
    assert again.computed_at == computed
    assert _points(again, rule) == _points(first, rule) == _points(fresh, rule)
    assert [s.rank for s in again.scores] == [s.rank for s in first.scores]
    # Nothing changed: the scheduler recomputes nothing.
    assert await thi_dua.refresh(ctx.sessions, ctx.catalog, ctx.clock) == 0
    # A report under Sơn Bình (in Khánh Sơn, D1) arrives: D1's ranking is recomputed and
    # counts it; so is Khánh Vĩnh's (D2: a target names both, its communes are scored by
    # the pair's figure); D3's is not.
    async with ctx.sessions() as session:
        await report(session, t.b2, FORM, month(2026, 8), {"ho_thoat_ngheo": 1}, at=ctx.clock.now())
        await session.commit()
    ctx.clock.set(ctx.clock.now() + timedelta(minutes=5))
    assert await thi_dua.refresh(ctx.sessions, ctx.catalog, ctx.clock) == 2
    async with ctx.sessions() as session:
        d1 = await session.get(OrgUnit, t.d1.id)
        d3 = await session.get(OrgUnit, t.d3.id)
        assert d1 is not None and d3 is not None
        today = ctx.clock.today()
        kept = await other.get(session, ctx.catalog, rule, d1, today, ctx.clock.now())
        fresh = await thi_dua.ranking(session, ctx.catalog, rule, d1, today)
        kept_d3 = await other.get(session, ctx.catalog, rule, d3, today, ctx.clock.now())
    assert kept.computed_at == ctx.clock.now() and kept_d3.computed_at == computed
    assert _points(kept, rule) == _points(fresh, rule) != _points(first, rule)
    # A report whose transaction began before that computation and ended after it (its time
    # is earlier than the ranking's) is not missed: it lies within the window still in flight.
    async with ctx.sessions() as session:
        at = ctx.clock.now() - timedelta(minutes=2)
        await report(session, t.b1, FORM, month(2026, 7), {"ho_thoat_ngheo": 1}, at=at)
        await session.commit()
    ctx.clock.set(ctx.clock.now() + timedelta(minutes=5))
    assert await thi_dua.refresh(ctx.sessions, ctx.catalog, ctx.clock) == 2
    ctx.clock.set(ctx.clock.now() + timedelta(minutes=5))
    assert await thi_dua.refresh(ctx.sessions, ctx.catalog, ctx.clock) == 0
    # A new day: every kept ranking is recomputed as of it; the scheduler's job (one worker
    # at a time) also keeps the province's, never viewed, for its staff's weekly summary.
    ctx.clock.set(ctx.clock.now() + timedelta(days=1))
    assert await refresh_rankings(ctx) == 4
    async with ctx.sessions() as session:
        days = set((await session.scalars(select(KeptRanking.day))).all())
        parents = set((await session.scalars(select(KeptRanking.parent_id))).all())
    assert days == {ctx.clock.today()}
    assert parents == {t.d1.id, t.d2.id, t.d3.id, people.provincial.unit_id}


async def test_a_changed_rule_is_never_served_an_old_ranking(ctx) -> None:
    people = await build_world(ctx)
    rule = ctx.catalog.thi_dua
    assert rule is not None
    other = rule.model_copy(update={"weights": Weights(timeliness=100)})
    async with ctx.sessions() as session:
        d1 = await session.get(OrgUnit, people.tree.d1.id)
        assert d1 is not None
        today, now = ctx.clock.today(), ctx.clock.now()
        await ctx.rankings.get(session, ctx.catalog, rule, d1, today, now)
        await session.commit()
        later = now + timedelta(minutes=1)
        ranked = await ctx.rankings.get(session, ctx.catalog, other, d1, today, later)
        await session.commit()
    assert ranked.computed_at == later
    for s in ranked.scores:
        assert s.points(other) == pytest.approx(s.parts["timeliness"] * 100)  # type: ignore[operator]
    # The scheduler runs with the configured rule: the other one's ranking is dropped.
    await thi_dua.refresh(ctx.sessions, ctx.catalog, ctx.clock)
    async with ctx.sessions() as session:
        keys = set((await session.scalars(select(KeptRanking.rule_key))).all())
    assert keys == {rule_key(rule, ctx.catalog)}


async def test_a_clock_set_back_keeps_the_ranking_of_its_own_day(ctx) -> None:
    """HOIBOT_NOW may set the clock back: the ranking kept for a later day is replaced by
    the one computed for today, not recomputed on every view."""
    people = await build_world(ctx)
    rule = ctx.catalog.thi_dua
    assert rule is not None
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        d1 = await session.get(OrgUnit, people.tree.d1.id)
        assert d1 is not None
        later = now + timedelta(days=3)
        await ctx.rankings.get(session, ctx.catalog, rule, d1, later.date(), later)
        await session.commit()
        first = await ctx.rankings.get(session, ctx.catalog, rule, d1, ctx.clock.today(), now)
        await session.commit()
        again = await ctx.rankings.get(
            session, ctx.catalog, rule, d1, ctx.clock.today(), now + timedelta(minutes=1)
        )
    assert first.computed_at == again.computed_at == now
