"""Small hand-made trees and reports for tests whose expected numbers are worked out by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import DEMO_CONFIG_DIR
from storage.db import aggregates
from storage.db.invitations import create_invitation
from storage.db.models import OrgUnit, Person, Role, Submission, SubmissionStatus, SubmissionValue
from storage.db.units import create_unit
from storage.plan.catalog import Catalog
from storage.plan.catalog_load import load_catalog
from storage.plan.clock import vn_datetime
from storage.plan.periods import Period

CATALOG = load_catalog(DEMO_CONFIG_DIR)


@dataclass
class Tree:
    province: OrgUnit
    d1: OrgUnit  # code KH-KS
    d2: OrgUnit  # code KH-KV
    d3: OrgUnit
    c1: OrgUnit  # in d1
    c2: OrgUnit  # in d1
    c3: OrgUnit  # in d2
    c4: OrgUnit  # in d3
    b1: OrgUnit  # in c1
    b2: OrgUnit  # in c1
    b3: OrgUnit  # in c2
    b4: OrgUnit  # in c3
    b5: OrgUnit  # in c4

    @property
    def branches(self) -> list[OrgUnit]:
        return [self.b1, self.b2, self.b3, self.b4, self.b5]


async def small_tree(session: AsyncSession) -> Tree:
    """KH ─ KH-KS ─ C1 (B1, B2), C2 (B3); KH-KV ─ C3 (B4); D3 ─ C4 (B5)."""

    async def unit(code: str, level: str, parent: OrgUnit | None, name: str = "") -> OrgUnit:
        return await create_unit(
            session, code=code, name=name or code, level=level, parent=parent, member_count=100
        )

    p = await unit("KH", "province", None, "Tỉnh Khánh Hòa")
    d1 = await unit("KH-KS", "district", p, "Huyện Khánh Sơn")
    d2 = await unit("KH-KV", "district", p, "Huyện Khánh Vĩnh")
    d3 = await unit("KH-D3", "district", p, "Huyện Ba")
    c1 = await unit("C1", "commune", d1, "Xã Sơn Bình")
    c2 = await unit("C2", "commune", d1, "Xã Sơn Hiệp")
    c3 = await unit("C3", "commune", d2, "Xã Khánh Bình")
    c4 = await unit("C4", "commune", d3, "Xã Bốn")
    b1 = await unit("B1", "branch", c1, "Chi hội thôn 1")
    b2 = await unit("B2", "branch", c1, "Chi hội thôn 2")
    b3 = await unit("B3", "branch", c2, "Chi hội thôn 3")
    b4 = await unit("B4", "branch", c3, "Chi hội thôn 4")
    b5 = await unit("B5", "branch", c4, "Chi hội thôn 5")
    await session.commit()
    return Tree(p, d1, d2, d3, c1, c2, c3, c4, b1, b2, b3, b4, b5)


async def report(
    session: AsyncSession,
    unit: OrgUnit,
    form_code: str,
    period: Period,
    values: dict[str, float | str],
    *,
    status: str = SubmissionStatus.SUBMITTED,
    late: bool = False,
    at: datetime | None = None,
    catalog: Catalog = CATALOG,  # says which indicators the kept totals keep
) -> Submission:
    at = at or vn_datetime(period.end.year, period.end.month, period.end.day, 10)
    sub = Submission(
        unit_id=unit.id,
        form_code=form_code,
        period_key=period.key,
        period_start=period.start,
        period_end=period.end,
        status=status,
        created_at=at,
        updated_at=at,
        submitted_at=at if status == SubmissionStatus.SUBMITTED else None,
        late=late,
    )
    session.add(sub)
    await session.flush()
    for code, value in values.items():
        session.add(
            SubmissionValue(
                submission_id=sub.id,
                indicator_code=code,
                unit_id=unit.id,
                period_start=period.start,
                period_end=period.end,
                submitted=status == SubmissionStatus.SUBMITTED,
                value_num=None if isinstance(value, str) else float(value),
                value_text=value if isinstance(value, str) else None,
            )
        )
    if status == SubmissionStatus.SUBMITTED:  # as reporting.submit does
        numbers = {k: float(v) for k, v in values.items() if not isinstance(v, str)}
        await aggregates.add(session, catalog, sub, numbers)
        await aggregates.change_stocks(session, catalog, sub, {}, numbers)
    await session.commit()
    return sub


@dataclass
class People:
    tree: Tree
    leader: Person  # of B1, 100 members
    commune_officer: Person  # of C1
    district_officer: Person  # of KH-KS
    provincial: Person


async def small_tree_with_people(session: AsyncSession, now: datetime) -> People:
    tree = await small_tree(session)

    def person(name: str, role: str, unit: OrgUnit) -> Person:
        p = Person(full_name=name, role=role, unit_id=unit.id, created_at=now)
        session.add(p)
        return p

    people = People(
        tree,
        person("Nguyễn Thị Lan", Role.BRANCH_LEADER, tree.b1),
        person("Trần Thị Mai", Role.COMMUNE_OFFICER, tree.c1),
        person("Lê Thị Hoa", Role.DISTRICT_OFFICER, tree.d1),
        person("Phạm Thị Hương", Role.PROVINCIAL_STAFF, tree.province),
    )
    await session.commit()
    return people


async def invite(session: AsyncSession, person: Person, now: datetime, days: int = 30) -> str:
    invitation = await create_invitation(session, person, now, days)
    await session.commit()
    return invitation.code


async def linked(
    session: AsyncSession, person: Person, channel: str, user_id: str, now: datetime
) -> None:
    """A person joined on a channel (as the operator's terminal does it) who has accepted
    the personal-data notice already, as everyone who joins does first."""
    from storage.db.invitations import link_directly
    from storage.db.personal_data.notice import record_accepted

    await link_directly(session, person, channel, user_id, now)
    await record_accepted(session, person, "the notice", channel=channel, now=now)
