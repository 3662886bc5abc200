"""The operator's YAML files: reading them with line numbers, a code's spelling, and the
error that lists every problem found (file, line, field), so an operator can fix it alone.

The lowest room of the plan's language: it imports nothing of the project.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field

CODE = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")]


class ConfigError(Exception):
    """One or more problems in the operator's configuration files."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# ---- YAML with line numbers ---------------------------------------------------------------


def load_yaml_with_lines(path: Path) -> tuple[Any, dict[tuple, int]]:
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


def nearest_line(lines: dict[tuple, int], loc: tuple) -> int:
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get((), 1)


# The files read, by name: (the parsed YAML, the line of each place in it).
Docs = dict[str, tuple[Any, dict[tuple, int]]]


class Locator:
    """Names the place of a problem in the files read, as the operator looks for it:
    `folder/file.yaml:line: list[index] field 'name':`."""

    def __init__(self, folder: Path, docs: Docs) -> None:
        self.folder, self.docs = folder, docs

    def __call__(self, name: str, loc: tuple, fld: str) -> str:
        line = nearest_line(self.docs[name][1], loc)
        return f"{self.folder / name}:{line}: {loc[0]}[{loc[1]}] field '{fld}':"

    def line(self, name: str, loc: tuple) -> int:
        return nearest_line(self.docs[name][1], loc)
