"""The incremental totals never disagree with the raw reports."""

import random
from datetime import date

from sqlalchemy import select

from bot.config import DEMO_CONFIG_DIR
from schedules.calendar import window
from schedules.demo import build_demo
from storage import aggregates, reporting
from storage.models import OrgUnit, Person
from storage.periods import month, span, year_period
from storage.rollup import Roots, _reported_totals
from storage.units import create_unit, merge_units, move_unit
from tests.builders import small_tree_with_people

PERIODS = [year_period(2026), month(2026, 3), span(month(2026, 2), month(2026, 5))]


async def assert_agree(session, catalog, root_id: int, periods=PERIODS) -> int:
    checked = 0
    for code in aggregates.flow_codes(catalog):
        for period in periods:
            roots = Roots(within=root_id)
            kept = await _reported_totals(session, catalog, code, roots, period)
            raw = await _reported_totals(session, catalog, code, roots, period, raw=True)
            for unit_id in set(kept) | set(raw):
                assert kept.get(unit_id, 0.0) == raw.get(unit_id, 0.0), (code, period, unit_id)
                checked += 1
    return checked


async def test_demo_totals_agree(session, catalog, clock) -> None:
    await build_demo(
        session, catalog, DEMO_CONFIG_DIR, clock.today(), branches_per_commune=(2, 3), months=4
    )
    await session.commit()
    province = await session.scalar(select(OrgUnit).where(OrgUnit.code == "KH"))
    periods = [year_period(2026), month(2026, 9), span(month(2026, 8), month(2026, 11))]
    assert await assert_agree(session, catalog, province.id, periods) > 1000


async def test_random_reports_corrections_and_moves_agree(session, catalog, clock) -> None:
    rng = random.Random(11)
    people = await small_tree_with_people(session, clock.now())
    t = people.tree
    form = catalog.forms["thang_chi_hoi"]
    codes = [q.indicator for q in form.questions]
    subs = []
    for step in range(60):
        action = rng.random()
        if action < 0.5 or not subs:
            unit = rng.choice(t.branches)
            period = month(2026, rng.randint(1, 6))
            sub = await reporting.get_or_create(session, unit.id, form, period, clock.now())
            for code in rng.sample(codes, 4):
                value = rng.choice([None, 0.0, 1.0, 2.0, 7.0, 30.0])
                await reporting.save_answer(
                    session, catalog, sub, code, value, people.leader, clock.now()
                )
            if sub.status != "submitted":
                await reporting.submit(
                    session,
                    catalog,
                    sub,
                    people.leader,
                    clock.now(),
                    late=window(form, period).is_late(clock.today()),
                )
            subs.append(sub)
        elif action < 0.85:
            sub = rng.choice(subs)
            code = rng.choice(codes)
            value = rng.choice([None, 0.0, 3.0, 11.0])
            await reporting.save_answer(
                session, catalog, sub, code, value, people.leader, clock.now()
            )
        elif action < 0.95:
            commune = rng.choice([t.c1, t.c2, t.c3, t.c4])
            district = rng.choice([t.d1, t.d2, t.d3])
            if commune.parent_id != district.id:
                await move_unit(session, catalog, commune, district, date(2026, 7, 1))
        else:
            fresh = await create_unit(
                session, code=f"N{step}", name=f"Xã mới {step}", level="commune", parent=t.d1
            )
            await merge_units(
                session, catalog, [rng.choice([t.c1, t.c2, t.c3, t.c4])], fresh, date(2026, 7, 1)
            )
        await session.flush()
        if step % 10 == 9:
            assert await assert_agree(session, catalog, t.province.id)
    await aggregates.rebuild(session, catalog)  # and a full rebuild changes nothing
    assert await assert_agree(session, catalog, t.province.id)
    assert await session.scalar(select(Person).where(Person.id == people.leader.id))
