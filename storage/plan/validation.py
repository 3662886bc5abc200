"""Checks of a report's figures, in one pure function the chat and the reports import share:
the form's rules (between answers and against the unit's previous values), the unit's member
count (with where it was read), and the unit's own history (a value far outside it asks to
confirm)."""

from __future__ import annotations

import ast
import math
import operator
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, cast

from storage.plan.catalog import Catalog, Form, IndicatorType, Rule
from storage.plan.expressions import rule_expression
from storage.plan.periods import Period

Answer = float | str | None
# The unit's earlier sent values of each indicator, newest first: (end of period, value).
History = Mapping[str, Sequence[tuple[date, Answer]]]
Severity = Literal["stop", "confirm"]

_COMPARE = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}
# MAD times this estimates the standard deviation of normally spread figures.
MAD_SCALE = 1.4826


@dataclass(frozen=True)
class Figure:
    indicator: str
    previous: bool  # the unit's previous value, not this report's
    value: float


@dataclass(frozen=True)
class Members:
    """The unit's member count that a per-member answer is held against, and its source: the
    member total answered in the values checked, the unit's latest report of it before this
    period, or the count registered with the unit (units.csv)."""

    count: float
    source: Literal["this_report", "earlier_report", "registered"]
    period: Period | None = None  # earlier_report: the period of that report


@dataclass(frozen=True)
class Issue:
    indicator: str  # the answer to ask again or to confirm
    severity: Severity
    kind: Literal["rule", "members", "outlier", "year"]
    message: str = ""  # a rule's own message, from the configuration
    figures: tuple[Figure, ...] = ()  # what a rule read
    # members: the member count; outlier: the usual value; year: the year the value looks like
    reference: float | None = None
    rule: int | None = None  # index of the rule in the form
    members: Members | None = None  # members: the count and where it was read

    @property
    def stops(self) -> bool:
        return self.severity == "stop"


@dataclass
class _Reader:
    values: Mapping[str, Answer]
    history: History
    period_start: date
    same_year: bool
    read: list[Figure] = field(default_factory=list)

    def current(self, name: str) -> float | None:
        value = self.values.get(name)
        if not isinstance(value, float):
            return None  # not answered, skipped or text: no data, so nothing to check
        self.read.append(Figure(name, False, value))
        return value

    def previous(self, name: str) -> float | None:
        earlier = self.history.get(name) or ()
        if not earlier:
            return None
        ended, value = earlier[0]
        if not isinstance(value, float):
            return None
        if self.same_year and ended.year != self.period_start.year:
            return None
        self.read.append(Figure(name, True, value))
        return value

    def evaluate(self, node: ast.AST) -> float | None:
        if isinstance(node, ast.Constant):
            return float(cast(float, node.value))  # a check is written with numbers
        if isinstance(node, ast.Name):
            return self.current(node.id)
        if isinstance(node, ast.Call):
            return self.previous(node.args[0].id)  # type: ignore[attr-defined]
        if isinstance(node, ast.UnaryOp):
            inner = self.evaluate(node.operand)
            return None if inner is None else -inner
        if isinstance(node, ast.BinOp):
            left, right = self.evaluate(node.left), self.evaluate(node.right)
            if left is None or right is None:
                return None
            return _ARITHMETIC[type(node.op)](left, right)
        raise ValueError(ast.dump(node))


def check(
    catalog: Catalog,
    form: Form,
    values: Mapping[str, Answer],
    history: History,
    period_start: date,
    *,
    members: Members | None = None,
    only: str | None = None,
) -> list[Issue]:
    """Everything doubtful or wrong in a report's values, in the order of the form's questions.

    `only` keeps the issues about one answer (checked as it is given). A check that needs a
    figure nobody gave is skipped: no data is never read as 0. `members` (the unit's latest
    reported or registered count) is used when the values do not answer the member total.
    """
    members = own_members(catalog, values) or members
    order = {q.indicator: n for n, q in enumerate(form.questions)}
    issues: list[Issue] = []
    for index, rule in enumerate(form.rules):
        issue = _rule_issue(rule, index, values, history, period_start, order)
        if issue is None:
            continue
        if only is None or any(f.indicator == only and not f.previous for f in issue.figures):
            issues.append(issue)
    for q in form.questions:
        if only is not None and q.indicator != only:
            continue
        indicator = catalog.indicators[q.indicator]
        value = values.get(q.indicator)
        if not isinstance(value, float) or indicator.type in (
            IndicatorType.YES_NO,
            IndicatorType.TEXT,
            IndicatorType.CHOICE,  # a rating is not a count: no history spread to read
        ):
            continue
        if indicator.per_member and members is not None and value > members.count:
            issues.append(
                Issue(q.indicator, "confirm", "members", reference=members.count, members=members)
            )
        earlier = [v for _, v in history.get(q.indicator) or () if isinstance(v, float)]
        usual = outlier_reference(form, value, earlier)
        if usual is not None and indicator.type == IndicatorType.COUNT:
            # People and households are whole: "thường khoảng 1 hộ", never "0,5 hộ".
            usual = float(math.floor(usual + 0.5))
        if usual is not None:
            issues.append(Issue(q.indicator, "confirm", "outlier", reference=usual))
        if indicator.type == IndicatorType.COUNT and _looks_like_a_year(
            value, earlier, period_start
        ):
            issues.append(Issue(q.indicator, "confirm", "year", reference=value))
    issues.sort(key=lambda i: (order.get(i.indicator, 0), not i.stops))
    return issues


def own_members(catalog: Catalog, values: Mapping[str, Answer]) -> Members | None:
    """The member total as answered in these values (her draft's own answer), if it is. A
    total of 0 counts no one (a placeholder, as 0 in the units file): not a count to hold to."""
    code = catalog.member_total
    value = values.get(code) if code else None
    return Members(value, "this_report") if isinstance(value, float) and value > 0 else None


def reads_members(
    catalog: Catalog, form: Form, values: Mapping[str, Answer], only: str | None = None
) -> bool:
    """Whether `check` (with the same `only`) would need a member count from outside the
    values: a per-member answer is checked and the member total is not given (so the usual
    answer costs no query)."""
    if own_members(catalog, values) is not None:
        return False
    return any(
        catalog.indicators[q.indicator].per_member and isinstance(values.get(q.indicator), float)
        for q in form.questions
        if only is None or q.indicator == only
    )


# A unit whose counts already run into the thousands may report a figure like a year.
YEAR_LIKE_BELOW = 1000


def _looks_like_a_year(value: float, earlier: Sequence[float], period_start: date) -> bool:
    """ "2026" typed for a count: the report's year or the one either side, from a unit whose
    earlier figures of it are all far smaller (a year typed by mistake, not a real count)."""
    year = period_start.year
    return (
        value == int(value)
        and year - 1 <= value <= year + 1
        and all(abs(v) < YEAR_LIKE_BELOW for v in earlier)
    )


def _rule_issue(
    rule: Rule,
    index: int,
    values: Mapping[str, Answer],
    history: History,
    period_start: date,
    order: Mapping[str, int],
) -> Issue | None:
    reader = _Reader(values, history, period_start, rule.same_year)
    if rule.change is not None:
        now, before = reader.current(rule.change), reader.previous(rule.change)
        if now is None or before is None or before == 0:
            return None
        broken = abs(now - before) > (rule.max_share or 0) * abs(before)
    else:
        left, op, right = rule_expression(rule.check or "")
        a, b = reader.evaluate(left), reader.evaluate(right)
        if a is None or b is None:
            return None
        broken = not _COMPARE[type(op)](a, b)
    if not broken:
        return None
    answers = [f.indicator for f in reader.read if not f.previous]
    # The later question is the likelier mistake ("of those, how many …" comes after).
    focus = max(answers, key=lambda code: order.get(code, 0))
    return Issue(
        focus,
        rule.severity,
        "rule",
        message=rule.message,
        figures=tuple(dict.fromkeys(reader.read)),
        rule=index,
    )


def outlier_reference(form: Form, value: float, earlier: Sequence[float]) -> float | None:
    """The unit's usual value (median of its last reports) when `value` is far from it."""
    settings = form.outliers
    recent = list(earlier)[: settings.periods]
    if not settings.enabled or len(recent) < settings.min_history:
        return None
    median = statistics.median(recent)
    mad = statistics.median(abs(x - median) for x in recent)
    spread = max(MAD_SCALE * mad, settings.floor, settings.floor_share * abs(median))
    if spread == 0 or abs(value - median) / spread <= settings.threshold:
        return None
    return median
