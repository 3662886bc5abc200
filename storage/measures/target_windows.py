"""When a target is measured and what is due of it by a date.

Its window: the year, the term or the fixed period it names (while nothing of today's window
is due, the one before it too: January shows last year's result). What can be expected by a
date is what the reports due by that date can show: the periods of its forms (of the levels
it counts) whose due date has passed cover the window up to some day (`cover`), and
`expected_value` says how much of the goal that part owes: the share of the window it covers
(`linear`: at mid-term, 2,100 of 5,000 is behind; 2,600 is on track), the whole goal once the
window's last reports are due (`end`), the latest milestone covered, or the whole goal all
along once anything is due (`hold`: a level to keep). Nothing due yet expects nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from storage.measures import ratios
from storage.plan.catalog import Catalog, Expect, Form, Target
from storage.plan.periods import (
    Period,
    from_key,
    periods_inside,
    term_period,
    year_period,
)


@dataclass(frozen=True)
class Cover:
    """What a target's forms due by a date can show of a window."""

    until: date | None  # the reports due cover the window up to this day (None: none due)
    complete: bool  # every report of the window is due
    next_due: date | None = None  # when the next report of the window falls due
    last_due: date | None = None  # when the window's last reports fall due
    closes: date | None = None  # the last day the window's last reports are taken
    some_due: bool = False  # some form's report of the window is due (others' not yet)


@dataclass(frozen=True)
class Window:
    """The window a target is measured in today, and the goal it is held against there."""

    period: Period
    goal: float
    due_year: int | None = None  # by_year: the year the goal is due (a later one: "đến 2030")
    # The window before today's, shown while today's has nothing due: today's window and
    # when its first report falls due.
    previous: bool = False
    successor: Period | None = None
    successor_due: date | None = None

    @property
    def judged(self) -> bool:
        """Whether the goal is due in this window (not in a later year)."""
        return self.due_year is None or self.due_year == self.period.start.year


def _terms(catalog: Catalog) -> list[Period]:
    return sorted(term_period(t) for t in catalog.terms)


def _year_window(target: Target, year: int) -> Window | None:
    if target.by_year:
        found = target.year_value(year)
        return None if found is None else Window(year_period(year), found[0], found[1])
    return Window(year_period(year), target.target or 0.0)


def windows_of(target: Target, catalog: Catalog, today: date) -> list[Window]:
    """The window a target is measured in today, then, while none of its reports is due
    yet, the one before it: a scope with nothing reported in today's window is shown the
    one before instead (January: last year's result, being completed, then final).

    A yearly target (or a by_year one) measures the current year; after a by_year target's
    last listed year, that year's result stands. A term target measures the term containing
    today (the one before it while nothing of the new one is due; the last one once all
    have ended); a fixed period is itself."""
    if target.by_year or target.period == "yearly":
        current = _year_window(target, today.year)
        if current is None:  # after the last listed year
            last = _year_window(target, max(target.year_values()))
            return [last or Window(year_period(today.year), 0.0)]
        before = _year_window(target, today.year - 1)
        now = cover(catalog, target, current.period, today)
        if before is None or now.until is not None:
            return [current]
        earlier = Window(
            before.period, before.goal, before.due_year, True, current.period, now.next_due
        )
        return [current, earlier]
    goal = target.target or 0.0
    if target.period == "term":
        terms = _terms(catalog)
        running = [t for t in terms if t.start <= today <= t.end]
        if not running:
            ended = [t for t in terms if t.end < today]
            return [Window(ended[-1] if ended else terms[0], goal)]
        ended = [t for t in terms if t.end < running[0].start]
        found = cover(catalog, target, running[0], today)
        if not ended or found.until is not None:
            return [Window(running[0], goal)]
        return [
            Window(running[0], goal),
            Window(ended[-1], goal, None, True, running[0], found.next_due),
        ]
    return [Window(from_key(target.period, catalog.terms), goal)]


def target_period(target: Target, catalog: Catalog, today: date) -> Period:
    """The window measured today (before a scope's own choice of the one before it)."""
    return windows_of(target, catalog, today)[0].period


def target_forms(catalog: Catalog, target: Target) -> list[Form]:
    """The forms whose reports a target counts: those asking what it measures, at the
    levels it counts (a level's own answers, when it counts them)."""
    codes = [target.indicator, target.numerator, target.denominator]
    components = {c for code in codes if code for c in catalog.components(code)}
    levels: set[str] | None = None
    if target.reported_levels:
        levels = set(target.reported_levels)
    elif target.kind == "rate" and target.numerator and target.denominator:
        level = ratios.rate_level(catalog, target.numerator, target.denominator)
        levels = {level} if level else set()
    elif target.levels and target.indicator:
        own = [ratios.own_level(catalog, target.indicator, lv) for lv in target.levels]
        if all(own):
            levels = set(target.levels)
    forms = {
        f
        for code in components
        for f in catalog.forms_of_indicator.get(code, [])
        if levels is None or catalog.forms[f].level in levels
    }
    return [catalog.forms[f] for f in sorted(forms)]


def cover(catalog: Catalog, target: Target, window: Period, today: date) -> Cover:
    """How far into the window the target's reports due by the end of `today` reach: for each
    form, the end of its last period in the window whose due date has passed; the earliest
    over the forms (a part of the window is covered when every form's report of it is due).
    A due date is the last day to report on time: its reports are owed the day after."""
    untils: list[date | None] = []
    next_dues: list[date] = []
    last_dues: list[date] = []
    closes: list[date] = []
    some_due = False
    for form in target_forms(catalog, target):
        inside = periods_inside(form.periodicity, window)
        if not inside:
            continue  # this form's reports never fit inside the window
        due_days = timedelta(days=form.schedule.due_days_after_end)
        owed = [p for p in inside if p.end + due_days < today]
        some_due = some_due or bool(owed)
        last_dues.append(inside[-1].end + due_days)
        closes.append(inside[-1].end + timedelta(days=form.schedule.closes_days_after_end))
        if len(owed) == len(inside):
            untils.append(window.end)
        else:
            untils.append(owed[-1].end if owed else None)
            next_dues.append(inside[len(owed)].end + due_days)
    if not untils:
        return Cover(None, False)
    until = None if any(u is None for u in untils) else min(u for u in untils if u)
    return Cover(
        until,
        not next_dues,
        min(next_dues) if next_dues else None,
        max(last_dues),
        max(closes),
        some_due,
    )


def expected_value(target: Target, window: Window, covered: Cover) -> float | None:
    """What should have been reached by now, out of what the reports due can show; None when
    nothing is expected yet (no report of the window is due, or the goal is due later)."""
    if covered.until is None or not window.judged:
        return None
    how, goal = target.expectation, window.goal
    if how == Expect.HOLD:
        return goal
    if how == Expect.END:
        return goal if covered.complete else None
    if how == Expect.MILESTONES:
        passed = [m.value for m in target.milestones if m.date <= covered.until]
        return max(passed) if passed else None
    return goal * window.period.elapsed_fraction(covered.until)
