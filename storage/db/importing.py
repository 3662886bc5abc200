"""Operators' imports of units and people from CSV or XLSX.

Every row is checked before anything is written; errors name the row. The whole file is
written in one transaction, so nothing is half-imported.

Files come from Excel in many shapes: comma- or semicolon-separated CSV, UTF-8 with or without
a byte-order mark, Windows-1258 ("CSV" in a Vietnamese Windows), UTF-16 ("Unicode text", tab
separated), or a workbook. The content decides how it is read, not the file name.
"""

from __future__ import annotations

import csv
import difflib
import io
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import OrgUnit, Person, Role
from storage.db.people import Actor, fields_of, normalize_phone, record_change
from storage.db.people import role_misfit as _role_misfit
from storage.db.unit_names import UnitNames
from storage.db.units import create_unit, move_unit
from storage.plan.catalog import Catalog
from storage.plan.text import fold

Progress = Callable[[int], None]
Columns = dict[str, tuple[str, ...]]

UNIT_COLUMNS: Columns = {
    "code": ("code", "ma", "ma don vi"),
    "name": ("name", "ten", "ten don vi"),
    "level": ("level", "cap"),
    "parent_code": ("parent_code", "parent", "ma cap tren", "cap tren"),
    "valid_from": ("valid_from", "tu ngay"),
    "member_count": ("member_count", "so hoi vien"),
}
UNIT_REQUIRED = ("code", "name", "level", "parent_code")
PEOPLE_COLUMNS: Columns = {
    "full_name": ("full_name", "name", "ho ten", "ho va ten"),
    "phone": ("phone", "so dien thoai", "dien thoai"),
    "role": ("role", "vai tro", "chuc vu"),
    "unit_code": ("unit_code", "unit", "ma don vi", "don vi"),
    # Where reminders go when she uses both: telegram or zalo; empty = the one used last.
    "channel": ("channel", "preferred_channel", "kenh", "kenh nhac"),
}
PEOPLE_REQUIRED = ("full_name", "role", "unit_code")
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


class UnreadableFile(ImportFailed):
    """The file as a whole cannot be read: one line says why, there is no row to name."""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    moved: int = 0
    rows: int = 0
    notes: list[str] = field(default_factory=list)


# ---- reading files ------------------------------------------------------------------------

_XLS_OLD = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 (.xls) and other OLE files
NOT_A_TABLE = (
    "neither a CSV file nor an Excel workbook (.xlsx); save it from Excel as .xlsx or as CSV UTF-8"
)


def read_table(path: Path, sheet: str | None = None) -> list[list[str]]:
    """Every row of a CSV / tab-separated text file, or of a workbook's sheet (the one named
    `sheet`, diacritics and case ignored, else the first), as text."""
    return [[_cell_text(c) for c in row] for row in read_cells(path, sheet)]


def read_cells(path: Path, sheet: str | None = None) -> list[list[object]]:
    """Like `read_table`, but a workbook's numbers stay numbers (12.345 is not 12345)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile([f"{path.name}: cannot be read ({exc.strerror})"]) from exc
    if data.startswith(b"PK\x03\x04"):
        return _read_workbook(path, data, sheet)
    if data.startswith(_XLS_OLD):
        raise UnreadableFile(
            [
                f"{path.name}: an old Excel 97-2003 workbook (.xls) cannot be read; "
                "save it as .xlsx or as CSV UTF-8"
            ]
        )
    return list(_read_text(path, _decode(path, data)))


def _read_workbook(path: Path, data: bytes, sheet: str | None) -> list[list[object]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise UnreadableFile([f"{path.name}: {NOT_A_TABLE}"]) from exc
    named = [ws for ws in book.worksheets if sheet and fold(ws.title) == fold(sheet[:31])]
    chosen = (named or book.worksheets)[0]
    return [list(row) for row in chosen.iter_rows(values_only=True)]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value)


def _decode(path: Path, data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    elif data.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    elif b"\x00" in data[:4096]:
        # UTF-16 without its byte-order mark: every other byte of Latin text is zero.
        zeros_odd = data[1:4096:2].count(0) > len(data[1:4096:2]) * 0.3
        zeros_even = data[0:4096:2].count(0) > len(data[0:4096:2]) * 0.3
        encodings = ["utf-16-le"] if zeros_odd else ["utf-16-be"] if zeros_even else []
    else:
        # Vietnamese Windows writes "CSV" in Windows-1258, whose tones are combining marks.
        encodings = ["utf-8", "cp1258"]
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _looks_like_text(text):
            break
        return unicodedata.normalize("NFC", text)
    raise UnreadableFile([f"{path.name}: {NOT_A_TABLE}"])


def _looks_like_text(text: str) -> bool:
    controls = sum(1 for ch in text[:4096] if ch < " " and ch not in "\t\r\n")
    return controls <= len(text[:4096]) // 100


def _read_text(path: Path, text: str) -> list[list[object]]:
    first = next((line for line in text.splitlines() if line.strip()), "")
    # Excel writes ";" where the decimal mark is a comma (Vietnamese Windows) and tabs in
    # "Unicode text": the header line says which one this file uses.
    delimiter = max(("\t", ";", ","), key=first.count) if first else ","
    try:
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise UnreadableFile([f"{path.name}: the CSV cannot be read ({exc})"]) from exc


def find_columns(
    name: str, header: list[str], columns: Columns, required: tuple[str, ...]
) -> dict[str, int]:
    """Where each known column is in a header row (any alias; diacritics and case ignored).

    A misspelt column is named with the one it probably means, and a missing one with what
    the header row has, all at once."""
    folded = [fold(h) for h in header]
    index: dict[str, int] = {}
    for column, aliases in columns.items():
        for i, h in enumerate(folded):
            if h in aliases and column not in index:
                index[column] = i
    known = set(index.values())
    column_of = {alias: column for column, names in columns.items() for alias in names}
    errors: list[str] = []
    guessed: set[str] = set()  # misspelt: already named, not reported missing as well
    for i, h in enumerate(folded):
        if i in known or not h:
            continue
        close = difflib.get_close_matches(h, list(column_of), n=1, cutoff=0.75)
        if close and column_of[close[0]] not in index:
            errors.append(
                f"{name}: column '{header[i].strip()}' is not known; "
                f"did you mean '{column_of[close[0]]}'?"
            )
            guessed.add(column_of[close[0]])
    missing = [c for c in required if c not in index and c not in guessed]
    if missing:
        found = ", ".join(h.strip() for h in header if h.strip()) or "nothing"
        what = (
            f"column '{missing[0]}' is missing"
            if len(missing) == 1
            else f"columns {', '.join(missing)} are missing"
        )
        errors.append(f"{name}: {what} (the header row has: {found})")
    if errors:
        raise ImportFailed(errors)
    return index


def read_rows(
    path: Path, columns: Columns, required: tuple[str, ...] = ()
) -> list[tuple[int, dict[str, str]]]:
    """(row number as the operator sees it, row) for a file whose first row is the header."""
    raw = read_table(path)
    start = next((i for i, r in enumerate(raw) if any(v.strip() for v in r)), None)
    if start is None:
        raise UnreadableFile([f"{path.name}: the file is empty"])
    index = find_columns(path.name, raw[start], columns, required)
    out = []
    for number, values in enumerate(raw[start + 1 :], start=start + 2):
        if not any(v.strip() for v in values):
            continue
        out.append(
            (
                number,
                {k: (values[i].strip() if i < len(values) else "") for k, i in index.items()},
            )
        )
    return out


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _parse_date(text: str) -> date | None:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text[:10], fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    return None


# ---- units --------------------------------------------------------------------------------


async def import_units(
    session: AsyncSession,
    catalog: Catalog,
    path: Path,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    rows = read_rows(path, UNIT_COLUMNS, UNIT_REQUIRED)
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
        if code in existing and existing[code].level != level:
            errors.append(
                f"{where}: {code} is a {existing[code].level}; a unit's level cannot change "
                f"to {level} (a new unit needs a new code)"
            )
            continue
        if row.get("valid_from") and _parse_date(row["valid_from"]) is None:
            errors.append(f"{where}: valid_from must be a date (YYYY-MM-DD or DD/MM/YYYY)")
            continue
        if row.get("member_count") and not row["member_count"].isdigit():
            errors.append(f"{where}: member_count must be a whole number")
            continue
        seen[code] = number
        parsed.append((number, row | {"level": level}))
    errors += _tree_errors(catalog, path.name, existing, parsed)
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


def _tree_errors(
    catalog: Catalog,
    name: str,
    existing: dict[str, OrgUnit],
    parsed: list[tuple[int, dict[str, str]]],
) -> list[str]:
    """The tree the file would make: no cycle, and every parent the level directly above
    (an optional level, such as the district, skipped only where the province has none)."""
    levels = [lv.code for lv in catalog.levels]
    code_of = {u.id: c for c, u in existing.items()}
    parent_of: dict[str, str | None] = {
        c: code_of.get(u.parent_id) if u.parent_id else None for c, u in existing.items()
    }
    level_of = {c: u.level for c, u in existing.items()}
    for _, row in parsed:
        parent_of[row["code"]] = row.get("parent_code") or None
        level_of[row["code"]] = row["level"]

    def chain(code: str) -> list[str]:
        """`code` and its ancestors; ends on a repeated code when there is a cycle."""
        out = [code]
        while (up := parent_of.get(out[-1])) is not None and up in level_of:
            out.append(up)
            if up in out[:-1]:
                break
        return out

    present: dict[str, set[str]] = {}  # top unit -> levels that exist under it
    for code, level in level_of.items():
        path = chain(code)
        if path[-1] not in path[:-1]:
            present.setdefault(path[-1], set()).add(level)
    errors: list[str] = []
    for number, row in parsed:
        where, code, level = f"{name} row {number}", row["code"], row["level"]
        parent = row.get("parent_code", "")
        path = chain(code)
        if path[-1] in path[:-1]:
            loop = path[path.index(path[-1]) :]
            errors.append(f"{where}: {code} would be under itself, a cycle: {' under '.join(loop)}")
            continue
        if not parent:
            if levels.index(level) != 0:
                errors.append(f"{where}: only a {levels[0]} has no parent")
            continue
        if parent not in level_of:
            errors.append(f"{where}: parent {parent} is neither in the file nor in the database")
            continue
        allowed: list[str] = []
        for above in reversed(catalog.levels[: levels.index(level)]):
            allowed.append(above.code)
            if not (above.optional and above.code not in present.get(path[-1], set())):
                break
        if level_of[parent] not in allowed:
            errors.append(
                f"{where}: a {level} must be under a {' or a '.join(allowed)}; "
                f"{parent} is a {level_of[parent]}"
            )
    return errors


# ---- people -------------------------------------------------------------------------------


async def import_people(
    session: AsyncSession,
    catalog: Catalog,
    path: Path,
    *,
    now: datetime,
    dry_run: bool = False,
    progress: Progress | None = None,
    by: Actor | None = None,
) -> ImportResult:
    """People from a file; each one created or changed is audited as an "import" by `by`."""
    rows = read_rows(path, PEOPLE_COLUMNS, PEOPLE_REQUIRED)
    units = {u.code: u for u in (await session.scalars(select(OrgUnit))).all()}
    unit_names = UnitNames(list(units.values()))
    levels_present = {u.level for u in units.values()}
    unit_codes = {u.id: c for c, u in units.items()}
    people = list((await session.scalars(select(Person))).all())
    # Phones stored before they were normalised are compared as they would be now.
    by_phone = {normalize_phone(p.phone) or p.phone: p for p in people if p.phone}
    role_of = {w: role for role, words in ROLE_WORDS.items() for w in words}
    errors: list[str] = []
    phones: dict[str, int] = {}
    valid: list[tuple[dict[str, str], str, Person | None]] = []
    for number, row in rows:
        where = f"{path.name} row {number}"
        role = role_of.get(fold(row.get("role", "")))
        named = unit_names.find(row.get("unit_code", ""))  # a code, or a unit's name
        unit = named.unit
        phone = normalize_phone(row["phone"]) if row.get("phone") else None
        if not row.get("full_name"):
            errors.append(f"{where}: full_name is required")
        elif role is None:
            errors.append(
                f"{where}: unknown role '{row.get('role', '')}'"
                f"{_suggest(fold(row.get('role', '')), list(role_of))}; roles are "
                f"{', '.join(Role.ALL)} (or in Vietnamese: chi hội trưởng, cán bộ cơ sở, "
                "cán bộ huyện, cán bộ tỉnh, quản trị)"
            )
        elif unit is None:
            errors.append(f"{where}: {unit_names.problem(row.get('unit_code', ''), named)}")
        elif fold(row.get("channel", "")) not in ("", *CHANNELS):
            errors.append(f"{where}: channel must be empty, telegram or zalo")
        elif row.get("phone") and phone is None:
            errors.append(
                f"{where}: '{row['phone']}' is not a phone number; write a Vietnamese number "
                "such as 0912345678 or +84 912 345 678"
            )
        elif misfit := _role_misfit(catalog, role, unit, levels_present):
            errors.append(f"{where}: {misfit}")
        elif phone and phone in phones:
            errors.append(f"{where}: phone {phone} is already on row {phones[phone]}")
        else:
            owner = by_phone.get(phone) if phone else None
            if owner is not None and fold(owner.full_name) != fold(row["full_name"]):
                errors.append(
                    f"{where}: phone {phone} is already used by {owner.full_name} "
                    f"({unit_codes.get(owner.unit_id, '?')})"
                )
                continue
            if phone:
                phones[phone] = number
            valid.append((row | {"phone": phone or "", "unit_code": unit.code}, role, owner))
    if errors:
        raise ImportFailed(errors)
    result = ImportResult(rows=len(valid))
    for done, (row, role, owner) in enumerate(valid, start=1):
        unit = units[row["unit_code"]]
        person = owner or next(
            (p for p in people if p.full_name == row["full_name"] and p.unit_id == unit.id), None
        )
        channel = fold(row.get("channel", "")) or None
        if person is None:
            person = Person(
                full_name=row["full_name"],
                phone=row["phone"] or None,
                role=role,
                unit_id=unit.id,
                created_at=now,
                preferred_channel=channel,
                active=True,
            )
            session.add(person)
            before = None
            result.created += 1
        else:
            before = fields_of(person, unit_codes.get(person.unit_id))
            person.role, person.phone = role, row["phone"] or person.phone
            person.unit_id = unit.id
            person.preferred_channel = channel
            result.updated += 1
        after = fields_of(person, unit.code)
        if by is not None and after != before:
            await session.flush()
            await record_change(session, person, "import", before, after, by, now, path.name)
        if progress:
            progress(done)
    await session.flush()
    if dry_run:
        await session.rollback()
    return result
