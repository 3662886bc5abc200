"""When each form's periods open, fall due and close, from the schedule in the forms file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from storage.plan.catalog import Catalog, Form
from storage.plan.periods import Period, next_period, period_of, previous_period


@dataclass(frozen=True)
class Window:
    period: Period
    opens: date
    due: date  # last day to report on time
    closes: date  # last day a report or correction is accepted without reopening

    def is_open(self, day: date) -> bool:
        return self.opens <= day <= self.closes

    def is_late(self, day: date) -> bool:
        return day > self.due


def window(form: Form, period: Period) -> Window:
    s = form.schedule
    return Window(
        period,
        period.end - timedelta(days=s.opens_days_before_end),
        period.end + timedelta(days=s.due_days_after_end),
        period.end + timedelta(days=s.closes_days_after_end),
    )


def open_windows(form: Form, today: date) -> list[Window]:
    """Windows of this form open today, oldest first (at most two when they overlap)."""
    current = period_of(form.periodicity, today)
    candidates = [previous_period(previous_period(current)), previous_period(current), current]
    return [w for w in (window(form, p) for p in candidates) if w.is_open(today)]


def next_window(form: Form, today: date) -> Window:
    """The first window that opens after today."""
    period = period_of(form.periodicity, today)
    while True:
        w = window(form, period)
        if w.opens > today:
            return w
        period = next_period(period)


def latest_due_period(form: Form, today: date) -> Period:
    """The most recent period of the form whose due date has passed."""
    period = period_of(form.periodicity, today)
    while window(form, period).due >= today:
        period = previous_period(period)
    return period


def default_form(catalog: Catalog) -> Form:
    """The leaf level's most frequent form: the one whose calendar "on time" refers to."""
    leaf = catalog.forms_for_level(catalog.leaf_level)
    return min(
        leaf or list(catalog.forms.values()),
        key=lambda f: ["month", "quarter", "half", "year"].index(f.periodicity),
    )
