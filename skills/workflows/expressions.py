"""Templates (``{{frontend.outputs.outputPath}}``) and conditions (``when:``) of a workflow.

A reference names ``inputs.<name>``, ``<node id>.outputs`` (all of them: a list for a
``for_each`` node) or ``<node id>.outputs.<field>``, then ``.key`` to go deeper, or ``item``
inside a ``for_each`` node. A parameter that is exactly one template
keeps the referenced value's type (a number stays a number, a list a list); inside text the
value is written as text.

A condition is a small expression over references: ``inputs.containerise``,
``not inputs.skipAudit``, ``audit.outputs.verdict == 'fail'``, ``inputs.replicas > 1 and
inputs.env in ['staging', 'prod']``. It is parsed with Python's ``ast`` and only comparisons,
``and``/``or``/``not``, literals and references are allowed: nothing is called, nothing
imported. Before a run, a value may be ``UNKNOWN`` (an output only the run will tell): a
template then stays unresolved and a condition undecided.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from skills.errors import UserMessageError

_PATH = r"(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
REFERENCE = re.compile(rf"(?:inputs\.[A-Za-z_][A-Za-z0-9_]*|item|[a-z0-9][a-z0-9-]*\.outputs){_PATH}")
_TEMPLATE = re.compile(r"\{\{\s*(.*?)\s*\}\}")


class _Unknown:
    """A value only the run will know."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


class ExpressionError(UserMessageError):
    def __init__(self, expression: str, reason: str) -> None:
        super().__init__(
            f"cannot read {expression!r}: {reason}",
            ["use inputs.<name>, <node>.outputs.<field> or item, with ==, !=, <, >, in, and, or, not"],
        )


@dataclass(frozen=True)
class Reference:
    text: str  # as written
    root: str  # "inputs", "item" or a node id
    path: tuple[str, ...]  # after ``inputs`` / ``<node>.outputs`` / ``item``

    @property
    def node_id(self) -> str | None:
        return None if self.root in ("inputs", "item") else self.root

    @classmethod
    def parse(cls, text: str) -> Reference:
        if not REFERENCE.fullmatch(text):
            raise ExpressionError(text, "not a reference")
        parts = text.split(".")
        if parts[0] in ("inputs", "item"):
            return cls(text, parts[0], tuple(parts[1:]))
        return cls(text, parts[0], tuple(parts[2:]))  # skip "outputs"


@dataclass
class Scope:
    """What references resolve against: the inputs, each finished node's outputs, the item."""

    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]  # node id -> its outputs (a dict; a list for a for_each node)
    item: Any = UNKNOWN

    def resolve(self, reference: Reference) -> Any:
        if reference.root == "inputs":
            value: Any = self.inputs
        elif reference.root == "item":
            value = self.item
        else:
            value = self.outputs.get(reference.root, UNKNOWN)
        for key in reference.path:
            if value is UNKNOWN:
                return UNKNOWN
            value = value.get(key, UNKNOWN) if isinstance(value, Mapping) else UNKNOWN
        return value


def template_references(value: Any) -> list[Reference]:
    """Every reference in the templates of ``value`` (a parameter value, however nested)."""
    if isinstance(value, str):
        return [Reference.parse(match.group(1)) for match in _TEMPLATE.finditer(value)]
    if isinstance(value, Mapping):
        return [ref for item in value.values() for ref in template_references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in template_references(item)]
    return []


def render(value: Any, scope: Scope) -> Any:
    """``value`` with its templates filled in; ``UNKNOWN`` where a whole value is not known yet."""
    if isinstance(value, Mapping):
        return {key: render(item, scope) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, scope) for item in value]
    if not isinstance(value, str):
        return value
    whole = _TEMPLATE.fullmatch(value.strip())
    if whole:
        return scope.resolve(Reference.parse(whole.group(1)))
    pieces = [scope.resolve(Reference.parse(m.group(1))) for m in _TEMPLATE.finditer(value)]
    if any(piece is UNKNOWN for piece in pieces):
        return UNKNOWN
    iterator = iter(pieces)
    return _TEMPLATE.sub(lambda _: str(next(iterator)), value)


_COMPARISONS = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}


@dataclass(frozen=True)
class Condition:
    """A parsed ``when:``: its references, and a tree evaluated against a scope."""

    source: str
    references: tuple[Reference, ...]
    tree: ast.expr

    @classmethod
    def parse(cls, source: str) -> Condition:
        references: list[Reference] = []

        def placeholder(match: re.Match[str]) -> str:
            references.append(Reference.parse(match.group(0)))
            return f"_ref{len(references) - 1}"

        # References hold hyphens (node ids), which Python would read as minus: name them first.
        python = _without_strings(source, placeholder)
        try:
            tree = ast.parse(python, mode="eval").body
        except SyntaxError as exc:
            raise ExpressionError(source, exc.msg) from None
        _check_allowed(tree, source)
        return cls(source, tuple(references), tree)

    def evaluate(self, scope: Scope) -> bool | Any:
        """True or False, or ``UNKNOWN`` when it depends on a value not known yet."""
        values = [scope.resolve(reference) for reference in self.references]
        result = _evaluate(self.tree, values)
        return result if result is UNKNOWN else bool(result)


def _without_strings(source: str, placeholder: Any) -> str:
    """Replace references outside string literals only (``'a.outputs.b'`` stays a string)."""
    pieces = re.split(r"('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")", source)
    return "".join(piece if index % 2 else REFERENCE.sub(placeholder, piece) for index, piece in enumerate(pieces))


def _check_allowed(tree: ast.AST, source: str) -> None:
    allowed = (
        ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.Compare, ast.Name, ast.Load,
        ast.Constant, ast.List, ast.Tuple, *_COMPARISONS,
    )
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            raise ExpressionError(source, f"{type(node).__name__} is not allowed")
        if isinstance(node, ast.Name) and not re.fullmatch(r"_ref\d+|true|false|True|False|null|None", node.id):
            raise ExpressionError(source, f"unknown name {node.id!r}")


_CONSTANT_NAMES = {"true": True, "True": True, "false": False, "False": False, "null": None, "None": None}


def _evaluate(node: ast.expr, values: list[Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return values[int(node.id[4:])] if node.id.startswith("_ref") else _CONSTANT_NAMES[node.id]
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_evaluate(element, values) for element in node.elts]
        return UNKNOWN if any(item is UNKNOWN for item in items) else items
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, values)
        return UNKNOWN if operand is UNKNOWN else not operand
    if isinstance(node, ast.BoolOp):
        return _boolean(node, values)
    assert isinstance(node, ast.Compare), "checked by _check_allowed"
    left = _evaluate(node.left, values)
    for op, right_node in zip(node.ops, node.comparators):
        right = _evaluate(right_node, values)
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        try:
            if not _COMPARISONS[type(op)](left, right):
                return False
        except TypeError:
            return False  # comparing a number with text, say: not equal, not in
        left = right
    return True


def _boolean(node: ast.BoolOp, values: list[Any]) -> Any:
    """``and``/``or`` that decide as soon as a known operand decides, even if others are unknown."""
    deciding = isinstance(node.op, ast.Or)  # True decides an ``or``, False an ``and``
    unknown = False
    for operand in node.values:
        value = _evaluate(operand, values)
        if value is UNKNOWN:
            unknown = True
        elif bool(value) == deciding:
            return deciding
    return UNKNOWN if unknown else not deciding
