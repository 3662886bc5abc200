"""Past reports brought in from the workbooks an office already keeps, or from one written by
`hoibot report export`: one row per unit, one column per question.

A unit is named by its code, or by its names level by level (the export's first columns); a
question by its indicator code, its label or the form's short label, diacritics and case
ignored. Rows labelled as subtotals ("Cộng …", "Tổng cộng") are passed over and counted; any
other row of a unit at another level is refused with its number, never dropped silently.
Every row is read and checked before anything is written; then each report is stored through
the same path as a report sent in chat, so the kept totals follow, with an audit entry
"import" for every value.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.parsing import parse_number, parse_yes_no
from storage.db.importing import ImportFailed, read_cells
from storage.db.models import OrgUnit
from storage.db.units import all_units
from storage.measures import reporting
from storage.measures.member_count import latest_members
from storage.measures.reporting import Answer
from storage.plan import texts_vi as vi
from storage.plan import validation
from storage.plan.catalog import Catalog, Form, Indicator, IndicatorType
from storage.plan.periods import Period, PeriodError, parse_period
from storage.plan.text import fold, tidy

CODE_WORDS = {"code", "ma", "ma don vi", "unit_code", fold(vi.EXPORT_CODE)}
PERIOD_WORDS = {"period", "ky", "ky bao cao"}
SUBTOTAL_WORDS = (fold(vi.EXPORT_SUBTOTAL.format(name="")), fold(vi.EXPORT_GRAND_TOTAL))
HEADER_SEARCH_ROWS = 20
_UNIT_SUFFIX = re.compile(r"\s*\([^()]*\)$")  # "Hội viên mới kết nạp (người)"


@dataclass
class RowCheck:
    """What the per-row checks found: (indicator code, or None for the whole row, message)."""

    errors: list[tuple[str | None, str]] = field(default_factory=list)
    warnings: list[tuple[str | None, str]] = field(default_factory=list)


def check_row(
    catalog: Catalog,
    form: Form,
    unit: OrgUnit,
    values: dict[str, Answer],
    history: validation.History,
    period: Period,
    members: validation.Members | None = None,
) -> RowCheck:
    """Every check of one imported report beyond reading its cells: the form's rules, the
    member count and the unit's history, as in chat (storage/plan/validation.py). A rule that must
    be fixed in chat is an error here; what chat asks to confirm is a warning."""
    found = RowCheck()
    number = {q.indicator: n for n, q in enumerate(form.questions, start=1)}
    for issue in validation.check(catalog, form, values, history, period.start, members=members):
        value = values.get(issue.indicator)
        shown = _number(value) if isinstance(value, float) else str(value)
        if issue.kind == "members":
            message = f"{shown} is more than the {_number(issue.reference or 0)} members of "
            message += f"{unit.code} ({_members_source(catalog, issue.members)}); check it"
        elif issue.kind == "outlier":
            message = f"{shown} is far from {unit.code}'s usual "
            message += f"{_number(issue.reference or 0)} in its last reports; check it"
        elif issue.kind == "year":
            message = f"{shown} looks like a year, not a count; check it"
        else:
            rule = form.rules[issue.rule or 0]
            figures = ", ".join(
                f"{'previous ' if f.previous else ''}{f.indicator} (question "
                f"{number.get(f.indicator, '?')}) = {_number(f.value)}"
                for f in issue.figures
            )
            what = rule.check or f"change of {rule.change} within {rule.max_share:.0%}"
            message = f"rule {what} is not met: {figures} ({rule.message})"
        target = found.errors if issue.stops else found.warnings
        target.append((issue.indicator, message))
    return found


def _members_source(catalog: Catalog, members: validation.Members | None) -> str:
    if members is None or members.source == "registered":
        return "registered in the units file"
    if members.source == "earlier_report":
        assert members.period is not None  # storage/measures/member_count.py gives it
        return f"reported for {members.period.label}"
    return f"its {catalog.member_total} on this row"


@dataclass
class ReportsImportResult:
    reports: int = 0  # rows with values
    values: int = 0  # values that are new or changed
    subtotal_rows: list[int] = field(default_factory=list)  # passed over: "Cộng …"
    empty_rows: list[int] = field(default_factory=list)  # a unit with no figure at all
    warnings: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.subtotal_rows)


@dataclass
class _Columns:
    code: int | None = None
    period: int | None = None
    levels: list[int] = field(default_factory=list)
    questions: dict[int, str] = field(default_factory=dict)  # position -> indicator code


@dataclass
class _Row:
    number: int
    unit: OrgUnit
    period: Period
    values: dict[str, Answer]


async def import_reports(
    session: AsyncSession,
    catalog: Catalog,
    path: Path,
    form_code: str,
    period_text: str | None,
    *,
    today: date,
    now: datetime,
    dry_run: bool = False,
) -> ReportsImportResult:
    form = catalog.forms.get(form_code)
    if form is None:
        raise ImportFailed([f"unknown form '{form_code}' (forms: {', '.join(catalog.forms)})"])
    fixed = _period(catalog, form, period_text, today) if period_text else None
    table = read_cells(path, sheet=form.name)
    name = path.name
    start, columns = _header(catalog, form, name, table)
    if fixed is None and columns.period is None:
        raise ImportFailed([f"{name}: give --period, or a column 'period' (kỳ) on every row"])
    units = await all_units(session)
    by_code = {u.code: u for u in units}
    by_path = _name_paths(units, form.level)
    result = ReportsImportResult()
    errors: list[str] = []
    rows: list[_Row] = []
    seen: dict[tuple[int, str], int] = {}
    for number, cells in enumerate(table[start + 1 :], start=start + 2):
        text = [_text(c) for c in cells]
        if not any(text):
            continue
        where = f"{name} row {number}"
        labelled = _subtotal_label(columns, text)
        unit = _unit(columns, text, by_code, by_path, where, errors)
        if unit is None:
            if labelled:
                result.subtotal_rows.append(number)  # "Cộng …" without a code
            continue
        if unit.level != form.level:
            if labelled and catalog.level_index(unit.level) < catalog.level_index(form.level):
                result.subtotal_rows.append(number)  # the totals are made here, not read
            else:
                errors.append(
                    f"{where}: {unit.code} is a {unit.level}; {form.code} is a {form.level}'s "
                    "form: give one row per "
                    + form.level
                    + (
                        f", and name a subtotal row '{vi.EXPORT_SUBTOTAL.format(name='…')}' "
                        "to have it passed over"
                        if catalog.level_index(unit.level) < catalog.level_index(form.level)
                        else ""
                    )
                )
            continue
        period = fixed
        if period is None:
            assert columns.period is not None
            try:
                period = _period(catalog, form, _cell(text, columns.period), today)
            except ImportFailed as exc:
                errors.append(
                    f"{where} column {get_column_letter(columns.period + 1)}: {exc.errors[0]}"
                )
                continue
        if unit.valid_from > period.end or (unit.valid_to and unit.valid_to < period.start):
            errors.append(f"{where}: {unit.code} did not exist in {period.label}")
            continue
        if (earlier := seen.get((unit.id, period.key))) is not None:
            errors.append(f"{where}: {unit.code}, {period.label} is already on row {earlier}")
            continue
        seen[unit.id, period.key] = number
        values: dict[str, Answer] = {}
        for position, code in columns.questions.items():
            cell = cells[position] if position < len(cells) else None
            if _text(cell) == "":
                continue  # not known: nothing is stored, never a 0
            value, why = _value(catalog.indicators[code], cell)
            if why:
                errors.append(f"{where} column {get_column_letter(position + 1)}: {why}")
            else:
                values[code] = value
        if not values:
            result.empty_rows.append(number)  # a unit that did not report: nothing to store
            continue
        rows.append(_Row(number, unit, period, values))
    place = {code: p for p, code in columns.questions.items()}
    # Each unit's reports in time order, so a row is checked against the file's earlier
    # periods too (a year of reports brought in at once).
    earlier_rows: dict[int, list[_Row]] = {}
    for row in sorted(rows, key=lambda r: (r.unit.id, r.period.start)):
        history = await reporting.history(
            session, row.unit.id, [q.indicator for q in form.questions], row.period.start
        )
        before = earlier_rows.setdefault(row.unit.id, [])
        for code in {q.indicator for q in form.questions}:
            from_file = [
                (r.period.end, r.values[code]) for r in reversed(before) if code in r.values
            ]
            kept = [(d, v) for d, v in history.get(code, []) if d not in dict(from_file)]
            history[code] = sorted(from_file + kept, key=lambda dv: dv[0], reverse=True)
        members = None
        if validation.reads_members(catalog, form, row.values):
            stored = await latest_members(session, catalog, row.unit, row.period.start)
            members = _members_from_file(catalog, before, stored)
        before.append(row)
        found = check_row(catalog, form, row.unit, row.values, history, row.period, members)
        where = f"{name} row {row.number}"
        for at, message in found.errors:
            errors.append(_located(where, place, at, message))
        for at, message in found.warnings:
            result.warnings.append("warning: " + _located(where, place, at, message))
    if errors:
        raise ImportFailed(errors)
    for row in rows:
        result.values += await reporting.import_report(
            session, catalog, row.unit.id, form, row.period, row.values, now
        )
        result.reports += 1
    if dry_run:
        await session.rollback()
    return result


def _members_from_file(
    catalog: Catalog, before: list[_Row], stored: validation.Members | None
) -> validation.Members | None:
    """The unit's member total on its latest earlier row of the file, when that is newer than
    what is stored (a year brought in at once reads its own months)."""
    code = catalog.member_total
    row = next((r for r in reversed(before) if isinstance(r.values.get(code or ""), float)), None)
    if row is None:
        return stored
    if stored is not None and stored.period is not None and stored.period.end > row.period.end:
        return stored
    value = row.values[code or ""]
    assert isinstance(value, float)
    return validation.Members(value, "earlier_report", row.period)


def _located(where: str, place: dict[str, int], code: str | None, message: str) -> str:
    if code is None or code not in place:
        return f"{where}: {message}"
    return f"{where} column {get_column_letter(place[code] + 1)}: {message}"


def _period(catalog: Catalog, form: Form, text: str, today: date) -> Period:
    try:
        period = parse_period(text, today, catalog.terms)
    except PeriodError as exc:
        raise ImportFailed(
            [f'cannot read the period \'{text}\' (write it like "quý 3/2026" or "tháng 10/2026")']
        ) from exc
    if period.kind != form.periodicity:
        raise ImportFailed(
            [f"form {form.code} is reported by {form.periodicity}; '{text}' is a {period.kind}"]
        )
    return period


def _header(
    catalog: Catalog, form: Form, name: str, table: list[list[object]]
) -> tuple[int, _Columns]:
    """The first row that names a question of the form, and what each of its columns holds."""
    asked = {q.indicator for q in form.questions}
    # The form's short labels ("hvm", "thv") name their columns too, as in a one-message report.
    words: dict[str, str] = {q.short: q.indicator for q in form.questions if q.short}
    code: str | None  # an indicator's, then the one a column names (if any)
    for code, ind in catalog.indicators.items():
        for word in (code, ind.label, ind.question or "", f"{ind.label} ({ind.unit})"):
            if word:
                words.setdefault(fold(word), code)
    levels = {fold(lv.name): lv.code for lv in catalog.levels} | {
        lv.code: lv.code for lv in catalog.levels
    }
    for start, cells in enumerate(table[:HEADER_SEARCH_ROWS]):
        header = [_text(c) for c in cells]
        folded = [fold(h) for h in header]
        if not any(
            words.get(h) in asked or words.get(_UNIT_SUFFIX.sub("", h)) in asked for h in folded
        ):
            continue
        columns = _Columns()
        errors: list[str] = []
        for i, h in enumerate(folded):
            where = f"{name} column {get_column_letter(i + 1)}"
            code = words.get(h) or words.get(_UNIT_SUFFIX.sub("", h))
            if not h:
                continue
            if h in CODE_WORDS:
                columns.code = i
            elif h in PERIOD_WORDS:
                columns.period = i
            elif h in levels:
                columns.levels.append(i)
            elif code in asked:
                if code in columns.questions.values():
                    errors.append(f"{where}: '{header[i]}' is a second column for {code}")
                columns.questions[i] = code
            elif code is not None:
                other = catalog.form_of_indicator.get(code, "no form")
                errors.append(
                    f"{where}: '{header[i]}' is not asked in form {form.code} (it is in {other})"
                )
            elif close := difflib.get_close_matches(
                h, [w for w, c in words.items() if c in asked], n=1, cutoff=0.8
            ):
                errors.append(
                    f"{where}: '{header[i]}' is not known; did you mean '{words[close[0]]}'?"
                )
        if columns.code is None and not columns.levels:
            errors.append(
                f"{name} row {start + 1}: no column names the unit: give its code "
                f"('{vi.EXPORT_CODE}') or its name under each level ("
                + ", ".join(f"'{lv.name}'" for lv in catalog.levels)
                + ")"
            )
        if errors:
            raise ImportFailed(errors)
        return start, columns
    raise ImportFailed(
        [
            f"{name}: no header row with the questions of form {form.code} in the first "
            f"{HEADER_SEARCH_ROWS} rows (one column per question, named by its code or label)"
        ]
    )


def _subtotal_label(columns: _Columns, text: list[str]) -> bool:
    """Whether the row calls itself a subtotal ("Cộng Xã Sơn Bình", "Tổng cộng")."""
    return any(fold(_cell(text, i)).startswith(SUBTOTAL_WORDS) for i in columns.levels)


def _name_paths(units: list[OrgUnit], level: str) -> dict[tuple[str, ...], list[OrgUnit]]:
    """Units of `level` by every tail of their names from the top ("Xã Sơn Bình", "Chi hội
    thôn 1"), so a workbook whose first column is any level still finds them."""
    by_id = {u.id: u for u in units}
    out: dict[tuple[str, ...], list[OrgUnit]] = {}
    for unit in units:
        if unit.level != level:
            continue
        chain = [unit]
        while chain[0].parent_id in by_id:
            chain.insert(0, by_id[chain[0].parent_id])  # type: ignore[index]
        names = tuple(fold(u.name) for u in chain)
        for k in range(len(names)):
            out.setdefault(names[k:], []).append(unit)
    return out


def _unit(
    columns: _Columns,
    text: list[str],
    by_code: dict[str, OrgUnit],
    by_path: dict[tuple[str, ...], list[OrgUnit]],
    where: str,
    errors: list[str],
) -> OrgUnit | None:
    code = _cell(text, columns.code) if columns.code is not None else ""
    if code:
        unit = by_code.get(code) or by_code.get(code.upper())
        if unit is None:
            errors.append(f"{where}: no unit has the code '{code}'")
        return unit
    names = [_cell(text, i) for i in columns.levels if _cell(text, i)]
    if any(fold(n).startswith(SUBTOTAL_WORDS) for n in names) or not names:
        if not names:
            errors.append(f"{where}: the unit is not named (no code, no name)")
        return None
    found = by_path.get(tuple(fold(n) for n in names), [])
    if len(found) != 1:
        shown = " / ".join(names)
        errors.append(
            f"{where}: no unit is named '{shown}'"
            if not found
            else f"{where}: '{shown}' names {len(found)} units; give the code column"
        )
        return None
    return found[0]


def _value(indicator: Indicator, cell: object) -> tuple[Answer, str | None]:
    """The stored value of a cell, or why it cannot be taken (forgiving as in chat)."""
    text = _text(cell)
    if indicator.type == IndicatorType.TEXT:
        return tidy(text), None
    if indicator.type == IndicatorType.YES_NO:
        yes = parse_yes_no(text)
        if yes is None and text in ("0", "1"):
            yes = text == "1"
        if yes is None:
            return None, f"'{text}' is not yes or no (có / không, 1 / 0)"
        return (1.0 if yes else 0.0), None
    decimals = indicator.type == IndicatorType.AMOUNT
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        value = float(cell)
        if not decimals and not value.is_integer():
            return None, f"{text} is not a whole number"
    else:
        parsed = parse_number(text, allow_decimal=decimals)
        if parsed.error or parsed.value is None:
            return None, f"'{text}' is not a number"
        value = parsed.value
    if value < indicator.min:
        return None, f"{_number(value)} is below the smallest allowed, {_number(indicator.min)}"
    if indicator.max is not None and value > indicator.max:
        return None, f"{_number(value)} is above the largest allowed, {_number(indicator.max)}"
    return value, None


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _cell(text: list[str], position: int) -> str:
    return text[position] if position < len(text) else ""


def _number(value: float) -> str:
    return f"{value:g}" if not float(value).is_integer() else str(int(value))
