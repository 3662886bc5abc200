"""Operators' imports of units and people from CSV or XLSX.

Every row is checked before anything is written; errors name the row. The whole file is
written in one transaction, so nothing is half-imported.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.parsing import fold
from storage.catalog import Catalog
from storage.models import OrgUnit, Person, Role
from storage.units import create_unit, move_unit

Progress = Callable[[int], None]

UNIT_COLUMNS = {
    "code": ("code", "ma", "ma don vi"),
    "name": ("name", "ten", "ten don vi"),
    "level": ("level", "cap"),
    "parent_code": ("parent_code", "parent", "ma cap tren", "cap tren"),
    "valid_from": ("valid_from", "tu ngay"),
    "member_count": ("member_count", "so hoi vien"),
}
PEOPLE_COLUMNS = {
    "full_name": ("full_name", "name", "ho ten", "ho va ten"),
    "phone": ("phone", "so dien thoai", "dien thoai"),
    "role": ("role", "vai tro", "chuc vu"),
    "unit_code": ("unit_code", "unit", "ma don vi", "don vi"),
    # Where reminders go when she uses both: telegram or zalo; empty = the one used last.
    "channel": ("channel", "preferred_channel", "kenh", "kenh nhac"),
}
CHANNELS = ("telegram", "zalo")
ROLE_WORDS = {
    Role.BRANCH_LEADER: ("branch_leader", "chi hoi truong"),
    Role.COMMUNE_OFFICER: ("commune_officer", "can bo co so", "can bo hoi co so", "can bo xa"),
    Role.DISTRICT_OFFICER: ("district_officer", "can bo huyen", "can bo hoi huyen"),
    Role.PROVINCIAL_STAFF: ("provincial_staff", "can bo tinh", "can bo hoi tinh"),
    Role.ADMIN: ("admin", "quan tri"),
}


class ImportFailed(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    moved: int = 0
    rows: int = 0
    notes: list[str] = field(default_factory=list)


def read_rows(path: Path, columns: dict[str, tuple[str, ...]]) -> list[tuple[int, dict[str, str]]]:
    """(row number as the operator sees it, row) for a CSV or XLSX file with a header row."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        raw = [
            [("" if c is None else str(c)) for c in row]
            for row in sheet.iter_rows(values_only=True)
        ]
    elif path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            raw = list(csv.reader(fh))
    else:
        raise ImportFailed([f"{path}: only .csv and .xlsx files can be imported"])
    if not raw:
        raise ImportFailed([f"{path}: the file is empty"])
    header = [fold(h) for h in raw[0]]
    index: dict[str, int] = {}
    for name, aliases in columns.items():
        for i, h in enumerate(header):
            if h in aliases:
                index[name] = i
    out = []
    for number, values in enumerate(raw[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        out.append(
            (number, {k: (values[i].strip() if i < len(values) else "") for k, i in index.items()})
        )
    return out


def _parse_date(text: str) -> date | None:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text[:10], fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    return None


async def import_units(
    session: AsyncSession,
    catalog: Catalog,
    path: Path,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    rows = read_rows(path, UNIT_COLUMNS)
    levels = [lv.code for lv in catalog.levels]
    level_words = {fold(lv.name): lv.code for lv in catalog.levels} | {c: c for c in levels}
    existing = {u.code: u for u in (await session.scalars(select(OrgUnit))).all()}
    errors: list[str] = []
    seen: dict[str, int] = {}
    parsed: list[tuple[int, dict[str, str]]] = []
    for number, row in rows:
        code, name = row.get("code", ""), row.get("name", "")
        level = level_words.get(fold(row.get("level", "")))
        where = f"{path.name} row {number}"
        if not code or not name:
            errors.append(f"{where}: code and name are required")
            continue
        if code in seen:
            errors.append(f"{where}: code {code} already on row {seen[code]}")
            continue
        if level is None:
            errors.append(f"{where}: unknown level '{row.get('level', '')}' ({', '.join(levels)})")
            continue
        if row.get("valid_from") and _parse_date(row["valid_from"]) is None:
            errors.append(f"{where}: valid_from must be a date (YYYY-MM-DD or DD/MM/YYYY)")
            continue
        if row.get("member_count") and not row["member_count"].isdigit():
            errors.append(f"{where}: member_count must be a whole number")
            continue
        seen[code] = number
        parsed.append((number, row | {"level": level}))
    level_of = {c: u.level for c, u in existing.items()} | {
        r["code"]: r["level"] for _, r in parsed
    }
    for number, row in parsed:
        parent = row.get("parent_code", "")
        where = f"{path.name} row {number}"
        if not parent:
            if levels.index(row["level"]) != 0:
                errors.append(f"{where}: only a {levels[0]} has no parent")
            continue
        if parent not in level_of:
            errors.append(f"{where}: parent {parent} is neither in the file nor in the database")
            continue
        if levels.index(level_of[parent]) >= levels.index(row["level"]):
            errors.append(f"{where}: a {row['level']} cannot be under a {level_of[parent]}")
    if errors:
        raise ImportFailed(errors)

    result = ImportResult(rows=len(parsed))
    # Parents first: sort by level depth, then file order.
    parsed.sort(key=lambda item: (levels.index(item[1]["level"]), item[0]))
    units = dict(existing)
    for done, (_number, row) in enumerate(parsed, start=1):
        parent = units.get(row.get("parent_code", ""))
        since = _parse_date(row.get("valid_from", "")) or date(2000, 1, 1)
        members = int(row["member_count"]) if row.get("member_count") else None
        unit = units.get(row["code"])
        if unit is None:
            units[row["code"]] = await create_unit(
                session,
                code=row["code"],
                name=row["name"],
                level=row["level"],
                parent=parent,
                valid_from=since,
                member_count=members,
            )
            result.created += 1
        else:
            unit.name, unit.name_folded = row["name"], fold(row["name"])
            if members is not None:
                unit.member_count = members
            if parent is not None and unit.parent_id != parent.id:
                await move_unit(session, catalog, unit, parent, since)
                result.moved += 1
            result.updated += 1
        if progress:
            progress(done)
    if dry_run:
        await session.rollback()
    return result


async def import_people(
    session: AsyncSession,
    path: Path,
    *,
    now: datetime,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    rows = read_rows(path, PEOPLE_COLUMNS)
    units = {u.code: u for u in (await session.scalars(select(OrgUnit))).all()}
    role_of = {w: role for role, words in ROLE_WORDS.items() for w in words}
    errors: list[str] = []
    valid: list[tuple[dict[str, str], str]] = []
    for number, row in rows:
        where = f"{path.name} row {number}"
        role = role_of.get(fold(row.get("role", "")))
        if not row.get("full_name"):
            errors.append(f"{where}: full_name is required")
        elif role is None:
            errors.append(f"{where}: unknown role '{row.get('role', '')}'")
        elif row.get("unit_code") not in units:
            errors.append(f"{where}: unknown unit code '{row.get('unit_code', '')}'")
        elif fold(row.get("channel", "")) not in ("", *CHANNELS):
            errors.append(f"{where}: channel must be empty, telegram or zalo")
        else:
            valid.append((row, role))
    if errors:
        raise ImportFailed(errors)
    result = ImportResult(rows=len(valid))
    for done, (row, role) in enumerate(valid, start=1):
        unit = units[row["unit_code"]]
        person = await session.scalar(
            select(Person).where(Person.full_name == row["full_name"], Person.unit_id == unit.id)
        )
        channel = fold(row.get("channel", "")) or None
        if person is None:
            session.add(
                Person(
                    full_name=row["full_name"],
                    phone=row.get("phone") or None,
                    role=role,
                    unit_id=unit.id,
                    created_at=now,
                    preferred_channel=channel,
                )
            )
            result.created += 1
        else:
            person.role, person.phone = role, row.get("phone") or person.phone
            person.preferred_channel = channel
            result.updated += 1
        if progress:
            progress(done)
    await session.flush()
    if dry_run:
        await session.rollback()
    return result
