"""The written report's layout: the shipped default (document_default.yaml beside this module)
with the operator's document.yaml from the configuration folder laid over it, checked on load
so a mistake is found by `hoibot config check`, not when an officer asks for the report."""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from storage.plan.config_files import ConfigError
from storage.plan.config_files import load_yaml_with_lines as _load_yaml_with_lines
from storage.plan.config_files import nearest_line as _nearest_line

FILE = "document.yaml"
DEFAULT = Path(__file__).resolve().parent / "document_default.yaml"
SECTIONS = ("results", "targets", "reporting", "thi_dua", "texts", "office")
FIELDS = frozenset({"unit", "UNIT", "parent", "PARENT", "place", "period", "next_period", "level"})
TEXTS = ("number", "place", "title", "subtitle")
LISTS = ("organisation", "office_headings", "recipients", "signer")
KEYS = frozenset({*TEXTS, *LISTS, "sections", "headings", "levels"})


@dataclass(frozen=True)
class Layout:
    """The layout for a unit of one level (its level's keys laid over the common ones)."""

    organisation: list[str]
    number: str
    place: str
    title: str
    subtitle: str
    sections: list[str]
    headings: dict[str, str]
    office_headings: list[str]
    recipients: list[str]
    signer: list[str]


@dataclass(frozen=True)
class Layouts:
    common: dict[str, Any]
    levels: dict[str, dict[str, Any]]

    def for_level(self, level: str) -> Layout:
        data = {**self.common, **self.levels.get(level, {})}
        headings = {**self.common["headings"], **self.levels.get(level, {}).get("headings", {})}
        return Layout(
            organisation=list(data["organisation"]),
            number=data["number"],
            place=data["place"],
            title=data["title"],
            subtitle=data["subtitle"],
            sections=list(data["sections"]),
            headings=headings,
            office_headings=list(data["office_headings"]),
            recipients=list(data["recipients"]),
            signer=list(data["signer"]),
        )


def _read(path: Path) -> tuple[dict[str, Any], dict[tuple, int]]:
    try:
        data, lines = _load_yaml_with_lines(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None)
        why = f" ({problem})" if problem else ""
        raise ConfigError([f"{path}{line}: not valid YAML{why}"]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}:1: not UTF-8 text; save the file as UTF-8"]) from exc
    section = data.get("document") if isinstance(data, dict) else None
    if not isinstance(section, dict):
        raise ConfigError([f"{path}:1: expected a section 'document:'"])
    return section, lines


def _check_block(
    block: Any, where: tuple, path: Path, lines: dict[tuple, int], problems: list[str]
) -> None:
    """One block of keys (the common one, or a level's): known keys, the right shapes,
    placeholders that exist, sections that exist once each."""

    def problem(loc: tuple, what: str) -> None:
        name = ".".join(str(p) for p in loc[1:])
        problems.append(f"{path}:{_nearest_line(lines, loc)}: {name}: {what}")

    def check_text(loc: tuple, value: Any) -> None:
        if not isinstance(value, str):
            problem(loc, "expected a text")
            return
        try:
            names = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
        except ValueError as exc:
            problem(loc, f"{exc} (write a brace as {{{{ or }}}})")
            return
        unknown = sorted(n for n in names if n not in FIELDS)
        if unknown:
            problem(
                loc,
                f"unknown placeholder {{{unknown[0]}}}; use "
                + ", ".join(f"{{{f}}}" for f in sorted(FIELDS)),
            )

    if not isinstance(block, dict):
        problem(where, "expected keys (organisation, title, sections, …)")
        return
    for key, value in block.items():
        loc = (*where, key)
        if key not in KEYS or (key == "levels" and len(where) > 1):
            problem(loc, "unknown key; the keys are " + ", ".join(sorted(KEYS - {"levels"})))
        elif key in TEXTS:
            check_text(loc, value)
        elif key in LISTS:
            if not isinstance(value, list) or not value:
                problem(loc, "expected a list of lines")
            else:
                for i, item in enumerate(value):
                    check_text((*loc, i), item)
        elif key == "headings":
            if not isinstance(value, dict):
                problem(loc, "expected a heading for each section")
                continue
            for name, text in value.items():
                if name not in SECTIONS:
                    problem((*loc, name), "no such section; they are " + ", ".join(SECTIONS))
                else:
                    check_text((*loc, name), text)
        elif key == "sections":
            if not isinstance(value, list) or not value:
                problem(loc, "expected a list of sections: " + ", ".join(SECTIONS))
                continue
            seen: set[str] = set()
            for i, name in enumerate(value):
                if name not in SECTIONS:
                    problem((*loc, i), f"no section {name!r}; they are " + ", ".join(SECTIONS))
                elif name in seen:
                    problem((*loc, i), f"the section {name!r} is listed twice; keep one")
                seen.add(name)


def load_layouts(folder: Path | None, level_codes: list[str] | None = None) -> Layouts:
    """The shipped default with `folder/document.yaml` over it (when there is one)."""
    common, _ = _read(DEFAULT)
    levels: dict[str, dict[str, Any]] = dict(common.pop("levels", {}) or {})
    path = folder / FILE if folder is not None else None
    if path is None or not path.exists():
        return Layouts(common, levels)
    section, lines = _read(path)
    problems: list[str] = []
    _check_block(section, ("document",), path, lines, problems)
    own_levels = section.get("levels") or {}
    if not isinstance(own_levels, dict):
        problems.append(
            f"{path}:{_nearest_line(lines, ('document', 'levels'))}: levels: "
            "expected a block per level code"
        )
        own_levels = {}
    known = level_codes
    for code, block in own_levels.items():
        loc = ("document", "levels", code)
        if known is not None and code not in known:
            problems.append(
                f"{path}:{_nearest_line(lines, loc)}: levels.{code}: no such level in "
                f"hierarchy.yaml; the levels are {', '.join(known)}"
            )
        _check_block(block, loc, path, lines, problems)
    if problems:
        raise ConfigError(problems)
    for key, value in section.items():
        if key == "headings":
            common["headings"] = {**common["headings"], **value}
        elif key != "levels":
            common[key] = value
            # A key the operator sets for all levels replaces the shipped level's own too.
            for block in levels.values():
                block.pop(key, None)
    for code, block in own_levels.items():
        levels[code] = {**levels.get(code, {}), **block}
    return Layouts(common, levels)
