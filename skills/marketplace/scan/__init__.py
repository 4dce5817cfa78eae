"""The security scan of a package: every scanner over the unpacked folder, one verdict.

Scanners: ``bandit``, ``guarddog`` (its source heuristics), ``ast-rules`` (ours),
``dependencies`` and ``secrets`` (the security-audit skill's scanner). None imports or runs
the package's code. A scanner that fails is recorded as not run, and the verdict is then
at best ``suspicious``: a version is active only when every scanner looked at it.

``RULES_VERSION`` goes up whenever a rule, a data list or a scanner's mapping changes;
``skillworks marketplace rescan`` rescans every version scanned under an older one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from skills.definition import SkillDefinition
from skills.marketplace.scan.ast_rules import ast_findings
from skills.marketplace.scan.bandit_scan import bandit_findings
from skills.marketplace.scan.dependencies import dependency_findings
from skills.marketplace.scan.guarddog_scan import guarddog_findings
from skills.marketplace.scan.report import ScanFinding, ScannerRun, ScanResult, verdict_of
from skills.marketplace.scan.secrets_scan import secret_findings

RULES_VERSION = 1

Scanner = Callable[[Path, SkillDefinition], list[ScanFinding]]

SCANNERS: dict[str, Scanner] = {
    "bandit": bandit_findings,
    "guarddog": lambda folder, definition: guarddog_findings(folder, "pypi") + _guarddog_npm(folder),
    "ast-rules": ast_findings,
    "dependencies": dependency_findings,
    "secrets": lambda folder, definition: secret_findings(folder),
}


def _guarddog_npm(folder: Path) -> list[ScanFinding]:
    """GuardDog's npm rules too, where a package carries JavaScript or a package.json."""
    if any(folder.rglob("package.json")) or any(folder.rglob("*.js")):
        return [f for f in guarddog_findings(folder, "npm") if not f.file.endswith(".py")]
    return []


def scan_package(folder: Path, definition: SkillDefinition) -> ScanResult:
    started = datetime.now(UTC)
    findings: list[ScanFinding] = []
    runs: dict[str, ScannerRun] = {}
    for name, scanner in SCANNERS.items():
        try:
            found = scanner(folder, definition)
        except Exception as exc:  # noqa: BLE001 - a broken scanner must not pass a package; it is recorded
            runs[name] = ScannerRun(ran=False, detail=f"{type(exc).__name__}: {exc}")
            continue
        runs[name] = ScannerRun(ran=True, detail=f"{len(found)} finding(s)")
        findings += found
    findings.sort(key=lambda f: (("critical", "high", "medium", "low", "info").index(f.severity), f.file, f.line or 0))
    return ScanResult(
        rules_version=RULES_VERSION, verdict=verdict_of(findings, runs), findings=findings, scanners=runs,
        started_at=started, finished_at=datetime.now(UTC),
    )
