"""Checks of the operator's configuration beyond the shape of each item.

`load_catalog` runs them so that every command, `hoibot run` and `hoibot config check` stop on
the same lines. Each problem is one line, `file:line: field: what is wrong; what would be
right`, because the operator fixes the YAML by hand and must find the spot without help.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

from storage.plan.catalog import Aggregation, Catalog, IndicatorType
from storage.plan.config_files import Docs, Locator
from storage.plan.periods import PeriodError, from_key
from storage.plan.roles import Role

# The keys each file may hold at its top level; anything else is a typo that would otherwise
# be ignored (`target:` for `targets:` silently drops every target).
KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "hierarchy.yaml": ("province", "levels"),
    "indicators.yaml": ("indicators",),
    "forms.yaml": ("forms",),
    "targets.yaml": ("terms", "targets"),
}
# (file, list key, what one item is called) of the lists whose items carry a unique code.
CODED_LISTS = (
    ("hierarchy.yaml", "levels", "level"),
    ("indicators.yaml", "indicators", "indicator"),
    ("forms.yaml", "forms", "form"),
    ("targets.yaml", "targets", "target"),
    ("targets.yaml", "terms", "term"),
)
PERIOD_WORDS = ("term", "yearly")
PERIOD_HELP = (
    "write term, yearly, a year (2025), a range of years (2021..2025), a half (2026-H1), a "
    "quarter (2026-Q3) or a month (2026-07)"
)
UNCOUNTABLE = (IndicatorType.TEXT, IndicatorType.YES_NO)


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_documents(folder: Path, docs: Docs) -> list[str]:
    """Unknown top-level keys and a missing province code, found before the YAML is parsed."""
    problems: list[str] = []
    where = Locator(folder, docs)
    for name, known in KNOWN_KEYS.items():
        if name not in docs:
            continue
        data = docs[name][0]
        if data is not None and not isinstance(data, dict):
            problems.append(
                f"{folder / name}:1: (top level): the file holds no keys; "
                f"it must start with {', '.join(k + ':' for k in known)}"
            )
            continue
        for key in data or {}:
            if key not in known:
                problems.append(
                    f"{folder / name}:{where.line(name, (key,))}: {key}: unknown key"
                    f"{_suggest(str(key), known)}; the keys of {name} are "
                    f"{', '.join(known)}"
                )
    hierarchy = docs.get("hierarchy.yaml", (None, {}))[0]
    if isinstance(hierarchy, dict) and not hierarchy.get("province"):
        problems.append(
            f"{folder / 'hierarchy.yaml'}:1: province: missing; write the code of the "
            "province's own unit (as in the units file), e.g. province: KH"
        )
    return problems


def duplicate_codes(folder: Path, docs: Docs) -> list[str]:
    """Codes used twice in one list: the second item would silently replace the first."""
    problems: list[str] = []
    where = Locator(folder, docs)
    for name, key, noun in CODED_LISTS:
        data = docs.get(name, (None, {}))[0]
        items = data.get(key) if isinstance(data, dict) else None
        if not isinstance(items, list):
            continue
        first: dict[str, int] = {}
        for i, item in enumerate(items):
            code = item.get("code") if isinstance(item, dict) else None
            if not isinstance(code, str | int):
                continue
            code = str(code)
            if code in first:
                problems.append(
                    f"{where(name, (key, i, 'code'), 'code')} '{code}' is used twice "
                    f"(first on line {where.line(name, (key, first[code], 'code'))}); "
                    f"give each {noun} its own code"
                )
            else:
                first[code] = i
    return problems


def check_catalog(catalog: Catalog, folder: Path, docs: Docs) -> list[str]:
    """What parses item by item but breaks later: in a report, in chat or in reminders."""
    where = Locator(folder, docs)
    return [
        *_check_levels(catalog, where),
        *_check_terms(catalog, where),
        *_check_derived(catalog, where),
        *_check_asked(catalog, where),
        *_check_member_total(catalog, where),
        *_check_forms(catalog, where),
        *_check_targets(catalog, where),
    ]


def _check_levels(catalog: Catalog, where: Locator) -> list[str]:
    problems = []
    for i, level in enumerate(catalog.levels):
        if level.role is not None and level.role not in Role.ALL:
            problems.append(
                f"{where('hierarchy.yaml', ('levels', i, 'role'), 'role')} unknown role "
                f"'{level.role}'{_suggest(level.role, Role.ALL)}; roles are {', '.join(Role.ALL)}"
            )
    if catalog.levels and catalog.levels[0].optional:
        problems.append(
            f"{where('hierarchy.yaml', ('levels', 0, 'optional'), 'optional')} the top level "
            "cannot be optional; remove 'optional' from it"
        )
    return problems


def _check_terms(catalog: Catalog, where: Locator) -> list[str]:
    return [
        f"{where('targets.yaml', ('terms', i, 'end'), 'end')} the term ends on {term.end} "
        f"before it starts on {term.start}; the end must come after the start"
        for i, term in enumerate(catalog.terms)
        if term.start > term.end
    ]


def _check_derived(catalog: Catalog, where: Locator) -> list[str]:
    from storage.plan.expressions import formula_names

    problems = []
    codes = list(catalog.indicators)
    uses = {
        code: [n for n in formula_names(ind.formula or "") if n in catalog.indicators]
        for code, ind in catalog.indicators.items()
        if ind.type == IndicatorType.DERIVED
    }
    for code, names in uses.items():
        loc = ("indicators", codes.index(code), "formula")
        if not names:
            problems.append(
                f"{where('indicators.yaml', loc, 'formula')} the formula uses no indicator, "
                "so it would show a number where there is no data; build it from indicator codes"
            )
        for name in names:
            kind = catalog.indicators[name].type
            if kind in UNCOUNTABLE:
                problems.append(
                    f"{where('indicators.yaml', loc, 'formula')} '{name}' is a {kind} "
                    "indicator and cannot be calculated with; use count or amount indicators"
                )
        cycle = _cycle_from(code, uses)
        if cycle:
            problems.append(
                f"{where('indicators.yaml', loc, 'formula')} '{code}' depends on itself "
                f"({' → '.join(cycle)}); a derived indicator must end in reported ones"
            )
    return problems


def _cycle_from(start: str, uses: dict[str, list[str]]) -> list[str] | None:
    """The shortest path of derived indicators from `start` back to itself, if there is one."""
    paths = [[start]]
    seen: set[str] = set()
    while paths:
        path = paths.pop(0)
        for name in uses.get(path[-1], []):
            if name == start:
                return [*path, start]
            if name in uses and name not in seen:
                seen.add(name)
                paths.append([*path, name])
    return None


def _check_asked(catalog: Catalog, where: Locator) -> list[str]:
    # A derived indicator is asked when its components are, and those are checked themselves.
    return [
        f"{where('indicators.yaml', ('indicators', i, 'code'), 'code')} '{code}' is asked in "
        "no form, so it would never have data; add it to the questions of a form in "
        "forms.yaml, or remove it"
        for i, (code, ind) in enumerate(catalog.indicators.items())
        if ind.type != IndicatorType.DERIVED and code not in catalog.form_of_indicator
    ]


def _check_member_total(catalog: Catalog, where: Locator) -> list[str]:
    """The member total is one reported count of people kept as a stock (aggregation: last):
    a per-member answer is held against its latest value, so two would leave it ambiguous."""
    problems: list[str] = []
    marked = [(i, ind) for i, ind in enumerate(catalog.indicators.values()) if ind.member_total]
    for i, ind in marked:
        at = where("indicators.yaml", ("indicators", i, "member_total"), "member_total")
        if ind.type != IndicatorType.COUNT:
            problems.append(
                f"{at} '{ind.code}' is a {ind.type} indicator; the member total is a count "
                "that a form asks (type: count)"
            )
        elif ind.agg != Aggregation.LAST:
            problems.append(
                f"{at} '{ind.code}' is added up over time (aggregation: sum); the member "
                "total is a stock: write aggregation: last"
            )
    for i, _ind in marked[1:]:
        at = where("indicators.yaml", ("indicators", i, "member_total"), "member_total")
        problems.append(
            f"{at} '{marked[0][1].code}' is already the member total; mark one indicator only"
        )
    return problems


def _check_forms(catalog: Catalog, where: Locator) -> list[str]:
    problems: list[str] = []
    if not catalog.forms:
        problems.append(
            f"{where.folder / 'forms.yaml'}:1: forms: there is no form, so nothing would be "
            "asked; list at least one form under forms"
        )
    roles = {level.code: level.role for level in catalog.levels}
    for i, form in enumerate(catalog.forms.values()):
        s = form.schedule
        if form.level in roles and roles[form.level] is None:
            problems.append(
                f"{where('forms.yaml', ('forms', i, 'level'), 'level')} the level "
                f"'{form.level}' has no role in hierarchy.yaml, so nobody would be asked to "
                "report this form; give the level a role"
            )
        if not form.questions:
            problems.append(
                f"{where('forms.yaml', ('forms', i, 'questions'), 'questions')} the form asks "
                "nothing; list at least one indicator under questions"
            )
        if s.closes_days_after_end < s.due_days_after_end:
            problems.append(
                f"{where('forms.yaml', ('forms', i, 'schedule', 'closes_days_after_end'), 'schedule.closes_days_after_end')} "  # noqa: E501
                f"the form closes ({s.closes_days_after_end} days after the period) before it "
                f"is due ({s.due_days_after_end} days after); closes must be at least due"
            )
        if -s.opens_days_before_end > s.due_days_after_end:
            problems.append(
                f"{where('forms.yaml', ('forms', i, 'schedule', 'opens_days_before_end'), 'schedule.opens_days_before_end')} "  # noqa: E501
                "the form opens after it is due; open it before the due day"
            )
    return problems


def _check_targets(catalog: Catalog, where: Locator) -> list[str]:
    problems = []
    for i, target in enumerate(catalog.targets):
        if target.period not in PERIOD_WORDS:
            problem = _period_problem(target.period, catalog)
            if problem:
                loc = ("targets", i, "period")
                problems.append(f"{where('targets.yaml', loc, 'period')} {problem}")
        for fld in ("indicator", "numerator", "denominator"):
            ind = catalog.indicators.get(getattr(target, fld) or "")
            if ind is None:
                continue
            text_in_rate = target.kind == "rate" and ind.type in UNCOUNTABLE
            if ind.type == IndicatorType.TEXT or text_in_rate:
                problems.append(
                    f"{where('targets.yaml', ('targets', i, fld), fld)} '{ind.code}' is a "
                    f"{ind.type} indicator and cannot be added up for a {target.kind} target; "
                    "name a count or amount indicator"
                )
        if target.level and target.kind == "coverage" and target.level == catalog.levels[0].code:
            problems.append(
                f"{where('targets.yaml', ('targets', i, 'level'), 'level')} coverage of the "
                "top level is always one unit; name a level below it"
            )
    return problems


def _period_problem(key: str, catalog: Catalog) -> str | None:
    try:
        from_key(key, catalog.terms)
    except PeriodError as exc:
        if exc.key == "bad_range":
            return f"the range '{key}' ends before it starts; write the earlier year first"
        if exc.key == "unknown_term":
            terms = ", ".join("NK" + t.code for t in catalog.terms) or "none"
            return f"no term '{exc.text}' under terms (terms: {terms}); {PERIOD_HELP}"
        return f"'{key}' cannot be read{_suggest(key, PERIOD_WORDS)}; {PERIOD_HELP}"
    return None
