"""The report conversation's state graph, walked from the code itself (#26).

Transitions are declared where they happen (`turn.enter(FLOW, "question", ...)`,
`turn.goto("summary")`) in the modules of the package handlers/report_flow/, the handlers of
each state in the STATES table of handlers/report_flow/states.py, and the states listed in its
docstring. This test reads all three and checks that they agree: every state a transition
names has a handler for buttons and for typed text and a prompt asked again, every state is
reached from the entry points, and the docstring lists exactly the states there are."""

from __future__ import annotations

import ast
import graphlib
import importlib
import inspect
import pkgutil
import re

from handlers import report_flow
from handlers.report_flow import states

MODULES = [
    importlib.import_module(f"{report_flow.__name__}.{info.name}")
    for info in pkgutil.iter_modules(report_flow.__path__)
]
TREES = [ast.parse(inspect.getsource(module)) for module in MODULES]


def _functions() -> dict[str, ast.AsyncFunctionDef | ast.FunctionDef]:
    """The functions of every module of the package, by name (a name is defined once)."""
    found = [
        node
        for tree in TREES
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    assert len({node.name for node in found}) == len(found), "a function name defined twice"
    return {node.name: node for node in found}


def _returned_states(name: str) -> set[str]:
    """The state names a helper such as `_summary_step` returns."""
    node = _functions()[name]
    return {
        c.value
        for r in ast.walk(node)
        if isinstance(r, ast.Return) and r.value is not None
        for c in ast.walk(r.value)
        if isinstance(c, ast.Constant) and isinstance(c.value, str)
    }


def _named_states(expr: ast.expr) -> set[str]:
    """The states an argument names: a literal, `x or "question"`, `a if c else b`,
    `_summary_step(sub)`; a state read back from the conversation's data (`data.get("back")`,
    a step saved earlier) names none of its own."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.BoolOp):
        return set().union(*(_named_states(v) for v in expr.values))
    if isinstance(expr, ast.IfExp):
        return _named_states(expr.body) | _named_states(expr.orelse)
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id in _functions()
    ):
        return _returned_states(expr.func.id)
    return set()


def transitions() -> dict[str, set[str]]:
    """function -> the states it moves the conversation to."""
    out: dict[str, set[str]] = {}
    for name, fn in _functions().items():
        for node in ast.walk(fn):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            call = node.func
            if not (isinstance(call.value, ast.Name) and call.value.id == "turn"):
                continue
            if call.attr == "enter" and len(node.args) == 2:
                flow, step = node.args
                if isinstance(flow, ast.Name) and flow.id == "FLOW":
                    out.setdefault(name, set()).update(_named_states(step))
            elif call.attr == "goto" and node.args:
                out.setdefault(name, set()).update(_named_states(node.args[0]))
    return out


def calls() -> dict[str, set[str]]:
    """function -> the functions of the package it calls (the edges between handlers)."""
    names = set(_functions())
    return {
        name: {
            n.func.id
            for n in ast.walk(fn)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in names
        }
        for name, fn in _functions().items()
    }


def test_every_state_a_transition_names_has_its_handlers() -> None:
    table = set(states.STATES)
    named = set().union(*transitions().values())
    assert named, "no transition found: the test no longer reads the module"
    assert named <= table, f"a transition to a state without handlers: {named - table}"


def test_every_state_is_reached_from_the_entry_points() -> None:
    """A walk over the call graph from the entry points, through each state's handlers:
    every state of the tables is entered somewhere along it."""
    graph, moves = calls(), transitions()
    entries = ["start", "on_idle_text", "on_action", "on_text"]
    seen_fns: set[str] = set()
    reached: set[str] = set()
    todo = list(entries)
    while todo:
        fn = todo.pop()
        if fn in seen_fns:
            continue
        seen_fns.add(fn)
        for state in moves.get(fn, set()) - reached:
            reached.add(state)
            todo.append(states.STATES[state].action.__name__)
            todo.append(states.STATES[state].text.__name__)
        todo.extend(graph.get(fn, set()))
    assert reached == set(states.STATES)


def test_reprompt_knows_every_state() -> None:
    said = {
        c.value
        for c in ast.walk(_functions()["ask_again"])
        if isinstance(c, ast.Constant) and isinstance(c.value, str)
    }
    assert set(states.STATES) <= said


def test_the_docstring_lists_the_states() -> None:
    doc = states.__doc__ or ""
    listed = set(re.findall(r"^    ([a-z_]+) {2,}", doc, re.M))
    assert listed == set(states.STATES)


def test_the_modules_import_each_other_without_a_circle() -> None:
    """Handlers that hand a message to another state's go through the table (states.py),
    never by importing a module that imports theirs."""
    package = report_flow.__name__ + "."
    graph = {
        module.__name__: {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(package)
        }
        for module, tree in zip(MODULES, TREES, strict=True)
    }
    order = list(graphlib.TopologicalSorter(graph).static_order())  # CycleError on a circle
    assert order[-1] == states.__name__, "the table imports the handlers, not the reverse"
