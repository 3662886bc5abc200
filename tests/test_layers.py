"""The layers point one way (bot → handlers → schedules → storage; inside storage plan → db →
measures) and no module imports itself back through others, counting imports made inside
functions too (they hide a circle, they do not break it)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "schedules", "storage")
LAYER = {"storage": 0, "schedules": 1, "handlers": 2, "bot": 3}
ROOMS = {"storage.plan": 0, "storage.db": 1, "storage.measures": 2}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imports() -> dict[str, set[str]]:
    modules = _modules()
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                named = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                named = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            edges[name] |= {n for n in named if n in modules and n != name}
    return edges


def _room(name: str) -> int | None:
    return next((rank for room, rank in ROOMS.items() if name.startswith(room)), None)


def test_no_arrow_points_back_up() -> None:
    edges = _imports()
    up = [
        (a, b)
        for a, targets in edges.items()
        for b in targets
        if LAYER[b.split(".")[0]] > LAYER[a.split(".")[0]]
        or ((_room(a) is not None and _room(b) is not None) and _room(b) > _room(a))  # type: ignore[operator]
    ]
    assert up == []


def test_no_module_imports_itself_back() -> None:
    edges = _imports()
    circles = []
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    assert circles == []
