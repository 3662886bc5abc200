"""Loading the operator's configuration folder: the catalog's four files and thi_dua.yaml,
each checked on load, every error naming the file, the line and the field.

It sits above the catalog's model (storage/plan/catalog.py), the file checks
(storage/plan/catalog_checks.py) and the thi đua rule (storage/plan/thi_dua_rule.py), which do not
import it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from storage.plan import catalog_checks
from storage.plan.catalog import (
    Aggregation,
    Catalog,
    Form,
    Indicator,
    IndicatorType,
    Level,
    Target,
    TermConfig,
)
from storage.plan.config_files import ConfigError, load_yaml_with_lines, nearest_line
from storage.plan.expressions import formula_names
from storage.plan.periods import Term
from storage.plan.thi_dua_rule import FILE, Rule

FILES = ("hierarchy.yaml", "indicators.yaml", "forms.yaml", "targets.yaml")


def load_catalog(folder: Path) -> Catalog:
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
            docs[name] = load_yaml_with_lines(path)
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
                    line = nearest_line(lines, loc)
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
    from storage.plan.privacy_notice import load_notice

    catalog.privacy_notice, notice_problems = load_notice(folder)
    problems.extend(notice_problems)
    if problems:
        raise ConfigError(problems)
    catalog.thi_dua = load_rule(folder, catalog)
    from storage.plan.document_layout import load_layouts

    catalog.document = load_layouts(folder, [lv.code for lv in catalog.levels])
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
        return f"{folder / name}:{nearest_line(docs[name][1], loc)}"

    level_codes = [lv.code for lv in catalog.levels]
    if not level_codes:
        problems.append(f"{folder / 'hierarchy.yaml'}: at least one level is needed")
    ind: Indicator | None  # an indicator below, or the one a question asks (if known)
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
                line = nearest_line(lines, ("forms", i, "questions", j, "short"))
                problems.append(
                    f"{folder / 'forms.yaml'}:{line}: "
                    f"forms[{i}] field 'questions.{j}.short': '{q.short}' is already used "
                    f"for '{seen[q.short]}'"
                )
            seen[q.short] = q.indicator
        for k, rule in enumerate(form.rules):
            current, previous = rule.names()
            fld = "change" if rule.change else "check"
            where = f"{folder / 'forms.yaml'}:{nearest_line(lines, ('forms', i, 'rules', k, fld))}"
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


def load_rule(folder: Path, catalog: Catalog) -> Rule:
    """The rule of `folder/thi_dua.yaml`, checked against the catalog; defaults if absent."""
    path = folder / FILE
    if not path.exists():
        return Rule()
    import yaml

    try:
        data, lines = load_yaml_with_lines(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None)
        why = f" ({problem})" if problem else ""
        raise ConfigError([f"{path}{line}: not valid YAML{why}"]) from exc
    section = data.get("thi_dua") if isinstance(data, dict) else None
    if not isinstance(section, dict):
        raise ConfigError([f"{path}:1: thi_dua: expected a section 'thi_dua:'"])
    try:
        rule = Rule.model_validate(section)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ("thi_dua", *err["loc"])
            fld = ".".join(str(p) for p in err["loc"]) or "thi_dua"
            why = err["msg"].removeprefix("Value error, ")
            problems.append(f"{path}:{nearest_line(lines, loc)}: {fld}: {why}")
        raise ConfigError(problems) from exc
    problems = []
    if rule.form and rule.form not in catalog.forms:
        problems.append(
            f"{path}:{nearest_line(lines, ('thi_dua', 'form'))}: form: unknown form '{rule.form}'"
        )
    if rule.growth:
        for fld in ("indicator", "base"):
            code = getattr(rule.growth, fld)
            if code not in catalog.indicators:
                line_no = nearest_line(lines, ("thi_dua", "growth", fld))
                problems.append(f"{path}:{line_no}: growth.{fld}: unknown indicator '{code}'")
    if problems:
        raise ConfigError(problems)
    return rule
