"""``npm audit``, when npm is installed: the npm registry's advisories for each ``package-lock.json``.

It asks the registry (so it needs the network); its findings join the built-in OSV
matcher's, one per advisory and package, and a failure (offline, no ``package.json``) is a
note in the report, never a crash. The lockfile only is read (``--package-lock-only``):
nothing is installed and no script of the project runs.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from skills.audit.findings import Finding, Severity
from skills.audit.manifests import scan_manifests
from skills.audit.osv import severity_for_score
from skills.commands import run_command
from skills.errors import CommandFailedError

NPM = "npm"
NAME = "npm audit"
_LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json")
_NPM_SEVERITY: dict[str, Severity] = {"critical": "critical", "high": "high", "moderate": "medium", "low": "low"}


@dataclass
class NpmAudit:
    findings: list[Finding] = field(default_factory=list)
    lockfiles: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def npm_available() -> bool:
    return shutil.which(NPM) is not None


def npm_lockfiles(root: Path) -> list[str]:
    """The npm lockfiles of the project (the only files ``npm audit`` reads)."""
    return [path for path in scan_manifests(root).files if PurePosixPath(path).name in _LOCKFILES]


def run_npm_audit(root: Path, timeout: float) -> NpmAudit:
    """``npm audit --json --package-lock-only`` in each folder holding an npm lockfile."""
    audit = NpmAudit()
    for lockfile in npm_lockfiles(root):
        folder = root / PurePosixPath(lockfile).parent
        argv = [NPM, "audit", "--json", "--package-lock-only", "--audit-level=none"]
        try:
            result = run_command(argv, cwd=folder, timeout=timeout, check=False)
            report = _json_object(result.output)
        except (CommandFailedError, ValueError) as exc:
            audit.notes.append(f"npm audit could not check {lockfile}: {str(exc).splitlines()[0]}")
            continue
        if "error" in report:
            error = report["error"] if isinstance(report["error"], dict) else {}
            reason = report.get("message") or error.get("summary") or error.get("code") or "it reported an error"
            audit.notes.append(f"npm audit could not check {lockfile}: {reason}")
            continue
        audit.lockfiles.append(lockfile)
        text = (root / lockfile).read_text(encoding="utf-8", errors="replace")
        audit.findings.extend(_findings(report, lockfile, text))
    return audit


def _json_object(output: str) -> dict[str, Any]:
    """npm writes warnings on the same stream: the report is the outermost JSON object."""
    start, end = output.find("{"), output.rfind("}")
    if start < 0 or end < start:
        raise ValueError(f"npm audit printed no report: {output.strip()[:200]}")
    return json.loads(output[start : end + 1])


def _findings(report: dict[str, Any], lockfile: str, text: str) -> list[Finding]:
    found: dict[tuple[str, str], Finding] = {}
    for name, vulnerability in (report.get("vulnerabilities") or {}).items():
        for via in vulnerability.get("via") or []:
            if not isinstance(via, dict) or not via.get("url"):
                continue  # a string names another vulnerable package this one depends on
            advisory = str(via["url"]).rstrip("/").rsplit("/", 1)[-1]
            found.setdefault((name, advisory), _finding(name, vulnerability, via, advisory, lockfile, text))
    return list(found.values())


def _finding(name: str, vulnerability: dict[str, Any], via: dict[str, Any], advisory: str, lockfile: str, text: str) -> Finding:
    cvss = via.get("cvss") or {}
    score = float(cvss.get("score") or 0)
    severity = severity_for_score(score) if score > 0 else _NPM_SEVERITY.get(str(via.get("severity")), "unrated")
    fix = vulnerability.get("fixAvailable")
    advice = (
        f"Upgrade {fix['name']} to {fix['version']} or later (`npm audit fix`)." if isinstance(fix, dict)
        else "Run `npm audit fix`." if fix else f"No fix is published for {name}: replace it, or remove it."
    )
    node = next(iter(vulnerability.get("nodes") or []), f"node_modules/{name}")
    line = text.count("\n", 0, text.find(f'"{node}"')) + 1 if f'"{node}"' in text else None
    return Finding(
        category="dependency",
        rule=advisory,
        severity=severity,
        title=f"{name} {vulnerability.get('range', '')}: {via.get('title', advisory)}".replace("  ", " "),
        path=lockfile,
        line=line,
        fix=advice,
        details={
            "ecosystem": "npm", "package": name, "affectedRange": via.get("range"), "cvss": cvss.get("vectorString"),
            "rated": severity != "unrated", "ratedBy": NAME, "url": via["url"], "scanner": NAME,
        },
    )
