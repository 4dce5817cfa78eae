"""Values written next to a secret-sounding name, in any of the syntaxes projects use, and random-looking strings.

``KEY=value`` (.env, shell profiles, properties), ``key: value`` (YAML), ``"key": "value"``
(JSON), ``key = "value"`` (Python, TOML, Ruby, Go), ``define('KEY', 'value')`` (PHP,
wp-config.php), ``<password>value</password>`` and ``key="Password" value="..."`` (XML). A
value is believed by the kind of name it has (``keys.key_kind``): a password needs to look
like one chosen by a person, a token or key needs to look random (``entropy``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from skills.audit.secrets.candidates import Candidate, Specificity
from skills.audit.secrets.entropy import has_mixed_classes, looks_random
from skills.audit.secrets.keys import KeyKind, key_kind, name_words
from skills.audit.secrets.placeholders import is_placeholder

_XML_ELEMENT = re.compile(r"<([A-Za-z_][\w.:\-]*)(?:\s[^<>]*)?>([^<>]{1,512})</\1>")
_XML_KEY_VALUE = re.compile(r"""(?i)\b(?:key|name)\s*=\s*["']([^"']+)["']\s+value\s*=\s*["']([^"']*)["']""")
_PHP_DEFINE = re.compile(r"""define\(\s*['"]([A-Za-z0-9_]+)['"]\s*,\s*(['"])(.*?)(?<!\\)\2""")
_QUOTED_KEY = re.compile(r"""["']([A-Za-z_$][\w.\-$]*)["']\s*(?:=>|:|=)\s*(["'`])(.*?)(?<!\\)\2""")
# A call's first two arguments: props.put("mail.smtp.password", "..."), config.set('token', '...').
_CALL_KEY = re.compile(r"""\w\(\s*["']([A-Za-z_$][\w.\-$]*)["']\s*,\s*(["'`])(.*?)(?<!\\)\2""")
_BARE_KEY = re.compile(r"""(?<![\w.$\-])\$?([A-Za-z_][\w.\-]*)\s*(?::=|=>|\?\?=|=|:)\s*(?:[bruf]{1,2})?(["'`])(.*?)(?<!\\)\2""")
_UNQUOTED = re.compile(
    r"""^\s*(?:export\s+|set\s+|setx\s+|\$env:|declare\s+-x\s+|-\s+)?([A-Za-z_][\w.\-]*)\s*(?:=|:)[ \t]*([^\s'"#;`]\S*)"""
)
# `requirepass s3cret` (redis.conf, sshd_config style): a name, spaces, one value.
_SPACE_SEPARATED = re.compile(r"^\s*([A-Za-z_][\w.\-]*)[ \t]+([^\s'\"#;=:]\S*)\s*$")
# "router admin password: hunter2" in notes: a password word, a colon or equals sign, one token.
_PROSE_PASSWORD = re.compile(r"(?i)(?:^|\s)(?:password|passwd|pwd|passphrase|pass)\s*[:=]\s*(\S+)\s*$")
_DOTTED_NAME = re.compile(r"^[A-Za-z_][A-Za-z_\-]*(?:\.[A-Za-z_][A-Za-z_\-]*)+$")
_CODE_REFERENCE = re.compile(r"^[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*|\[[^\]]*\])*(?:\(.*\))?[,;]?$")
_FREE_STRING = re.compile(r"""(["'`])([A-Za-z0-9+/=_\-.~]{20,})\1|[=:]\s*([A-Za-z0-9+/=_\-.~]{20,})\s*$""")
# Names whose random-looking values are public by design: content hashes, ids, versions.
_HASH_CONTEXT = re.compile(
    r"(?i)integrity|sha\d*|md5|hash|checksum|digest|commit|revision|\brev\b|etag|fingerprint|uuid|guid|\bid\b|_id\b|"
    r"version|resolved|signature|nonce-|sri|data:image|publishable|pk_live|pk_test|site_?key|public|certificate|"
    r"secure:|encrypted|ciphertext|\bmac\b"
)
# Encoded images, SSH public keys and PEM certificates or public keys (base64 of "-----BEGIN CERTIFICATE").
_PUBLIC_BASE64 = ("iVBORw0KGgo", "/9j/", "R0lGOD", "PHN2Zy", "UklGR", "AAAA", "LS0tLS1CRUdJTiBDRVJUSUZJQ0FUR", "LS0tLS1CRUdJTiBQVUJMSUMg")


@dataclass(frozen=True)
class Assignment:
    name: str
    value: str
    column: int
    quoted: bool


def assignments(line: str, config_syntax: bool) -> Iterator[Assignment]:
    """The (name, value) pairs a line writes; unquoted values only in configuration syntaxes (.env, YAML, INI)."""
    for match in _XML_ELEMENT.finditer(line):
        yield Assignment(match.group(1), match.group(2).strip(), match.start(2), True)
    for match in _XML_KEY_VALUE.finditer(line):
        yield Assignment(match.group(1), match.group(2), match.start(2), True)
    for match in _PHP_DEFINE.finditer(line):
        yield Assignment(match.group(1), match.group(3), match.start(3), True)
    for pattern in (_QUOTED_KEY, _CALL_KEY, _BARE_KEY):
        for match in pattern.finditer(line):
            yield Assignment(match.group(1), match.group(3), match.start(3), True)
    if config_syntax:
        match = _UNQUOTED.match(line)
        if match:
            yield Assignment(match.group(1), match.group(2).strip(), match.start(2), False)
        prose = _PROSE_PASSWORD.search(line)
        if prose and not match:
            yield Assignment("password", prose.group(1), prose.start(1), False)
        spaced = _SPACE_SEPARATED.match(line)
        if spaced and not match:
            yield Assignment(spaced.group(1), spaced.group(2), spaced.start(2), False)


def keyword_candidates(
    lines: list[str], config_syntax: bool, rule_names: dict[str, str] | None = None, strict: bool = False
) -> Iterator[Candidate]:
    """Values of secret-sounding names that look like secrets of that kind.

    ``rule_names`` maps a name (upper case) to the finding's kind for this file type, e.g.
    ``SECRET_KEY`` -> ``Django Secret Key`` in a Django settings module.
    """
    names = rule_names or {}
    for number, line in enumerate(lines, start=1):
        for item in assignments(line, config_syntax):
            kind = key_kind(item.name)
            if kind is None or not believable(item, kind, config_syntax, strict):
                continue
            rule = names.get(item.name.upper()) or ("Hardcoded Password" if kind == "password" else "Hardcoded Secret")
            severity = "high" if rule in names.values() else "medium"
            yield Candidate(rule, item.value, number, severity, Specificity.KEYWORD, item.column)


def believable(item: Assignment, kind: KeyKind, config_syntax: bool, strict: bool = False) -> bool:
    """Whether a value of a ``kind`` name is a secret written down, not a reference, a word or a path."""
    value = item.value
    if is_placeholder(value) or value.lower() in name_words(item.name) or _is_path_or_url(value):
        return False
    if not item.quoted and not config_syntax:
        return False
    if not item.quoted and _CODE_REFERENCE.match(value) and not any(c.isdigit() for c in value):
        return False  # `password = user.password`, `token: getToken()`
    if value.count(" ") >= 2 and sum(c.isalpha() or c == " " for c in value) / len(value) > 0.9:
        return False  # a sentence: "Enter your password"
    if kind == "password":
        # People mix letters with digits or symbols; a lone lower-case word is a name ("registrytoken").
        return len(value) >= (6 if strict else 7) and has_mixed_classes(value, 2)
    if any(c.isspace() for c in value) or _DOTTED_NAME.match(value):
        return False  # keys and tokens have no spaces; "skillworks.apiToken" is a name
    if value.startswith("base64:") and len(value) > 20:
        return True  # Laravel APP_KEY and similar encoded keys
    return looks_random(value, "keyed", strict) or (len(value) >= 12 and has_mixed_classes(value, 3))


def _is_path_or_url(value: str) -> bool:
    if value.startswith(("/", "./", "../", "~/", "file:", "http://", "https://", "arn:", "projects/")):
        return True
    extensions = r"pem|key|crt|json|ya?ml|txt|p12|pfx|jks|env|cfg|conf|ini|gpg|asc|md|j2|html?|[jt]sx?|py|rb|go|sh"
    return bool(re.search(rf"\.(?:{extensions})$", value, re.I))


def entropy_candidates(lines: list[str], strict: bool = False) -> Iterator[Candidate]:
    """Random-looking strings anywhere in the file, for key formats no rule knows.

    Content hashes, ids and versions are random-looking too: a string is left out when the
    line names it so (``integrity``, ``sha256``, ``commit``, ``id`` ...), when it is a UUID or
    an encoded image, or when it lacks the mix of letters and digits keys have.
    """
    for number, line in enumerate(lines, start=1):
        if _HASH_CONTEXT.search(line):
            continue
        for match in _FREE_STRING.finditer(line):
            value = match.group(2) or match.group(3)
            if _random_token(value, strict):
                column = match.start(2) if match.group(2) else match.start(3)
                yield Candidate("High Entropy String", value, number, "medium", Specificity.ENTROPY, column)


def _random_token(value: str, strict: bool) -> bool:
    if value.startswith(_PUBLIC_BASE64) or is_placeholder(value) or "/" in value.strip("/") and "." in value:
        return False
    if re.fullmatch(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", value):
        return False
    if not (any(c.isdigit() for c in value) and any(c.isalpha() for c in value)):
        return False
    if not re.fullmatch(r"[0-9a-fA-F]+", value) and not (any(c.isupper() for c in value) and any(c.islower() for c in value)):
        return False  # base64 keys mix cases; words_joined_like_this and CONSTANT_NAMES do not
    return looks_random(value, "free", strict)
