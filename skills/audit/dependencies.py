"""Dependencies: exact versions against OSV advisories, end-of-life release lines, and offline risks.

Known vulnerabilities need a source that answers (``advisories``); with none,
``advisory_status`` says so and no finding claims the dependencies are clean. The audit also
says what it could not check and why (``not_checked``): declared versions no lockfile
resolves, and ecosystems the advisory data does not cover. An advisory that rates no
severity takes its aliases' rating when the source has them, and is otherwise "unrated".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from skills.audit.advisories import AdvisorySource, AdvisorySourceUnavailable, PackageVersion
from skills.audit.dependency_risks import offline_findings
from skills.audit.end_of_life import end_of_life_findings
from skills.audit.findings import Finding, Severity
from skills.audit.manifests import Dependency, Ecosystem, scan_manifests
from skills.audit.osv import (
    OsvRecord,
    affects,
    cvss_vector,
    fixed_versions,
    pep440_key,
    semver_key,
    severity_of,
    summary_of,
)

AdvisoryStatus = Literal["checked", "no-advisory-data", "nothing-to-check"]
NO_EXACT_VERSION = "declared without an exact version and not resolved by a lockfile"


@dataclass
class DependencyAudit:
    findings: list[Finding] = field(default_factory=list)
    manifests: list[str] = field(default_factory=list)
    packages_pinned: int = 0  # exact package versions found (lockfiles and pins)
    packages_checked: int = 0  # of those, matched against advisory data
    advisory_status: AdvisoryStatus = "nothing-to-check"
    advisory_source: str | None = None
    data_date: str | None = None
    ecosystems_covered: list[Ecosystem] = field(default_factory=list)
    unchecked_ecosystems: list[Ecosystem] = field(default_factory=list)
    not_checked: dict[str, int] = field(default_factory=dict)  # reason -> number of dependencies
    unrated_advisories: int = 0
    source_notes: list[str] = field(default_factory=list)


def audit_dependencies(root: Path, sources: list[AdvisorySource]) -> DependencyAudit:
    """Read the project's manifests, flag offline risks and end-of-life lines, match exact versions against advisories."""
    scan = scan_manifests(root)
    audit = DependencyAudit(manifests=scan.files, findings=offline_findings(scan) + end_of_life_findings(root, scan))
    pinned = _first_occurrences(scan.dependencies)
    unresolved = _unresolved(scan.dependencies, pinned)
    if unresolved:
        audit.not_checked[NO_EXACT_VERSION] = unresolved
    if not pinned:
        return audit
    audit.packages_pinned = audit.packages_checked = len(pinned)
    needed = {package.ecosystem for package in pinned}
    for source in sources:
        covered = source.ecosystems() & needed
        if not covered:
            audit.source_notes.append(f"{source.description}: no advisories for {', '.join(sorted(needed))}")
            continue
        try:
            found = source.records_for([package for package in pinned if package.ecosystem in covered])
        except AdvisorySourceUnavailable as exc:
            audit.source_notes.append(f"{source.description}: {exc}")
            continue
        audit.advisory_status, audit.advisory_source = "checked", source.description
        audit.data_date, audit.ecosystems_covered = source.data_date(), sorted(source.ecosystems())
        _record_unchecked(audit, pinned, needed - covered)
        for package, records in found.items():
            for record in records:
                finding = vulnerability_finding(pinned[package], record, source)
                audit.unrated_advisories += finding.severity == "unrated"
                audit.findings.append(finding)
        return audit
    audit.advisory_status = "no-advisory-data"
    _record_unchecked(audit, pinned, needed)
    return audit


def _record_unchecked(audit: DependencyAudit, pinned: dict[PackageVersion, Dependency], ecosystems: set[Ecosystem]) -> None:
    audit.unchecked_ecosystems = sorted(ecosystems)
    for ecosystem in sorted(ecosystems):
        count = sum(1 for package in pinned if package.ecosystem == ecosystem)
        audit.not_checked[f"no advisory data for {ecosystem}"] = count
    audit.packages_checked -= sum(1 for package in pinned if package.ecosystem in ecosystems)


def _first_occurrences(dependencies: list[Dependency]) -> dict[PackageVersion, Dependency]:
    """Each exact package version once, with the first file that names it (lockfiles come first)."""
    pinned: dict[PackageVersion, Dependency] = {}
    for dependency in dependencies:
        if dependency.version is not None:
            pinned.setdefault(PackageVersion(dependency.ecosystem, dependency.name, dependency.version), dependency)
    return pinned


def _unresolved(dependencies: list[Dependency], pinned: dict[PackageVersion, Dependency]) -> int:
    """Declared packages with no exact version anywhere in the project (no lockfile fixes them)."""
    resolved = {(package.ecosystem, package.name) for package in pinned}
    loose = {(d.ecosystem, d.name) for d in dependencies if d.version is None}
    return len(loose - resolved)


def vulnerability_finding(dependency: Dependency, record: OsvRecord, source: AdvisorySource) -> Finding:
    name, version, ecosystem = dependency.name, dependency.version or "", dependency.ecosystem
    fix = first_fix(record, ecosystem, name, version)
    severity, rated_by, vector = rate(record, source)
    return Finding(
        category="dependency",
        rule=record["id"],
        severity=severity,
        title=f"{name} {version}: {summary_of(record)}",
        path=dependency.source,
        line=dependency.line,
        fix=f"Upgrade {name} to {fix} or later." if fix else f"No fixed version of {name} is published: replace it, or remove it.",
        details={
            "ecosystem": ecosystem,
            "package": name,
            "version": version,
            "fixedIn": fix,
            "aliases": record.get("aliases") or [],
            "rated": severity != "unrated",
            "ratedBy": rated_by,
            "cvss": vector,
            "url": f"https://osv.dev/vulnerability/{record['id']}",
        },
    )


def rate(record: OsvRecord, source: AdvisorySource) -> tuple[Severity, str | None, str | None]:
    """(severity, which record rated it, CVSS vector): the record itself, else the first alias the source rates."""
    own = severity_of(record)
    if own is not None:
        return own, record["id"], cvss_vector(record)
    for alias in record.get("aliases") or []:
        aliased = source.record(alias)
        rated = severity_of(aliased) if aliased else None
        if rated is not None and aliased is not None:
            return rated, alias, cvss_vector(aliased)
    return "unrated", None, None


def first_fix(record: OsvRecord, ecosystem: Ecosystem, name: str, version: str) -> str | None:
    """The lowest fixed version above ``version`` that the advisory does not affect."""
    key = semver_key if ecosystem == "npm" else pep440_key
    try:
        later = sorted((v for v in fixed_versions(record, ecosystem, name) if key(v) > key(version)), key=key)
    except ValueError:
        return None
    return next((v for v in later if not affects(record, ecosystem, name, v)), None)
