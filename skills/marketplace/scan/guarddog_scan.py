"""GuardDog's source heuristics (Datadog's malicious-package detector), run in-process.

GuardDog 3 matches its source rules with YARA (``yara-python``), so nothing outside Python
is needed. Only its source-code rules run: its metadata rules ask PyPI or npm about a
published package, and a skill package is not one. A rule GuardDog rates high with high
specificity (download-and-execute, reverse shells, dynamic loaders, ...) is decisive here
(critical); high-rated rules of medium specificity make a package suspicious; rules GuardDog
itself rates of low specificity (any mention of a credential file name, say) and its
"capability" rules (reads files, spawns processes) are recorded as information, since our
own AST rules decide those cases from the code's structure.
"""

from __future__ import annotations

import contextlib
import io
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from skills.marketplace.scan.report import ScanFinding, Severity


def guarddog_findings(folder: Path, ecosystem: str = "pypi") -> list[ScanFinding]:
    analyzer, rules = _analyzer(ecosystem)
    results = analyzer.analyze_sourcecode(str(folder))
    findings = []
    for rule_id, matches in sorted(results.get("results", {}).items()):
        for match in matches or []:
            file, _, line = str(match.get("location", "")).rpartition(":")
            findings.append(ScanFinding(
                scanner="guarddog", rule=rule_id, severity=_severity(rules.get(rule_id)), file=_relative(file, folder),
                line=int(line) if line.isdigit() else None, excerpt=str(match.get("match", "")),
                message=str(match.get("message", "")),
            ))
    for rule_id, error in (results.get("errors") or {}).items():
        findings.append(ScanFinding(scanner="guarddog", rule=f"{rule_id}-error", severity="medium", file="", message=str(error)))
    return findings


def _severity(rule: Any) -> Severity:
    if rule is None:
        return "medium"
    if rule.id.startswith("capability-"):
        return "info"
    if rule.specificity == "low":
        return "low"
    if rule.severity == "high":
        return "critical" if rule.specificity == "high" else "high"
    return "medium" if rule.severity == "medium" else "low"


def _relative(file: str, folder: Path) -> str:
    path = Path(file)
    try:
        return path.relative_to(folder).as_posix() if path.is_absolute() else path.as_posix()
    except ValueError:
        return path.as_posix()


@lru_cache(maxsize=2)
def _analyzer(ecosystem: str) -> tuple[Any, dict[str, Any]]:
    # GuardDog's import tries to refresh its typosquatting caches over the network (its
    # metadata rules, unused here) and prints the failure: keep that out of the facade's log.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        logging.getLogger("guarddog").setLevel(logging.CRITICAL)
        from guarddog.analyzer.analyzer import Analyzer
        from guarddog.analyzer.sourcecode import YaraRule, get_sourcecode_rules
        from guarddog.ecosystems import ECOSYSTEM

        kind = ECOSYSTEM.PYPI if ecosystem == "pypi" else ECOSYSTEM.NPM
        return Analyzer(kind), {rule.id: rule for rule in get_sourcecode_rules(kind, YaraRule)}
