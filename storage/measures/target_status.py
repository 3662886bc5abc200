"""What a target's measure says: its status and the record the chat, the CLI, the pages and
the workbook render (`TargetProgress`).

The verdict (`verdict`): a target is never behind for reports that are not due; once a
window is over and its last reports are due, the verdict is final: reached or not; a target
with nothing reported in its window is "no data", never behind; the verdict is read on the
figures as they are shown (one decimal of a percentage). The summary counts the verdicts in
`GROUPS`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from storage.db.models import OrgUnit
from storage.measures import ratios
from storage.measures.target_windows import Cover
from storage.plan.catalog import Expect, Target
from storage.plan.periods import (
    Period,
)


class Status(StrEnum):
    ACHIEVED = "achieved"
    ON_TRACK = "on_track"
    BEHIND = "behind"
    MISSED = "missed"  # the window is over and its reports due: not reached
    PENDING = "pending"  # not reached, and nothing is expected of it yet
    NO_DATA = "no_data"
    DONE = "done"  # a task
    DONE_LATE = "done_late"  # a task done, by some after its deadline
    NOT_YET = "not_yet"  # a task before its deadline (and its reports) are due
    OVERDUE = "overdue"  # a task past its deadline


BEHIND = frozenset({Status.BEHIND, Status.MISSED, Status.OVERDUE})
# How the summary counts the verdicts: every target listed falls in one group.
GROUPS: dict[str, tuple[Status, ...]] = {
    "achieved": (Status.ACHIEVED, Status.DONE, Status.DONE_LATE),
    "on_track": (Status.ON_TRACK,),
    "behind": (Status.BEHIND, Status.OVERDUE),
    "missed": (Status.MISSED,),
    "pending": (Status.PENDING, Status.NOT_YET),
    "no_data": (Status.NO_DATA,),
}


@dataclass
class TargetProgress:
    target: Target
    period: Period  # the window measured
    scope: list[OrgUnit]
    goal: float | None  # the value to reach in this window (by_year: that year's)
    achieved: float | None  # the sum, or the percentage for coverage and rate; None: no data
    expected: float | None  # the value expected by today (None: nothing is due yet)
    status: Status
    counted: tuple[int, int] | None = None  # coverage: reached/units; task: done/units
    basis: tuple[int, int] | None = None  # rate: units that gave both / units that should;
    # sum: the reporting units that gave the figure / those that should (storage/measures/totals.py)
    basis_level: str | None = None  # the level of the units in `counted` / `basis`, if one
    ratio: tuple[float, float] | None = None  # rate: numerator, denominator
    rate: ratios.Rate | None = None  # rate: its pairs of earlier periods and split units
    reported: int | None = None  # coverage, task: units of `counted` that gave a value
    late: int = 0  # task: units that did it after the deadline
    previous_window: bool = False  # last year's (term's) result, while today's has none due
    due_year: int | None = None  # by_year: measured now against the value due in this year
    final: bool = False  # the window is over and all its reports are due
    cover: Cover | None = None
    today: date | None = None  # the day measured
    successor: Period | None = None  # previous_window: today's window…
    successor_due: date | None = None  # …and when its first report falls due

    @property
    def group(self) -> bool:
        return len(self.scope) > 1

    @property
    def percent(self) -> float | None:
        """Share of the goal reached (a ceiling to stay under has none)."""
        if self.achieved is None or not self.goal or not self.target.compare.upward:
            return None
        return self.achieved / self.goal * 100

    @property
    def expected_percent(self) -> float | None:
        if self.expected is None or not self.goal or not self.target.compare.upward:
            return None
        return self.expected / self.goal * 100

    @property
    def silent(self) -> int:
        """Coverage, task: units counted that gave no value (shown as such, never as 0)."""
        if self.counted is None or self.reported is None:
            return 0
        return self.counted[1] - self.reported


def shown(target: Target, value: float) -> float:
    """A value as the views show it: a percentage to one decimal."""
    return round(value, 1) if target.is_percent else value


def _keeps_pace(target: Target, achieved: float, goal: float, expected: float) -> bool:
    """Whether the achieved value is at the expected one, as both are shown: a sum's linear
    expectation is shown as a share of the goal, so it is compared as shown there."""
    if target.is_percent:
        return round(achieved, 1) >= round(expected, 1)
    if target.expectation == Expect.LINEAR and goal:
        return round(achieved / goal * 100, 1) >= round(expected / goal * 100, 1)
    return achieved >= expected


def verdict(
    target: Target, achieved: float | None, goal: float, expected: float | None, final: bool
) -> Status:
    if achieved is None:
        return Status.NO_DATA
    holds = target.compare.holds(shown(target, achieved), goal)
    if final:
        return Status.ACHIEVED if holds else Status.MISSED
    if holds:
        return Status.ACHIEVED
    if not target.compare.upward:
        return Status.BEHIND  # a ceiling crossed
    if expected is None:  # nothing is due yet
        return Status.PENDING
    return Status.ON_TRACK if _keeps_pace(target, achieved, goal, expected) else Status.BEHIND


def current_status(p: TargetProgress) -> Status:
    """The verdict in today's window: a target shown on the window before it (nothing of
    today's is due yet) is not yet to be judged this year, whatever last year's verdict."""
    return Status.PENDING if p.previous_window else p.status


def behind_count(items: list[TargetProgress]) -> int:
    return sum(1 for p in items if current_status(p) in BEHIND)


def summary_counts(items: list[TargetProgress]) -> dict[str, int]:
    """How many of the targets listed fall in each group of `GROUPS` (they add up to all),
    by today's window: last year's verdicts shown while this year's are not due are
    counted as not due (`past_counts` tells them apart)."""
    return {
        name: sum(1 for p in items if current_status(p) in group) for name, group in GROUPS.items()
    }


def past_counts(items: list[TargetProgress]) -> dict[Period, dict[str, int]]:
    """The targets shown on the window before today's with a verdict there, by window."""
    out: dict[Period, dict[str, int]] = {}
    for p in items:
        if p.previous_window and p.status != Status.PENDING:  # (a verdict, not "not due")
            counts = out.setdefault(p.period, dict.fromkeys(GROUPS, 0))
            counts[next(n for n, g in GROUPS.items() if p.status in g)] += 1
    return out
