"""truffleHog (v3), when installed: its detectors' findings join the built-in engine's, deduplicated."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from skills.audit.findings import Finding
from skills.audit.secrets.baseline import load_baseline
from skills.audit.secrets.candidates import secret_finding, secret_hash
from skills.commands import run_command

TRUFFLEHOG = "trufflehog"


def trufflehog_available() -> bool:
    return shutil.which(TRUFFLEHOG) is not None


def scan_with_trufflehog(root: Path, timeout: float, known: list[Finding]) -> list[Finding]:
    """Findings of truffleHog that the built-in engine did not already report (same value, or same line).

    Run without verification: verifying would send each secret to its provider. Its output
    holds the raw secrets, so it is read here and never streamed into the run's log (the
    reason this read-only scan uses ``run_command`` rather than ``ctx.run``).
    """
    argv = [TRUFFLEHOG, "filesystem", str(root), "--json", "--no-update", "--no-verification"]
    result = run_command(argv, cwd=root, timeout=timeout)
    taken = {(finding.path, line) for finding in known for line in finding.details.get("lines") or [finding.line]}
    values = {(finding.path, finding.details.get("hashedSecret")) for finding in known}
    accepted = {(path, digest) for path, _, digest in load_baseline(root)}
    found: list[Finding] = []
    for line in result.output.splitlines():
        try:
            item = json.loads(line)
            location = item["SourceMetadata"]["Data"]["Filesystem"]
        except (ValueError, KeyError, TypeError):
            continue  # truffleHog's own log lines
        path = Path(location["file"])
        relative = (path.relative_to(root) if path.is_absolute() else path).as_posix()
        number = int(location.get("line") or 0)
        raw = str(item.get("Raw", ""))
        key = (relative, secret_hash(raw))
        if (relative, number) in taken or key in values or key in accepted:
            continue
        taken.add((relative, number))
        values.add(key)
        found.append(secret_finding(f"truffleHog {item.get('DetectorName', 'secret')}", relative, number, raw, "high"))
    return found
