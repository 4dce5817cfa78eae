"""A finding: one problem in one place, with how bad it is and how to fix it."""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, Field

Severity = Literal["critical", "high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
Category = Literal["dependency", "secret", "permission"]


class Finding(BaseModel):
    """One problem: which check found it, under which rule, where, and what to do.

    ``path`` is relative to the scanned project; ``line`` is set where a line means something.
    """

    category: Category
    rule: str
    severity: Severity
    title: str
    path: str
    line: int | None = None
    fix: str
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def sort_key(self) -> tuple[int, str, str, int, str]:
        return (SEVERITIES.index(self.severity), self.category, self.path, self.line or 0, self.rule)


def severity_summary(findings: list[Finding]) -> dict[Severity, int]:
    """How many findings of each severity, most severe first, zeros included."""
    counts = Counter(finding.severity for finding in findings)
    return {severity: counts[severity] for severity in SEVERITIES}


def at_or_above(findings: list[Finding], threshold: Severity) -> list[Finding]:
    """The findings as severe as ``threshold`` or more."""
    limit = SEVERITIES.index(threshold)
    return [finding for finding in findings if SEVERITIES.index(finding.severity) <= limit]


def sorted_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda finding: finding.sort_key)
