"""What is risky in a project's dependencies whatever the advisories say.

Versions that accept anything, manifests without a lockfile, locked packages that run
install scripts, and manifests that could not be read: found offline, from the manifests alone.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from skills.audit.findings import Finding
from skills.audit.manifests import Dependency, ManifestScan

_ANY_VERSION = {"", "*", "latest", "x", "X"}


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
