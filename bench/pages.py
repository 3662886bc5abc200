"""The tracker pages (/web) at national scale: each page fetched over HTTP from the bot's own
web server, for a provincial staff member, a commune officer and a branch leader.

python -m bench.pages            # PostgreSQL: 34 provinces, ~3,300 communes, ~100,000
                                 # branches, 12 months × 10 indicators (built, or --reuse)
python -m bench.pages --quick    # a small country, to check it still runs

Goal: every page in < 300 ms (p95). Thi đua rankings are kept in the database (computed ahead by
the scheduler after reports arrive), so their pages are timed both as usually served and as
computed (the first view of a ranking not kept yet). The chart image is a file, not a page; it
is timed too, for information.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime
from pathlib import Path

import aiohttp
from sqlalchemy import delete, select

from bench.common import (
    NATIONAL_CONFIG,
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
from bench.rollups import has_nation, shape_for
from bot.app import WebServer
from bot.config import Settings
from bot.context import AppContext
from bot.web.routes import register
from schedules.calendar import default_form, latest_due_period
from storage.db.models import Base, KeptRanking, OrgUnit, Person, Role
from storage.db.sessions import make_sessionmaker
from storage.plan.clock import VN, FixedClock

NOW = datetime(2025, 12, 31, 9, 0, tzinfo=VN)  # as bench.rollups: the year's data is in
GOAL_MS = 300


async def _person(session, role: str, code: str) -> Person:  # type: ignore[no-untyped-def]
    unit = await session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    assert unit is not None, code
    found = await session.scalar(
        select(Person).where(Person.unit_id == unit.id, Person.role == role).limit(1)
    )
    if found is None:
        found = Person(full_name=f"Cán bộ {code}", role=role, unit_id=unit.id, created_at=NOW)
        session.add(found)
        await session.flush()
    return found


async def main(quick: bool, repeat: int, reuse: bool) -> None:
    shape: Shape = shape_for("postgres", quick)
    with tempfile.TemporaryDirectory() as tmp:
        url = await database("postgres", Path(tmp))
        engine = engine_for(url)
        if reuse and await has_nation(engine):
            print("reusing the dataset already in the database")
            async with engine.begin() as conn:  # tables newer than the dataset (kept rankings)
                await conn.run_sync(Base.metadata.create_all)
        else:
            started = time.perf_counter()
            counts = await build_nation(engine, shape)
            print(f"dataset: {counts} built in {time.perf_counter() - started:.0f} s")
        await engine.dispose()
        settings = Settings(  # type: ignore[call-arg]
            database_url=url,
            hoibot_config_dir=NATIONAL_CONFIG,
            public_base_url="http://127.0.0.1",
            _env_file=None,
        )
        ctx = AppContext.create(settings, FixedClock(NOW))
        ctx.catalog = national_catalog()
        async with make_sessionmaker(ctx.engine)() as session:
            provincial = await _person(session, Role.PROVINCIAL_STAFF, "P01")
            officer = await _person(session, Role.COMMUNE_OFFICER, "P01-001")
            leader = await _person(session, Role.BRANCH_LEADER, "P01-001-01")
            commune = await session.scalar(select(OrgUnit).where(OrgUnit.code == "P01-001"))
            branch = await session.scalar(select(OrgUnit).where(OrgUnit.code == "P01-001-01"))
            await session.commit()
            assert commune is not None and branch is not None
        server = WebServer()
        register(server.app, ctx)
        port = await server.start("127.0.0.1", 0)
        assert ctx.web_links is not None
        ctx.web_links.public_base = f"http://127.0.0.1:{port}"
        links = {who: ctx.web_links.url(p) for who, p in [("P", provincial), ("C", officer)]}
        links["B"] = ctx.web_links.url(leader)
        latest = latest_due_period(default_form(ctx.catalog), NOW.date()).key
        pages = [
            ("tracker, province", links["P"]),
            ("target by commune: rate", links["P"] + "chi-tieu/tuyen_truyen"),
            ("target by commune: coverage", links["P"] + "chi-tieu/vhvn"),
            ("unit page, province", links["P"] + f"don-vi/{provincial.unit_id}"),
            ("unit page, a commune", links["P"] + f"don-vi/{commune.id}"),
            ("indicator, province, year", links["P"] + "chi-so/ho_thoat_ngheo?ky=2025"),
            ("thi đua of a province's communes", links["P"] + "thi-dua"),
            ("tracker, commune officer", links["C"]),
            ("thi đua of a commune's branches", links["C"] + "thi-dua"),
            ("unit page, branch leader", links["B"] + f"don-vi/{branch.id}"),
            ("tracker, branch leader", links["B"]),
            ("thi đua, branch leader (her place)", links["B"] + "thi-dua"),
            ("reporting of a month, province", links["P"] + f"nop-bao-cao?ky={latest}"),
            ("reporting of a month, commune", links["C"] + f"nop-bao-cao?ky={latest}"),
            ("indicator, province, a month", links["P"] + f"chi-so/ho_thoat_ngheo?ky={latest}"),
        ]
        files = [
            ("Excel workbook, commune, year", links["C"] + "xuat.xlsx?ky=2025"),
        ]
        timings: list[Timing] = []
        async with aiohttp.ClientSession() as http:

            async def fetch(url: str) -> None:
                async with http.get(url) as r:
                    assert r.status == 200, (r.status, url)
                    await r.read()

            for name, url in pages:
                timings.append(await time_it(name, lambda u=url: fetch(u), repeat))

            async def cold(url: str) -> None:
                async with ctx.sessions() as session:  # as the first view of one not kept
                    await session.execute(delete(KeptRanking))
                    await session.commit()
                await fetch(url)

            for name, url in [
                ("thi đua of a province's communes, computed", links["P"] + "thi-dua"),
                ("thi đua of a commune's branches, computed", links["C"] + "thi-dua"),
            ]:
                timings.append(await time_it(name, lambda u=url: cold(u), max(1, repeat // 4)))
            file_timings = [
                await time_it(name, lambda u=url: fetch(u), max(1, repeat // 4))
                for name, url in files
            ]
        await server.stop()
        await ctx.close()
    rows = [
        [
            t.name,
            f"{t.pct(0.5):.0f}",
            f"{t.pct(0.95):.0f}",
            f"< {GOAL_MS} ms",
            "met" if t.pct(0.95) < GOAL_MS else "NOT met",
        ]
        for t in timings
    ]
    rows += [
        [t.name, f"{t.pct(0.5):.0f}", f"{t.pct(0.95):.0f}", "(a file)", ""] for t in file_timings
    ]
    print(table(rows, ["page", "p50 ms", "p95 ms", "goal (p95)", ""]))


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
    run(lambda: main(args.quick, args.repeat or (3 if args.quick else 20), args.reuse))
