"""The audit's verdict, and its findings as JSON (for machines) and SARIF 2.1.0 (for code scanning).

The Markdown report is a template of the ``security-audit`` skill, rendered from the same
``report_document``.
"""

from __future__ import annotations

from typing import Any, Literal

from skills.audit.findings import Finding, Severity, at_or_above, severity_summary, sorted_findings

Verdict = Literal["pass", "fail", "incomplete"]
TOOL_NAME = "skillworks security-audit"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL: dict[Severity, str] = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "unrated": "error"}
# GitHub code scanning ranks results by this property (a CVSS-like score as a string); unrated has none.
_SECURITY_SEVERITY: dict[Severity, str] = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0"}
_RULE_DESCRIPTIONS = {
    "unpinned-dependency": "Dependency version is not constrained",
    "missing-lockfile": "Manifest without a lockfile",
    "install-script": "Dependency runs a script when installed",
    "unreadable-manifest": "Manifest could not be read",
    "world-writable": "File writable by every user",
    "private-key-readable": "Private key readable by other users",
    "executable-data-file": "Data file marked executable",
    "end-of-life": "Release line past its end of life",
    "end-of-active-support": "Release line out of active support",
}


def verdict(findings: list[Finding], threshold: Severity, complete: bool) -> Verdict:
    """``fail`` with any finding at or above ``threshold``; else ``incomplete`` if a check could not run."""
    if at_or_above(findings, threshold):
        return "fail"
    return "pass" if complete else "incomplete"


def report_document(
    project: str, findings: list[Finding], checks: dict[str, dict[str, Any]], threshold: Severity, tool_version: str
) -> dict[str, Any]:
    """The JSON report: tool, project, verdict, severity summary, what each check did, and the findings."""
    ordered = sorted_findings(findings)
    complete = all(check.get("complete", True) for check in checks.values())
    return {
        "tool": {"name": TOOL_NAME, "version": tool_version},
        "project": project,
        "verdict": verdict(ordered, threshold, complete),
        "threshold": threshold,
        "summary": severity_summary(ordered),
        "checks": checks,
        "findings": [finding.model_dump(mode="json") for finding in ordered],
    }


def sarif_document(findings: list[Finding], tool_version: str) -> dict[str, Any]:
    """SARIF 2.1.0 with one rule per rule id and one result per finding, paths relative to the project."""
    ordered = sorted_findings(findings)
    rules: dict[str, dict[str, Any]] = {}
    for finding in ordered:
        rules.setdefault(finding.rule, _sarif_rule(finding))
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": TOOL_NAME, "version": tool_version, "rules": list(rules.values())}},
                "originalUriBaseIds": {"PROJECTROOT": {"description": {"text": "The audited project folder"}}},
                "results": [_sarif_result(finding, list(rules).index(finding.rule)) for finding in ordered],
            }
        ],
    }


def _sarif_rule(finding: Finding) -> dict[str, Any]:
    if finding.category == "secret":
        description = f"Hardcoded secret: {finding.rule}"
    elif finding.category == "dependency" and finding.rule not in _RULE_DESCRIPTIONS:
        description = f"Known vulnerability {finding.rule} in {finding.details.get('package')}"
    elif finding.category == "code":
        description = finding.title.split(" (")[0]
    else:
        description = _RULE_DESCRIPTIONS.get(finding.rule, finding.rule)
    properties: dict[str, Any] = {"tags": ["security", finding.category]}
    if finding.severity in _SECURITY_SEVERITY:
        properties["security-severity"] = _SECURITY_SEVERITY[finding.severity]
    if finding.details.get("cwe"):
        properties["tags"].append(f"external/cwe/{finding.details['cwe'].lower()}")
    rule: dict[str, Any] = {"id": finding.rule, "shortDescription": {"text": description}, "properties": properties}
    if finding.details.get("url"):
        rule["helpUri"] = finding.details["url"]
    return rule


def _sarif_result(finding: Finding, rule_index: int) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": finding.path, "uriBaseId": "PROJECTROOT"}}
    if finding.line:
        location["region"] = {"startLine": finding.line}
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[finding.severity],
        "message": {"text": f"{finding.title}. Fix: {finding.fix}"},
        "locations": [{"physicalLocation": location}],
    }
    if "hashedSecret" in finding.details:  # lets code scanning follow one secret across line moves
        result["partialFingerprints"] = {"hashedSecret/v1": finding.details["hashedSecret"]}
    others = [line for line in finding.details.get("lines") or [] if line != finding.line]
    if others:  # the same secret value, written again further down the file
        result["relatedLocations"] = [
            {"id": index, "physicalLocation": {**location, "region": {"startLine": line}}, "message": {"text": "same value"}}
            for index, line in enumerate(others, start=1)
        ]
    if finding.severity == "unrated":
        result["properties"] = {"severity": "unrated"}
    return result
