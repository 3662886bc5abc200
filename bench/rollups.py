"""Rollups at national scale: totals, progress, missing units and the Excel export.

python -m bench.rollups                # PostgreSQL: 34 provinces, ~3,300 communes,
                                       # ~100,000 branches, 12 months × 10 indicators
python -m bench.rollups --db sqlite    # one province of 3,000 branches, 5 years
python -m bench.rollups --quick        # a small country, to check it still runs
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from bench.common import (
    Shape,
    Timing,
    bring_up_to_date,
    build_nation,
    database,
    engine_for,
    national_catalog,
    run,
    table,
    time_it,
)
from handlers.export_xlsx import build_workbook
from storage.db.models import OrgUnit
from storage.db.sessions import make_sessionmaker
from storage.measures import progress, rollup, totals
from storage.measures.completeness import completeness
from storage.plan.periods import month, year_period

TODAY = date(2025, 12, 31)


async def has_nation(engine) -> bool:  # type: ignore[no-untyped-def]
    """Whether the national dataset is there to reuse; one built by older code is brought
    up to date first (its kept stocks filled)."""
    from sqlalchemy.exc import DBAPIError

    try:
        async with make_sessionmaker(engine)() as session:
            count = await session.scalar(select(func.count()).select_from(OrgUnit))
    except DBAPIError:
        return False
    if not (count and count > 100_000):
        return False
    await bring_up_to_date(engine)
    return True


def shape_for(db: str, quick: bool) -> Shape:
    if quick:
        return Shape(2, 20, 10, 3) if db == "postgres" else Shape(1, 10, 10, 6)
    return Shape(34, 97, 30, 12) if db == "postgres" else Shape(1, 100, 30, 60)


async def main(db: str, quick: bool, repeat: int, reuse: bool) -> None:
    shape = shape_for(db, quick)
    catalog = national_catalog()
    with tempfile.TemporaryDirectory() as tmp:
        url = await database(db, Path(tmp))
        engine = engine_for(url)
        if reuse and db == "postgres" and await has_nation(engine):
            print("reusing the dataset already in the database")
        else:
            started = time.perf_counter()
            counts = await build_nation(engine, shape)
            built = time.perf_counter() - started
            print(f"dataset on {db}: {counts} built in {built:.0f} s")
        sessions = make_sessionmaker(engine)
        async with sessions() as session:
            country = await session.scalar(select(OrgUnit).where(OrgUnit.code == "VN"))
            province = await session.scalar(select(OrgUnit).where(OrgUnit.code == "P01"))
            year = year_period(2025)
            form = catalog.forms["thang_chi_hoi"]
            timings: list[Timing] = [
                await time_it(
                    "total, one province, a year",
                    lambda: rollup.total(session, catalog, "ho_thoat_ngheo", [province], year),
                    repeat,
                ),
                await time_it(
                    "total, whole country, a year",
                    lambda: rollup.total(session, catalog, "ho_thoat_ngheo", [country], year),
                    repeat,
                ),
                await time_it(
                    "breakdown of the country by province",
                    lambda: totals.indicator_total(
                        session, catalog, "ho_thoat_ngheo", country, year, compare=False
                    ),
                    repeat,
                ),
                await time_it(
                    "/tong: total of a province, by commune, k/n and change",
                    lambda: totals.indicator_total(
                        session, catalog, "ho_thoat_ngheo", province, year
                    ),
                    repeat,
                ),
                await time_it(
                    "stock (member count), one province",
                    lambda: rollup.total(session, catalog, "tong_hoi_vien", [province], year),
                    repeat,
                ),
                await time_it(
                    "derived (net growth), one province",
                    lambda: rollup.total(session, catalog, "tang_hv_thuan", [province], year),
                    repeat,
                ),
                await time_it(
                    "progress, every target of a province",
                    lambda: progress.progress(session, catalog, province, TODAY),
                    repeat,
                ),
                await time_it(
                    "missing units of a province, a month",
                    lambda: completeness(session, form, month(2025, 12), province),
                    repeat,
                ),
            ]
            export = await time_it(
                "XLSX export of a province, a year",
                lambda: build_workbook(session, catalog, province, year, TODAY),
                max(1, repeat // 10),
            )
        await engine.dispose()
    goal_query = 100 if db == "postgres" else 50
    rows = [
        [
            t.name,
            f"{t.pct(0.5):.1f}",
            f"{t.pct(0.95):.1f}",
            f"< {goal_query} ms",
            "met" if t.pct(0.95) < goal_query else "NOT met",
        ]
        for t in timings
    ]
    rows.append(
        [
            export.name,
            f"{export.pct(0.5):.0f}",
            f"{export.pct(0.95):.0f}",
            "< 5000 ms",
            "met" if export.pct(0.95) < 5000 else "NOT met",
        ]
    )
    print(table(rows, ["query", "p50 ms", "p95 ms", "goal (p95)", ""]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the PostgreSQL dataset of an earlier run (it takes minutes)",
    )
    args = parser.parse_args()
    run(lambda: main(args.db, args.quick, args.repeat or (5 if args.quick else 40), args.reuse))
