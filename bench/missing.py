"""Missing units of a province in a month (`storage.measures.completeness.completeness`), the query
behind /chuabao, the digests and the tracker's calendar, before and after #25, in one run.

python -m bench.missing                  # PostgreSQL: the national dataset of bench.rollups
python -m bench.missing --months 1       # ... with December 2025's reports only (minutes)
python -m bench.missing --db sqlite      # one province of 3,000 branches, 5 years of reports
python -m bench.missing --reuse          # PostgreSQL: the dataset of an earlier run

The query asks for one month, but how many months are stored changes PostgreSQL's plan for
the join of before #25: with one month it probes each unit's reports, with twelve it reads
every report of the month in the country into a hash. Twelve months is the representative
case (and takes about fourteen minutes to build); one month builds in a few.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bench.common import (
    Shape,
    Timing,
    build_nation,
    database,
    engine_for,
    national_catalog,
    run,
    table,
    time_it,
)
from storage.db.models import OrgUnit, Submission, SubmissionStatus
from storage.db.sessions import make_sessionmaker
from storage.db.units import active_on, subtree_filter
from storage.measures import completeness as rollup
from storage.plan.catalog import Form
from storage.plan.periods import Period, month
from storage.plan.text import vi_sort_key


async def completeness_before(
    session: AsyncSession, form: Form, period: Period, scope: OrgUnit
) -> rollup.Completeness:
    """The query as it was before #25 (round 2), kept here to measure against."""
    parent = aliased(OrgUnit)
    query = (
        select(
            OrgUnit.id, OrgUnit.code, OrgUnit.name, parent.name, Submission.status, Submission.late
        )
        .outerjoin(parent, parent.id == OrgUnit.parent_id)
        .outerjoin(
            Submission,
            and_(
                Submission.unit_id == OrgUnit.id,
                Submission.form_code == form.code,
                Submission.period_key == period.key,
            ),
        )
        .where(
            OrgUnit.level == form.level,
            subtree_filter(scope.path),
            active_on(period.start, period.end),
        )
    )
    result = rollup.Completeness(form, period)
    for unit_id, code, name, parent_name, status, late in (await session.execute(query)).all():
        result.expected += 1
        if status == SubmissionStatus.SUBMITTED:
            if late:
                result.late += 1
            else:
                result.on_time += 1
        else:
            if status == SubmissionStatus.DRAFT:
                result.in_progress += 1
            result.missing.append((rollup.UnitRef(unit_id, code, name), parent_name or "–"))
    result.missing.sort(key=lambda m: (vi_sort_key(m[1]), vi_sort_key(m[0].name)))
    return result


def _same(a: rollup.Completeness, b: rollup.Completeness) -> bool:
    return (a.expected, a.on_time, a.late, a.in_progress, a.missing) == (
        b.expected,
        b.on_time,
        b.late,
        b.in_progress,
        b.missing,
    )


async def main(db: str, provinces: int, months: int, repeat: int, reuse: bool) -> None:
    shape = Shape(provinces, 97, 30, months) if db == "postgres" else Shape(1, 100, 30, 60)
    catalog = national_catalog()
    with tempfile.TemporaryDirectory() as tmp:
        url = await database(db, Path(tmp))
        engine = engine_for(url)
        sessions = make_sessionmaker(engine)
        built = False
        if reuse and db == "postgres":
            async with sessions() as session:
                try:
                    built = bool(await session.scalar(select(func.count()).select_from(OrgUnit)))
                except Exception:
                    built = False
        if built:
            print("reusing the dataset already in the database")
        else:
            started = time.perf_counter()
            counts = await build_nation(engine, shape)
            print(f"dataset on {db}: {counts} built in {time.perf_counter() - started:.0f} s")
        form = catalog.forms["thang_chi_hoi"]
        period = month(2025, 12)
        async with sessions() as session:
            province = await session.scalar(select(OrgUnit).where(OrgUnit.code == "P01"))
            assert province is not None
            before = await completeness_before(session, form, period, province)
            after = await rollup.completeness(session, form, period, province)
            assert _same(before, after), "the new query must find the same units"
            print(
                f"P01, {period.label}: {after.expected} expected, {after.submitted} sent, "
                f"{len(after.missing)} missing (both queries agree)"
            )
            timings: list[Timing] = []
            # Alternating rounds, so the machine's load falls on both alike.
            for _ in range(2):
                for name, work in (
                    ("before (#25)", completeness_before),
                    ("after", rollup.completeness),
                ):
                    timings.append(
                        await time_it(
                            name,
                            lambda work=work: work(session, form, period, province),  # type: ignore[misc]
                            repeat,
                        )
                    )
        await engine.dispose()
    goal = 100 if db == "postgres" else 50
    merged: dict[str, list[float]] = {}
    for t in timings:
        merged.setdefault(t.name, []).extend(t.samples)
    rows = []
    for name, ms in merged.items():
        t = Timing(name, ms)
        rows.append(
            [
                name,
                f"{t.pct(0.5):.1f}",
                f"{t.pct(0.95):.1f}",
                f"< {goal} ms",
                "met" if t.pct(0.95) < goal else "NOT met",
            ]
        )
    print(f"missing units of a province, a month ({db}, {repeat * 2} runs each):")
    print(table(rows, ["code", "p50 ms", "p95 ms", "goal (p95)", ""]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--provinces", type=int, default=34)
    parser.add_argument(
        "--months", type=int, default=12, help="of reports, ending December 2025 (PostgreSQL)"
    )
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    run(lambda: main(args.db, args.provinces, args.months, args.repeat, args.reuse))
