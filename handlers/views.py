"""Vietnamese text renderings of rollup results, shared by the chat and the CLI."""

from __future__ import annotations

from datetime import date

from schedules.calendar import window
from storage.measures.completeness import Completeness
from storage.measures.figures import Figure
from storage.measures.target_status import Status, TargetProgress, past_counts, summary_counts
from storage.measures.totals import Change, Row, Total
from storage.measures.unit_readings import Kind
from storage.plan import texts_vi as vi
from storage.plan.catalog import Catalog, Expect, Target
from storage.plan.periods import Period


def progress_text(
    catalog: Catalog,
    unit_name: str,
    items: list[TargetProgress],
    today: date,
    *,
    counted: list[TargetProgress] | None = None,
) -> str:
    """The verdicts of `items` (one page of them), under counts over `counted` (all)."""
    if not items:
        return vi.PROGRESS_NONE.format(unit=unit_name)
    every = items if counted is None else counted
    lines = [
        vi.PROGRESS_TITLE.format(unit=unit_name, today=today.strftime("%d/%m/%Y")),
        progress_summary(every),
    ]
    for p in items:
        lines.extend(progress_lines(catalog, p))
    return "\n".join(lines)


def progress_summary(items: list[TargetProgress]) -> str:
    """How many targets, and how many of them in each verdict: the parts add up to all."""
    counts = summary_counts(items)
    parts = [vi.PROGRESS_SUMMARY_PARTS[name].format(n=n) for name, n in counts.items() if n]
    text = vi.PROGRESS_SUMMARY.format(total=len(items), parts=", ".join(parts))
    for period, past in past_counts(items).items():  # last year's, shown as such
        parts = [vi.PROGRESS_SUMMARY_PARTS[name].format(n=n) for name, n in past.items() if n]
        text += vi.PROGRESS_SUMMARY_PAST.format(
            n=sum(past.values()), period=period.label, parts=", ".join(parts)
        )
    return text


def _day(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else "–"


def progress_lines(catalog: Catalog, p: TargetProgress) -> list[str]:
    """One target's verdict, what it rests on, and its source."""
    t = p.target
    level = catalog.level_word(p.basis_level) if p.basis_level else vi.UNITS_WORD
    lines = [vi.PROGRESS_HEAD.format(status=vi.STATUS[p.status], label=t.label)]
    if p.previous_window:
        lines[0] = vi.PROGRESS_HEAD_PAST.format(
            status=vi.STATUS[p.status], period=p.period.label, label=t.label
        )
    unit_word = catalog.indicators[t.indicator].unit if t.kind == "sum" and t.indicator else ""
    compare = vi.COMPARE_WORDS[t.compare.value]
    goal = vi.format_number(p.goal)
    if t.kind == "task":
        lines.append(_task_line(t, p, level))
    elif p.achieved is None:  # (no data; or last year's window, none of it due yet)
        lines.append(
            vi.PROGRESS_NO_DATA.format(
                period=p.period.label,
                compare=compare,
                target=goal,
                unit=f" {unit_word}" if unit_word else "%",
            )
        )
    else:
        if t.kind == "sum":
            line = vi.PROGRESS_SUM.format(
                achieved=vi.format_number(p.achieved),
                compare=compare,
                target=goal,
                unit=unit_word,
                percent=vi.format_percent(p.percent),
            )
            if p.basis and p.basis[0] < p.basis[1]:
                n, m = p.basis
                line += vi.PROGRESS_SUM_BASIS.format(n=n, m=m, level=level, missing=m - n)
        else:
            line = vi.PROGRESS_PCT.format(
                achieved=vi.format_percent(p.achieved), compare=compare, target=goal
            )
            if t.kind == "coverage" and p.counted:
                template = vi.PROGRESS_COVERAGE_SILENT if p.silent else vi.PROGRESS_COVERAGE
                line += template.format(
                    reached=p.counted[0], units=p.counted[1], level=level, silent=p.silent
                )
            if t.kind == "rate" and p.basis and p.ratio:
                line += vi.PROGRESS_RATE.format(
                    numerator=vi.format_number(p.ratio[0]),
                    denominator=vi.format_number(p.ratio[1]),
                    n=p.basis[0],
                    m=p.basis[1],
                    level=level,
                )
        lines.append(line)
        lines.extend(rate_notes(catalog, p))
    # (A window held against a later year's goal says so below, instead.)
    if t.kind != "task" and not p.due_year and (p.status != Status.NO_DATA or p.final):
        lines.append(_expectation(p, unit_word))
    if p.due_year:
        lines.append(vi.PROGRESS_DUE_YEAR.format(year=p.due_year, period=p.period.label))
    if p.previous_window and p.cover is not None and p.status != Status.PENDING:
        lines.append(_previous(p))
    if p.group:
        lines.append(vi.PROGRESS_GROUP.format(units=", ".join(u.name for u in p.scope)))
    if t.excludes:
        lines.append(vi.PROGRESS_EXCLUDES.format(items="; ".join(t.excludes)))
    lines.append(vi.PROGRESS_SOURCE.format(source=t.source))
    return lines


def rate_notes(catalog: Catalog, p: TargetProgress, indent: str = "   ") -> list[str]:
    """A rate's pairs that are not each unit's latest figures, and the units left out for
    giving the two figures in different periods: why a page of the numerator's latest figures
    may show another number."""
    if p.rate is None:
        return []
    level = catalog.level_word(p.rate.level) if p.rate.level else vi.UNITS_WORD
    # Once any pair is an earlier period's, every period used is named (the latest too), so
    # the lines add up to the units the rate rests on.
    by_period = p.rate.periods if p.rate.earlier and p.rate.periods else p.rate.earlier
    lines = [
        indent + vi.TOTAL_RATIO_EARLIER.format(n=n, level=level, period=period.label)
        for period, n in sorted(by_period.items())
    ]
    if p.rate.split:
        lines.append(indent + vi.TOTAL_RATIO_INCOMPLETE.format(n=p.rate.split, level=level))
    return lines


def _task_line(t: Target, p: TargetProgress, level: str) -> str:
    deadline = _day(t.deadline)
    done, units = p.counted or (0, 0)
    if not t.levels and units <= 1:
        if p.silent:
            return vi.PROGRESS_TASK_SELF_SILENT.format(deadline=deadline)
        return vi.PROGRESS_TASK_SELF.format(deadline=deadline)
    line = vi.PROGRESS_TASK.format(deadline=deadline, done=done, units=units, level=level)
    notes = []
    if p.late:
        notes.append(vi.PROGRESS_TASK_LATE.format(late=p.late))
    if p.silent:
        notes.append(vi.PROGRESS_TASK_SILENT.format(silent=p.silent, level=level))
    return line + (f" ({'; '.join(notes)})" if notes else "") + "."


def _previous(p: TargetProgress) -> str:
    """Why last year's (term's) window is shown: today's has no report due yet."""
    return vi.PROGRESS_PREVIOUS.format(
        period=p.period.label,
        current=p.successor.label if p.successor else "",
        due=_day(p.successor_due),
    )


def _expectation(p: TargetProgress, unit_word: str) -> str:
    how, covered = p.target.expectation, p.cover
    if p.final:
        if covered is None or covered.last_due is None or p.today is None:
            return vi.PROGRESS_FINAL.format(period=p.period.label)
        if p.today <= covered.last_due:  # decided early: every unit counted has its value
            return vi.PROGRESS_DECIDED.format(period=p.period.label)
        if covered.closes and p.today <= covered.closes:
            return vi.PROGRESS_FINAL_LATE.format(period=p.period.label, closes=_day(covered.closes))
        return vi.PROGRESS_FINAL.format(period=p.period.label)
    if how == Expect.HOLD or not p.target.compare.upward:
        return vi.PROGRESS_EXPECT_HOLD.format(period=p.period.label)
    if covered is not None and covered.until is None and not covered.some_due:
        return vi.PROGRESS_EXPECT_NONE_DUE.format(period=p.period.label, due=_day(covered.next_due))
    if p.expected is None:
        return vi.PROGRESS_EXPECT_NOT_DUE.format(
            period=p.period.label, due=_day(covered.last_due if covered else None)
        )
    if how == Expect.MILESTONES:
        suffix = f" {unit_word}" if unit_word else ("%" if p.target.is_percent else "")
        return vi.PROGRESS_EXPECT_MILESTONE.format(
            expected=vi.format_number(p.expected), unit=suffix, period=p.period.label
        )
    # A percentage target is expected in its own points; a sum as a share of its goal.
    expected = p.expected if p.target.is_percent else p.expected_percent
    return vi.PROGRESS_EXPECT_LINEAR.format(
        expected=vi.format_percent(expected),
        until=_day(covered.until if covered else None),
        period=p.period.label,
    )


# ---- an indicator's total (storage/measures/totals.py) -------------------------------------------


def value_text(
    total: Total,
    figure: Figure,
    *,
    leaf: bool = False,
    unit_word: bool = False,
    parts: bool = True,
) -> str:
    """A figure as a cell shows it: "chưa báo cáo" when no unit reported, "có" / "không" or
    "k/n có" for a yes/no, a ratio with its parts; never a 0 that nobody reported."""
    if not figure.reported:
        return vi.TOTAL_INCOMPLETE if figure.incomplete else vi.TOTAL_NOT_REPORTED
    if total.kind == Kind.EACH and not leaf:  # each unit's own percentage: no sum
        return vi.TOTAL_ROW_BASIS.format(
            reported=figure.reported, expected=figure.expected, level=total.level_word
        )
    if total.kind == Kind.YES_NO:
        if leaf:
            return vi.TOTAL_YES if figure.yes else vi.TOTAL_NO
        return vi.TOTAL_YES_COUNT.format(yes=figure.yes, reported=figure.reported)
    if figure.value is None:
        return vi.TOTAL_NO_VALUE if total.kind == Kind.RATIO else ""
    word = total.indicator.unit.strip()
    if word == "%":
        text = vi.format_percent(figure.value)
    else:
        text = vi.format_number(round(figure.value, 2))
        if unit_word and word:
            text += f" {word}"
    if parts and total.kind == Kind.RATIO and len(figure.parts) == 2:
        a, b = figure.parts.values()
        text += f" ({vi.format_number(a)}/{vi.format_number(b)})"
    return text


def main_period(figure: Figure) -> Period | None:
    """The period most units' latest figure comes from (a stock)."""
    return figure.ends.most_common(1)[0][0] if figure.ends else None


def row_note(catalog: Catalog, total: Total, row: Row) -> str:
    """What a row's figure rests on, when the headline's does not say it for it: how many
    units below it reported, the period of an older figure, the periods a flow missed."""
    f, level = row.figure, total.level_word
    notes = []
    if not row.leaf and not row.own and f.reported and f.missing and total.kind != Kind.EACH:
        notes.append(
            vi.TOTAL_ROW_BASIS.format(reported=f.reported, expected=f.expected, level=level)
        )
    main = main_period(total.figure)
    for period in sorted(f.ends):
        if (row.leaf or row.own) and main is not None and period != main:
            notes.append(vi.TOTAL_ROW_PERIOD.format(period=period.label))
    for period in sorted(f.earlier):
        if row.leaf or row.own:
            notes.append(vi.TOTAL_ROW_PERIOD.format(period=period.label))
    most = total.figure.most_periods
    if (row.leaf or row.own) and f.reported and f.most_periods < most:
        notes.append(vi.TOTAL_ROW_PERIODS.format(n=f.most_periods, m=most))
    return "; ".join(notes)


def _merged(catalog: Catalog, total: Total) -> list[str]:
    """A unit merged away: where its branches' figures are now."""
    if total.merged_into is None:
        return []
    into, day = total.merged_into
    level = total.level_word if total.level else catalog.level_word(catalog.leaf_level)
    return [
        vi.TOTAL_MERGED.format(unit=total.unit.name, into=into.name, day=_day(day), level=level)
    ]


def row_name(row: Row) -> str:
    return vi.TOTAL_OWN.format(name=row.unit.name) if row.own else row.unit.name


def total_lines(
    catalog: Catalog, total: Total, unit_name: str | None = None
) -> tuple[list[str], list[str]]:
    """The headline (figure, what it rests on, change) and one line per unit below;
    `unit_name`: the unit as the answer names it (its name, told apart from a twin)."""
    f, ind, level = total.figure, total.indicator, total.level_word
    unit = unit_name or total.unit.name
    fields = {"label": ind.label, "unit": unit, "period": total.period.label}
    if not f.reported and not f.incomplete:
        if not f.expected:
            return [vi.TOTAL_EMPTY.format(period=total.period.label), *_merged(catalog, total)], []
        empty = vi.TOTAL_EMPTY_OF.format(
            period=total.period.label, expected=f.expected, level=level
        )
        if total.due is not None:  # not late: the reports are still within their due date
            empty = vi.TOTAL_EMPTY_IN_WINDOW.format(
                period=total.period.label,
                due=_day(total.due),
                expected=f.expected,
                level=level,
            )
        return [empty, *_merged(catalog, total)], _row_lines(catalog, total)
    if total.kind == Kind.YES_NO:
        head = [vi.TOTAL_YES_NO_TITLE.format(**fields, yes=f.yes, reported=f.reported, level=level)]
    elif total.kind == Kind.EACH:
        head = [vi.TOTAL_EACH_TITLE.format(**fields, level=level)]
    else:
        word = "" if ind.unit.strip() == "%" else ind.unit
        value = value_text(total, f, parts=False) if f.reported else vi.TOTAL_NOT_REPORTED
        head = [vi.TOTAL_TITLE.format(**fields, value=value, unit_word=word).rstrip()]
    if total.kind == Kind.RATIO and f.parts:
        parts = "/".join(vi.format_number(v) for v in f.parts.values())
        head.append(vi.TOTAL_RATIO_PARTS.format(parts=parts))
    head += _basis(total, level)
    head += _merged(catalog, total)
    if total.since is not None:  # (the first due periods have no report in the records)
        first, n = total.since
        head.append(vi.TOTAL_SINCE.format(first=first.label, n=n, period=total.period.label))
    if total.due is not None and total.until is None:
        head.append(vi.TOTAL_IN_WINDOW.format(period=total.period.label, due=_day(total.due)))
    head += _change_lines(total, level)
    return head, _row_lines(catalog, total)


def _row_lines(catalog: Catalog, total: Total) -> list[str]:
    rows = []
    for i, row in enumerate(total.rows, start=1):
        value = value_text(total, row.figure, leaf=row.leaf or row.own)
        share = total.share(row)
        if share is not None:
            line = vi.TOTAL_LINE.format(
                i=i, name=row_name(row), value=value, share=vi.format_percent(share)
            )
        else:
            line = vi.TOTAL_LINE_PLAIN.format(i=i, name=row_name(row), value=value)
        note = row_note(catalog, total, row) if row.figure.reported else ""
        rows.append(vi.TOTAL_LINE_NOTE.format(line=line, note=note) if note else line)
    return rows


def _basis(total: Total, level: str) -> list[str]:
    f = total.figure
    counts = {"reported": f.reported, "expected": f.expected, "level": level}
    if total.kind == Kind.RATIO:
        lines = [vi.TOTAL_RATIO_BASIS.format(**counts)]
        if f.incomplete:
            lines.append(vi.TOTAL_RATIO_INCOMPLETE.format(n=f.incomplete, level=level))
        # Once any pair is an earlier period's, every period used is named (as `rate_notes`).
        for period, n in sorted((f.pairs if f.earlier else f.earlier).items()):
            lines.append(vi.TOTAL_RATIO_EARLIER.format(n=n, level=level, period=period.label))
        return lines
    if f.missing:
        lines = [vi.TOTAL_BASIS_MISSING.format(**counts, missing=f.missing)]
    elif f.expected > 1:  # (one unit's own figure: nothing to say)
        lines = [vi.TOTAL_BASIS.format(**counts)]
    else:
        lines = []
    if total.until is not None:
        lines.append(vi.TOTAL_UNTIL.format(period=total.until.label))
    if f.partial:
        lines.append(vi.TOTAL_PARTIAL.format(n=f.partial, level=level, periods=f.most_periods))
    if f.ends and (len(f.ends) > 1 or main_period(f) != total.period):
        items = ", ".join(
            vi.TOTAL_STOCK_PERIOD_ITEM.format(period=p.label, n=n, level=level)
            for p, n in sorted(f.ends.items(), reverse=True)
        )
        if len(f.ends) == 1:
            items = main_period(f).label  # type: ignore[union-attr]
        lines.append(vi.TOTAL_STOCK_PERIOD.format(level=level, periods=items))
    return lines


def _change_lines(total: Total, level: str, change: Change | None = None) -> list[str]:
    """The change from the previous period (or the one given: a year before)."""
    change = change or total.change
    if change is None:
        return []
    previous = change.period.label
    if change.stretch:
        previous = vi.TOTAL_SAME_STRETCH.format(year=change.period.start.year, period=previous)
    if change.before is None:
        if total.period.kind in ("term", "range"):
            return []  # (the term before the bot, or an arbitrary stretch: nothing to say)
        return [vi.TOTAL_CHANGE_NO_BASE.format(previous=previous)]
    none = vi.TOTAL_CHANGE_NONE_FULL if change.partial else vi.TOTAL_CHANGE_NONE
    if change.now is None:
        return [none.format(previous=previous, level=level)]
    before, now = change.before, change.now
    if total.kind == Kind.YES_NO:
        text = vi.TOTAL_CHANGE_YES_NO.format(
            before=f"{before.yes}/{before.reported}", now=f"{now.yes}/{now.reported}", level=level
        )
    elif before.value is None or now.value is None:
        return [none.format(previous=previous, level=level)]
    else:
        delta = now.value - before.value
        if total.kind == Kind.RATIO:  # the difference of the figures shown
            delta = round(now.value, 1) - round(before.value, 1)
        sign = "+" if delta >= 0 else "−"
        if total.kind == Kind.RATIO:
            text = vi.TOTAL_CHANGE_POINTS.format(
                before=value_text(total, before, parts=False),
                now=value_text(total, now, parts=False),
                sign=sign,
                delta=vi.format_number(round(abs(delta), 1), 1),
            )
        else:
            pct = abs(delta) / abs(before.value) * 100 if before.value else None
            if change.all_common and pct is not None:
                return [
                    vi.TOTAL_CHANGE.format(
                        previous=previous,
                        sign=sign,
                        delta=vi.format_number(abs(delta)),
                        pct=vi.format_percent(pct),
                    )
                ]
            shown = sign + vi.format_number(abs(delta))
            if pct is not None:
                shown += f", {sign}{vi.format_percent(pct)}"
            text = vi.TOTAL_CHANGE_SUM.format(
                before=vi.format_number(before.value), now=vi.format_number(now.value), delta=shown
            )
    if change.all_common:
        return [vi.TOTAL_CHANGE_ALL.format(previous=previous, change=text)]
    common = vi.TOTAL_CHANGE_COMMON_FULL if change.partial else vi.TOTAL_CHANGE_COMMON
    return [common.format(previous=previous, n=change.common, level=level, change=text)]


def not_due(c: Completeness, today: date) -> date | None:
    """The due date of `c`'s period before that day (its reports are not owed yet; on the
    day itself who has not sent is listed, to be reminded)."""
    due = window(c.form, c.period).due
    return due if today < due else None


def completeness_text(c: Completeness, unit_name: str, today: date, level: str) -> str:
    """`level`: how the form's units are named ("chi hội", "cơ sở"), from the configuration."""
    percent = c.submitted / c.expected * 100 if c.expected else None
    title = vi.MISSING_TITLE.format(form=c.form.name, period=c.period.label, unit=unit_name)
    due = not_due(c, today)
    if due is not None:  # what came in so far; nobody is "chưa nộp" before the due date
        lines = [
            title,
            vi.MISSING_NOT_DUE.format(
                due=_day(due),
                submitted=c.submitted,
                expected=c.expected,
                percent=vi.format_percent(percent),
                waiting=len(c.missing),
                level=level,
            ),
        ]
        if c.in_progress:
            lines.append(vi.MISSING_NOT_DUE_IN_PROGRESS.format(n=c.in_progress, level=level))
        return "\n".join(lines)
    lines = [
        title,
        vi.MISSING_SUMMARY.format(
            submitted=c.submitted,
            expected=c.expected,
            percent=vi.format_percent(percent),
            on_time=c.on_time,
            late=c.late,
            missing=len(c.missing),
        ),
    ]
    if not c.missing:
        lines.append(vi.MISSING_NONE)
        return "\n".join(lines)
    if c.in_progress:
        lines.append(vi.MISSING_IN_PROGRESS.format(n=c.in_progress, level=level))
    for parent, units in c.missing_by_parent().items():
        lines.append(vi.MISSING_GROUP.format(parent=parent, units=", ".join(u.name for u in units)))
    return "\n".join(lines)


def change_lines(total: Total, change: Change | None) -> list[str]:
    """`change` (total.change or total.year_change) as the chat and the CLI word it."""
    return _change_lines(total, total.level_word, change) if change is not None else []
