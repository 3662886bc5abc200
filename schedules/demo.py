"""A ready-to-try province, built from its configuration folder: the real districts and
communes of `units.csv`, a generated tree of branches, demo people for every role, and a short
synthetic history of reports with some late and missing ones, so that every staff command has
something to show. How the history looks (means, stocks, weaker areas) is data too, in the
folder's `demo.yaml`; without one, every count has a mean of 1 per unit and period.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from schedules.calendar import window
from storage.db import aggregates
from storage.db.importing import import_units
from storage.db.models import OrgUnit, Person, Role, Submission, SubmissionStatus, SubmissionValue
from storage.db.units import create_unit
from storage.plan.catalog import Catalog, Form, IndicatorType
from storage.plan.clock import VN
from storage.plan.config_files import ConfigError, load_yaml_with_lines, nearest_line
from storage.plan.periods import Period, next_period, period_of
from storage.plan.text import fold

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

Range = Annotated[list[float], Field(min_length=2, max_length=2)]
IntRange = Annotated[list[int], Field(min_length=2, max_length=2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Members(_Strict):
    plus: str | None = None  # the unit's count grows by this answer…
    minus: str | None = None  # …and shrinks by this one, in the same report


class Synthetic(_Strict):
    """How one indicator's answers are made up; at most one way per indicator."""

    mean: float | None = None  # a count: Poisson with this mean per unit and period
    yes_share: float | None = Field(None, ge=0, le=1)  # yes/no: chance of a "yes"
    # A stock kept per unit: its member count moved by new and leaving members…
    members: Members | None = None
    fixed: IntRange | None = None  # …or a whole number drawn once per unit…
    scaled: str | None = None  # …or another stock's starting value times a factor in `by`
    by: Range | None = None
    # A running total since January: this share of a stock, growing through the year
    # (`pace` 1.3: the whole stock by October), times a factor drawn in `spread`.
    running_share_of: str | None = None
    pace: float = 1.0
    spread: Range = [1.0, 1.0]
    # Part of another answer of the same report (supported among victims found).
    part_of: str | None = None
    share: Range | None = None

    @model_validator(mode="after")
    def _one_way(self) -> Synthetic:
        ways = [
            self.mean is not None,
            self.yes_share is not None,
            self.members is not None,
            self.fixed is not None,
            self.scaled is not None,
            self.running_share_of is not None,
            self.part_of is not None,
        ]
        if sum(ways) > 1:
            raise ValueError("give one way to make the answers up, not several")
        if (self.scaled is None) != (self.by is None):
            raise ValueError("'scaled' and 'by' go together")
        if (self.part_of is None) != (self.share is None):
            raise ValueError("'part_of' and 'share' go together")
        return self


class QuietCommunes(_Strict):
    """One commune in `one_in` does little of `indicators` (their means times `factor`)."""

    one_in: int = Field(ge=2)
    factor: float = Field(ge=0)
    indicators: list[str]


class BranchNames(_Strict):
    urban: str = "Chi hội tổ dân phố {n}"  # under a ward or township
    rural: str = "Chi hội thôn {n}"


class DemoSettings(_Strict):
    months: int = Field(24, ge=1, le=120)  # how far back the history goes
    branches_per_commune: IntRange = [4, 9]
    # Fewer branches under these units (a unit code: its communes get this many).
    branches_under: dict[str, IntRange] = Field(default_factory=dict)
    members_per_branch: IntRange = [30, 300]
    branch_names: BranchNames = BranchNames()
    # Units (and all below them) that achieve less: their means are multiplied by the factor.
    weaker: dict[str, float] = Field(default_factory=dict)
    quiet_communes: QuietCommunes | None = None
    sample_district: str | None = None  # the district whose officer is printed
    indicators: dict[str, Synthetic] = Field(default_factory=dict)

    def way(self, code: str) -> Synthetic:
        return self.indicators.get(code, Synthetic())


def load_demo_settings(folder: Path, catalog: Catalog) -> DemoSettings:
    """The folder's `demo.yaml`, checked against its catalog; defaults when there is none."""
    path = folder / "demo.yaml"
    if not path.exists():
        return DemoSettings()
    try:
        data, lines = load_yaml_with_lines(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError([f"{path}{line}: not valid YAML ({exc})"]) from exc
    try:
        settings = DemoSettings.model_validate(data or {})
    except ValidationError as exc:
        raise ConfigError(
            [
                f"{path}:{nearest_line(lines, err['loc'])}: field "
                f"'{'.'.join(str(p) for p in err['loc'])}': {err['msg']}"
                for err in exc.errors()
            ]
        ) from exc
    problems = []
    for code, way in settings.indicators.items():
        refs = [code, way.scaled, way.running_share_of, way.part_of]
        refs += [way.members.plus, way.members.minus] if way.members else []
        for ref in refs:
            if ref and ref not in catalog.indicators:
                line_no = nearest_line(lines, ("indicators", code))
                problems.append(
                    f"{path}:{line_no}: field 'indicators.{code}': unknown indicator '{ref}'"
                )
    if problems:
        raise ConfigError(problems)
    return settings


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


@dataclass
class _History:
    """What the generator keeps between reports: the units' stocks and their factors."""

    demo: DemoSettings
    rng: random.Random
    factor: dict[int, float]  # weaker areas
    quiet: dict[int, float]  # communes doing little of some indicators
    stocks: dict[str, dict[int, float]]  # each unit's latest figure
    # Member counts: where each unit started and its moves (end of period, change), so a
    # count asked in another form than the moves (quarterly after monthly) is the count at
    # the end of its own period.
    starts: dict[str, dict[int, float]] = field(default_factory=dict)
    moves: dict[str, dict[int, list[tuple[date, float]]]] = field(default_factory=dict)
    # Running totals so far in each year: never below an earlier month's (the forms' rules).
    running: dict[tuple[str, int, int], float] = field(default_factory=dict)

    def move(self, code: str, way: Synthetic, unit_id: int, end: date, out: dict) -> None:
        assert way.members is not None
        delta = out.get(way.members.plus or "", 0.0) - out.get(way.members.minus or "", 0.0)
        self.moves.setdefault(code, {}).setdefault(unit_id, []).append((end, delta))
        self.stocks[code][unit_id] = self.stocks[code].get(unit_id, 0.0) + delta

    def count_at(self, code: str, unit_id: int, end: date) -> float:
        moved = sum(d for day, d in self.moves.get(code, {}).get(unit_id, []) if day <= end)
        return self.starts[code].get(unit_id, 0.0) + moved


async def build_demo(
    session: AsyncSession,
    catalog: Catalog,
    config_dir: Path,
    today: date,
    *,
    branches_per_commune: tuple[int, int] | None = None,
    months: int | None = None,
    seed: int = 2021,
) -> DemoSummary:
    """Builds the province of `config_dir` into an empty database."""
    if await session.scalar(select(func.count()).select_from(OrgUnit)):
        raise RuntimeError("the database already has units; the demo needs an empty one")
    demo = load_demo_settings(config_dir, catalog)
    rng = random.Random(seed)
    now = datetime.combine(today, time(8), tzinfo=VN)
    await import_units(session, catalog, config_dir / "units.csv")
    summary = DemoSummary()
    units = list((await session.scalars(select(OrgUnit).order_by(OrgUnit.id))).all())
    by_code = {u.code: u for u in units}
    code_of = {u.id: u.code for u in units}
    communes = [u for u in units if u.level == "commune"]
    branches: list[OrgUnit] = []
    for commune in communes:
        low, high = next(
            (r for code, r in demo.branches_under.items() if commune.code.startswith(code)),
            branches_per_commune or demo.branches_per_commune,
        )
        urban = fold(commune.name).startswith(("phuong", "thi tran"))
        template = demo.branch_names.urban if urban else demo.branch_names.rural
        for i in range(1, rng.randint(low, high) + 1):
            branches.append(
                await create_unit(
                    session,
                    code=f"{commune.code}-{i:02d}",
                    name=template.format(n=i),
                    level="branch",
                    parent=commune,
                    member_count=rng.randint(*demo.members_per_branch),
                )
            )
    summary.units = len(units) + len(branches)
    code_of |= {b.id: b.code for b in branches}

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

    province = next(u for u in units if u.depth == 0)
    province = by_code.get(catalog.province or "", province)
    summary.sample_people["admin"] = add(Role.ADMIN, province, "Quản trị hệ thống")
    summary.sample_people["provincial_staff"] = add(
        Role.PROVINCIAL_STAFF, province, "Nguyễn Thị Hương"
    )
    add(Role.PROVINCIAL_STAFF, province, "Trần Thị Minh Thư")
    for unit in units:
        if unit.level == "district":
            p = add(Role.DISTRICT_OFFICER, unit)
            if unit.code == demo.sample_district or demo.sample_district is None:
                summary.sample_people.setdefault("district_officer", p)
    for commune in communes:
        p = add(Role.COMMUNE_OFFICER, commune)
        summary.sample_people.setdefault("commune_officer", p)
    for branch in branches:
        p = add(Role.BRANCH_LEADER, branch)
        summary.sample_people.setdefault("branch_leader", p)
    session.add_all(people)
    await session.flush()
    summary.people = len(people)

    everyone = units + branches
    reporters = {lv.code: [u for u in everyone if u.level == lv.code] for lv in catalog.levels}
    history = _History(demo, rng, {}, {}, {})
    for unit in everyone:
        # The first ancestor (or the unit itself) named among the weaker areas sets its factor.
        ancestors = [code_of[int(i)] for i in reversed(unit.path.strip("/").split("/"))]
        history.factor[unit.id] = next((demo.weaker[c] for c in ancestors if c in demo.weaker), 1.0)
    if demo.quiet_communes:
        choices = [1.0] * (demo.quiet_communes.one_in - 1) + [demo.quiet_communes.factor]
        history.quiet = {c.id: rng.choice(choices) for c in communes}
    # Stocks start before the first report; an indicator asked at several levels (each unit
    # about itself) has one stock per unit of each.
    for form in catalog.forms.values():
        for q in form.questions:
            way, stock = demo.way(q.indicator), history.stocks.setdefault(q.indicator, {})
            if way.members is not None:
                start = {u.id: float(u.member_count or 0) for u in reporters[form.level]}
                stock.update(start)
                history.starts.setdefault(q.indicator, {}).update(start)
            elif way.fixed is not None:
                low, high = way.fixed
                stock.update({u.id: float(rng.randint(low, high)) for u in reporters[form.level]})
    for form in catalog.forms.values():
        for q in form.questions:
            way, stock = demo.way(q.indicator), history.stocks[q.indicator]
            if way.scaled is not None and way.by is not None:
                base = history.stocks.get(way.scaled, {})
                stock.update(
                    {
                        u.id: float(round(base.get(u.id, 0.0) * rng.uniform(*way.by)))
                        for u in reporters[form.level]
                    }
                )

    first = period_of("month", today)
    for _ in range(months or demo.months):
        first = period_of("month", first.start - timedelta(days=1))
    for form in catalog.forms.values():
        period = period_of(form.periodicity, first.start)
        while period.start <= today:
            if window(form, period).opens <= today:
                n_sub, n_val = await _fill_period(
                    session, catalog, form, period, reporters[form.level], today, history
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
    today: date,
    history: _History,
) -> tuple[int, int]:
    rng = history.rng
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
        answers.append(_answers(catalog, form, period, unit, history))
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
            value_num=v,
            value_text=None,
        )
        for sid, ans, row in zip(ids, answers, rows, strict=True)
        for code, v in ans.items()
    ]
    await session.execute(insert(SubmissionValue), values)
    return len(rows), len(values)


def _answers(
    catalog: Catalog, form: Form, period: Period, unit: OrgUnit, history: _History
) -> dict[str, float]:
    rng, demo = history.rng, history.demo
    out: dict[str, float] = {}
    f = history.factor.get(unit.id, 1.0)
    months_in_year = period.end.month
    asked = {q.indicator for q in form.questions}
    moved: set[str] = set()
    for q in form.questions:
        code = q.indicator
        ind = catalog.indicators[code]
        way = demo.way(code)
        if q.optional and rng.random() < 0.3:
            continue
        if ind.type == IndicatorType.TEXT:
            continue
        if ind.type == IndicatorType.YES_NO:
            chance = 0.8 if way.yes_share is None else way.yes_share
            out[code] = 1.0 if rng.random() < chance else 0.0
        elif ind.type == IndicatorType.CHOICE:  # mostly the upper ratings
            ranked = sorted(c.value for c in ind.choices)
            out[code] = ranked[-1 - min(int(rng.expovariate(1.2)), len(ranked) - 1)]
        elif way.members is not None:
            if {way.members.plus, way.members.minus} & asked:
                history.move(code, way, unit.id, period.end, out)
                moved.add(code)
            out[code] = max(history.count_at(code, unit.id, period.end), 0)
        elif way.fixed is not None or way.scaled is not None:
            out[code] = history.stocks[code].get(unit.id, 0.0)
        elif way.running_share_of is not None:
            base = history.stocks.get(way.running_share_of, {}).get(unit.id, 0.0)
            grown = months_in_year / 12 * way.pace * rng.uniform(*way.spread)
            key = (code, unit.id, period.end.year)
            out[code] = float(round(base * min(1.0, grown)))
            out[code] = history.running[key] = max(out[code], history.running.get(key, 0.0))
        elif way.part_of is not None and way.share is not None:
            out[code] = float(round(out.get(way.part_of, 0.0) * rng.uniform(*way.share)))
        else:
            mean = (1.0 if way.mean is None else way.mean) * f
            if demo.quiet_communes and code in demo.quiet_communes.indicators:
                mean *= history.quiet.get(unit.id, history.quiet.get(unit.parent_id or 0, 1.0))
            out[code] = float(_poisson(rng, mean))
    # Moves asked without the count (monthly moves, quarterly count: list that form first).
    for code in sorted(history.starts.keys() - moved):
        way = demo.way(code)
        if way.members and {way.members.plus, way.members.minus} & asked:
            history.move(code, way, unit.id, period.end, out)
    return out
