"""A finding: one problem in one place, with how bad it is and how to fix it."""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, Field

# "unrated": a known vulnerability whose advisory (and its aliases) rate no severity. It is
# never guessed as "medium": the report says so, and the verdict cannot pass it.
Severity = Literal["critical", "high", "medium", "low", "unrated"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low", "unrated")
Category = Literal["dependency", "secret", "permission", "code"]


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
    """The findings as severe as ``threshold`` or more, and the unrated ones (which cannot be shown to be less)."""
    limit = SEVERITIES.index(threshold)
    return [f for f in findings if f.severity == "unrated" or SEVERITIES.index(f.severity) <= limit]


def sorted_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda finding: finding.sort_key)
