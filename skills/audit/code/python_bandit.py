"""Python code through bandit (PyCQA), in process: its findings become the audit's, with bandit's test ids.

Left out: B101 (``assert``: a style matter outside production paths) and B105-B107
(hardcoded passwords: the secret scan owns those and reports each value once). The default
persona keeps what bandit rates at least medium in both severity and confidence (``bandit -ll -ii``,
how most projects run it in CI); the security persona keeps everything.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bandit.core import config as bandit_config
from bandit.core import manager as bandit_manager

from skills.audit.findings import Finding, Severity

NAME = "bandit"
SKIPPED_TESTS = frozenset({"B101", "B105", "B106", "B107"})
_SEVERITY: dict[str, Severity] = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low"}
_LEVELS = ("LOW", "MEDIUM", "HIGH")


def bandit_version() -> str:
    from bandit import __version__

    return __version__


def scan_python(root: Path, files: list[str], strict: bool = False) -> list[Finding]:
    """Bandit's findings in the given Python files (paths relative to ``root``)."""
    if not files:
        return []
    logging.getLogger("bandit").setLevel(logging.ERROR)  # bandit logs every file it reads at INFO
    # bandit loads its report formatters too; the SARIF one needs a package we do not use.
    logging.getLogger("stevedore.extension").setLevel(logging.CRITICAL)
    manager = bandit_manager.BanditManager(bandit_config.BanditConfig(), "file", quiet=True)
    manager.discover_files([str(root / relative) for relative in files])
    manager.run_tests()
    minimum = 0 if strict else 1
    findings = []
    for issue in manager.get_issue_list():
        below = min(_LEVELS.index(issue.severity), _LEVELS.index(issue.confidence)) < minimum
        if issue.test_id in SKIPPED_TESTS or below:
            continue
        relative = Path(issue.fname).relative_to(root).as_posix()
        findings.append(Finding(
            category="code",
            rule=f"bandit-{issue.test_id}",
            severity=_SEVERITY[issue.severity],
            title=f"{issue.text.rstrip('.')} ({issue.test})",
            path=relative,
            line=issue.lineno,
            fix=f"See {issue.test_id}'s guidance: https://bandit.readthedocs.io/en/latest/plugins/index.html",
            details={
                "scanner": NAME, "confidence": issue.confidence.lower(), "cwe": f"CWE-{issue.cwe.id}" if issue.cwe else None,
                "column": issue.col_offset,
            },
        ))
    return findings
