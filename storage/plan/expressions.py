"""The small arithmetic of the configuration: derived indicators' formulas ("a + b", "a / b")
and the checks between a form's answers ("a <= b + previous(c)"), parsed with `ast` and
allowed only + - * / and numbers.
"""

from __future__ import annotations

import ast
import functools
import operator
from typing import cast

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
            return float(cast(float, node.value))  # the formula's check lets only numbers in
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
