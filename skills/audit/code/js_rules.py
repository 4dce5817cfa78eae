"""The JavaScript/TypeScript rule set: patterns on syntax trees, each with its CWE, severity and fix.

Each rule looks at one kind of node and decides from the tree, not from the text: ``eval``
of a built string (not of a literal), ``exec`` of a template literal with ``${...}`` in a file
that uses ``child_process``, a ``query`` whose SQL is concatenated (directly, or through a
variable the file built that way), ``dangerouslySetInnerHTML`` fed anything but a literal,
TLS verification turned off, weak hashes and ciphers, and JWTs signed with a literal secret.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tree_sitter import Node

from skills.audit.code.js_syntax import (
    FileFacts,
    arguments_of,
    callee_name,
    first_argument,
    is_built_string,
    is_constant_string,
    string_value,
    text,
    walk,
)
from skills.audit.findings import Severity


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: Severity
    cwe: str
    fix: str


@dataclass(frozen=True)
class Match:
    rule: Rule
    node: Node
    detail: str = ""


RULES = {rule.id: rule for rule in (
    Rule("js-eval-dynamic", "Code evaluated from a string that is not a literal", "high", "CWE-95",
         "Do not evaluate code from strings; parse data with JSON.parse, dispatch on known names instead."),
    Rule("js-child-process-shell", "Shell command built from a string at run time", "high", "CWE-78",
         "Use execFile/spawn with an argument array (no shell), and validate each argument."),
    Rule("js-sql-concatenation", "SQL query built by string concatenation", "high", "CWE-89",
         "Use parameterised queries (placeholders such as ? or $1 and a values array) or the query builder's bindings."),
    Rule("react-dangerously-set-inner-html", "dangerouslySetInnerHTML with content that is not a literal", "medium", "CWE-79",
         "Render text as children (React escapes it), or sanitise the HTML with DOMPurify before injecting it."),
    Rule("js-dom-html-injection", "HTML written into the page from a value", "medium", "CWE-79",
         "Set textContent instead of innerHTML/outerHTML, or sanitise the HTML first."),
    Rule("js-tls-verification-disabled", "TLS certificate verification disabled", "high", "CWE-295",
         "Keep certificate verification on; trust a private CA with the `ca` option or NODE_EXTRA_CA_CERTS instead."),
    Rule("js-weak-hash", "Weak hash algorithm", "medium", "CWE-328",
         "Use SHA-256 or better for integrity; for passwords use bcrypt, scrypt or argon2."),
    Rule("js-weak-cipher", "Weak or deprecated cipher", "high", "CWE-327",
         "Use createCipheriv with AES-256-GCM (or ChaCha20-Poly1305) and a random IV per message."),
    Rule("js-hardcoded-jwt-secret", "JWT signed or verified with a secret written in the code", "high", "CWE-798",
         "Load the signing secret from the environment or a secret manager, and rotate the one in the code."),
    Rule("js-jwt-none-algorithm", "JWT verification accepts the 'none' algorithm", "high", "CWE-347",
         "List only the algorithms you sign with, e.g. algorithms: ['HS256']."),
)}

_SHELL_FUNCTIONS = frozenset({"exec", "execSync"})
_SPAWN_FUNCTIONS = frozenset({"spawn", "spawnSync", "execFile", "execFileSync"})
_QUERY_FUNCTIONS = frozenset({
    "query", "execute", "raw", "run", "all", "get", "prepare", "exec", "$queryRawUnsafe", "$executeRawUnsafe",
    "unsafe", "sql", "whereRaw", "orderByRaw", "havingRaw", "joinRaw",
})
_SQL = re.compile(r"(?is)\b(select\b.+\bfrom|insert\s+into|update\b.+\bset|delete\s+from|drop\s+table|create\s+table|where\b)")
_WEAK_HASHES = frozenset({"md5", "md4", "sha1", "sha-1", "ripemd160", "md2"})
_WEAK_CIPHER = re.compile(r"(?i)^(des|des3|des-ede|des-ede3|rc2|rc4|bf|blowfish|cast|idea|seed)\b|-ecb$|^rc4")
_JWT_MODULES = ("jsonwebtoken", "jose", "express-jwt", "koa-jwt", "@nestjs/jwt", "jwt-simple", "hono/jwt")


def check_file(root: Node) -> Iterator[Match]:
    """Every rule's matches in one file's syntax tree."""
    facts = FileFacts.of(root)
    for node in walk(root):
        checks = _CHECKS.get(node.type, ())
        for check in checks:
            yield from check(node, facts)


def _calls(node: Node, facts: FileFacts) -> Iterator[Match]:
    owner, function = callee_name(node)
    argument = facts.resolve(first_argument(node))
    if owner in ("", "window", "globalThis") and function in ("eval", "Function") and argument is not None:
        if not is_constant_string(argument):
            yield Match(RULES["js-eval-dynamic"], node)
    if function in ("setTimeout", "setInterval") and is_built_string(argument):
        yield Match(RULES["js-eval-dynamic"], node, "a string passed to " + function)
    if facts.is_from(owner or function, "child_process"):
        if function in _SHELL_FUNCTIONS and (
            is_built_string(argument) or (argument is not None and argument.type == "identifier")
        ):
            yield Match(RULES["js-child-process-shell"], node)
        if function in _SPAWN_FUNCTIONS and any(_has_pair(a, "shell", "true") for a in arguments_of(node)):
            built = [a for a in arguments_of(node)[:2] for a in ([a] if a.type != "array" else a.named_children)]
            if any(is_built_string(facts.resolve(a)) for a in built):
                yield Match(RULES["js-child-process-shell"], node, "spawned with shell: true")
    if function in _QUERY_FUNCTIONS and is_built_string(argument) and _SQL.search(text(argument)):
        yield Match(RULES["js-sql-concatenation"], node)
    if function == "createHash" and is_constant_string(argument) and string_value(argument).lower() in _WEAK_HASHES:  # type: ignore[arg-type]
        yield Match(RULES["js-weak-hash"], node, string_value(argument))  # type: ignore[arg-type]
    if function in ("createCipher", "createDecipher"):
        yield Match(RULES["js-weak-cipher"], node, f"{function} derives its key and IV without a salt (deprecated)")
    if function in ("createCipheriv", "createDecipheriv") and is_constant_string(argument):
        if _WEAK_CIPHER.search(string_value(argument)):  # type: ignore[arg-type]
            yield Match(RULES["js-weak-cipher"], node, string_value(argument))  # type: ignore[arg-type]
    if function == "write" and owner == "document" and argument is not None and not is_constant_string(argument):
        yield Match(RULES["js-dom-html-injection"], node, "document.write")
    yield from _jwt_secret(node, function, facts)


def _jwt_secret(node: Node, function: str, facts: FileFacts) -> Iterator[Match]:
    if not any(module.startswith(_JWT_MODULES) for module in facts.modules):
        return
    arguments = arguments_of(node)
    if function in ("sign", "verify") and len(arguments) >= 2 and is_constant_string(facts.resolve(arguments[1])):
        yield Match(RULES["js-hardcoded-jwt-secret"], node)
    if function in ("expressjwt", "expressJwt", "jwt", "koaJwt") and arguments:
        if _has_pair(arguments[0], "secret", None, facts):
            yield Match(RULES["js-hardcoded-jwt-secret"], node)


def _has_pair(node: Node | None, key: str, value: str | None, facts: FileFacts | None = None) -> bool:
    """An object literal with ``key: value`` (``value`` None: any constant string, possibly through a name)."""
    if node is None or node.type != "object":
        return False
    for pair in node.named_children:
        if pair.type != "pair" or text(pair.child_by_field_name("key")).strip("'\"") != key:
            continue
        found = pair.child_by_field_name("value")
        if value is None:
            return is_constant_string(facts.resolve(found) if facts else found)
        return text(found) == value
    return False


def _pairs(node: Node, facts: FileFacts) -> Iterator[Match]:
    key, value = text(node.child_by_field_name("key")).strip("'\""), node.child_by_field_name("value")
    if key in ("rejectUnauthorized", "strictSSL", "verify_ssl") and text(value) == "false":
        yield Match(RULES["js-tls-verification-disabled"], node, f"{key}: false")
    if key == "algorithms" and value is not None and value.type == "array":
        if any(is_constant_string(item) and string_value(item).lower() == "none" for item in value.named_children):
            yield Match(RULES["js-jwt-none-algorithm"], node)


def _assignments(node: Node, facts: FileFacts) -> Iterator[Match]:
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    target = text(left)
    if target.endswith("NODE_TLS_REJECT_UNAUTHORIZED") and text(right).strip("'\"`") == "0":
        yield Match(RULES["js-tls-verification-disabled"], node, "NODE_TLS_REJECT_UNAUTHORIZED = 0")
    if target.endswith((".innerHTML", ".outerHTML")) and right is not None and not is_constant_string(right):
        yield Match(RULES["js-dom-html-injection"], node, target.rsplit(".", 1)[1])


def _jsx_attributes(node: Node, facts: FileFacts) -> Iterator[Match]:
    if not node.named_children or text(node.named_children[0]) != "dangerouslySetInnerHTML":
        return
    expression = node.named_children[-1]
    html = next((child for child in walk(expression) if child.type == "pair" and text(child.child_by_field_name("key")) == "__html"), None)
    value = html.child_by_field_name("value") if html is not None else None
    if value is None or not is_constant_string(facts.resolve(value)):
        yield Match(RULES["react-dangerously-set-inner-html"], node)


def _new_expressions(node: Node, facts: FileFacts) -> Iterator[Match]:
    if callee_name(node)[1] == "Function" and any(is_built_string(facts.resolve(a)) for a in arguments_of(node)):
        yield Match(RULES["js-eval-dynamic"], node, "new Function")


_CHECKS: dict[str, tuple[Callable[[Node, FileFacts], Iterator[Match]], ...]] = {
    "call_expression": (_calls,),
    "new_expression": (_new_expressions,),
    "pair": (_pairs,),
    "assignment_expression": (_assignments,),
    "jsx_attribute": (_jsx_attributes,),
}
