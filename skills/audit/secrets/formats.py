"""Shapes that are credentials wherever they appear: private keys, JWTs, password hashes, URLs with passwords.

These need no file type and no provider: a PEM private key block is a private key in a
``.pem``, in a JSON service-account file (with ``\\n`` escapes) or in a YAML value alike.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator

from skills.audit.secrets.candidates import Candidate, Specificity
from skills.audit.secrets.placeholders import is_placeholder

_PEM_BEGIN = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_PEM_BODY_NOISE = re.compile(r"\\n|\\r|[\s\"',]|^[A-Za-z\-]+: .*$", re.MULTILINE)
_PUTTY = re.compile(r"^PuTTY-User-Key-File-\d+: ")
_JWT = re.compile(r"(?<![A-Za-z0-9_\-.])(eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{16,})")
PASSWORD_HASHES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bcrypt", re.compile(r"(\$2[abxy]?\$[0-9]{2}\$[./A-Za-z0-9]{53})")),
    ("argon2", re.compile(r"(\$argon2(?:id|i|d)\$v=[0-9]+\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]{8,}\$[A-Za-z0-9+/]{16,})")),
    ("scrypt", re.compile(r"(\$scrypt\$ln=[0-9]+,r=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]{8,}\$[A-Za-z0-9+/]{16,})")),
    ("sha512-crypt", re.compile(r"(\$6\$(?:rounds=[0-9]+\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{86})")),
    ("sha256-crypt", re.compile(r"(\$5\$(?:rounds=[0-9]+\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{43})")),
    ("yescrypt", re.compile(r"(\$y\$[./A-Za-z0-9]+\$[./A-Za-z0-9]{1,86}\$[./A-Za-z0-9]{43})")),
    ("md5-crypt", re.compile(r"(\$(?:1|apr1)\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22})")),
    ("Django PBKDF2", re.compile(r"(pbkdf2_sha(?:1|256)\$[0-9]+\$[A-Za-z0-9]+\$[A-Za-z0-9+/]{27,43}=?)")),
    ("phpass", re.compile(r"(\$[PH]\$[./A-Za-z0-9]{31})(?![./A-Za-z0-9])")),
    ("LDAP SSHA", re.compile(r"(\{S?SHA(?:256|512)?\}[A-Za-z0-9+/]{27,}={0,2})")),
)
_URL_WITH_PASSWORD = re.compile(
    r"""(?i)\b([a-z][a-z0-9+.\-]{1,20})://([^:/?#\s'"@<>]{0,64}):([^@/#\s'"<>]{1,128})@([^\s/'"?#<>]+)"""
)
_DSN_PASSWORD = re.compile(r"""(?i)(?:^|[;?&\s"'])(?:password|pwd)\s*=\s*([^;'"\s&]+)""")
# SQL that sets a password: PostgreSQL's `PASSWORD '...'`, MySQL's `IDENTIFIED BY '...'`.
_SQL_PASSWORD = re.compile(r"(?i)\b(?:PASSWORD|IDENTIFIED\s+BY)\s+'([^']{4,})'")
_DSN_CONTEXT = re.compile(r"(?i)jdbc:|(?:server|data source|host|user id|uid|database|initial catalog)\s*=")


def private_key_candidates(text: str, lines: list[str]) -> Iterator[Candidate]:
    """PEM private key blocks (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted, PGP) and PuTTY key files."""
    for match in _PEM_BEGIN.finditer(text):
        end = _PEM_END.search(text, match.end())
        stop = end.start() if end else min(len(text), match.end() + 4096)
        body = _PEM_BODY_NOISE.sub("", text[match.end() : stop])
        if len(body) < 16 or is_placeholder(body) or set(body) <= set(".x*"):
            continue
        encrypted = "ENCRYPTED" in match.group(1) or "Proc-Type: 4,ENCRYPTED" in text[match.end() : stop]
        line = text.count("\n", 0, match.start()) + 1
        kind = "PGP Private Key" if "PGP" in match.group(1) else "Private Key"
        yield Candidate(kind, body, line, "high" if encrypted else "critical", Specificity.PROVIDER)
    if lines and _PUTTY.match(lines[0]):
        private = [i for i, line in enumerate(lines) if line.startswith("Private-Lines:")]
        if private:
            start = private[0] + 1
            count = int(lines[private[0]].split(":", 1)[1].strip() or 0)
            body = "".join(lines[start : start + count])
            yield Candidate("PuTTY Private Key", body, start + 1, "critical", Specificity.PROVIDER)


def jwt_candidates(lines: list[str]) -> Iterator[Candidate]:
    """Signed JSON Web Tokens whose header really is a JWT header (Mapbox's public ``pk.`` tokens left out)."""
    for number, line in enumerate(lines, start=1):
        if "eyJ" not in line:
            continue
        for match in _JWT.finditer(line):
            token = match.group(1)
            if line[max(0, match.start() - 3) : match.start()] == "pk." or is_placeholder(token):
                continue
            if _is_jwt_header(token.split(".", 1)[0]):
                yield Candidate("JSON Web Token", token, number, "medium", Specificity.FORMAT, match.start())


def _is_jwt_header(segment: str) -> bool:
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and "alg" in header


def password_hash_candidates(lines: list[str]) -> Iterator[Candidate]:
    """Crackable password hashes (bcrypt, argon2, crypt(3) schemes, Django, WordPress, LDAP), e.g. in SQL dumps."""
    for number, line in enumerate(lines, start=1):
        if "$" not in line and "{S" not in line:
            continue
        for scheme, pattern in PASSWORD_HASHES:
            for match in pattern.finditer(line):
                yield Candidate(f"Password Hash ({scheme})", match.group(1), number, "medium", Specificity.FORMAT, match.start(1))


def connection_string_candidates(lines: list[str]) -> Iterator[Candidate]:
    """Passwords in URLs (``postgres://user:pw@host``), key=value connection strings (ADO.NET, JDBC) and SQL."""
    for number, line in enumerate(lines, start=1):
        if "://" in line and "@" in line:
            for match in _URL_WITH_PASSWORD.finditer(line):
                password = match.group(3)
                if _plausible_password(password) and not match.group(4).startswith(("example.", "host")):
                    scheme = match.group(1).lower()
                    rule = "Password in URL" if scheme in ("http", "https") else "Password in Connection String"
                    yield Candidate(rule, password, number, "high", Specificity.FORMAT, match.start(3))
        for match in _SQL_PASSWORD.finditer(line):
            if _plausible_password(match.group(1)) and not match.group(1).startswith(("md5", "SCRAM-")):
                yield Candidate("Password in SQL Statement", match.group(1), number, "high", Specificity.FORMAT, match.start(1))
        if _DSN_CONTEXT.search(line):
            for match in _DSN_PASSWORD.finditer(line):
                if _plausible_password(match.group(1)):
                    yield Candidate("Password in Connection String", match.group(1), number, "high", Specificity.FORMAT, match.start(1))


def _plausible_password(value: str) -> bool:
    return len(value) >= 4 and not is_placeholder(value) and not value.startswith(("$", "%", "{", "<"))
