"""A ready-to-try province: Khánh Hòa's real districts and communes (from units.csv), a
generated tree of branches, demo people for every role, and about two years of synthetic
reports with some late and missing ones, so that every staff command has something to show.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.parsing import fold
from schedules.calendar import window
from schedules.clock import VN
from schedules.periods import Period, next_period, period_of
from storage import aggregates
from storage.catalog import Catalog, Form, IndicatorType
from storage.importing import import_units
from storage.models import OrgUnit, Person, Role, Submission, SubmissionStatus, SubmissionValue

SURNAMES = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Cao",
    "Mấu",
    "Cà",
]
GIVEN = [
    "Lan",
    "Hương",
    "Mai",
    "Hoa",
    "Hạnh",
    "Thu",
    "Thủy",
    "Nga",
    "Hằng",
    "Nhung",
    "Phượng",
    "Tuyết",
    "Loan",
    "Yến",
    "Trang",
    "Diệp",
    "Liên",
    "Oanh",
    "Vân",
    "Hồng",
]

# Mean per branch and month (or per commune and half-year for the commune form). The demo has
# two years of history against a five-year term, so these are set high enough that the term
# targets show a mix of achieved, on-track and behind; Khánh Sơn and Khánh Vĩnh, the poorest
# mountain districts, achieve less.
MEANS = {
    "hv_moi": 1.26,
    "hv_ra": 0.7,
    "ho_thoat_ngheo": 0.53,
    "ld_tu_van_nghe": 3.17,
    "ld_chung_chi": 2.13,
    "ld_viec_lam": 2.88,
    "ho_5k3s": 0.347,
    "hd_vhvn": 0.4,
    "gioi_thieu_dang": 0.4,
    "cong_trinh_ntm": 1.2,
    "chi_hoi_5k3s_moi": 0.15,
    "giam_sat": 1.3,
    "phan_bien": 1.1,
    "chu_dn_nang_cao": 6.0,
    "htx_moi": 0.012,
}
LOW_REPORTING_DISTRICTS = {"KH-KS": 0.6, "KH-KV": 0.6}


@dataclass
class DemoSummary:
    units: int = 0
    people: int = 0
    submissions: int = 0
    values: int = 0
    sample_people: dict[str, Person] = field(default_factory=dict)


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} Thị {rng.choice(GIVEN)}"


async def build_demo(
    session: AsyncSession,
    catalog: Catalog,
    config_dir: Path,
    today: date,
    *,
    branches_per_commune: tuple[int, int] = (4, 9),
    months: int = 24,
    seed: int = 2021,
) -> DemoSummary:
    """Builds the demo province into an empty database."""
    if await session.scalar(select(func.count()).select_from(OrgUnit)):
        raise RuntimeError("the database already has units; the demo needs an empty one")
    rng = random.Random(seed)
    now = datetime.combine(today, time(8), tzinfo=VN)
    await import_units(session, catalog, config_dir / "units.csv")
    summary = DemoSummary()
    units = list((await session.scalars(select(OrgUnit).order_by(OrgUnit.id))).all())
    by_code = {u.code: u for u in units}
    communes = [u for u in units if u.level == "commune"]
    branches: list[OrgUnit] = []
    from storage.units import create_unit

    for commune in communes:
        low, high = (2, 3) if commune.code.startswith("KH-TS") else branches_per_commune
        urban = fold(commune.name).startswith(("phuong", "thi tran"))
        for i in range(1, rng.randint(low, high) + 1):
            label = f"Chi hội tổ dân phố {i}" if urban else f"Chi hội thôn {i}"
            branches.append(
                await create_unit(
                    session,
                    code=f"{commune.code}-{i:02d}",
                    name=label,
                    level="branch",
                    parent=commune,
                    member_count=rng.randint(30, 300),
                )
            )
    summary.units = len(units) + len(branches)

    people: list[Person] = []

    def add(role: str, unit: OrgUnit, name: str | None = None) -> Person:
        person = Person(
            full_name=name or _name(rng),
            phone=f"09{len(people) + 1:08d}",
            role=role,
            unit_id=unit.id,
            created_at=now,
        )
        people.append(person)
        return person

    province = by_code[catalog.province or "KH"]
    summary.sample_people["admin"] = add(Role.ADMIN, province, "Quản trị hệ thống")
    summary.sample_people["provincial_staff"] = add(
        Role.PROVINCIAL_STAFF, province, "Nguyễn Thị Hương"
    )
    add(Role.PROVINCIAL_STAFF, province, "Trần Thị Minh Thư")
    for unit in units:
        if unit.level == "district":
            p = add(Role.DISTRICT_OFFICER, unit)
            if unit.code == "KH-KS":
                summary.sample_people["district_officer"] = p
    for commune in communes:
        p = add(Role.COMMUNE_OFFICER, commune)
        summary.sample_people.setdefault("commune_officer", p)
    for branch in branches:
        p = add(Role.BRANCH_LEADER, branch)
        summary.sample_people.setdefault("branch_leader", p)
    session.add_all(people)
    await session.flush()
    summary.people = len(people)

    district_of = {u.id: u.code for u in units if u.level == "district"}
    factor = {}
    for unit in communes + branches:
        district_id = int(unit.path.strip("/").split("/")[1])
        factor[unit.id] = LOW_REPORTING_DISTRICTS.get(district_of.get(district_id, ""), 1.0)
    activity = {c.id: rng.choice([1.0, 1.0, 1.0, 0.05]) for c in communes}
    members = {b.id: float(b.member_count or 0) for b in branches}
    disabled = {b.id: float(rng.randint(0, 6)) for b in branches}
    running: dict[tuple[int, str, int], float] = {}  # a running total so far in the year

    first = period_of("month", today)
    for _ in range(months):
        first = period_of("month", first.start - timedelta(days=1))
    for form in catalog.forms.values():
        reporters = [u for u in [*units, *branches] if u.level == form.level]
        period = period_of(form.periodicity, first.start)
        while period.start <= today:
            w = window(form, period)
            if w.opens <= today:
                n_sub, n_val = await _fill_period(
                    session,
                    catalog,
                    form,
                    period,
                    reporters,
                    rng,
                    today,
                    now,
                    factor,
                    activity,
                    members,
                    disabled,
                    running,
                )
                summary.submissions += n_sub
                summary.values += n_val
            period = next_period(period)
    await aggregates.rebuild(session, catalog)
    return summary


async def _fill_period(
    session: AsyncSession,
    catalog: Catalog,
    form: Form,
    period: Period,
    reporters: list[OrgUnit],
    rng: random.Random,
    today: date,
    now: datetime,
    factor: dict[int, float],
    activity: dict[int, float],
    members: dict[int, float],
    disabled: dict[int, float],
    running: dict[tuple[int, str, int], float],
) -> tuple[int, int]:
    w = window(form, period)
    share = 0.95 if today > w.due else 0.3
    rows, answers = [], []
    for unit in reporters:
        if rng.random() > share:
            continue
        late = today > w.due and rng.random() < 0.1
        day = (
            w.due + timedelta(days=rng.randint(1, 6))
            if late
            else w.due - timedelta(days=rng.randint(0, max(0, (w.due - w.opens).days)))
        )
        day = min(day, today)
        at = datetime.combine(day, time(rng.randint(7, 20), rng.randint(0, 59)), tzinfo=VN)
        rows.append(
            dict(
                unit_id=unit.id,
                form_code=form.code,
                period_key=period.key,
                period_start=period.start,
                period_end=period.end,
                status=SubmissionStatus.SUBMITTED,
                created_at=at,
                updated_at=at,
                submitted_at=at,
                late=late,
                reopened=False,
            )
        )
        answers.append(
            _answers(catalog, form, period, unit, rng, factor, activity, members, disabled, running)
        )
    if not rows:
        return 0, 0
    ids = (
        await session.scalars(
            insert(Submission).returning(Submission.id, sort_by_parameter_order=True), rows
        )
    ).all()
    values = [
        dict(
            submission_id=sid,
            indicator_code=code,
            unit_id=row["unit_id"],
            period_start=period.start,
            period_end=period.end,
            submitted=True,
            value_num=v if not isinstance(v, str) else None,
            value_text=v if isinstance(v, str) else None,
        )
        for sid, ans, row in zip(ids, answers, rows, strict=True)
        for code, v in ans.items()
    ]
    await session.execute(insert(SubmissionValue), values)
    return len(rows), len(values)


def _answers(
    catalog: Catalog,
    form: Form,
    period: Period,
    unit: OrgUnit,
    rng: random.Random,
    factor: dict[int, float],
    activity: dict[int, float],
    members: dict[int, float],
    disabled: dict[int, float],
    running: dict[tuple[int, str, int], float],
) -> dict[str, float | str]:
    out: dict[str, float | str] = {}
    f = factor.get(unit.id, 1.0)
    months_in_year = period.end.month
    for q in form.questions:
        code = q.indicator
        ind = catalog.indicators[code]
        if q.optional and rng.random() < 0.3:
            continue
        if ind.type == IndicatorType.TEXT:
            continue
        if ind.type == IndicatorType.YES_NO:
            out[code] = 1.0 if rng.random() < 0.8 else 0.0
        elif ind.type == IndicatorType.CHOICE:  # mostly the upper ratings
            ranked = sorted(c.value for c in ind.choices)
            out[code] = ranked[-1 - min(int(rng.expovariate(1.2)), len(ranked) - 1)]
        elif code == "tong_hoi_vien":
            members[unit.id] += out.get("hv_moi", 0) - out.get("hv_ra", 0)  # type: ignore[operator]
            out[code] = max(members[unit.id], 0)
        elif code == "pn_khuyet_tat":
            out[code] = disabled[unit.id]
        elif code == "pn_kt_ho_tro":  # running total since January
            out[code] = float(
                min(
                    disabled[unit.id],
                    round(disabled[unit.id] * months_in_year / 12 * rng.uniform(0.8, 1.1)),
                )
            )
        elif code == "hv_tuyen_truyen":  # running total since January
            out[code] = float(
                round(
                    members[unit.id] * min(1.0, months_in_year / 12 * 1.3 * rng.uniform(0.85, 1.0))
                )
            )
        else:
            mean = MEANS.get(code, 1.0) * f
            if code == "hd_vhvn":
                mean *= activity.get(unit.parent_id or 0, 1.0)
            out[code] = float(_poisson(rng, mean))
        # The demo keeps its forms' rules: "of those" within the whole, and running totals
        # since January never below the month before.
        if code == "ld_chung_chi":
            out[code] = min(out[code], float(out.get("ld_tu_van_nghe", 0.0)))
        if code in ("pn_kt_ho_tro", "hv_tuyen_truyen"):
            key = (unit.id, code, period.end.year)
            out[code] = running[key] = max(float(out[code]), running.get(key, 0.0))
    return out
