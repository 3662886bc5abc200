"""The operator's configuration files: hierarchy levels, indicators, forms, targets, terms.

Files are YAML in one folder. They are validated on load; every error names the file, the line
and the field, so an operator can fix it without reading code.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from datetime import date, time
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from storage.plan.config_files import CODE
from storage.plan.expressions import formula_names, rule_expression
from storage.plan.periods import Periodicity, Term

if TYPE_CHECKING:
    from storage.plan.document_layout import Layouts
    from storage.plan.thi_dua_rule import Rule as ThiDuaRule


def _day_first(value: Any) -> Any:
    """A date as an office writes it ("30/06/2026") is read as YAML's 2026-06-30."""
    from storage.plan.clock import read_day

    if isinstance(value, str):
        return read_day(value) or value
    return value


DAY = Annotated[date, BeforeValidator(_day_first)]


class IndicatorType(StrEnum):
    COUNT = "count"
    YES_NO = "yes_no"
    AMOUNT = "amount"
    TEXT = "text"
    DERIVED = "derived"
    CHOICE = "choice"  # one of a list of labelled values (a rating: xuất sắc = 4 … yếu = 1)


class Aggregation(StrEnum):
    SUM = "sum"  # flows: new members in the month; summed over time and units
    LAST = "last"  # stocks: member count; latest value in the range per unit, summed over units


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(_Strict):
    code: CODE
    name: str
    optional: bool = False  # e.g. district: absent in two-tier provinces
    # The role of the person who leads a unit of this level: she is the one reminded to
    # report the level's forms, and gets the digests of the units below.
    role: str | None = None


class Choice(_Strict):
    value: float
    label: str


class Indicator(_Strict):
    code: CODE
    label: str
    question: str | None = None
    unit: str = ""
    type: IndicatorType = IndicatorType.COUNT
    min: float = 0
    max: float | None = None
    aggregation: Aggregation | None = None
    formula: str | None = None
    # Plausibility: compare the answer with the branch's member count (for counts of people or
    # households among members); far above history and members asks for a confirmation.
    per_member: bool = False
    # The unit's total of members (a stock reported in a form): a per-member answer is held
    # against its latest reported value before the registered member count. At most one.
    member_total: bool = False
    hint_last_value: bool = True
    choices: list[Choice] = Field(default_factory=list)  # type: choice

    @field_validator("formula")
    @classmethod
    def _formula(cls, value: str | None) -> str | None:
        if value is not None:
            formula_names(value)
        return value

    @model_validator(mode="after")
    def _check(self) -> Indicator:
        if self.type == IndicatorType.DERIVED:
            if not self.formula:
                raise ValueError("a derived indicator needs a formula")
        elif not self.question:
            raise ValueError("a reported indicator needs a question")
        if self.max is not None and self.max < self.min:
            raise ValueError("max is below min")
        if self.type == IndicatorType.CHOICE:
            if len(self.choices) < 2:
                raise ValueError("a choice indicator needs at least two choices")
            if len({c.value for c in self.choices}) < len(self.choices):
                raise ValueError("two choices have the same value")
        elif self.choices:
            raise ValueError("choices are only read with type: choice")
        return self

    def choice_label(self, value: float) -> str | None:
        return next((c.label for c in self.choices if c.value == value), None)

    @property
    def agg(self) -> Aggregation:
        if self.aggregation:
            return self.aggregation
        if self.type in (IndicatorType.YES_NO, IndicatorType.CHOICE):
            return Aggregation.LAST  # a state (the latest answer), not a flow
        return Aggregation.SUM

    @property
    def is_numeric(self) -> bool:
        return self.type != IndicatorType.TEXT


class Question(_Strict):
    indicator: CODE
    optional: bool = False
    # A short label for the whole form in one message ("hvm 3 hvr 0 ..."); the indicator's
    # code is understood too.
    short: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9]{0,9}$")


class Rule(_Strict):
    """A check between a form's answers, or against the unit's previous values (as DHIS2's
    validation rules): `check: a <= b + previous(c)`, or `change: x` with `max_share`."""

    check: str | None = None
    change: CODE | None = None
    max_share: float | None = Field(default=None, gt=0)
    # Compare only with an earlier report of the same year (running totals since January).
    same_year: bool = False
    severity: Literal["stop", "confirm"]  # stop: must be fixed; confirm: she may confirm it
    message: str = Field(min_length=1)

    @field_validator("check")
    @classmethod
    def _check_syntax(cls, value: str | None) -> str | None:
        if value is not None:
            rule_expression(value)
        return value

    @model_validator(mode="after")
    def _kind(self) -> Rule:
        if (self.check is None) == (self.change is None):
            raise ValueError("a rule has either 'check' or 'change'")
        if self.change is not None and self.max_share is None:
            raise ValueError("a 'change' rule needs 'max_share' (e.g. 0.2 for 20%)")
        if self.check is not None and self.max_share is not None:
            raise ValueError("'max_share' goes with 'change', not 'check'")
        return self

    def names(self) -> tuple[list[str], list[str]]:
        """The indicators it reads in this report and in the previous one."""
        if self.change is not None:
            return [self.change], [self.change]
        left, _op, right = rule_expression(self.check or "")
        current: list[str] = []
        previous: list[str] = []

        def visit(node: ast.AST) -> None:
            if isinstance(node, ast.Call):
                previous.append(node.args[0].id)  # type: ignore[attr-defined]
            elif isinstance(node, ast.Name):
                current.append(node.id)
            else:
                for child in ast.iter_child_nodes(node):
                    visit(child)

        visit(left)
        visit(right)
        return list(dict.fromkeys(current)), list(dict.fromkeys(previous))


class OutlierCheck(_Strict):
    """A value far from the unit's own history (median and MAD) asks to confirm."""

    periods: int = Field(default=12, ge=1, le=60)  # how many earlier reports are looked at
    min_history: int = Field(default=1, ge=1)  # fewer earlier reports: no judgement
    threshold: float = Field(default=3.5, gt=0)  # robust z-score beyond which she is asked
    floor: float = Field(default=3, ge=0)  # spread never below this (small counts)
    floor_share: float = Field(default=0.1, ge=0)  # nor below this share of the median
    enabled: bool = True


class Reminder(_Strict):
    # Days relative to the due date: -2 is two days before it, 0 on it, 2 two days late.
    # "open" (the day the period opens) is written as the string "open".
    at: int | Literal["open"]
    tone: Literal["gentle", "firm", "late"] = "gentle"


class Schedule(_Strict):
    opens_days_before_end: int = 5
    due_days_after_end: int = 5
    closes_days_after_end: int = 20
    send_at: time = time(8, 0)
    quiet_from: time = time(21, 0)
    quiet_until: time = time(7, 0)
    reminders: list[Reminder] = Field(
        default_factory=lambda: [
            Reminder(at="open"),
            Reminder(at=-2),
            Reminder(at=0, tone="firm"),
            Reminder(at=2, tone="late"),
        ]
    )


class Form(_Strict):
    code: CODE
    name: str
    level: CODE
    periodicity: Periodicity
    questions: list[Question]
    schedule: Schedule = Field(default_factory=Schedule)
    # A form the level above fills about each unit of `level` (a yearly rating): the unit
    # itself is not asked it nor reminded of it.
    filled_by: CODE | None = None
    # Its reports are approved by the level above (/duyet), and /choduyet lists those waiting.
    approval: bool = False
    rules: list[Rule] = Field(default_factory=list)
    outliers: OutlierCheck = Field(default_factory=OutlierCheck)

    def labels(self) -> dict[str, str]:
        """Short label and indicator code (lower case) → indicator code."""
        out = {q.indicator.lower(): q.indicator for q in self.questions}
        out.update({q.short: q.indicator for q in self.questions if q.short})
        return out

    @model_validator(mode="before")
    @classmethod
    def _short_questions(cls, data: Any) -> Any:
        # `questions: [a, b]` is short for `[{indicator: a}, {indicator: b}]`.
        if isinstance(data, dict) and isinstance(data.get("questions"), list):
            data = dict(data)
            data["questions"] = [
                {"indicator": q} if isinstance(q, str) else q for q in data["questions"]
            ]
        return data


class TermConfig(_Strict):
    code: str = Field(pattern=r"^\d{4}-\d{4}$")
    start: DAY
    end: DAY


class Compare(StrEnum):
    """How a value is compared with a bound: "đạt … trở lên", "trên", "dưới", "không quá"."""

    AT_LEAST = "at_least"
    ABOVE = "above"
    BELOW = "below"
    AT_MOST = "at_most"

    def holds(self, value: float, bound: float) -> bool:
        if self == Compare.AT_LEAST:
            return value >= bound
        if self == Compare.ABOVE:
            return value > bound
        if self == Compare.BELOW:
            return value < bound
        return value <= bound

    @property
    def upward(self) -> bool:
        """A value to reach (grows towards the bound), not a ceiling to stay under."""
        return self in (Compare.AT_LEAST, Compare.ABOVE)


class Expect(StrEnum):
    """How much is expected by a date, out of what the target's forms due by then can show."""

    LINEAR = "linear"  # the share of the window its due reports cover
    END = "end"  # due only once the window's last reports are due (a year-end figure)
    MILESTONES = "milestones"  # the latest milestone its due reports cover
    HOLD = "hold"  # the whole target, once any report of the window is due: a level to keep


class Milestone(_Strict):
    date: DAY
    value: float


class Condition(_Strict):
    """A condition on a unit's value of an indicator (coverage over a filtered set)."""

    indicator: CODE
    compare: Compare = Compare.AT_LEAST
    value: float
    # `window`: the unit's value over the window (latest for a stock, total for a flow);
    # `start`: its stock when the window began (its last report before the window, else its
    # first inside it), so a village that lifts its last poor household stays counted.
    at: Literal["window", "start"] = "window"


# A year, a range of years, or an open range ("2026..": that year and every year after).
_YEARS = r"^\d{4}(\.\.(\d{4})?)?$"


class Target(_Strict):
    code: CODE
    label: str
    kind: Literal["sum", "coverage", "rate", "task"]
    source: str
    units: list[CODE] = Field(default_factory=list)  # empty: the whole province
    period: str = "term"  # "term", "yearly", or a period key ("2025", "2021..2025")
    target: float | None = Field(default=None, ge=0)
    # A value per year or range of years ("2026..2030"): each year is its own window.
    by_year: dict[Annotated[str, Field(pattern=_YEARS)], Annotated[float, Field(ge=0)]] | None = (
        None
    )
    compare: Compare = Compare.AT_LEAST
    expect: Expect | None = None
    milestones: list[Milestone] = Field(default_factory=list)
    indicator: CODE | None = None  # sum, coverage, task
    level: CODE | list[CODE] | None = None  # coverage, task: the level(s) whose units count
    threshold: float = 1  # coverage: value a unit must reach
    threshold_compare: Compare = Compare.AT_LEAST
    where: Condition | None = None  # coverage: only units meeting this are counted
    numerator: CODE | None = None  # rate
    denominator: CODE | None = None  # rate
    stocks: Literal["same_period", "latest"] = "same_period"  # rate: how figures are paired
    # sum, rate: only these levels' own answers (one level, or a list counted together)
    reported_at: CODE | list[CODE] | None = None
    deadline: DAY | None = None  # task
    approved_only: bool = False  # count only reports approved by the level above
    excludes: list[str] = Field(default_factory=list)  # what the plan's footnote leaves out

    @field_validator("by_year", mode="before")
    @classmethod
    def _year_keys(cls, value: Any) -> Any:
        # YAML reads `2025:` as a number; the ranges are strings.
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _check(self) -> Target:
        if self.kind in ("sum", "coverage", "task") and not self.indicator:
            raise ValueError(f"a {self.kind} target needs an indicator")
        if self.kind == "coverage" and not self.level:
            raise ValueError("a coverage target needs a level")
        if self.kind == "rate" and not (self.numerator and self.denominator):
            raise ValueError("a rate target needs a numerator and a denominator")
        if self.kind == "task":
            if self.deadline is None:
                raise ValueError("a task needs a deadline")
        elif self.target is None and not self.by_year:
            raise ValueError("a target needs a value: 'target' or 'by_year'")
        if self.target is not None and self.by_year:
            raise ValueError("give either 'target' or 'by_year', not both")
        if self.by_year and self.period != "term":
            raise ValueError("'by_year' sets its own windows (one per year): leave out 'period'")
        values = [self.target] if self.target is not None else list((self.by_year or {}).values())
        if self.kind in ("coverage", "rate") and any(v > 100 for v in values):
            raise ValueError("a coverage or rate target is a percentage (at most 100)")
        if self.by_year:
            seen: dict[int, str] = {}
            for key in self.by_year:
                first, _, last = key.partition("..")
                if last and int(last) < int(first):
                    raise ValueError(f"by_year: the range {key} ends before it starts")
                for year in _key_years(key):
                    if year in seen:
                        raise ValueError(f"by_year: {year} is in both {seen[year]} and {key}")
                    seen[year] = key
            start = self.open_from
            later = [k for y, k in seen.items() if start is not None and y > start]
            if later:
                raise ValueError(f"by_year: {later[0]} is inside the open range {start}..")
        if self.expect == Expect.MILESTONES and not self.milestones:
            raise ValueError("expect: milestones needs a list of milestones")
        if self.milestones and self.expect != Expect.MILESTONES:
            raise ValueError("milestones are only read with expect: milestones")
        if self.where and self.kind != "coverage":
            raise ValueError("'where' filters the units of a coverage target")
        if self.reported_at and self.kind not in ("sum", "rate"):
            raise ValueError("'reported_at' is read by sum and rate targets; use 'level'")
        return self

    @property
    def is_percent(self) -> bool:
        return self.kind in ("coverage", "rate")

    @property
    def levels(self) -> list[str]:
        if self.level is None:
            return []
        return [self.level] if isinstance(self.level, str) else list(self.level)

    @property
    def expectation(self) -> Expect:
        if self.expect:
            return self.expect
        if self.kind == "rate" or not self.compare.upward:
            return Expect.HOLD
        return Expect.LINEAR

    @property
    def reported_levels(self) -> list[str]:
        """`reported_at` as a list (empty: every level)."""
        if self.reported_at is None:
            return []
        return [self.reported_at] if isinstance(self.reported_at, str) else list(self.reported_at)

    def year_values(self) -> dict[int, float]:
        """by_year spelled out: year → value (an open range up to its first year + 1)."""
        out: dict[int, float] = {}
        for key, value in (self.by_year or {}).items():
            for year in _key_years(key):
                out[year] = value
        return out

    @property
    def open_from(self) -> int | None:
        """The first year of an open range ("2026.."), if there is one."""
        return next((int(k[:4]) for k in self.by_year or {} if k.endswith("..")), None)

    def year_value(self, year: int) -> tuple[float, int] | None:
        """by_year: the value that `year` is held against and the year it is due (a year
        before a listed one is held against the next listed value, "đến năm 2025"); None
        after the last listed year."""
        values = self.year_values()
        start = self.open_from
        if start is not None and year >= start:
            return values[start], year
        if year in values:
            return values[year], year
        later = [y for y in values if y > year]
        return (values[min(later)], min(later)) if later else None

    def indicators(self) -> list[str]:
        codes = [self.indicator, self.numerator, self.denominator]
        if self.where:
            codes.append(self.where.indicator)
        return [c for c in codes if c]


def _key_years(key: str) -> range:
    """The years a by_year key covers; an open range ("2026..") only its first year here."""
    first, dots, last = key.partition("..")
    if dots and not last:
        return range(int(first), int(first) + 1)
    return range(int(first), int(last or first) + 1)


# ---- the catalog --------------------------------------------------------------------------


@dataclass
class Catalog:
    levels: list[Level]
    indicators: dict[str, Indicator]
    forms: dict[str, Form]
    targets: list[Target]
    terms: list[Term]
    province: str | None = None  # code of the province this configuration describes
    # The first form asking each indicator; an indicator may be asked at several levels.
    form_of_indicator: dict[str, str] = field(default_factory=dict)
    forms_of_indicator: dict[str, list[str]] = field(default_factory=dict)
    thi_dua: ThiDuaRule | None = (
        None  # the ranking rule of thi_dua.yaml (storage/measures/thi_dua.py)
    )
    # The personal-data notice told at joining (privacy_notice.txt; db/personal_data/notice.py).
    privacy_notice: str = ""
    document: Layouts | None = None  # the written report's layout (storage/plan/document_layout.py)

    @property
    def member_total(self) -> str | None:
        """The code of the indicator that reports a unit's members, if one is marked."""
        return next((c for c, ind in self.indicators.items() if ind.member_total), None)

    def level_index(self, code: str) -> int:
        return [lv.code for lv in self.levels].index(code)

    def role_of_level(self, code: str) -> str | None:
        return next((lv.role for lv in self.levels if lv.code == code), None)

    def level_name(self, code: str) -> str:
        return next((lv.name for lv in self.levels if lv.code == code), code)

    def level_word(self, code: str) -> str:
        """The level's name as a word inside a sentence: "Chi hội" → "chi hội"."""
        name = self.level_name(code)
        return name[:1].lower() + name[1:]

    def levels_of_indicator(self, code: str) -> list[str]:
        """The levels whose own forms ask this indicator (top first)."""
        found = {self.forms[f].level for f in self.forms_of_indicator.get(code, [])}
        return [lv.code for lv in self.levels if lv.code in found]

    @property
    def leaf_level(self) -> str:
        return self.levels[-1].code

    def components(self, code: str) -> list[str]:
        """The reported indicators behind `code` (itself when it is reported)."""
        ind = self.indicators[code]
        if ind.type != IndicatorType.DERIVED:
            return [code]
        out: list[str] = []
        for name in formula_names(ind.formula or ""):
            out.extend(c for c in self.components(name) if c not in out)
        return out

    def forms_for_level(self, level: str) -> list[Form]:
        """The forms units of this level fill about themselves."""
        return [f for f in self.forms.values() if f.level == level and f.filled_by is None]

    def find_indicators(self, words: str) -> list[Indicator]:
        """By exact code or a form's short label ("thv"), else every indicator whose label
        holds all the words (no diacritics)."""
        from storage.plan.text import fold

        text = fold(words)
        if text.replace(" ", "_") in self.indicators:
            return [self.indicators[text.replace(" ", "_")]]
        short = {f.labels().get(text) for f in self.forms.values()} - {None}
        if short:  # one label may name different questions in two forms ("ks")
            return [self.indicators[c] for c in self.indicators if c in short]
        wanted = label_words(words)
        found = [
            ind
            for ind in self.indicators.values()
            if wanted and all(w in label_words(ind.label) for w in wanted)
        ]
        # Words outside a label's brackets name it before those inside: "hội viên mới" is
        # "Hội viên mới kết nạp", not also "Tăng thực hội viên (mới trừ ra)".
        plain = [
            i for i in found if all(w in label_words(_BRACKETS.sub(" ", i.label)) for w in wanted)
        ]
        return plain or found

    def label_begins(self, words: str, whole: bool = False) -> bool:
        """Some indicator's label begins with these words ("Chi hội ứng dụng CNTT" of "Chi
        hội ứng dụng CNTT, mạng xã hội trong sinh hoạt"), or is them when `whole`; no
        diacritics, no punctuation."""
        wanted = label_words(words)
        return bool(wanted) and any(
            (label if whole else label[: len(wanted)]) == wanted
            for label in (label_words(ind.label) for ind in self.indicators.values())
        )


_BRACKETS = re.compile(r"\([^()]*\)")


def label_words(text: str) -> list[str]:
    """The words of a label or of what was typed for it, folded, without the punctuation
    around them ("CNTT, mạng" → cntt, mang; "\"5 không, 3 sạch\"" → 5, khong, 3, sach)."""
    from storage.plan.text import fold

    return re.findall(r"\w+", fold(text))
