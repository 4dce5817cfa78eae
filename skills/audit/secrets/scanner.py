"""The built-in secret engine: each file through the detectors its type calls for, one finding per value.

Order of belief, most specific first: provider formats and private keys, credential-file
fields, credential shapes (JWT, password hashes, URLs with passwords), values of
secret-sounding names, then random-looking strings. Lockfiles and minified bundles get only
the first three (they are full of public hashes); documentation skips the last two.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from skills.audit.findings import Finding
from skills.audit.project_files import project_files
from skills.audit.secrets.assignments import entropy_candidates, keyword_candidates
from skills.audit.secrets.baseline import allowlisted_lines, is_accepted, load_baseline
from skills.audit.secrets.candidates import BASELINE_FILE, Candidate, merge, secret_finding
from skills.audit.secrets.credential_files import credential_file_reader, is_keystore, keystore_candidate
from skills.audit.secrets.file_types import file_profile
from skills.audit.secrets.formats import (
    connection_string_candidates,
    jwt_candidates,
    password_hash_candidates,
    private_key_candidates,
)
from skills.audit.secrets.providers import provider_candidates

ENGINE_NAME = "skillworks secret detectors"
# Minified bundles and data dumps beyond this are rarely where keys are written, and slow to read.
MAX_FILE_BYTES = 2_000_000
_BINARY_PROBE_BYTES = 8192


@dataclass
class SecretScan:
    """What a scan found, what the baseline accepted, how many files it read, and which engines ran."""

    findings: list[Finding] = field(default_factory=list)
    accepted: int = 0  # found, but listed in the baseline
    files_scanned: int = 0
    scanners: list[str] = field(default_factory=list)


def scan_secrets(root: Path, strict: bool = False) -> SecretScan:
    """Scan every file of the project at ``root`` for hardcoded secrets.

    ``strict`` (the security persona) lowers the entropy thresholds: more unknown key formats
    found, more false positives. Secrets accepted in ``.secrets.baseline`` are counted, not reported.
    """
    scan = SecretScan(scanners=[ENGINE_NAME])
    accepted = load_baseline(root)
    for relative in project_files(root):
        path = root / relative
        if relative == BASELINE_FILE or path.stat().st_size > MAX_FILE_BYTES:
            continue  # the baseline holds hashes of secrets, which look like secrets themselves
        scan.files_scanned += 1
        for finding in _scan_file(path, relative, strict):
            if is_accepted(finding, accepted):
                scan.accepted += 1
            else:
                scan.findings.append(finding)
    return scan


def _scan_file(path: Path, relative: str, strict: bool) -> list[Finding]:
    data = path.read_bytes()
    if b"\0" in data[:_BINARY_PROBE_BYTES]:
        keystore = keystore_candidate(relative, data) if is_keystore(relative) else None
        if keystore is None:
            return []
        return [secret_finding(keystore.rule, relative, None, keystore.value, keystore.severity)]
    if is_keystore(relative) and not data.lstrip().startswith(b"-----BEGIN"):
        keystore = keystore_candidate(relative, data)
        return [secret_finding(keystore.rule, relative, None, keystore.value, keystore.severity)] if keystore else []
    return scan_file_text(relative, data.decode("utf-8", errors="replace"), strict)


def scan_file_text(relative: str, text: str, strict: bool = False) -> list[Finding]:
    """The findings in one file's text, named by its path (which decides the detectors that apply)."""
    lines = text.splitlines()
    allowed = allowlisted_lines(lines)
    candidates = [c for c in _candidates(relative, text, lines, strict) if c.line not in allowed]
    return merge(relative, candidates, lines)


def _candidates(relative: str, text: str, lines: list[str], strict: bool) -> Iterator[Candidate]:
    profile = file_profile(relative)
    yield from provider_candidates(lines)
    yield from private_key_candidates(text, lines)
    reader = credential_file_reader(relative)
    if reader is not None:
        yield from reader(text, lines)
    yield from connection_string_candidates(lines)
    if profile.generated:
        return
    yield from jwt_candidates(lines)
    yield from password_hash_candidates(lines)
    if profile.documentation:
        return  # examples in documentation are examples: only formats that are credentials anywhere count there
    yield from keyword_candidates(lines, profile.config_syntax, profile.names, strict)
    yield from entropy_candidates(lines, strict)
