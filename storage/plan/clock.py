"""Time, injectable: business dates are in Asia/Ho_Chi_Minh; tests set the clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock:
    """The real clock. Tests use `FixedClock`, so schedules are checked without waiting."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def local_now(self) -> datetime:
        return self.now().astimezone(VN)

    def today(self) -> date:
        return self.local_now().date()


class FixedClock(Clock):
    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.at = at

    def now(self) -> datetime:
        # In UTC, as the real clock gives it: a test set in local time still meets the code
        # the way production does.
        return self.at.astimezone(UTC)

    def set(self, at: datetime) -> None:
        self.at = at


class ShiftedClock(Clock):
    """Starts at a chosen moment and runs on in real time (HOIBOT_NOW, for demos): schedule
    checks, retries and due times all read this one clock."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ShiftedClock needs an aware datetime")
        self.shift = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift


def local(moment: datetime) -> datetime:
    """A stored moment (UTC) as the province's wall clock: every time a person sees is local,
    so a report sent at 04:46 on 6/12 in Hà Nội never reads as sent on 5/12."""
    return moment.astimezone(VN)


def vn_datetime(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VN)


def read_day(text: str) -> date | None:
    """A calendar date as offices write it: 2026-06-30, or day first: 30/06/2026, 30-06-2026,
    30.06.2026. None when it is not one."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    return None
