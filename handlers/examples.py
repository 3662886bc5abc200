"""Examples for help texts, from the province's own indicators, units and calendar.

A help text that names "huyện Khánh Sơn" to an officer in Lào Cai, or suggests «thoát nghèo»
in a province that does not report it, teaches a command that does not work there: every
example is taken from the configuration and the units below the asker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.parsing import match_choice
from schedules.calendar import default_form, latest_due_period
from storage.db.models import OrgUnit
from storage.db.units import active_on, subtree_filter
from storage.plan import texts_vi as vi
from storage.plan.catalog import Catalog, Indicator, IndicatorType
from storage.plan.text import fold, vi_sort_key


def indicator_words(catalog: Catalog, count: int = 2) -> list[str]:
    """A few words each naming exactly one countable indicator, as a person would type them:
    the usual phrases of the plans when this province reports them, else the shortest start
    of a label that finds that indicator alone."""
    found: list[str] = []
    taken: set[str] = set()
    for words in vi.EXAMPLE_INDICATOR_WORDS:
        match = catalog.find_indicators(words)
        if len(match) == 1 and _countable(match[0]) and match[0].code not in taken:
            found.append(words)
            taken.add(match[0].code)
    for indicator in catalog.indicators.values():
        if len(found) >= count:
            break
        if indicator.code in taken or not _countable(indicator):
            continue
        label = indicator.label.split()
        for n in range(2, len(label) + 1):
            words = " ".join(label[:n])
            words = words[:1].lower() + words[1:]
            if [i.code for i in catalog.find_indicators(words)] == [indicator.code]:
                found.append(words)
                taken.add(indicator.code)
                break
    return found[:count] or [next(iter(catalog.indicators))]


def _countable(indicator: Indicator) -> bool:
    return indicator.type not in (IndicatorType.TEXT, IndicatorType.CHOICE)


def rating_words(catalog: Catalog) -> str:
    """A rating as an officer types it ("tốt" for "Hoàn thành tốt nhiệm vụ"): the shortest
    run of a label's words that names that level alone."""
    for form in catalog.forms.values():
        if form.filled_by is None:
            continue
        for q in form.questions:
            indicator = catalog.indicators[q.indicator]
            if indicator.type != IndicatorType.CHOICE:
                continue
            choices = [(c.value, c.label) for c in indicator.choices]
            chosen = indicator.choices[1 if len(choices) > 2 else 0]
            words = chosen.label.split()
            for n in range(1, len(words) + 1):
                for i in range(len(words) - n + 1):
                    run = " ".join(words[i : i + n])
                    if match_choice(choices, run) == chosen.value:
                        return run[:1].lower() + run[1:]
    return ""


def unit_words(unit: OrgUnit) -> str:
    """A unit's name as written inside a sentence: "xã Bát Xát"."""
    return unit.name[:1].lower() + unit.name[1:]


async def first_unit_below(
    session: AsyncSession, scope: OrgUnit, today: date, level: str | None = None
) -> OrgUnit | None:
    """The first unit below the asker in Vietnamese order (of `level`, when given)."""
    query = select(OrgUnit).where(
        subtree_filter(scope.path), OrgUnit.id != scope.id, active_on(today)
    )
    query = (
        query.where(OrgUnit.level == level) if level else query.where(OrgUnit.parent_id == scope.id)
    )
    units = list((await session.scalars(query.limit(200))).all())
    return min(units, key=lambda u: vi_sort_key(u.name)) if units else None


@dataclass(frozen=True)
class Examples:
    indicator: str  # "thoát nghèo"
    indicator2: str  # "hội viên mới"
    period: str  # the leaders' latest period due: "tháng 10/2026", "6 tháng đầu năm 2026"
    year: str  # "năm 2026"
    unit: str  # a unit below the asker: "xã Bát Xát" ("" when none)
    rating: str  # "tốt"
    rated: str  # a unit below the asker that her level rates ("" when none)

    def fields(self) -> dict[str, str]:
        """For str.format: a unit example with its space before it, or nothing."""
        return {
            "indicator": self.indicator,
            "indicator_folded": fold(self.indicator),
            "indicator2": self.indicator2,
            "indicator2_folded": fold(self.indicator2),
            "period": self.period,
            "year": self.year,
            "unit": f" {self.unit}" if self.unit else "",
            "unit_folded": f" {fold(self.unit)}" if self.unit else "",
            "rating": self.rating,
            "rated": f" {self.rated}" if self.rated else "",
        }


async def examples(
    session: AsyncSession, catalog: Catalog, scope: OrgUnit, today: date
) -> Examples:
    """Examples for someone working from `scope` today."""
    words = indicator_words(catalog)
    below = await first_unit_below(session, scope, today)
    rated_level = next(
        (f.level for f in catalog.forms.values() if f.filled_by == scope.level), None
    )
    rated = await first_unit_below(session, scope, today, rated_level) if rated_level else None
    return Examples(
        indicator=words[0],
        indicator2=words[-1],
        period=latest_due_period(default_form(catalog), today).label,
        year=vi.PERIOD_YEAR.format(y=today.year),
        unit=unit_words(below) if below else "",
        rating=rating_words(catalog),
        rated=unit_words(rated) if rated else "",
    )


async def usage(
    session: AsyncSession, catalog: Catalog, scope: OrgUnit, today: date, template: str
) -> str:
    """A usage text with the examples filled in."""
    found = await examples(session, catalog, scope, today)
    return template.format(**found.fields())
