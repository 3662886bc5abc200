"""Shared pieces of the benchmarks: databases, a national-scale dataset, timing tables."""

from __future__ import annotations

import asyncio
import os
import random
import resource
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import aggregates
from storage.db.models import (
    Base,
    ChannelIdentity,
    NoticeAcceptance,
    OrgUnit,
    Person,
    Role,
    Submission,
    SubmissionStatus,
    SubmissionValue,
    UnitAncestor,
)
from storage.db.sessions import make_engine
from storage.plan.catalog import Catalog
from storage.plan.catalog_load import load_catalog
from storage.plan.periods import month

NATIONAL_CONFIG = Path(__file__).resolve().parent / "national"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/hoibot_bench"
BATCH = 20_000
NOW = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)


def national_catalog() -> Catalog:
    return load_catalog(NATIONAL_CONFIG)


async def database(kind: str, tmp: Path) -> str:
    """A URL for an empty benchmark database (PostgreSQL: created if it is missing)."""
    if kind == "sqlite":
        path = tmp / "bench.db"
        path.unlink(missing_ok=True)
        return f"sqlite+aiosqlite:///{path}"
    url = os.environ.get("BENCH_DATABASE_URL", PG_DEFAULT)
    import asyncpg

    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(
        url.rsplit("/", 1)[0].replace("postgresql+asyncpg", "postgresql") + "/postgres"
    )
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
        # The planner's default assumes spinning disks; on SSDs (as here) index lookups are
        # cheap. The production database should be set the same way (see bench/README.md).
        await admin.execute(f'ALTER DATABASE "{name}" SET random_page_cost = 1.1')
    finally:
        await admin.close()
    return url


async def fresh_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)


async def bring_up_to_date(engine: AsyncEngine) -> None:
    """A dataset built by older code, reused: tables added since are created and the kept
    stocks filled from its reports (as `hoibot db upgrade` does)."""
    from storage.db.sessions import make_sessionmaker

    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)  # only the missing tables
    async with make_sessionmaker(engine)() as session, session.begin():
        started = time.perf_counter()
        if await aggregates.fill_stocks_if_empty(session, national_catalog()):
            print(f"kept stocks filled in {time.perf_counter() - started:.0f} s")


@dataclass
class Shape:
    provinces: int
    communes: int  # per province
    branches: int  # per commune
    months: int  # of monthly reports, ending December 2025
    people: bool = True

    @property
    def branch_count(self) -> int:
        return self.provinces * self.communes * self.branches


FORM_CODES = [
    "hv_moi",
    "hv_ra",
    "ho_thoat_ngheo",
    "ld_tu_van_nghe",
    "ld_chung_chi",
    "ld_viec_lam",
    "ho_5k3s",
    "hd_vhvn",
    "tong_hoi_vien",
    "pn_kt_ho_tro",
]


async def _insert_batches(engine: AsyncEngine, table, rows) -> None:  # type: ignore[no-untyped-def]
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            async with engine.begin() as conn:
                await conn.execute(insert(table), batch)
            batch = []
    if batch:
        async with engine.begin() as conn:
            await conn.execute(insert(table), batch)


async def build_nation(engine: AsyncEngine, shape: Shape, seed: int = 34) -> dict[str, int]:
    """A country of `shape`, with people (one leader a branch, linked on Telegram) and
    monthly reports with realistic gaps and late ones."""
    rng = random.Random(seed)
    await fresh_schema(engine)
    units, closure = [], []
    country = 1
    units.append(
        dict(
            id=country,
            code="VN",
            name="Toàn quốc",
            name_folded="toan quoc",
            level="country",
            parent_id=None,
            path="/1/",
            depth=0,
            valid_from=date(2000, 1, 1),
            member_count=None,
        )
    )
    closure.append(dict(unit_id=1, ancestor_id=1, ancestor_level="country"))
    next_id = 2
    branch_ids: list[int] = []
    commune_ids: list[int] = []
    province_ids: list[int] = []
    for p in range(1, shape.provinces + 1):
        pid = next_id
        next_id += 1
        province_ids.append(pid)
        units.append(
            dict(
                id=pid,
                code=f"P{p:02d}",
                name=f"Tỉnh {p}",
                name_folded=f"tinh {p}",
                level="province",
                parent_id=1,
                path=f"/1/{pid}/",
                depth=1,
                valid_from=date(2000, 1, 1),
                member_count=None,
            )
        )
        closure += [
            dict(unit_id=pid, ancestor_id=a, ancestor_level=lv)
            for a, lv in ((1, "country"), (pid, "province"))
        ]
        for c in range(1, shape.communes + 1):
            cid = next_id
            next_id += 1
            commune_ids.append(cid)
            units.append(
                dict(
                    id=cid,
                    code=f"P{p:02d}-{c:03d}",
                    name=f"Xã {p}-{c}",
                    name_folded=f"xa {p}-{c}",
                    level="commune",
                    parent_id=pid,
                    path=f"/1/{pid}/{cid}/",
                    depth=2,
                    valid_from=date(2000, 1, 1),
                    member_count=None,
                )
            )
            closure += [
                dict(unit_id=cid, ancestor_id=a, ancestor_level=lv)
                for a, lv in ((1, "country"), (pid, "province"), (cid, "commune"))
            ]
            for b in range(1, shape.branches + 1):
                bid = next_id
                next_id += 1
                branch_ids.append(bid)
                units.append(
                    dict(
                        id=bid,
                        code=f"P{p:02d}-{c:03d}-{b:02d}",
                        name=f"Chi hội {b}",
                        name_folded=f"chi hoi {b}",
                        level="branch",
                        parent_id=cid,
                        path=f"/1/{pid}/{cid}/{bid}/",
                        depth=3,
                        valid_from=date(2000, 1, 1),
                        member_count=rng.randint(30, 300),
                    )
                )
                closure += [
                    dict(unit_id=bid, ancestor_id=a, ancestor_level=lv)
                    for a, lv in (
                        (1, "country"),
                        (pid, "province"),
                        (cid, "commune"),
                        (bid, "branch"),
                    )
                ]
    await _insert_batches(engine, OrgUnit, units)
    await _insert_batches(engine, UnitAncestor, closure)
    counts = {"units": len(units), "branches": len(branch_ids)}
    if shape.people:
        people, accounts, notices = [], [], []
        pid_seq = 1
        for role, ids in (
            (Role.BRANCH_LEADER, branch_ids),
            (Role.COMMUNE_OFFICER, commune_ids),
            (Role.PROVINCIAL_STAFF, province_ids),
        ):
            for unit_id in ids:
                people.append(
                    dict(
                        id=pid_seq,
                        full_name=f"Nguyễn Thị {pid_seq}",
                        role=role,
                        unit_id=unit_id,
                        active=True,
                        created_at=NOW,
                        last_channel="telegram",
                    )
                )
                accounts.append(
                    dict(
                        person_id=pid_seq,
                        channel="telegram",
                        external_id=str(1_000_000 + pid_seq),
                        chat_id=str(1_000_000 + pid_seq),
                        linked_at=NOW,
                        unreachable=False,
                    )
                )
                # Joined long ago and accepted the personal-data notice, as everyone using
                # the bot has: its one-time showing is no part of what is measured.
                notices.append(
                    dict(person_id=pid_seq, notice_hash="bench", shown_at=NOW, accepted_at=NOW)
                )
                pid_seq += 1
        await _insert_batches(engine, Person, people)
        await _insert_batches(engine, ChannelIdentity, accounts)
        await _insert_batches(engine, NoticeAcceptance, notices)
        counts["people"] = len(people)
    if shape.months:
        counts |= await _reports(engine, shape, branch_ids, rng)
    if engine.dialect.name == "postgresql":
        await _reset_sequences(engine)
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    return counts


async def _reports(
    engine: AsyncEngine, shape: Shape, branch_ids: list[int], rng: random.Random
) -> dict[str, int]:
    periods = []
    current = month(2025, 12)
    for _ in range(shape.months):
        periods.append(current)
        current = month(
            current.start.year - (current.start.month == 1),
            12 if current.start.month == 1 else current.start.month - 1,
        )
    subs, values = [], []
    sub_id = 1
    for period in periods:
        at = datetime.combine(period.end + timedelta(days=3), datetime.min.time(), tzinfo=UTC)
        for bid in branch_ids:
            if rng.random() < 0.04:  # gaps: about 4% never report
                continue
            subs.append(
                dict(
                    id=sub_id,
                    unit_id=bid,
                    form_code="thang_chi_hoi",
                    period_key=period.key,
                    period_start=period.start,
                    period_end=period.end,
                    status=SubmissionStatus.SUBMITTED,
                    created_at=at,
                    updated_at=at,
                    submitted_at=at,
                    late=rng.random() < 0.1,
                    reopened=False,
                )
            )
            for code in FORM_CODES:
                values.append(
                    dict(
                        submission_id=sub_id,
                        indicator_code=code,
                        unit_id=bid,
                        period_start=period.start,
                        period_end=period.end,
                        submitted=True,
                        value_num=float(
                            rng.randint(0, 4) if code != "tong_hoi_vien" else rng.randint(30, 300)
                        ),
                    )
                )
            sub_id += 1
        if len(values) > 400_000:
            await _insert_batches(engine, Submission, subs)
            await _insert_batches(engine, SubmissionValue, values)
            subs, values = [], []
    await _insert_batches(engine, Submission, subs)
    await _insert_batches(engine, SubmissionValue, values)
    from storage.db.sessions import make_sessionmaker

    async with make_sessionmaker(engine)() as session, session.begin():
        await aggregates.rebuild(session, national_catalog())
    return {"submissions": sub_id - 1, "values": (sub_id - 1) * len(FORM_CODES)}


async def _reset_sequences(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for table in (
            "org_units",
            "people",
            "channel_identities",
            "submissions",
            "submission_values",
        ):
            await conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
                )
            )


# ---- measuring ----------------------------------------------------------------------------


@dataclass
class Timing:
    name: str
    samples: list[float]

    def pct(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def time_it(name: str, work: Callable[[], Awaitable[object]], repeat: int) -> Timing:
    await work()  # warm up
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await work()
        samples.append(time.perf_counter() - started)
    return Timing(name, samples)


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def engine_for(url: str) -> AsyncEngine:
    return make_engine(url, **({} if url.startswith("sqlite") else {"pool_size": 20}))


def run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(main())
