"""Bandit (PyCQA's linter for security issues in Python), run in-process over the package."""

from __future__ import annotations

import logging
from pathlib import Path

from skills.definition import SkillDefinition
from skills.marketplace.scan.report import ScanFinding, Severity

# Tests may assert; a skill's network calls are its business once it declares network use.
_IGNORED_IN_TESTS = {"B101"}
_NETWORK_TESTS = {"B310", "B309", "B312", "B321", "B401", "B402"}
_SEVERITY = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low"}


def bandit_findings(folder: Path, definition: SkillDefinition) -> list[ScanFinding]:
    # Bandit loads its report formatters on import and logs one it cannot (sarif): quiet that first.
    logging.getLogger("stevedore").setLevel(logging.CRITICAL)
    logging.getLogger("bandit").setLevel(logging.ERROR)
    from bandit.core import config as bandit_config
    from bandit.core import manager as bandit_manager

    manager = bandit_manager.BanditManager(bandit_config.BanditConfig(), "file", quiet=True)
    manager.discover_files([str(folder)], recursive=True)
    manager.run_tests()
    findings = []
    for issue in manager.get_issue_list():
        relative = Path(issue.fname).relative_to(folder).as_posix()
        in_tests = relative.startswith("tests/") or Path(relative).name.startswith("test_")
        if in_tests and issue.test_id in _IGNORED_IN_TESTS:
            continue
        severity: Severity = _SEVERITY.get(str(issue.severity), "low")  # type: ignore[assignment]
        if issue.confidence == "LOW" and severity != "low":
            severity = "low"  # bandit's own guess that this is probably nothing
        if issue.test_id in _NETWORK_TESTS and definition.permissions.network:
            severity = "low"
        findings.append(ScanFinding(
            scanner="bandit", rule=f"{issue.test_id}:{issue.test}", severity=severity, file=relative,
            line=issue.lineno, excerpt=(issue.get_code() or "").strip().splitlines()[-1:][0] if issue.get_code() else "",
            message=issue.text,
        ))
    errors = [f"{name}: {reason}" for name, reason in manager.skipped]
    for error in errors:
        findings.append(ScanFinding(scanner="bandit", rule="bandit-skipped-file", severity="medium", file=error.split(":")[0],
                                    message=f"bandit could not parse this file: {error}"))
    return findings
