"""Accepted secrets: the project's ``.secrets.baseline`` (detect-secrets' format) and ``pragma: allowlist secret``.

A secret listed in the baseline for its file is not reported again, wherever its line moves,
unless audited as real (``"is_secret": true``). detect-secrets' own ``scan`` and ``audit``
commands maintain the file; the finding kinds shared with its plugins keep its names.
"""

from __future__ import annotations

import json
from pathlib import Path

from skills.audit.findings import Finding
from skills.audit.secrets.candidates import BASELINE_FILE

ALLOWLIST_PRAGMA = "pragma: allowlist secret"
Accepted = set[tuple[str, str, str]]


def load_baseline(root: Path) -> Accepted:
    """(file, secret type, hashed secret) of every accepted secret in the project's baseline."""
    path = root / BASELINE_FILE
    if not path.is_file():
        return set()
    try:
        results = json.loads(path.read_text(encoding="utf-8")).get("results") or {}
    except (ValueError, AttributeError):
        return set()
    return {
        (filename, entry.get("type", ""), entry.get("hashed_secret", ""))
        for filename, entries in results.items()
        for entry in entries
        if entry.get("is_secret") is not True
    }


def is_accepted(finding: Finding, accepted: Accepted) -> bool:
    """Listed in the baseline under any kind: detect-secrets may have named the same secret differently."""
    hashed = finding.details.get("hashedSecret", "")
    return any(path == finding.path and digest == hashed for path, _, digest in accepted)


def allowlisted_lines(lines: list[str]) -> set[int]:
    """Lines marked ``pragma: allowlist secret`` (on the line, or ``nextline`` on the line before)."""
    marked = {number for number, line in enumerate(lines, start=1) if ALLOWLIST_PRAGMA in line}
    marked |= {number + 1 for number, line in enumerate(lines, start=1) if "pragma: allowlist nextline secret" in line}
    return marked
