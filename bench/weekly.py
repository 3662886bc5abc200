"""The weekly summary to provincial staff (schedules/digests.py: `weekly_summaries`), whose
"most improved" compares today's thi đua scores with those of 28 days ago: the earlier scores
read from the kept history of days (`kept_ranking_days`, #25 round 6) and, alternating in
one run, computed from the reports as before (the history hidden). Both must say the same.

    python -m bench.weekly [--provinces 4] [--months 6] [--repeat 5] [--reuse] [--quick]

Today's rankings are kept in both (as the scheduler keeps them), so the difference is the
scores of 28 days ago. CPU is this process's (user + system); PostgreSQL's is apart.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

from sqlalchemy import event, func, select

from bench.common import (
    Shape,
    bring_up_to_date,
    build_nation,
    database,
    engine_for,
    median,
    national_catalog,
    run,
    table,
)
from schedules import thi_dua
from schedules.digests import WEEKLY_ROLES, weekly_summaries
from storage.db.models import KeptRankingDay, OrgUnit, Person
from storage.db.sessions import make_sessionmaker
from storage.plan.clock import VN, FixedClock

MONDAY = datetime(2025, 12, 29, 9, 0, tzinfo=VN)  # the reports end in December 2025


async def _no_day(*args: object) -> None:
    return None


async def main(provinces: int, months: int, repeat: int, reuse: bool, quick: bool) -> None:
    catalog = national_catalog()
    with tempfile.TemporaryDirectory() as tmp:
        url = await database("postgres", Path(tmp))
        engine = engine_for(url)
        sessions = make_sessionmaker(engine)
        built = False
        if reuse:
            async with sessions() as session:
                try:
                    built = bool(await session.scalar(select(func.count()).select_from(OrgUnit)))
                except Exception:
                    built = False
        if built:
            await bring_up_to_date(engine)
            print("reusing the dataset already in the database")
        else:
            started = time.perf_counter()
            shape = Shape(1, 12, 5, 2) if quick else Shape(provinces, 97, 30, months)
            counts = await build_nation(engine, shape)
            print(f"dataset: {counts} built in {time.perf_counter() - started:.0f} s")
        days = catalog.thi_dua.improvement_days if catalog.thi_dua else 28
        for at in (MONDAY - timedelta(days=days), MONDAY):  # the scheduler, then and today
            started = time.perf_counter()
            done = await thi_dua.refresh(
                sessions, catalog, FixedClock(at), budget=timedelta(hours=1), also=WEEKLY_ROLES
            )
            print(f"{at:%d/%m}: {done} rankings kept in {time.perf_counter() - started:.1f} s")
        async with sessions() as session:
            officers = await session.scalar(
                select(func.count()).where(Person.role.in_(WEEKLY_ROLES), Person.active.is_(True))
            )
            kept_days = await session.scalar(select(func.count()).select_from(KeptRankingDay))
        print(f"{officers} officers get the weekly summary; {kept_days} kept days")

        async def summaries() -> list[str]:
            async with sessions() as session:
                planned = await weekly_summaries(session, catalog, MONDAY, False)
            return [p.payload["text"] for p in planned]

        statements = [0]

        def count(*args: object) -> None:
            statements[0] += 1

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        texts: dict[str, list[str]] = {}
        sql: dict[str, int] = {}
        cpu: dict[str, list[float]] = {}
        wall: dict[str, list[float]] = {}
        for _ in range(repeat):  # alternating, so the machine's load falls on both alike
            for name in ("computed (before)", "kept history (after)"):
                hide = name.startswith("computed")
                hidden = mock.patch.object(thi_dua, "kept_ranking_day", _no_day)
                with hidden if hide else contextlib.nullcontext():
                    c0, w0 = time.process_time(), time.perf_counter()
                    statements[0] = 0
                    texts[name] = await summaries()
                    sql[name] = statements[0]
                    cpu.setdefault(name, []).append((time.process_time() - c0) * 1000)
                    wall.setdefault(name, []).append((time.perf_counter() - w0) * 1000)
        await engine.dispose()
    first, second = texts.values()
    assert first == second, "the weekly summaries must say the same"
    assert any("Tiến bộ nhất" in t for t in first), "no summary names a most improved unit"
    rows = [
        [
            name,
            f"{median(cpu[name]):.0f}",
            f"{median(cpu[name]) / max(officers or 1, 1):.0f}",
            f"{median(wall[name]):.0f}",
            str(sql[name]),
        ]
        for name in cpu
    ]
    print(f"weekly summaries of {officers} officers, median of {repeat} runs each:")
    print(table(rows, ["earlier scores", "CPU ms", "CPU ms/officer", "wall ms", "SQL statements"]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--provinces", type=int, default=4)
    parser.add_argument("--months", type=int, default=6, help="of reports, ending December 2025")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--quick", action="store_true", help="a small province, seconds")
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    run(
        lambda: main(args.provinces, args.months, repeat, args.reuse and not args.quick, args.quick)
    )
