"""Secrets in the package, found by the security-audit skill's own scanner."""

from __future__ import annotations

from pathlib import Path

from skills.audit.secrets import scan_secrets
from skills.marketplace.scan.report import ScanFinding, line_excerpt

# A secret shipped in a package is a publisher's leak, not an attack: it keeps the version
# out of the listing (high) until removed, whatever severity the audit gives it.


def secret_findings(folder: Path) -> list[ScanFinding]:
    findings = []
    for finding in scan_secrets(folder).findings:
        text = (folder / finding.path).read_text(encoding="utf-8", errors="replace") if finding.path else ""
        masked = str(finding.details.get("masked", "")) if finding.details else ""
        excerpt = line_excerpt(text, finding.line)
        findings.append(ScanFinding(
            scanner="secrets", rule=f"secret:{finding.rule}", severity="high", file=finding.path, line=finding.line,
            excerpt=f"(masked) {masked}" if masked else _masked_line(excerpt), message=finding.title,
        ))
    return findings


def _masked_line(line: str) -> str:
    return line[:12] + "…" if line else ""
