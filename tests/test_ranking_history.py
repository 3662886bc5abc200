"""The points of kept rankings day by day (`kept_ranking_days`, migration 0015): written by
the ranking job, dropped past the days "most improved" needs, and read by it for the day it
looks back to instead of scoring every unit again; the same answer as computing it."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, inspect, select, text

from bot.scheduler import refresh_rankings
from schedules import thi_dua
from storage.db.migrate import alembic_config, upgrade
from storage.db.models import KeptRankingDay, OrgUnit
from storage.db.sessions import make_engine
from storage.db.units import create_unit, merge_units, move_unit
from storage.measures.thi_dua import keep_ranking_day, kept_ranking_day, rule_key
from storage.plan.thi_dua_rule import Rule, Weights
from tests.web_site import build_world


def _same(a: thi_dua.Improvement | None, b: thi_dua.Improvement | None) -> None:
    assert a is not None and b is not None
    assert (a.unit.id, a.before, a.now) == (b.unit.id, pytest.approx(b.before), b.now)


def _spy_scores(monkeypatch: pytest.MonkeyPatch) -> list[date]:
    """The days `thi_dua.scores` is asked to score (it still scores them)."""
    asked: list[date] = []
    real = thi_dua.scores

    async def spy(session, catalog, rule, units, day):  # type: ignore[no-untyped-def]
        asked.append(day)
        return await real(session, catalog, rule, units, day)

    monkeypatch.setattr(thi_dua, "scores", spy)
    return asked


async def _most_improved(ctx, unit_id: int, rule: Rule) -> thi_dua.Improvement | None:  # type: ignore[no-untyped-def]
    async with ctx.sessions() as session:
        unit = await session.get(OrgUnit, unit_id)
        assert unit is not None
        return await thi_dua.most_improved(session, ctx.catalog, rule, unit, ctx.clock.today())


async def _job_on(ctx, day: date) -> int:  # type: ignore[no-untyped-def]
    """The scheduler's ranking job run on `day` (the clock put back after)."""
    now = ctx.clock.now()
    ctx.clock.set(now - timedelta(days=(now.date() - day).days))
    try:
        return await refresh_rankings(ctx)
    finally:
        ctx.clock.set(now)


async def _drop_days(ctx) -> None:  # type: ignore[no-untyped-def]
    async with ctx.sessions() as session:
        await session.execute(delete(KeptRankingDay))
        await session.commit()


async def test_the_ranking_job_keeps_each_days_points_and_most_improved_reads_them(
    ctx, monkeypatch
) -> None:
    people = await build_world(ctx)
    t = people.tree
    rule = ctx.catalog.thi_dua
    assert rule is not None and rule.improvement_days == 28
    today = ctx.clock.today()
    then = today - timedelta(days=28)
    key = rule_key(rule, ctx.catalog)
    # 28 days ago the scheduler kept the rankings of the weekly summary's people (never
    # viewed: the district officer's district and the provincial staff's province).
    assert await _job_on(ctx, then) == 2
    async with ctx.sessions() as session:
        days = (await session.execute(select(KeptRankingDay.parent_id, KeptRankingDay.day))).all()
        assert sorted(days) == sorted([(t.d1.id, then), (people.provincial.unit_id, then)])
        d1 = await session.get(OrgUnit, t.d1.id)
        assert d1 is not None
        kept = await kept_ranking_day(session, t.d1.id, key, then)
        computed = await thi_dua.ranking(session, ctx.catalog, rule, d1, then)
    assert kept == {s.unit.id: pytest.approx(s.points(rule)) for s in computed.scores}
    assert len(kept) == 2 and all(p is not None for p in kept.values())
    # Today: the earlier scores come from the kept day, nothing is scored as of then.
    asked = _spy_scores(monkeypatch)
    from_history = await _most_improved(ctx, t.d1.id, rule)
    assert then not in asked
    # The same answer as scoring every unit as of then (the kept day dropped).
    await _drop_days(ctx)
    from_scratch = await _most_improved(ctx, t.d1.id, rule)
    assert asked.count(then) == 1
    _same(from_history, from_scratch)
    assert from_history is not None and from_history.now > from_history.before


async def test_the_kept_points_are_what_is_compared(ctx) -> None:
    """The kept day is really read: a unit kept lower then has improved more."""
    people = await build_world(ctx)
    t = people.tree
    rule = ctx.catalog.thi_dua
    assert rule is not None
    today = ctx.clock.today()
    then = today - timedelta(days=rule.improvement_days)
    computed = await _most_improved(ctx, t.d1.id, rule)
    assert computed is not None
    other = next(u for u in (t.c1, t.c2) if u.id != computed.unit.id)
    key = rule_key(rule, ctx.catalog)
    async with ctx.sessions() as session:
        points: dict[int, float | None] = {computed.unit.id: computed.before, other.id: 0.0}
        await keep_ranking_day(session, t.d1.id, key, then, ctx.clock.now(), points)
        await session.commit()
    best = await _most_improved(ctx, t.d1.id, rule)
    assert best is not None and best.unit.id == other.id and best.before == 0.0
    # Kept with no score then (no data): not compared, not "improved from 0".
    async with ctx.sessions() as session:
        points = {computed.unit.id: computed.before, other.id: None}
        await keep_ranking_day(session, t.d1.id, key, then, ctx.clock.now(), points)
        await session.commit()
    _same(await _most_improved(ctx, t.d1.id, rule), computed)


async def test_without_the_day_or_with_another_rule_it_is_computed(ctx, monkeypatch) -> None:
    people = await build_world(ctx)
    t = people.tree
    rule = ctx.catalog.thi_dua
    assert rule is not None
    then = ctx.clock.today() - timedelta(days=rule.improvement_days)
    # Kept the day before and the day after, not that day.
    await _job_on(ctx, then - timedelta(days=1))
    await _job_on(ctx, then + timedelta(days=1))
    asked = _spy_scores(monkeypatch)
    fallback = await _most_improved(ctx, t.d1.id, rule)
    assert asked.count(then) == 1
    await _drop_days(ctx)
    _same(fallback, await _most_improved(ctx, t.d1.id, rule))
    # The day kept with another rule (or plan) does not compare: scored with this one.
    other = rule.model_copy(update={"weights": Weights(timeliness=100)})
    await _job_on(ctx, then)  # with the configured rule
    asked.clear()
    with_other = await _most_improved(ctx, t.d1.id, other)
    assert asked.count(then) == 1
    await _drop_days(ctx)
    _same(with_other, await _most_improved(ctx, t.d1.id, other))
    # The days looked back are not part of the key: changing them keeps the history usable.
    longer = rule.model_copy(update={"improvement_days": 35})
    assert rule_key(longer, ctx.catalog) == rule_key(rule, ctx.catalog)


async def test_days_past_what_most_improved_needs_are_dropped(ctx) -> None:
    people = await build_world(ctx)
    t = people.tree
    rule = ctx.catalog.thi_dua
    assert rule is not None
    keep = thi_dua.history_days(rule)
    assert keep == rule.improvement_days + 7
    today = ctx.clock.today()
    key = rule_key(rule, ctx.catalog)
    async with ctx.sessions() as session:
        for back in (keep + 30, keep + 1, keep, rule.improvement_days, 1):
            day = today - timedelta(days=back)
            await keep_ranking_day(session, t.d1.id, key, day, ctx.clock.now(), {t.c1.id: 50.0})
        await keep_ranking_day(
            session, t.d2.id, "another rule", today - timedelta(days=keep + 1), ctx.clock.now(), {}
        )
        await session.commit()
    await thi_dua.refresh(ctx.sessions, ctx.catalog, ctx.clock)
    async with ctx.sessions() as session:
        days = set((await session.scalars(select(KeptRankingDay.day))).all())
    assert days == {today - timedelta(days=b) for b in (keep, rule.improvement_days, 1)}


async def test_a_day_recomputed_keeps_its_latest_data(ctx) -> None:
    people = await build_world(ctx)
    t = people.tree
    key = "k"
    now, day = ctx.clock.now(), ctx.clock.today()
    async with ctx.sessions() as session:
        await keep_ranking_day(session, t.d1.id, key, day, now, {t.c1.id: 10.0})
        await keep_ranking_day(
            session, t.d1.id, key, day, now + timedelta(hours=1), {t.c1.id: 20.0}
        )
        await keep_ranking_day(session, t.d1.id, key, day, now - timedelta(hours=1), {t.c1.id: 5.0})
        await session.commit()
        assert await kept_ranking_day(session, t.d1.id, key, day) == {t.c1.id: 20.0}
        assert await kept_ranking_day(session, t.d1.id, key, day - timedelta(days=1)) is None


async def test_a_unit_merged_since_is_compared_by_its_id(ctx, monkeypatch) -> None:
    """Sơn Bình and Sơn Hiệp (D1) merge after the day looked back to. Into a new commune:
    it had no score then (it did not exist), so it is not the most improved, though its
    branches had reports then. Into Sơn Hiệp: compared with Sơn Hiệp's own points then."""
    people = await build_world(ctx)
    t = people.tree
    rule = ctx.catalog.thi_dua
    assert rule is not None
    then = ctx.clock.today() - timedelta(days=rule.improvement_days)
    await _job_on(ctx, then)
    key = rule_key(rule, ctx.catalog)
    async with ctx.sessions() as session:
        kept_then = await kept_ranking_day(session, t.d1.id, key, then)
        c1, c2 = [await session.get(OrgUnit, u.id) for u in (t.c1, t.c2)]
        assert kept_then is not None and c1 is not None and c2 is not None
        merged = await create_unit(
            session,
            code="C9",
            name="Xã Sơn Bình Hiệp",
            level="commune",
            parent=t.d1,
            valid_from=then + timedelta(days=3),
        )
        await merge_units(session, ctx.catalog, [c1, c2], merged, then + timedelta(days=3))
        await session.commit()
        # Scored as of then from its branches it would have points: the rule keeps it out.
        (as_then,) = await thi_dua.scores(session, ctx.catalog, rule, [merged], then)
        assert as_then.points(rule) is not None
        d1 = await session.get(OrgUnit, t.d1.id)
        assert d1 is not None
        now = await thi_dua.ranking(session, ctx.catalog, rule, d1, ctx.clock.today())
        assert [s.unit.id for s in now.scores] == [merged.id]
        assert now.scores[0].points(rule) is not None
    assert await _most_improved(ctx, t.d1.id, rule) is None
    await _drop_days(ctx)
    assert await _most_improved(ctx, t.d1.id, rule) is None  # computed: the same


async def test_a_unit_merged_into_another_is_compared_with_its_own_points(ctx) -> None:
    people = await build_world(ctx)
    t = people.tree
    rule = ctx.catalog.thi_dua
    assert rule is not None
    then = ctx.clock.today() - timedelta(days=rule.improvement_days)
    await _job_on(ctx, then)
    key = rule_key(rule, ctx.catalog)
    async with ctx.sessions() as session:
        kept_then = await kept_ranking_day(session, t.d1.id, key, then)
        c1, c2 = [await session.get(OrgUnit, u.id) for u in (t.c1, t.c2)]
        assert kept_then is not None and c1 is not None and c2 is not None
        await merge_units(session, ctx.catalog, [c1], c2, then + timedelta(days=3))
        await session.commit()
    best = await _most_improved(ctx, t.d1.id, rule)
    if best is not None:
        assert best.unit.id == t.c2.id and best.before == pytest.approx(kept_then[t.c2.id])
    async with ctx.sessions() as session:
        d1 = await session.get(OrgUnit, t.d1.id)
        assert d1 is not None
        now = await thi_dua.ranking(session, ctx.catalog, rule, d1, ctx.clock.today())
    (score,) = now.scores
    earlier = kept_then[t.c2.id]
    assert score.unit.id == t.c2.id and earlier is not None
    assert (best is not None) == (score.points(rule) > earlier)  # type: ignore[operator]


PG_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.mark.parametrize("backend", ["sqlite"] + (["postgresql"] if PG_URL else []))
async def test_migration_0015_upgrades_and_downgrades(backend: str, tmp_path) -> None:
    from alembic import command

    if backend == "sqlite":
        url, admin = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}", None
    else:
        assert PG_URL
        base, name = PG_URL.rsplit("/", 1)
        url = f"{base}/{name}_mig"
        admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}_mig"'))
            await conn.execute(text(f'CREATE DATABASE "{name}_mig"'))
    engine = make_engine(url)

    async def tables() -> set[str]:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))

    def down(connection: object) -> None:
        cfg = alembic_config(str(engine.url))
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0014")

    try:
        await upgrade(engine)
        assert "kept_ranking_days" in await tables()
        async with engine.begin() as conn:
            await conn.run_sync(down)
        found = await tables()
        assert "kept_ranking_days" not in found and "kept_rankings" in found
        await upgrade(engine)
        assert "kept_ranking_days" in await tables()
    finally:
        await engine.dispose()
        if admin is not None:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}_mig"'))
            await admin.dispose()


async def test_a_unit_moved_in_since_is_scored_alone(ctx, monkeypatch) -> None:
    """Khánh Bình moves from Khánh Vĩnh to Khánh Sơn after the day looked back to: Khánh
    Sơn's kept day does not hold it, so it alone is scored as of then (it existed)."""
    people = await build_world(ctx)
    t = people.tree
    rule = ctx.catalog.thi_dua
    assert rule is not None
    then = ctx.clock.today() - timedelta(days=rule.improvement_days)
    await _job_on(ctx, then)
    async with ctx.sessions() as session:
        c3, d1 = await session.get(OrgUnit, t.c3.id), await session.get(OrgUnit, t.d1.id)
        assert c3 is not None and d1 is not None
        await move_unit(session, ctx.catalog, c3, d1, then + timedelta(days=3))
        await session.commit()
    asked: list[list[int]] = []
    real = thi_dua.scores

    async def spy(session, catalog, rule, units, day):  # type: ignore[no-untyped-def]
        if day == then:
            asked.append([u.id for u in units])
        return await real(session, catalog, rule, units, day)

    monkeypatch.setattr(thi_dua, "scores", spy)
    from_history = await _most_improved(ctx, t.d1.id, rule)
    assert asked == [[t.c3.id]]
    await _drop_days(ctx)
    _same(from_history, await _most_improved(ctx, t.d1.id, rule))
