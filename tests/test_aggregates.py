"""The incremental totals (flows and stocks) never disagree with the raw reports."""

import random
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import DEMO_CONFIG_DIR
from schedules.calendar import window
from schedules.demo import build_demo
from storage.db import aggregates
from storage.db.models import OrgUnit, Person, UnitStockTotal
from storage.db.units import create_unit, merge_units, move_unit
from storage.measures import reporting
from storage.measures.ratios import rate_many
from storage.measures.rollup import Roots, _reported_totals, totals_by_period
from storage.plan.catalog import Catalog
from storage.plan.periods import Period, month, quarter, span, year_period
from tests.builders import small_tree_with_people

PERIODS = [year_period(2026), month(2026, 3), span(month(2026, 2), month(2026, 5))]


# Stocks: ranges ending after a unit's last report, between two, and before its first.
STOCK_PERIODS = [
    *PERIODS,
    month(2026, 1),
    month(2026, 6),
    span(month(2026, 1), month(2026, 2)),
    span(month(2026, 4), month(2026, 6)),
    span(month(2026, 3), month(2026, 12)),
]


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
    return checked + await assert_stocks_agree(session, catalog, root_id, periods)


async def assert_stocks_agree(
    session: AsyncSession, catalog: Catalog, root_id: int, periods: list[Period]
) -> int:
    """Every unit's stock, kept and raw: the same units have a value (a unit with no report
    in the range has none, not 0), and the same value."""
    checked = 0
    units = list((await session.scalars(select(OrgUnit))).all())
    for code in aggregates.stock_codes(catalog):
        for period in [*periods, *STOCK_PERIODS]:
            roots = Roots(within=root_id)
            kept = await _reported_totals(session, catalog, code, roots, period)
            raw = await _reported_totals(session, catalog, code, roots, period, raw=True)
            assert kept == raw, (code, period)
            checked += len(raw)
        # Per reporting period (the charts), for every unit.
        for unit in units:
            kept = await totals_by_period(session, catalog, code, unit, year_period(2026))
            assert kept == await _raw_by_period(session, code, unit.id), (code, unit.code)
    # Rates of two stocks: each unit's pair, from the kept latest values where they serve.
    root = await session.get(OrgUnit, root_id)
    scopes = [[root], *([u] for u in units if u.level != "branch")]
    # Quarterly over monthly, monthly over quarterly, monthly over monthly (when in the
    # catalog: the demo's).
    pairs = [
        ("hv_tuyen_truyen", "tong_hoi_vien"),
        ("pn_kt_ho_tro", "pn_khuyet_tat"),
        ("pn_kt_ho_tro", "tong_hoi_vien"),
    ]
    for numerator, denominator in pairs:
        if {numerator, denominator} <= set(aggregates.stock_codes(catalog)):
            for stocks in ("same_period", "latest"):
                for period in [*periods, *STOCK_PERIODS]:
                    args = (session, catalog, numerator, denominator, scopes, period)
                    kept = await rate_many(*args, stocks=stocks)
                    raw = await rate_many(*args, stocks=stocks, raw=True)
                    assert kept == raw, (numerator, denominator, stocks, period)
                    checked += sum(r.units for r in raw)
    return checked


async def _raw_by_period(session: AsyncSession, code: str, unit_id: int) -> dict[str, float]:
    from sqlalchemy import func

    from storage.db.models import Submission, SubmissionValue, UnitAncestor

    query = (
        select(Submission.period_key, func.sum(SubmissionValue.value_num))
        .join(Submission, Submission.id == SubmissionValue.submission_id)
        .join(UnitAncestor, UnitAncestor.unit_id == SubmissionValue.unit_id)
        .where(
            UnitAncestor.ancestor_id == unit_id,
            SubmissionValue.indicator_code == code,
            SubmissionValue.submitted.is_(True),
            Submission.period_start >= date(2026, 1, 1),
            Submission.period_end <= date(2026, 12, 31),
        )
        .group_by(Submission.period_key)
    )
    return {key: float(v or 0) for key, v in (await session.execute(query)).all()}


async def kept_stock_rows(session: AsyncSession) -> dict[tuple, tuple]:
    rows = await session.execute(select(UnitStockTotal))
    return {
        (r.ancestor_id, r.indicator_code, r.period_key, r.until): (
            r.ancestor_level,
            r.period_start,
            r.period_end,
            r.total,
            r.reports,
            r.given,
        )
        for r in rows.scalars().all()
    }


async def test_demo_totals_agree(session, catalog, clock) -> None:
    await build_demo(
        session, catalog, DEMO_CONFIG_DIR, clock.today(), branches_per_commune=(2, 3), months=4
    )
    await session.commit()
    province = await session.scalar(select(OrgUnit).where(OrgUnit.code == "KH"))
    periods = [year_period(2026), month(2026, 9), span(month(2026, 8), month(2026, 11))]
    assert await assert_agree(session, catalog, province.id, periods) > 1000
    # A database upgraded to the kept stocks gets them filled, once.
    kept = await kept_stock_rows(session)
    await session.execute(delete(UnitStockTotal))
    assert await aggregates.fill_stocks_if_empty(session, catalog)
    assert await kept_stock_rows(session) == kept
    assert not await aggregates.fill_stocks_if_empty(session, catalog)


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
        elif action < 0.6:
            # A quarterly report: its stocks end with some months' and not with others'.
            quarterly = catalog.forms["quy_chi_hoi"]
            period = quarter(2026, rng.choice([1, 2]))
            values = {
                q.indicator: rng.choice([None, 0.0, 4.0, 90.0])
                for q in quarterly.questions
                if catalog.indicators[q.indicator].type != "text"
            }
            await reporting.import_report(
                session, catalog, rng.choice(t.branches).id, quarterly, period, values, clock.now()
            )
        elif action < 0.75:
            sub = rng.choice(subs)
            code = rng.choice(codes)
            value = rng.choice([None, 0.0, 3.0, 11.0])
            await reporting.save_answer(
                session, catalog, sub, code, value, people.leader, clock.now()
            )
        elif action < 0.85:
            # A past report from a workbook: new, or over a sent one.
            unit = rng.choice(t.branches)
            values = {code: rng.choice([None, 0.0, 5.0, 40.0]) for code in rng.sample(codes, 5)}
            await reporting.import_report(
                session,
                catalog,
                unit.id,
                form,
                month(2026, rng.randint(1, 6)),
                values,
                clock.now(),
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
            # A unit merged once is closed: only an open one merges again.
            still_open = [c for c in (t.c1, t.c2, t.c3, t.c4) if c.valid_to is None]
            if still_open:
                await merge_units(
                    session, catalog, [rng.choice(still_open)], fresh, date(2026, 7, 1)
                )
        await session.flush()
        if step % 10 == 9:
            assert await assert_agree(session, catalog, t.province.id)
    kept = await kept_stock_rows(session)
    assert kept
    await aggregates.rebuild(session, catalog)  # and a full rebuild changes nothing
    assert await kept_stock_rows(session) == kept
    assert await assert_agree(session, catalog, t.province.id)
    assert await session.scalar(select(Person).where(Person.id == people.leader.id))
