"""The operator's configuration files: hierarchy levels, indicators, forms, targets, terms.

Files are YAML in one folder. They are validated on load; every error names the file, the line
and the field, so an operator can fix it without reading code.
"""

from __future__ import annotations

import ast
import functools
import operator
from dataclasses import dataclass, field
from datetime import date, time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from storage.periods import Periodicity, Term

if TYPE_CHECKING:
    from storage.document_layout import Layouts
    from storage.thi_dua import Rule

CODE = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")]


def _day_first(value: Any) -> Any:
    """A date as an office writes it ("30/06/2026") is read as YAML's 2026-06-30."""
    from storage.clock import read_day

    if isinstance(value, str):
        return read_day(value) or value
    return value


DAY = Annotated[date, BeforeValidator(_day_first)]


class ConfigError(Exception):
    """One or more problems in the operator's configuration files."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


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


# ---- derived formulas ---------------------------------------------------------------------

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}


def formula_names(formula: str) -> list[str]:
    """Names used by a formula of + - * /, parentheses and numbers; ValueError on anything else."""
    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"formula cannot be read: {formula}") from exc
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.append(node.id)
        elif isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise ValueError(f"only numbers and indicator codes are allowed: {formula}")
        elif (
            not isinstance(
                node,
                ast.Expression
                | ast.BinOp
                | ast.Constant
                | ast.Load
                | ast.UnaryOp
                | ast.USub
                | ast.Div,
            )
            and type(node) not in _OPS
        ):
            raise ValueError(f"only + - * / and numbers are allowed in formulas: {formula}")
    return names


def has_division(formula: str) -> bool:
    return any(isinstance(n, ast.Div) for n in ast.walk(ast.parse(formula, mode="eval")))


def evaluate_formula(formula: str, values: dict[str, float]) -> float | None:
    """The formula's value; None (no value) when it divides by zero. Missing names are 0."""

    def ev(node: ast.AST) -> float | None:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return values.get(node.id, 0.0)
        if isinstance(node, ast.UnaryOp):
            inner = ev(node.operand)
            return None if inner is None else -inner
        if isinstance(node, ast.BinOp):
            left, right = ev(node.left), ev(node.right)
            if left is None or right is None:
                return None
            if isinstance(node.op, ast.Div):
                return left / right if right else None
            return _OPS[type(node.op)](left, right)
        raise ValueError(formula)

    return ev(ast.parse(formula, mode="eval"))


# ---- rule expressions ---------------------------------------------------------------------

PREVIOUS = "previous"
_COMPARE = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


@functools.lru_cache(maxsize=256)
def rule_expression(check: str) -> tuple[ast.expr, ast.cmpop, ast.expr]:
    """`a <= b + previous(c)` as (left, operator, right); raises ValueError if it cannot be read.

    Each side is a formula (+, -, *, numbers, indicator codes, previous(code)).
    """
    try:
        tree = ast.parse(check, mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"check cannot be read: {check}") from exc
    if not (
        isinstance(tree, ast.Compare) and len(tree.ops) == 1 and isinstance(tree.ops[0], _COMPARE)
    ):
        raise ValueError(f"a check compares two sides with <, <=, >, >=, == or !=: {check}")
    for side in (tree.left, tree.comparators[0]):
        for node in ast.walk(side):
            if isinstance(node, ast.Call):
                if not (
                    isinstance(node.func, ast.Name)
                    and node.func.id == PREVIOUS
                    and len(node.args) == 1
                    and not node.keywords
                    and isinstance(node.args[0], ast.Name)
                ):
                    raise ValueError(f"only previous(code) may be called in a check: {check}")
            elif (
                not isinstance(
                    node, ast.BinOp | ast.Constant | ast.Name | ast.Load | ast.UnaryOp | ast.USub
                )
                and type(node) not in _OPS
            ):
                raise ValueError(f"only + - * and numbers are allowed in a check: {check}")
    return tree.left, tree.ops[0], tree.comparators[0]


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
    thi_dua: Rule | None = None  # the ranking rule of thi_dua.yaml (storage/thi_dua.py)
    document: Layouts | None = None  # the written report's layout (storage/document_layout.py)

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
        from storage.text import fold

        text = fold(words)
        if text.replace(" ", "_") in self.indicators:
            return [self.indicators[text.replace(" ", "_")]]
        short = {f.labels().get(text) for f in self.forms.values()} - {None}
        if short:  # one label may name different questions in two forms ("ks")
            return [self.indicators[c] for c in self.indicators if c in short]
        wanted = text.split()
        return [
            ind
            for ind in self.indicators.values()
            if wanted and all(w in fold(ind.label).split() for w in wanted)
        ]


FILES = ("hierarchy.yaml", "indicators.yaml", "forms.yaml", "targets.yaml")


def load_catalog(folder: Path) -> Catalog:
    from storage import catalog_checks

    if not folder.is_dir():
        raise ConfigError(
            [
                f"{folder}: the configuration folder does not exist; set HOIBOT_CONFIG_DIR to "
                "the folder that holds " + ", ".join(FILES)
            ]
        )
    problems: list[str] = []
    docs: dict[str, tuple[Any, dict[tuple, int]]] = {}
    for name in FILES:
        path = folder / name
        if not path.exists():
            problems.append(f"{path}: file missing")
            continue
        try:
            docs[name] = _load_yaml_with_lines(path)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 1}" if mark else ""
            problems.append(f"{path}{line}: not valid YAML ({getattr(exc, 'problem', exc)})")
        except UnicodeDecodeError:
            problems.append(f"{path}:1: not UTF-8 text; save the file as UTF-8")
    if problems:
        raise ConfigError(problems)
    problems.extend(catalog_checks.check_documents(folder, docs))
    # Items that fail to parse, or share a code, would shift what the later checks point at.
    unsound = catalog_checks.duplicate_codes(folder, docs)
    shape_problems = len(problems)

    def parse_list(name: str, key: str, model: type[BaseModel]) -> list[Any]:
        data, lines = docs[name]
        items = (data or {}).get(key, []) if isinstance(data, dict) else None
        if not isinstance(items, list):
            problems.append(f"{folder / name}: expected a list under '{key}'")
            return []
        out = []
        for i, item in enumerate(items):
            try:
                out.append(model.model_validate(item))
            except ValidationError as exc:
                for err in exc.errors():
                    loc = (key, i, *err["loc"])
                    line = _nearest_line(lines, loc)
                    fld = ".".join(str(p) for p in err["loc"]) or "(item)"
                    problems.append(
                        f"{folder / name}:{line}: {key}[{i}] field '{fld}': "
                        + _what_is_wrong(model, err)
                    )
        return out

    levels: list[Level] = parse_list("hierarchy.yaml", "levels", Level)
    indicators: list[Indicator] = parse_list("indicators.yaml", "indicators", Indicator)
    forms: list[Form] = parse_list("forms.yaml", "forms", Form)
    targets: list[Target] = parse_list("targets.yaml", "targets", Target)
    terms: list[TermConfig] = parse_list("targets.yaml", "terms", TermConfig)
    if unsound or len(problems) > shape_problems:
        raise ConfigError(problems + unsound)

    hierarchy_doc = docs["hierarchy.yaml"][0] or {}
    catalog = Catalog(
        levels=levels,
        indicators={i.code: i for i in indicators},
        forms={f.code: f for f in forms},
        targets=targets,
        terms=[Term(t.code, t.start, t.end) for t in terms],
        province=hierarchy_doc.get("province") if isinstance(hierarchy_doc, dict) else None,
    )
    _cross_check(catalog, folder, docs, problems)
    _check_form_rules(catalog, folder, docs, problems)
    problems.extend(catalog_checks.check_catalog(catalog, folder, docs))
    if problems:
        raise ConfigError(problems)
    from storage.thi_dua import load_rule  # it builds on this module

    catalog.thi_dua = load_rule(folder, catalog)
    from storage.document_layout import load_layouts

    catalog.document = load_layouts(folder, catalog)
    return catalog


_NOUNS = {"TermConfig": "term", "OutlierCheck": "outliers setting"}
DATE_HELP = "write a date as 2026-06-30 (or 30/06/2026)"


def _what_is_wrong(model: type[BaseModel], err: Any) -> str:
    """Pydantic's message, or one that says what would be right: the field a misspelt key
    probably means (or the fields there are), and how to write a date."""
    import difflib

    if err["type"] == "extra_forbidden" and err["loc"]:
        owner = _model_at(model, err["loc"][:-1])
        if owner is not None:
            fields = list(owner.model_fields)
            close = difflib.get_close_matches(str(err["loc"][-1]), fields, n=1, cutoff=0.6)
            noun = _NOUNS.get(owner.__name__, owner.__name__.lower())
            if close:
                return f"unknown field (did you mean '{close[0]}'?)"
            return f"unknown field; the fields of a {noun} are {', '.join(fields)}"
    if err["type"].startswith(("date_", "datetime_")):
        return f"'{err.get('input')}' is not a date; {DATE_HELP}"
    return str(err["msg"])


def _model_at(model: type[BaseModel], path: tuple) -> type[BaseModel] | None:
    """The model that holds the field at `path` inside `model` (list indexes skipped)."""
    import typing

    def inner(annotation: Any) -> type[BaseModel] | None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation
        for arg in typing.get_args(annotation):
            found = inner(arg)
            if found is not None:
                return found
        return None

    current: type[BaseModel] | None = model
    for part in path:
        if isinstance(part, int) or current is None:
            continue
        field_info = current.model_fields.get(str(part))
        current = inner(field_info.annotation) if field_info is not None else None
    return current


def _cross_check(
    catalog: Catalog, folder: Path, docs: dict[str, tuple[Any, dict]], problems: list[str]
) -> None:
    def where(name: str, loc: tuple) -> str:
        return f"{folder / name}:{_nearest_line(docs[name][1], loc)}"

    level_codes = [lv.code for lv in catalog.levels]
    if not level_codes:
        problems.append(f"{folder / 'hierarchy.yaml'}: at least one level is needed")
    for i, ind in enumerate(catalog.indicators.values()):
        if ind.type == IndicatorType.DERIVED:
            for name in formula_names(ind.formula or ""):
                if name not in catalog.indicators:
                    problems.append(
                        f"{where('indicators.yaml', ('indicators', i, 'formula'))}: "
                        f"indicators[{i}] field 'formula': unknown indicator '{name}'"
                    )
    for i, form in enumerate(catalog.forms.values()):
        if form.filled_by is not None and (
            form.filled_by not in level_codes
            or form.level not in level_codes
            or catalog.level_index(form.filled_by) >= catalog.level_index(form.level)
        ):
            problems.append(
                f"{where('forms.yaml', ('forms', i, 'filled_by'))}: forms[{i}] field "
                f"'filled_by': '{form.filled_by}' is not a level above '{form.level}'"
            )
        if form.level not in level_codes:
            problems.append(
                f"{where('forms.yaml', ('forms', i, 'level'))}: forms[{i}] field 'level': "
                f"unknown level '{form.level}' (levels: {', '.join(level_codes)})"
            )
        for j, q in enumerate(form.questions):
            loc = ("forms", i, "questions", j)
            ind = catalog.indicators.get(q.indicator)
            if ind is None or ind.type == IndicatorType.DERIVED:
                why = "unknown indicator" if ind is None else "a derived indicator is not asked"
                problems.append(
                    f"{where('forms.yaml', loc)}: forms[{i}] field 'questions.{j}': "
                    f"{why} '{q.indicator}'"
                )
                continue
            # One indicator may be asked at several levels (each unit answers about itself),
            # but twice at one level it would count twice.
            same_level = [
                f
                for f in catalog.forms_of_indicator.get(q.indicator, [])
                if catalog.forms[f].level == form.level
            ]
            if same_level:
                problems.append(
                    f"{where('forms.yaml', loc)}: forms[{i}] field 'questions.{j}': "
                    f"'{q.indicator}' is already asked in form '{same_level[0]}' at the same "
                    "level (it would count twice)"
                )
                continue
            catalog.form_of_indicator.setdefault(q.indicator, form.code)
            catalog.forms_of_indicator.setdefault(q.indicator, []).append(form.code)
    for i, target in enumerate(catalog.targets):
        _check_target(catalog, i, target, lambda loc: where("targets.yaml", loc), problems)


def _check_target(
    catalog: Catalog, i: int, target: Target, where: Any, problems: list[str]
) -> None:
    def problem(fld: str, what: str) -> None:
        problems.append(f"{where(('targets', i, fld))}: targets[{i}] field '{fld}': {what}")

    level_codes = [lv.code for lv in catalog.levels]
    for fld in ("indicator", "numerator", "denominator"):
        code = getattr(target, fld)
        if not code:
            continue
        ind = catalog.indicators.get(code)
        # Text indicators, and whether an indicator is asked at all: catalog_checks.
        if ind is None:
            problem(fld, f"unknown indicator '{code}'")
        elif target.kind == "rate" and ind.type == IndicatorType.DERIVED:
            problem(fld, f"a rate pairs reported figures; '{code}' is derived")
        elif target.kind == "task" and ind.type != IndicatorType.YES_NO:
            problem(fld, f"a task is a yes/no indicator; '{code}' is {ind.type.value}")
        elif target.kind in ("sum", "rate") and ind.type == IndicatorType.CHOICE:
            problem(fld, f"'{code}' is a choice: count it by threshold with a coverage target")
    if target.where and target.where.indicator not in catalog.indicators:
        problem("where", f"unknown indicator '{target.where.indicator}'")
    elif target.where and target.where.at == "start":
        stock = catalog.indicators[target.where.indicator]
        asked = catalog.levels_of_indicator(target.where.indicator)
        if stock.agg != Aggregation.LAST or stock.type == IndicatorType.DERIVED:
            problem(
                "where", f"'at: start' reads a stock; '{stock.code}' is not one (aggregation: last)"
            )
        elif any(lv not in asked for lv in target.levels):
            problem(
                "where",
                f"'at: start' reads each unit's own answer; '{stock.code}' is not "
                f"asked at level {', '.join(lv for lv in target.levels if lv not in asked)}",
            )
    for fld, codes in (("level", target.levels), ("reported_at", target.reported_levels)):
        for code in codes:
            if code not in level_codes:
                problem(fld, f"unknown level '{code}' (levels: {', '.join(level_codes)})")
    if target.kind == "rate" and target.numerator and target.denominator:
        num = set(catalog.levels_of_indicator(target.numerator))
        den = set(catalog.levels_of_indicator(target.denominator))
        if num and den and not num & den:
            problem("denominator", "numerator and denominator are asked at different levels")
        for code in target.reported_levels:
            if code in level_codes and num and den and code not in num & den:
                problem("reported_at", f"level '{code}' is not asked both figures of the rate")
    if target.period == "term" and not catalog.terms and not target.by_year:
        problem("period", "'term' needs a term under 'terms'")


def _check_form_rules(
    catalog: Catalog, folder: Path, docs: dict[str, tuple[Any, dict]], problems: list[str]
) -> None:
    """Short labels are unique in a form; rules name numeric questions of their own form."""
    lines = docs["forms.yaml"][1]
    for i, form in enumerate(catalog.forms.values()):
        codes = {q.indicator for q in form.questions}
        seen: dict[str, str] = {q.indicator.lower(): q.indicator for q in form.questions}
        for j, q in enumerate(form.questions):
            if q.short is None:
                continue
            if q.short in seen and seen[q.short] != q.indicator:
                line = _nearest_line(lines, ("forms", i, "questions", j, "short"))
                problems.append(
                    f"{folder / 'forms.yaml'}:{line}: "
                    f"forms[{i}] field 'questions.{j}.short': '{q.short}' is already used "
                    f"for '{seen[q.short]}'"
                )
            seen[q.short] = q.indicator
        for k, rule in enumerate(form.rules):
            current, previous = rule.names()
            fld = "change" if rule.change else "check"
            where = f"{folder / 'forms.yaml'}:{_nearest_line(lines, ('forms', i, 'rules', k, fld))}"
            if not current:
                problems.append(
                    f"{where}: forms[{i}] field 'rules.{k}.{fld}': a check needs at least one "
                    "answer of this report (not only previous values)"
                )
            for name in dict.fromkeys(current + previous):
                ind = catalog.indicators.get(name)
                if name not in codes or ind is None or not ind.is_numeric:
                    why = (
                        "is not a question of this form" if name not in codes else "is not a number"
                    )
                    problems.append(f"{where}: forms[{i}] field 'rules.{k}.{fld}': '{name}' {why}")


# ---- YAML with line numbers ---------------------------------------------------------------


def _load_yaml_with_lines(path: Path) -> tuple[Any, dict[tuple, int]]:
    text = path.read_text(encoding="utf-8")
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: dict[tuple, int] = {}
    if node is None:
        return None, lines

    def walk(n: yaml.Node, loc: tuple) -> None:
        lines[loc] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            first: dict[str, int] = {}
            for key_node, _ in n.value:
                if key_node.value in first:
                    raise yaml.MarkedYAMLError(
                        problem=f"the key '{key_node.value}' is written twice here (first on "
                        f"line {first[key_node.value]}), and the second would replace the "
                        "first; keep one",
                        problem_mark=key_node.start_mark,
                    )
                first[key_node.value] = key_node.start_mark.line + 1
            for key_node, value_node in n.value:
                child = (*loc, key_node.value)
                walk(value_node, child)
                lines[child] = key_node.start_mark.line + 1
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, (*loc, i))

    walk(node, ())
    return yaml.safe_load(text), lines


def _nearest_line(lines: dict[tuple, int], loc: tuple) -> int:
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get((), 1)
