"""What a scan reports: findings (rule, file, line, excerpt), which scanners ran, the verdict."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

Severity = Literal["critical", "high", "medium", "low", "info"]
Verdict = Literal["clean", "suspicious", "malicious"]
# What each verdict makes of a version's status.
STATUS_OF_VERDICT = {"clean": "active", "suspicious": "untrusted", "malicious": "banned"}
_EXCERPT_CHARS = 300


class ScanFinding(BaseModel):
    """One thing a scanner found. ``critical`` means malicious; ``high``/``medium`` suspicious."""

    scanner: str
    rule: str
    severity: Severity
    file: str
    line: int | None = None
    excerpt: str = ""
    message: str = ""

    def model_post_init(self, context: object) -> None:
        if len(self.excerpt) > _EXCERPT_CHARS:
            self.excerpt = self.excerpt[:_EXCERPT_CHARS] + "…"


class ScannerRun(BaseModel):
    """Whether a scanner ran, and if not, why (a scanner that cannot run makes the scan inconclusive)."""

    ran: bool
    detail: str = ""


class ScanResult(BaseModel):
    rules_version: int
    verdict: Verdict
    findings: list[ScanFinding]
    scanners: dict[str, ScannerRun]
    started_at: datetime
    finished_at: datetime

    @property
    def reasons(self) -> str:
        """The findings behind the verdict, in one line (a version's status reason)."""
        deciding = [f for f in self.findings if f.severity in ("critical", "high", "medium")]
        failed = [name for name, run in self.scanners.items() if not run.ran]
        parts = [f"{f.rule} in {f.file}{f':{f.line}' if f.line else ''}" for f in deciding[:8]]
        if len(deciding) > 8:
            parts.append(f"and {len(deciding) - 8} more")
        if failed:
            parts.append(f"scanner(s) that could not run: {', '.join(failed)}")
        return "; ".join(parts) or "no findings"


def verdict_of(findings: list[ScanFinding], scanners: dict[str, ScannerRun]) -> Verdict:
    """Any critical finding is malicious; a high or medium one, or a scanner that did not run, suspicious."""
    severities = {finding.severity for finding in findings}
    if "critical" in severities:
        return "malicious"
    if severities & {"high", "medium"} or not all(run.ran for run in scanners.values()):
        return "suspicious"
    return "clean"


def line_excerpt(text: str, line: int | None) -> str:
    if not line:
        return ""
    lines = text.splitlines()
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""
