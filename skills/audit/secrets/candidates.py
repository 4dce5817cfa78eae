"""What a detector proposes (a ``Candidate``) and how candidates become findings: one per secret value per file.

Several detectors often see the same secret: the AWS rule and the credentials-file reader
both read ``aws_secret_access_key = ...``; a JWT sits inside an ``Authorization`` value. The
most specific detector names the finding (a provider's rule beats a file reader, which beats
a keyword assignment, which beats entropy), and every line the value occurs on is listed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import IntEnum

from skills.audit.findings import Finding, Severity

BASELINE_FILE = ".secrets.baseline"
SECRET_FIX = (
    "Remove it from the file and rotate it at the provider (it may already be in version control "
    "history); load it from the environment or a secret manager instead. If it is not a secret or "
    f"is accepted, record it in {BASELINE_FILE} (`detect-secrets scan --baseline {BASELINE_FILE}`) "
    "or mark the line `pragma: allowlist secret`."
)


class Specificity(IntEnum):
    """How much a detector knows about what it found; the highest names the finding."""

    ENTROPY = 1  # a random-looking string, nothing more
    KEYWORD = 2  # a value assigned to a name that says "password", "token", ...
    FORMAT = 3  # a shape that is a credential wherever it is: JWT, password hash, URL with a password
    FILE_FORMAT = 4  # a field of a known credential file (.netrc, .pgpass, docker config, ...)
    PROVIDER = 5  # a provider's documented token format, or a private key block


@dataclass(frozen=True)
class Candidate:
    """One possible secret: its kind (``rule``), its value, where it was seen, and how sure the detector is."""

    rule: str
    value: str
    line: int
    severity: Severity
    specificity: Specificity
    # Where the value sits inside its line, for the overlap check (None: anywhere).
    column: int | None = None


def secret_hash(secret: str) -> str:
    """detect-secrets' ``hashed_secret``: what a baseline stores instead of the secret."""
    return hashlib.sha1(secret.encode("utf-8")).hexdigest()


def mask(secret: str) -> str:
    """Enough of a secret to recognise it, never enough to use it (and not its length).

    >>> mask("AKIAZ7VRSQ5UOYJ4XH2B"), mask("hunter2")
    ('AKIA********', 'h********')
    """
    return secret[: min(4, len(secret) // 4)] + "*" * 8


def merge(path: str, candidates: list[Candidate], lines: list[str]) -> list[Finding]:
    """One finding per distinct value: the most specific candidate's kind, with every line the value is on.

    A candidate whose value is part of (or contains) a more specific candidate's value on the
    same line is the same secret seen less precisely (``Bearer <jwt>`` vs the JWT), and dropped.
    """
    best: dict[str, Candidate] = {}
    for candidate in sorted(candidates, key=lambda c: (-c.specificity, c.line)):
        if candidate.value in best:
            continue
        if any(_overlaps(candidate, kept) for kept in best.values()):
            continue
        best[candidate.value] = candidate
    findings = [_finding(path, candidate, occurrences(candidate, lines)) for candidate in best.values()]
    return sorted(findings, key=lambda finding: (finding.line or 0, finding.rule))


def _overlaps(candidate: Candidate, kept: Candidate) -> bool:
    if candidate.line != kept.line or candidate.specificity > kept.specificity:
        return False
    return candidate.value in kept.value or kept.value in candidate.value


def occurrences(candidate: Candidate, lines: list[str]) -> list[int]:
    """Every 1-based line holding the value (the detector's own line first counted), in order."""
    found = {candidate.line}
    if len(candidate.value) >= 6 and "\n" not in candidate.value:
        found.update(number for number, text in enumerate(lines, start=1) if candidate.value in text)
    return sorted(found)


def _finding(path: str, candidate: Candidate, lines: list[int]) -> Finding:
    return secret_finding(candidate.rule, path, lines[0], candidate.value, candidate.severity, lines)


def secret_finding(
    rule: str, path: str, line: int | None, value: str, severity: Severity, lines: list[int] | None = None
) -> Finding:
    details: dict[str, object] = {"masked": mask(value), "hashedSecret": secret_hash(value)}
    details["lines"] = lines or ([line] if line else [])
    return Finding(
        category="secret",
        rule=rule,
        severity=severity,
        title=f"{rule} in {path}",
        path=path,
        line=line,
        fix=SECRET_FIX,
        details=details,
    )
