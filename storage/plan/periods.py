"""Reporting periods (month, quarter, half-year, year, congress term) and their Vietnamese names."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from storage.plan.text import fold


class Periodicity(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"


class PeriodError(ValueError):
    """A period the user typed could not be read; `key` selects the Vietnamese message."""

    def __init__(self, key: str, text: str = "") -> None:
        super().__init__(key)
        self.key = key
        self.text = text


@dataclass(frozen=True)
class Term:
    code: str  # "2021-2026"
    start: date
    end: date


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date  # inclusive
    key: str
    kind: str  # a Periodicity value, "term" or "range"

    @property
    def label(self) -> str:
        return period_label(self)

    def contains(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end

    def months(self) -> list[Period]:
        out = []
        current = month(self.start.year, self.start.month)
        while current.start <= self.end:
            out.append(current)
            current = next_period(current)
        return out

    def elapsed_fraction(self, today: date) -> float:
        """Share of the period gone by at the end of `today` (0..1)."""
        if today < self.start:
            return 0.0
        if today >= self.end:
            return 1.0
        return ((today - self.start).days + 1) / ((self.end - self.start).days + 1)


ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
_ROMAN_IN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def _end_of_month(year: int, m: int) -> date:
    return (date(year + (m == 12), m % 12 + 1, 1)) - timedelta(days=1)


def month(year: int, m: int) -> Period:
    if not 1 <= m <= 12:
        raise PeriodError("bad_month")
    return Period(date(year, m, 1), _end_of_month(year, m), f"{year}-{m:02d}", Periodicity.MONTH)


def quarter(year: int, q: int) -> Period:
    if not 1 <= q <= 4:
        raise PeriodError("bad_quarter")
    first = 3 * q - 2
    return Period(
        date(year, first, 1), _end_of_month(year, first + 2), f"{year}-Q{q}", Periodicity.QUARTER
    )


def half(year: int, h: int) -> Period:
    first = 1 if h == 1 else 7
    return Period(date(year, first, 1), _end_of_month(year, first + 5), f"{year}-H{h}", "half")


def year_period(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31), str(year), Periodicity.YEAR)


def term_period(term: Term) -> Period:
    return Period(term.start, term.end, f"NK{term.code}", "term")


def span(first: Period, last: Period) -> Period:
    if last.end < first.start:
        raise PeriodError("bad_range")
    return Period(first.start, last.end, f"{first.key}..{last.key}", "range")


def period_of(kind: Periodicity | str, day: date) -> Period:
    """The period of this periodicity that contains `day`."""
    if kind == Periodicity.MONTH:
        return month(day.year, day.month)
    if kind == Periodicity.QUARTER:
        return quarter(day.year, (day.month - 1) // 3 + 1)
    if kind == Periodicity.HALF:
        return half(day.year, 1 if day.month <= 6 else 2)
    if kind == Periodicity.YEAR:
        return year_period(day.year)
    raise ValueError(f"unknown periodicity {kind}")


def next_period(p: Period) -> Period:
    return period_of(p.kind, p.end + timedelta(days=1))


@functools.lru_cache(maxsize=1024)
def periods_inside(kind: Periodicity | str, window: Period) -> tuple[Period, ...]:
    """The periods of this periodicity that lie wholly inside the window (the reports a
    total over the window counts), oldest first."""
    out = []
    current = period_of(kind, window.start)
    while current.start <= window.end:
        if current.start >= window.start and current.end <= window.end:
            out.append(current)
        current = next_period(current)
    return tuple(out)


def previous_period(p: Period) -> Period:
    """The period just before `p` of the same length (a range or term shifts by its length)."""
    if p.kind in {k.value for k in Periodicity}:
        return period_of(p.kind, p.start - timedelta(days=1))
    length = p.end - p.start
    end = p.start - timedelta(days=1)
    return Period(end - length, end, f"{p.key}-prev", "range")


def from_key(key: str, terms: list[Term] | tuple[Term, ...] = ()) -> Period:
    """Inverse of `Period.key`."""
    if ".." in key:
        a, b = key.split("..", 1)
        return span(from_key(a, terms), from_key(b, terms))
    if key.startswith("NK"):
        for term in terms:
            if term.code == key[2:]:
                return term_period(term)
        raise PeriodError("unknown_term", key)
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})|-Q([1-4])|-H([12]))?", key)
    if not m:
        raise PeriodError("unreadable", key)
    y = int(m.group(1))
    if m.group(2):
        return month(y, int(m.group(2)))
    if m.group(3):
        return quarter(y, int(m.group(3)))
    if m.group(4):
        return half(y, int(m.group(4)))
    return year_period(y)


def period_label(p: Period) -> str:
    from storage.plan import texts_vi as vi

    if p.kind == Periodicity.MONTH:
        return vi.PERIOD_MONTH.format(m=p.start.month, y=p.start.year)
    if p.kind == Periodicity.QUARTER:
        return vi.PERIOD_QUARTER.format(q=ROMAN[(p.start.month - 1) // 3 + 1], y=p.start.year)
    if p.kind == "half":
        template = vi.PERIOD_HALF_1 if p.start.month == 1 else vi.PERIOD_HALF_2
        return template.format(y=p.start.year)
    if p.kind == Periodicity.YEAR:
        return vi.PERIOD_YEAR.format(y=p.start.year)
    if p.kind == "term":
        return vi.PERIOD_TERM.format(code=p.key[2:].replace("-", "–"))
    return vi.PERIOD_RANGE.format(a=p.start.strftime("%d/%m/%Y"), b=p.end.strftime("%d/%m/%Y"))


# ---- parsing what people type -------------------------------------------------------------

_YEAR = r"(?:\s*(?:/|-|nam)?\s*(\d{4}))?"
_MONTH_RE = re.compile(r"^(?:thang|t)\s*(\d{1,2})" + _YEAR + "$")
_BARE_MONTH_RE = re.compile(r"^(\d{1,2})\s*/\s*(\d{4})$")
_QUARTER_RE = re.compile(r"^(?:quy|q)\s*(iv|i{1,3}|\d)" + _YEAR + "$")
_HALF_RE = re.compile(r"^(?:6 thang|sau thang|nua) (dau|cuoi) nam" + _YEAR + "$")
_YEAR_RE = re.compile(r"^(?:nam\s*)?(\d{4})$")
_TERM_RE = re.compile(r"^(?:nhiem ky|nk)(?:\s*(\d{4})\s*-\s*(\d{4}))?$")
_RANGE_RE = re.compile(r"^tu (.+?) (?:den|toi|-) (.+)$")


def parse_period(text: str, today: date, terms: list[Term] | tuple[Term, ...] = ()) -> Period:
    """Reads "tháng 11", "tháng 11/2026", "quý III/2026", "6 tháng đầu năm", "năm 2026",
    "nhiệm kỳ", "từ tháng 1 đến tháng 6"... A month or quarter without a year is the latest
    one that has begun by `today`."""
    t = fold(text).replace("–", "-").strip(" .")
    if not t:
        raise PeriodError("empty")
    relative = _relative(t, today)
    if relative is not None:
        return relative
    if m := _RANGE_RE.match(t):
        return span(parse_period(m.group(1), today, terms), parse_period(m.group(2), today, terms))
    if m := _MONTH_RE.match(t) or _BARE_MONTH_RE.match(t):
        mm = int(m.group(1))
        if not 1 <= mm <= 12:
            raise PeriodError("bad_month", text)
        yy = (
            int(m.group(2)) if m.group(2) else (today.year if mm <= today.month else today.year - 1)
        )
        return month(yy, mm)
    if m := _QUARTER_RE.match(t):
        raw = m.group(1)
        q = _ROMAN_IN.get(raw) or (int(raw) if raw.isdigit() else 0)
        if not 1 <= q <= 4:
            raise PeriodError("bad_quarter", text)
        current_q = (today.month - 1) // 3 + 1
        yy = int(m.group(2)) if m.group(2) else (today.year if q <= current_q else today.year - 1)
        return quarter(yy, q)
    if m := _HALF_RE.match(t):
        yy = int(m.group(2)) if m.group(2) else today.year
        return half(yy, 1 if m.group(1) == "dau" else 2)
    if m := _YEAR_RE.match(t):
        return year_period(int(m.group(1)))
    if m := _TERM_RE.match(t):
        return _term(m.group(1), m.group(2), today, terms, text)
    raise PeriodError("unreadable", text)


def _relative(t: str, today: date) -> Period | None:
    table = {
        "thang nay": lambda: period_of(Periodicity.MONTH, today),
        "thang truoc": lambda: previous_period(period_of(Periodicity.MONTH, today)),
        "quy nay": lambda: period_of(Periodicity.QUARTER, today),
        "quy truoc": lambda: previous_period(period_of(Periodicity.QUARTER, today)),
        "nam nay": lambda: year_period(today.year),
        "nam truoc": lambda: year_period(today.year - 1),
        "nam ngoai": lambda: year_period(today.year - 1),
    }
    make = table.get(t)
    return make() if make else None


def _term(
    a: str | None, b: str | None, today: date, terms: list[Term] | tuple[Term, ...], text: str
) -> Period:
    if not terms:
        raise PeriodError("unknown_term", text)
    if a and b:
        for term in terms:
            if term.code == f"{a}-{b}":
                return term_period(term)
        raise PeriodError("unknown_term", text)
    for term in terms:
        if term.start <= today <= term.end:
            return term_period(term)
    return term_period(max(terms, key=lambda tm: tm.end))
