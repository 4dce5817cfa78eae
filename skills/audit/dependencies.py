"""Dependencies: exact versions against OSV advisories, and what is risky without any advisory.

Offline findings need no advisory data: versions that accept anything, manifests without a
lockfile, and locked packages that run install scripts. Known vulnerabilities need a source
that answers (``advisories``); with none, ``advisory_status`` says so and no finding claims
the dependencies are clean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from skills.audit.advisories import AdvisorySource, AdvisorySourceUnavailable, PackageVersion
from skills.audit.findings import Finding, Severity
from skills.audit.manifests import Dependency, Ecosystem, ManifestScan, scan_manifests
from skills.audit.osv import OsvRecord, affects, fixed_versions, pep440_key, semver_key, severity_of, summary_of

AdvisoryStatus = Literal["checked", "no-advisory-data", "nothing-to-check"]
_ANY_VERSION = {"", "*", "latest", "x", "X"}


@dataclass
class DependencyAudit:
    findings: list[Finding] = field(default_factory=list)
    manifests: list[str] = field(default_factory=list)
    packages_checked: int = 0
    advisory_status: AdvisoryStatus = "nothing-to-check"
    advisory_source: str | None = None
    unchecked_ecosystems: list[Ecosystem] = field(default_factory=list)
    source_notes: list[str] = field(default_factory=list)


def audit_dependencies(root: Path, sources: list[AdvisorySource], unrated: Severity = "medium") -> DependencyAudit:
    """Read the project's manifests, flag offline risks, and match exact versions against advisories.

    ``unrated`` is the severity given to advisories that rate nothing themselves.
    """
    scan = scan_manifests(root)
    audit = DependencyAudit(manifests=scan.files, findings=offline_findings(scan))
    pinned = _first_occurrences(scan.dependencies)
    if not pinned:
        return audit
    audit.packages_checked = len(pinned)
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
        audit.unchecked_ecosystems = sorted(needed - covered)
        for package, records in found.items():
            audit.findings.extend(vulnerability_finding(pinned[package], record, unrated) for record in records)
        return audit
    audit.advisory_status = "no-advisory-data"
    audit.unchecked_ecosystems = sorted(needed)
    return audit


def _first_occurrences(dependencies: list[Dependency]) -> dict[PackageVersion, Dependency]:
    """Each exact package version once, with the first file that names it (lockfiles come first)."""
    pinned: dict[PackageVersion, Dependency] = {}
    for dependency in dependencies:
        if dependency.version is not None:
            pinned.setdefault(PackageVersion(dependency.ecosystem, dependency.name, dependency.version), dependency)
    return pinned


def vulnerability_finding(dependency: Dependency, record: OsvRecord, unrated: Severity) -> Finding:
    name, version, ecosystem = dependency.name, dependency.version or "", dependency.ecosystem
    fix = first_fix(record, ecosystem, name, version)
    rated = severity_of(record)
    return Finding(
        category="dependency",
        rule=record["id"],
        severity=rated or unrated,
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
            "rated": rated is not None,
            "url": f"https://osv.dev/vulnerability/{record['id']}",
        },
    )


def first_fix(record: OsvRecord, ecosystem: Ecosystem, name: str, version: str) -> str | None:
    """The lowest fixed version above ``version`` that the advisory does not affect."""
    key = semver_key if ecosystem == "npm" else pep440_key
    try:
        later = sorted((v for v in fixed_versions(record, ecosystem, name) if key(v) > key(version)), key=key)
    except ValueError:
        return None
    return next((v for v in later if not affects(record, ecosystem, name, v)), None)


def offline_findings(scan: ManifestScan) -> list[Finding]:
    """What is risky whatever the advisories say."""
    findings = [_unpinned_finding(d, reason) for d in scan.dependencies if (reason := unpinned_reason(d))]
    for folder, ecosystem in scan.folders_without_lockfile.items():
        manifest = str(PurePosixPath(folder, "package.json" if ecosystem == "npm" else "pyproject.toml"))
        tool = "npm install (commit package-lock.json)" if ecosystem == "npm" else "uv lock or poetry lock"
        findings.append(Finding(
            category="dependency", rule="missing-lockfile", severity="medium" if ecosystem == "npm" else "low",
            title=f"{manifest} has no lockfile: installs resolve different versions over time",
            path=manifest, fix=f"Create and commit a lockfile: {tool}.",
        ))
    scripted = {(d.name, d.version): d for d in scan.dependencies if d.install_script}
    for (name, version), dependency in scripted.items():
        findings.append(Finding(
            category="dependency", rule="install-script", severity="low",
            title=f"{name} {version} runs a script when installed",
            path=dependency.source, line=dependency.line,
            fix=f"Review what {name}'s install script does; install with --ignore-scripts where it is not needed.",
            details={"package": name, "version": version},
        ))
    for path, reason in scan.unreadable.items():
        findings.append(Finding(
            category="dependency", rule="unreadable-manifest", severity="low",
            title=f"{path} could not be read, so its dependencies were not checked ({reason})",
            path=path, fix=f"Fix the syntax of {path}.",
        ))
    return findings


def unpinned_reason(dependency: Dependency) -> str | None:
    """Why a declared dependency's version is too loose, or None when it is bounded."""
    if dependency.locked or dependency.version is not None:
        return None
    spec = dependency.spec.strip()
    if spec in _ANY_VERSION:
        return "accepts any version"
    if dependency.ecosystem == "npm" and spec.startswith(">") and "<" not in spec:
        return "has no upper bound"
    if PurePosixPath(dependency.source).name.startswith("requirements"):
        return "is not pinned to one version"
    return None


def _unpinned_finding(dependency: Dependency, reason: str) -> Finding:
    loose = reason == "accepts any version"
    example = "==1.2.3" if dependency.ecosystem == "PyPI" else "^1.2.3"
    return Finding(
        category="dependency", rule="unpinned-dependency", severity="medium" if loose else "low",
        title=f"{dependency.name} {reason} ({dependency.spec or 'no version given'})",
        path=dependency.source, line=dependency.line,
        fix=f"Constrain {dependency.name} to the versions you tested (e.g. {example}) and lock them.",
        details={"package": dependency.name, "spec": dependency.spec},
    )
