"""Credential files, read by their format: .netrc, .pgpass, .htpasswd, shadow, .git-credentials, .npmrc,
Docker's config.json, FileZilla's site manager, Rails' master.key, and keystores.

Each reader knows where its format keeps the secret (the fifth field of a ``.pgpass`` line,
the token after ``password`` in a ``.netrc``), so it finds passwords no regex over generic
text would believe (``.pgpass`` lines have no ``password=``), and names them by their file.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath

from skills.audit.secrets.candidates import Candidate, Specificity
from skills.audit.secrets.placeholders import is_placeholder

Reader = Callable[[str, list[str]], Iterator[Candidate]]
KEYSTORE_SUFFIXES = frozenset({".jks", ".keystore", ".p12", ".pfx", ".bks", ".kdbx", ".pkcs12"})
_SHADOW_LINE = re.compile(r"^([a-z_][a-z0-9_.\-]*\$?):([^:]*):(\d*):")
_LOCKED = ("*", "!", "!!", "x", "!*", "", "*LK*", "NP")


def _candidate(rule: str, value: str, line: int, severity: str = "high") -> Candidate:
    return Candidate(rule, value, line, severity, Specificity.FILE_FORMAT)  # type: ignore[arg-type]


def read_netrc(text: str, lines: list[str]) -> Iterator[Candidate]:
    """``machine h login u password p`` (tokens may span lines)."""
    for number, line in enumerate(lines, start=1):
        tokens = line.split()
        for index, token in enumerate(tokens[:-1]):
            if token in ("password", "passwd") and not is_placeholder(tokens[index + 1]):
                yield _candidate("Netrc Password", tokens[index + 1], number)
        if tokens and tokens[0] in ("password", "passwd") and len(tokens) == 1 and number < len(lines):
            following = lines[number].split()
            if following and not is_placeholder(following[0]):
                yield _candidate("Netrc Password", following[0], number + 1)


def read_pgpass(text: str, lines: list[str]) -> Iterator[Candidate]:
    """``hostname:port:database:username:password``, with ``\\:`` escaping a colon."""
    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith("#"):
            continue
        fields = re.split(r"(?<!\\):", line.strip())
        if len(fields) == 5 and fields[4] and not is_placeholder(fields[4]):
            yield _candidate("PostgreSQL Password File", fields[4].replace("\\:", ":"), number)


def read_htpasswd(text: str, lines: list[str]) -> Iterator[Candidate]:
    """``user:hash`` (bcrypt, apr1, SHA or crypt), one per line."""
    for number, line in enumerate(lines, start=1):
        user, _, hashed = line.strip().partition(":")
        if user and len(hashed) >= 13 and not line.startswith("#"):
            yield _candidate("Htpasswd Password Hash", hashed.split(":", 1)[0], number, "medium")


def read_shadow(text: str, lines: list[str]) -> Iterator[Candidate]:
    """``/etc/shadow`` lines: ``user:hash:lastchange:...``; locked and disabled accounts have no hash."""
    for number, line in enumerate(lines, start=1):
        match = _SHADOW_LINE.match(line)
        if match and match.group(2).lstrip("!") not in _LOCKED and len(match.group(2)) >= 13:
            yield _candidate("Shadow File Password Hash", match.group(2).lstrip("!"), number, "medium")


def read_git_credentials(text: str, lines: list[str]) -> Iterator[Candidate]:
    """``https://user:token@host`` lines written by git's credential store."""
    for number, line in enumerate(lines, start=1):
        match = re.match(r"^\s*[a-z][a-z0-9+.\-]*://[^:/@\s]*:([^@\s]+)@", line)
        if match and not is_placeholder(match.group(1)):
            yield _candidate("Git Credential Store", match.group(1), number)


def read_npmrc(text: str, lines: list[str]) -> Iterator[Candidate]:
    """``_auth`` (base64 user:password), ``_authToken`` and ``_password``, optionally scoped to a registry."""
    for number, line in enumerate(lines, start=1):
        match = re.match(r"^\s*(?://[^\s=]*:)?(_auth|_authToken|_password|_token)\s*=\s*\"?([^\s\"]+)", line)
        if match and not is_placeholder(match.group(2)):
            yield _candidate("npmrc Auth Token", match.group(2), number)


def read_docker_config(text: str, lines: list[str]) -> Iterator[Candidate]:
    """``auths.<registry>.auth`` (base64 user:password) and ``identitytoken`` of ``.docker/config.json``."""
    try:
        document = json.loads(text)
    except ValueError:
        return
    auths = document.get("auths") if isinstance(document, dict) else None
    for entry in (auths or {}).values() if isinstance(auths, dict) else ():
        for field in ("auth", "identitytoken", "password", "registrytoken"):
            value = entry.get(field) if isinstance(entry, dict) else None
            if isinstance(value, str) and value and not is_placeholder(value) and _decodes_to_credentials(value, field):
                line = next((n for n, text_line in enumerate(lines, 1) if value in text_line), 1)
                yield _candidate("Docker Registry Credentials", value, line)


def _decodes_to_credentials(value: str, field: str) -> bool:
    if field != "auth":
        return True
    try:
        return b":" in base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False


def read_filezilla(text: str, lines: list[str]) -> Iterator[Candidate]:
    """``<Pass>`` (plain or ``encoding="base64"``) of FileZilla's sitemanager.xml and recentservers.xml."""
    for number, line in enumerate(lines, start=1):
        for match in re.finditer(r"<Pass(?:\s+encoding=\"[^\"]*\")?>([^<]+)</Pass>", line):
            if not is_placeholder(match.group(1)):
                yield _candidate("FileZilla Saved Password", match.group(1), number)


def read_rails_master_key(text: str, lines: list[str]) -> Iterator[Candidate]:
    value = text.strip()
    if re.fullmatch(r"[0-9a-f]{32}", value):
        yield _candidate("Rails Master Key", value, 1, "critical")


# File name (or path suffix) -> reader. Matched on the lower-cased name.
_READERS_BY_NAME: dict[str, Reader] = {
    ".netrc": read_netrc, "_netrc": read_netrc,
    ".pgpass": read_pgpass, "pgpass.conf": read_pgpass,
    ".htpasswd": read_htpasswd, "htpasswd": read_htpasswd,
    "shadow": read_shadow, "shadow-": read_shadow, "gshadow": read_shadow,
    ".git-credentials": read_git_credentials, "git-credentials": read_git_credentials,
    ".npmrc": read_npmrc, ".yarnrc": read_npmrc,
    "sitemanager.xml": read_filezilla, "recentservers.xml": read_filezilla, "filezilla.xml": read_filezilla,
    "master.key": read_rails_master_key,
}


def credential_file_reader(path: str) -> Reader | None:
    """The reader for a credential file by its name (``.docker/config.json`` by its folder too)."""
    posix = PurePosixPath(path)
    name = posix.name.lower()
    if name == "config.json" and posix.parent.name in (".docker", "docker", "containers"):
        return read_docker_config
    if name in ("auth.json", "dockercfg", ".dockercfg"):
        return read_docker_config
    if name.endswith(".htpasswd"):
        return read_htpasswd
    return _READERS_BY_NAME.get(name)


def is_keystore(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in KEYSTORE_SUFFIXES


def keystore_candidate(path: str, data: bytes) -> Candidate | None:
    """A keystore in the project (JKS, PKCS#12, BKS, KeePass): the file itself is the secret.

    The value is the file's bytes (as hex) so the finding's hash follows the file, not its name.
    """
    if not data:
        return None
    suffix = PurePosixPath(path).suffix.lower()
    kind = "KeePass Database" if suffix == ".kdbx" else "Keystore File"
    return Candidate(kind, data[:4096].hex(), 1, "high", Specificity.PROVIDER)
