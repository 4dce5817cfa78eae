"""JavaScript and TypeScript syntax trees (tree-sitter), and the questions the rules ask of them.

tree-sitter's grammars parse ``.js/.mjs/.cjs/.jsx`` (JavaScript, with JSX) and ``.ts``/``.tsx``
(TypeScript, TSX) into concrete syntax trees; a file with syntax errors still parses, with
error nodes where it could not, so one bad file never stops the scan.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath

import tree_sitter_javascript
import tree_sitter_typescript
from tree_sitter import Language, Node, Parser

JS_SUFFIXES = frozenset({".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx"})
_STRING_TYPES = frozenset({"string", "template_string"})


@lru_cache(maxsize=3)
def _language(kind: str) -> Language:
    if kind == "typescript":
        return Language(tree_sitter_typescript.language_typescript())
    if kind == "tsx":
        return Language(tree_sitter_typescript.language_tsx())
    return Language(tree_sitter_javascript.language())


def parse(path: str, source: bytes) -> Node:
    """The syntax tree of a JavaScript or TypeScript file, by its suffix."""
    suffix = PurePosixPath(path).suffix.lower()
    kind = "tsx" if suffix == ".tsx" else "typescript" if suffix in (".ts", ".mts", ".cts") else "javascript"
    return Parser(_language(kind)).parse(source).root_node


def walk(node: Node) -> Iterator[Node]:
    """Every node under ``node`` (itself included), depth first."""
    cursor = node.walk()
    visited_children = False
    while True:
        if not visited_children:
            yield cursor.node  # type: ignore[misc]
            if cursor.goto_first_child():
                continue
        if cursor.goto_next_sibling():
            visited_children = False
            continue
        if not cursor.goto_parent():
            return
        visited_children = True


def text(node: Node | None) -> str:
    return node.text.decode("utf-8", errors="replace") if node is not None and node.text is not None else ""


def is_constant_string(node: Node | None) -> bool:
    """A string literal, or a template literal without ``${...}``."""
    if node is None or node.type not in _STRING_TYPES:
        return False
    return not any(child.type == "template_substitution" for child in node.children)


def string_value(node: Node) -> str:
    """The characters of a constant string literal, without its quotes."""
    return text(node)[1:-1]


def is_built_string(node: Node | None) -> bool:
    """A string assembled at run time: ``"a" + b``, or a template literal with ``${...}``."""
    if node is None:
        return False
    if node.type == "template_string":
        return not is_constant_string(node)
    if node.type == "binary_expression" and text(node.child_by_field_name("operator")) == "+":
        return True
    return node.type == "parenthesized_expression" and any(is_built_string(child) for child in node.named_children)


def first_argument(call: Node) -> Node | None:
    arguments = call.child_by_field_name("arguments")
    named = [child for child in (arguments.named_children if arguments else []) if child.type != "comment"]
    return named[0] if named else None


def arguments_of(call: Node) -> list[Node]:
    arguments = call.child_by_field_name("arguments")
    return [child for child in (arguments.named_children if arguments else []) if child.type != "comment"]


def callee_name(call: Node) -> tuple[str, str]:
    """(object, function) of a call: ``cp.exec(...)`` -> ("cp", "exec"); ``eval(...)`` -> ("", "eval")."""
    function = call.child_by_field_name("function") or call.child_by_field_name("constructor")
    if function is None:
        return "", ""
    if function.type == "member_expression":
        return text(function.child_by_field_name("object")), text(function.child_by_field_name("property"))
    return "", text(function)


@dataclass
class FileFacts:
    """What a rule may need to know about the whole file: constant strings by name, and imported modules."""

    constants: dict[str, Node] = field(default_factory=dict)
    built_strings: dict[str, Node] = field(default_factory=dict)
    modules: set[str] = field(default_factory=set)
    # Local names bound to a module (``cp`` -> "child_process") or to one of its exports ("exec" -> "child_process").
    bindings: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, root: Node) -> FileFacts:
        facts = cls()
        for node in walk(root):
            if node.type == "variable_declarator":
                name, value = text(node.child_by_field_name("name")), node.child_by_field_name("value")
                if value is not None and value.type == "call_expression" and callee_name(value) == ("", "require"):
                    module = first_argument(value)
                    if is_constant_string(module):
                        facts._bind(node.child_by_field_name("name"), string_value(module))  # type: ignore[arg-type]
                if is_constant_string(value):
                    facts.constants[name] = value  # type: ignore[assignment]
                elif is_built_string(value):
                    facts.built_strings[name] = value  # type: ignore[assignment]
            elif node.type == "import_statement":
                source = node.child_by_field_name("source")
                if source is not None:
                    facts.modules.add(string_value(source))
                    for clause in (c for c in node.named_children if c.type == "import_clause"):
                        facts._bind(clause, string_value(source))
            elif node.type == "call_expression" and callee_name(node) == ("", "require"):
                argument = first_argument(node)
                if is_constant_string(argument):
                    facts.modules.add(string_value(argument))  # type: ignore[arg-type]
        return facts

    def _bind(self, pattern: Node | None, module: str) -> None:
        """Names a ``require``/``import`` binds: the module itself, or the exports it destructures."""
        for node in walk(pattern) if pattern is not None else ():
            if node.type in ("identifier", "shorthand_property_identifier_pattern"):
                self.bindings[text(node)] = module

    def is_from(self, name: str, module: str) -> bool:
        """Whether a local name refers to ``module`` (or an export of it)."""
        return self.bindings.get(name, "").removeprefix("node:") == module or name == module

    def resolve(self, node: Node | None) -> Node | None:
        """An identifier's string value when the file assigns it once to a literal or a built string."""
        if node is not None and node.type == "identifier":
            return self.constants.get(text(node)) or self.built_strings.get(text(node)) or node
        return node
