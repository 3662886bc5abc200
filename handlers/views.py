"""Vietnamese text renderings of rollup results, shared by the chat and the CLI."""

from __future__ import annotations

from datetime import date

from storage import texts_vi as vi
from storage.catalog import Catalog, Expect, Target
from storage.progress import Status, TargetProgress, summary_counts
from storage.rollup import Completeness, Share


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
    return vi.PROGRESS_SUMMARY.format(total=len(items), parts=", ".join(parts))


def _day(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else "–"


def progress_lines(catalog: Catalog, p: TargetProgress) -> list[str]:
    """One target's verdict, what it rests on, and its source."""
    t = p.target
    level = catalog.level_word(p.basis_level) if p.basis_level else vi.UNITS_WORD
    lines = [vi.PROGRESS_HEAD.format(status=vi.STATUS[p.status], label=t.label)]
    unit_word = catalog.indicators[t.indicator].unit if t.kind == "sum" and t.indicator else ""
    compare = vi.COMPARE_WORDS[t.compare.value]
    goal = vi.format_number(p.goal)
    if t.kind == "task":
        lines.append(_task_line(t, p, level))
    elif p.status == Status.NO_DATA:
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
    # (A window held against a later year's goal says so below, instead.)
    if t.kind != "task" and not p.due_year and (p.status != Status.NO_DATA or p.final):
        lines.append(_expectation(p, unit_word))
    if p.due_year:
        lines.append(vi.PROGRESS_DUE_YEAR.format(year=p.due_year, period=p.period.label))
    if p.previous_window and p.cover is not None:
        lines.append(_previous(p))
    if p.group:
        lines.append(vi.PROGRESS_GROUP.format(units=", ".join(u.name for u in p.scope)))
    if t.excludes:
        lines.append(vi.PROGRESS_EXCLUDES.format(items="; ".join(t.excludes)))
    lines.append(vi.PROGRESS_SOURCE.format(source=t.source))
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
    if covered is not None and covered.until is None:
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


def breakdown_lines(rows: list[Share]) -> list[str]:
    return [
        vi.TOTAL_LINE.format(
            i=i,
            name=r.unit.name,
            value=vi.format_number(r.value),
            share=vi.format_percent(r.share),
        )
        for i, r in enumerate(rows, start=1)
    ]


def completeness_text(c: Completeness, unit_name: str) -> str:
    percent = c.submitted / c.expected * 100 if c.expected else None
    lines = [
        vi.MISSING_TITLE.format(form=c.form.name, period=c.period.label, unit=unit_name),
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
        lines.append(vi.MISSING_IN_PROGRESS.format(n=c.in_progress))
    for parent, units in c.missing_by_parent().items():
        lines.append(vi.MISSING_GROUP.format(parent=parent, units=", ".join(u.name for u in units)))
    return "\n".join(lines)
