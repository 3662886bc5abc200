"""The written report's sections drafted from the data: 1. results per indicator, 2.
targets, 3. reporting, 4. thi đua, 5. what leaders wrote, 6. the office's own parts. Each
figure comes from the function the chat, the CLI and the pages use for it
(handlers/written_report.py puts the sections in the layout's order)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.views import change_lines, not_due, progress_summary, value_text
from handlers.written_report_docx import TABLE_PT, Writer
from schedules.calendar import default_form
from schedules.thi_dua import Rankings
from storage.db.models import OrgUnit
from storage.measures import progress as progress_service
from storage.measures import totals
from storage.measures.completeness import completeness
from storage.measures.figures import Figure, figures
from storage.measures.target_status import Status, TargetProgress
from storage.measures.thi_dua import Rule
from storage.measures.totals import Total
from storage.measures.unit_readings import Kind
from storage.measures.written_report import approved_count, text_answers
from storage.plan import texts_vi as vi
from storage.plan.catalog import Catalog, Form, IndicatorType
from storage.plan.document_layout import Layout
from storage.plan.periods import Period, period_of, previous_period
from storage.plan.text import fold

TOP_SHOWN = 5  # the best and the last units of the thi đua ranking shown
LENGTHS = ["month", "quarter", "half", "year"]


# ---- 1. results per indicator ------------------------------------------------------------


def reported_indicators(catalog: Catalog, unit: OrgUnit, period: Period) -> list[str]:
    """The indicators with a total at this unit for a period of this length: numbers, yes/no
    and derived ones that it or units below it report in a form of this period or a shorter
    one (a monthly report leaves out what is asked once a year; texts and ratings have no
    total), in the catalogue's order."""
    index = catalog.level_index(unit.level)
    longest = LENGTHS.index(period.kind) if period.kind in LENGTHS else len(LENGTHS)

    def fits(code: str) -> bool:
        for part in catalog.components(code):
            for form_code in catalog.forms_of_indicator.get(part, []):
                form = catalog.forms[form_code]
                if (
                    catalog.level_index(form.level) >= index
                    and LENGTHS.index(form.periodicity) <= longest
                ):
                    return True
        return False

    return [
        code
        for code, indicator in catalog.indicators.items()
        if indicator.type not in (IndicatorType.TEXT, IndicatorType.CHOICE) and fits(code)
    ]


def figure_cell(total: Total, figure: Figure | None) -> str:
    """A figure with what it rests on when not every unit reported ("tính trên k/n")."""
    if figure is None:
        return vi.TOTAL_NOT_REPORTED
    text = value_text(total, figure, parts=False)
    if total.kind == Kind.YES_NO and figure.reported:  # "36/47 chi hội có", as /tong says
        text = vi.DOC_YES_COUNT.format(
            yes=figure.yes, reported=figure.reported, level=total.level_word
        )
    if figure.reported and figure.missing and total.kind != Kind.EACH:
        basis = vi.DOC_BASIS.format(
            reported=figure.reported, expected=figure.expected, level=total.level_word
        )
        text = f"{text}\n{basis}"
    return text


async def results_section(
    w: Writer, session: AsyncSession, catalog: Catalog, unit: OrgUnit, period: Period
) -> bool:
    """The results table; whether any unit reported anything at all."""
    codes = reported_indicators(catalog, unit, period)
    if not codes:
        w.paragraph(vi.DOC_RESULTS_NONE.format(unit=unit.name), indent=True)
        return False
    previous, year_ago = previous_period(period), totals.a_year_before(period)
    rows, before_lines, year_lines = [], [], []
    anything = False
    for i, code in enumerate(codes, start=1):
        total = await totals.indicator_total(session, catalog, code, unit, period, year_ago=True)
        anything = anything or bool(total.figure.reported)
        # The earlier periods' own figures, as `report total` heads them for those periods
        # (`figures` is what `indicator_total` reads its headline with; the comparisons below
        # are over the units that reported in both).
        before, year = [
            (await figures(session, catalog, code, [unit.id], p, roots=[unit.id]))[unit.id]
            for p in (previous, year_ago)
        ]
        indicator = catalog.indicators[code]
        word = indicator.unit.strip()
        rows.append(
            [
                str(i),
                indicator.label,
                "" if word == "%" or total.kind == Kind.YES_NO else word,
                figure_cell(total, total.figure),
                figure_cell(total, before),
                figure_cell(total, year),
            ]
        )
        fields = {"label": indicator.label}
        before_lines += [
            vi.DOC_COMPARE_LINE.format(**fields, change=line)
            for line in change_lines(total, total.change)
        ]
        year_lines += [
            vi.DOC_COMPARE_LINE.format(**fields, change=line)
            for line in change_lines(total, total.year_change)
        ]
    headers = list(vi.DOC_RESULTS_HEADERS)
    headers[3] = headers[3].format(period=period.label[:1].upper() + period.label[1:])
    headers[4] = vi.DOC_PERIOD_IN_HEADER.format(title=headers[4], period=previous.label)
    headers[5] = vi.DOC_PERIOD_IN_HEADER.format(title=headers[5], period=year_ago.label)
    w.table(headers, rows, [10, 52, 19, 28, 28, 28])
    for title, lines in (
        (vi.DOC_COMPARE_PREVIOUS, before_lines),
        (vi.DOC_COMPARE_YEAR, year_lines),
    ):
        if lines:
            w.paragraph(title, italic=True, align="left")
            for line in lines:
                w.paragraph(line, size=TABLE_PT, align="left")
    return anything


# ---- 2. targets ---------------------------------------------------------------------------


def status_word(status: Status) -> str:
    """The verdict's words without its mark ("✅ đạt" → "đạt")."""
    return vi.STATUS[status].split(" ", 1)[-1]


def target_cells(catalog: Catalog, p: TargetProgress) -> list[str]:
    """Achieved, goal and expected as `report progress` words them."""
    t = p.target
    unit_word = catalog.indicators[t.indicator].unit if t.kind == "sum" and t.indicator else ""
    level = catalog.level_word(p.basis_level) if p.basis_level else vi.UNITS_WORD
    compare = vi.COMPARE_WORDS[t.compare.value]

    def amount(value: float | None) -> str:
        if value is None:
            return "–"
        if t.kind == "sum":
            return f"{vi.format_number(value)} {unit_word}".strip()
        return vi.format_percent(value)

    if t.kind == "task":
        done, units = p.counted or (0, 0)
        achieved = vi.DOC_TASK.format(done=done, units=units, level=level)
        deadline = t.deadline.strftime("%d/%m/%Y") if t.deadline else "–"
        return [achieved, deadline, "–"]
    if p.status == Status.NO_DATA or p.achieved is None:
        achieved = vi.WEB_NO_DATA
    else:
        achieved = amount(p.achieved)
        if t.kind == "coverage" and p.counted:
            achieved += "\n" + vi.DOC_COVERAGE.format(
                reached=p.counted[0], units=p.counted[1], level=level
            )
        if t.kind == "rate" and p.basis and p.basis[0] < p.basis[1]:
            achieved += "\n" + vi.DOC_BASIS.format(
                reported=p.basis[0], expected=p.basis[1], level=level
            )
    goal = f"{compare}{amount(p.goal) if t.kind == 'sum' else vi.format_number(p.goal) + '%'}"
    if p.expected is None or p.final:
        expected = "–"
    elif t.kind == "sum" and p.expected_percent is not None:
        # As `report progress` says it: the share of the goal expected by today.
        expected = f"{amount(round(p.expected))}\n({vi.format_percent(p.expected_percent)})"
    else:
        expected = amount(p.expected)
    return [achieved, goal, expected]


async def targets_section(
    w: Writer, session: AsyncSession, catalog: Catalog, unit: OrgUnit, today: date
) -> None:
    items = await progress_service.progress(session, catalog, unit, today)
    if not items:
        w.paragraph(vi.DOC_TARGETS_NONE.format(unit=unit.name), indent=True)
        return
    summary = progress_summary(items)
    w.paragraph(
        vi.DOC_TARGETS_INTRO.format(today=today.strftime("%d/%m/%Y"), summary=summary),
        indent=True,
    )
    rows = []
    for i, p in enumerate(items, start=1):
        name = "\n".join(
            [
                p.target.label,
                vi.DOC_TARGET_PERIOD.format(period=p.period.label),
                vi.DOC_TARGET_SOURCE.format(source=p.target.source),
            ]
        )
        status = status_word(p.status)
        if p.previous_window:  # last year's verdict, not this year's (not counted in it)
            status = vi.DOC_STATUS_PAST.format(status=status, period=p.period.label)
        rows.append([str(i), name, *target_cells(catalog, p), status])
    w.table(vi.DOC_TARGETS_HEADERS, rows, [10, 61, 26, 22, 22, 24])


# ---- 3. reporting -------------------------------------------------------------------------


def reporting_forms(catalog: Catalog, unit: OrgUnit, period: Period) -> list[Form]:
    """The forms the units below report for a period of this kind, the lowest level first
    (the branch form `report missing` reads first); the default form when none is."""
    index = catalog.level_index(unit.level)
    found = [
        f
        for f in catalog.forms.values()
        if f.filled_by is None
        and f.periodicity == period.kind
        and catalog.level_index(f.level) > index
    ]
    found.sort(key=lambda f: -catalog.level_index(f.level))
    return found or [default_form(catalog)]


async def reporting_section(
    w: Writer, session: AsyncSession, catalog: Catalog, unit: OrgUnit, period: Period, today: date
) -> None:
    for form in reporting_forms(catalog, unit, period):
        asked = period_of(form.periodicity, period.end)
        done = await completeness(session, form, asked, unit)
        level = catalog.level_word(form.level)
        fields = {"form": form.name, "period": asked.label, "level": level}
        if not done.expected:
            w.paragraph(vi.DOC_NOBODY_EXPECTED.format(**fields), indent=True)
            continue
        due = not_due(done, today)
        if due is not None:  # what came in so far; nobody "chưa nộp" before the due date
            percent = vi.format_percent(done.submitted / done.expected * 100)
            w.paragraph(
                vi.DOC_REPORTING_NOT_DUE.format(
                    **fields,
                    due=due.strftime("%d/%m/%Y"),
                    submitted=done.submitted,
                    expected=done.expected,
                    percent=percent,
                ),
                indent=True,
            )
            if done.in_progress:
                text = vi.DOC_REPORTING_NOT_DUE_IN_PROGRESS.format(n=done.in_progress, level=level)
                w.paragraph(text, indent=True)
            continue
        w.paragraph(
            vi.DOC_REPORTING.format(
                **fields,
                submitted=done.submitted,
                expected=done.expected,
                percent=vi.format_percent(done.submitted / done.expected * 100),
                on_time=done.on_time,
                late=done.late,
                missing=len(done.missing),
            ),
            indent=True,
        )
        if done.submitted:
            approved = await approved_count(session, form.code, asked, unit)
            w.paragraph(
                vi.DOC_APPROVED.format(approved=approved, submitted=done.submitted), indent=True
            )
        if not done.missing:
            w.paragraph(vi.DOC_ALL_SENT.format(level=level), indent=True)
            continue
        if done.in_progress:
            w.paragraph(
                vi.DOC_REPORTING_IN_PROGRESS.format(n=done.in_progress, level=level), indent=True
            )
        w.paragraph(vi.DOC_MISSING_TITLE.format(level=level), indent=True)
        for parent, units in done.missing_by_parent().items():
            names = ", ".join(u.name for u in units)
            w.paragraph(vi.DOC_MISSING_GROUP.format(parent=parent, units=names), size=TABLE_PT)


# ---- 4. thi đua ---------------------------------------------------------------------------


async def thi_dua_section(
    w: Writer,
    session: AsyncSession,
    catalog: Catalog,
    rankings: Rankings,
    unit: OrgUnit,
    today: date,
    now: datetime,
    keep_apart: bool,
) -> None:
    rule = catalog.thi_dua or Rule()
    ranked = await rankings.get(session, catalog, rule, unit, today, now, keep_apart=keep_apart)
    if not ranked.scores:
        w.paragraph(vi.DOC_THI_DUA_NO_UNITS.format(unit=unit.name), indent=True)
        return
    level = catalog.level_word(ranked.scores[0].unit.level)
    w.paragraph(
        vi.DOC_THI_DUA_INTRO.format(
            level=level, unit=unit.name, rule=rule.name, day=today.strftime("%d/%m/%Y")
        ),
        indent=True,
    )
    scored = [(s, s.points(rule)) for s in ranked.scores]
    known = [(s, pts) for s, pts in scored if pts is not None]
    if not known:
        w.paragraph(vi.XEPHANG_NOTHING, indent=True)
        return
    top = known[:TOP_SHOWN]
    bottom = known[TOP_SHOWN:][-TOP_SHOWN:]
    for title, part in ((vi.DOC_THI_DUA_TOP, top), (vi.DOC_THI_DUA_BOTTOM, bottom)):
        if part:
            w.paragraph(title, italic=True, align="left")
            rows = [[str(s.rank), s.unit.name, vi.format_number(pts, 1)] for s, pts in part]
            w.table(vi.DOC_THI_DUA_HEADERS, rows, [25, 110, 30])
    unscored = len(scored) - len(known)
    if unscored:
        w.paragraph(vi.DOC_THI_DUA_UNSCORED.format(n=unscored, level=level), indent=True)


# ---- 5. what leaders wrote ------------------------------------------------------------------


async def texts_section(
    w: Writer, session: AsyncSession, catalog: Catalog, unit: OrgUnit, period: Period
) -> None:
    index = catalog.level_index(unit.level)
    codes = [
        code
        for code, ind in catalog.indicators.items()
        if ind.type == IndicatorType.TEXT
        and any(catalog.level_index(lv) >= index for lv in catalog.levels_of_indicator(code))
    ]
    if not codes:
        w.paragraph(vi.DOC_TEXTS_NO_QUESTION, indent=True)
        return
    found = await text_answers(session, codes, unit, period)
    for code in codes:
        indicator = catalog.indicators[code]
        levels = catalog.levels_of_indicator(code)
        level = catalog.level_word(levels[-1]) if levels else vi.UNITS_WORD
        answers = [a for a in found[code] if fold(a.text).strip(" .!") not in vi.DOC_EMPTY_ANSWERS]
        if len(codes) > 1 or answers:
            w.subheading(indicator.label)
        if not answers:
            w.paragraph(vi.DOC_TEXTS_NONE.format(level=level), indent=True)
            continue
        several = len({a.period_end for a in answers}) > 1
        for a in answers:
            when = ""
            if several:
                end = date.fromisoformat(a.period_end)
                asked = period_of(period_kind(catalog, code), end)
                when = vi.DOC_TEXT_WHEN.format(period=asked.label)
            w.paragraph(
                vi.DOC_TEXT_LINE.format(
                    unit=a.unit,
                    parent=vi.DOC_TEXT_PARENT.format(parent=a.parent) if a.parent else "",
                    when=when,
                    text=a.text,
                ),
                align="left",
            )


def period_kind(catalog: Catalog, code: str) -> str:
    form = catalog.forms[catalog.form_of_indicator[code]]
    return str(form.periodicity)


# ---- 6. for the office ----------------------------------------------------------------------


def office_section(w: Writer, layout: Layout, fields: dict[str, str]) -> None:
    for i, heading in enumerate(layout.office_headings, start=1):
        w.subheading(f"{i}. {heading.format(**fields).strip()}")
        w.paragraph(vi.DOC_OFFICE_PLACEHOLDER, italic=True, highlight=True, indent=True)
