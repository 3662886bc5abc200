"""The written report (Word) of a province for a month on the national dataset.

python -m bench.document            # PostgreSQL: 34 provinces, ~3,300 communes, ~100,000
                                    # branches, 12 months × 10 indicators (built, or --reuse)
python -m bench.document --quick    # a small country, to check it still runs

Goal: a province's monthly document in < 3 s. The document is drafted as `hoibot report
document` drafts it (one session, the thi đua ranking computed in it and not kept). Each part
is timed too, and the XLSX export of the same province and month as a baseline measured in the
same run (the machine may be shared: compare the ratio, not the seconds).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from bench.common import (
    NATIONAL_CONFIG,
    Timing,
    build_nation,
    database,
    engine_for,
    national_catalog,
    run,
    table,
    time_it,
)
from bench.rollups import has_nation, shape_for
from bot.config import Settings
from bot.context import AppContext
from handlers import written_report, written_report_sections
from handlers.export_xlsx import build_workbook
from storage.db.models import Base, OrgUnit
from storage.db.sessions import make_sessionmaker
from storage.measures import progress, totals
from storage.measures.completeness import completeness
from storage.measures.figures import figures
from storage.measures.thi_dua import Rule
from storage.plan.clock import VN, FixedClock
from storage.plan.periods import month, previous_period

NOW = datetime(2025, 12, 31, 9, 0, tzinfo=VN)  # as bench.rollups: the year's data is in
PERIOD = month(2025, 11)
GOAL_S = 3.0


async def main(quick: bool, repeat: int, reuse: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = await database("postgres", Path(tmp))
        engine = engine_for(url)
        if reuse and await has_nation(engine):
            print("reusing the dataset already in the database")
            async with engine.begin() as conn:  # tables newer than the dataset
                await conn.run_sync(Base.metadata.create_all)
        else:
            started = time.perf_counter()
            counts = await build_nation(engine, shape_for("postgres", quick))
            print(f"dataset: {counts} built in {time.perf_counter() - started:.0f} s")
        await engine.dispose()
        settings = Settings(  # type: ignore[call-arg]
            database_url=url, hoibot_config_dir=NATIONAL_CONFIG, _env_file=None
        )
        ctx = AppContext.create(settings, FixedClock(NOW))
        catalog = ctx.catalog = national_catalog()
        today = NOW.date()
        async with make_sessionmaker(ctx.engine)() as session:
            province = await session.scalar(select(OrgUnit).where(OrgUnit.code == "P01"))
            assert province is not None
            size = len((await written_report.draft(session, ctx, province, PERIOD)).data)
            codes = written_report_sections.reported_indicators(catalog, province, PERIOD)
            rule = catalog.thi_dua or Rule()
            form = written_report_sections.reporting_forms(catalog, province, PERIOD)[0]

            async def results() -> None:
                for code in codes:
                    await totals.indicator_total(
                        session, catalog, code, province, PERIOD, year_ago=True
                    )
                    for p in (previous_period(PERIOD), totals.a_year_before(PERIOD)):
                        ids = [province.id]
                        await figures(session, catalog, code, ids, p, roots=ids)

            document = await time_it(
                "document of a province, a month",
                lambda: written_report.draft(session, ctx, province, PERIOD),
                repeat,
            )
            parts: list[Timing] = [
                await time_it(f"  I. results ({len(codes)} indicators)", results, repeat),
                await time_it(
                    "  II. targets (progress)",
                    lambda: progress.progress(session, catalog, province, today),
                    repeat,
                ),
                await time_it(
                    "  III. reporting (missing units)",
                    lambda: completeness(session, form, PERIOD, province),
                    repeat,
                ),
                await time_it(
                    "  IV. thi đua (ranking computed)",
                    lambda: ctx.rankings.get(session, catalog, rule, province, today, NOW),
                    repeat,
                ),
            ]
            baseline = await time_it(
                "baseline: XLSX export of the province, the month",
                lambda: build_workbook(session, catalog, province, PERIOD, today),
                repeat,
            )
        await ctx.close()
    ratio = document.pct(0.5) / baseline.pct(0.5)
    rows = [
        [
            document.name,
            f"{document.pct(0.5):.0f}",
            f"{document.pct(0.95):.0f}",
            f"< {GOAL_S:.0f} s",
            "met" if document.pct(0.95) < GOAL_S * 1000 else "NOT met",
        ],
        *[[t.name, f"{t.pct(0.5):.0f}", f"{t.pct(0.95):.0f}", "", ""] for t in parts],
        [baseline.name, f"{baseline.pct(0.5):.0f}", f"{baseline.pct(0.95):.0f}", "", ""],
    ]
    print(table(rows, ["what", "p50 ms", "p95 ms", "goal (p95)", ""]))
    print(f"document / XLSX export (p50): {ratio:.2f}; the document is {size:,} bytes")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the dataset of an earlier run (it takes minutes)"
    )
    args = parser.parse_args()
    run(lambda: main(args.quick, args.repeat or (2 if args.quick else 10), args.reuse))
