"""Steps of the Security Audit skill: find the project, scan it, write the report.

The checks themselves live in ``skills.audit`` (plain functions over a folder). The scans
only read; the report files are the audit's one change, and which files those are never
depends on what was found, so the dry run lists them exactly. The dry run skips the scans
themselves (they only read, and can take minutes on a large project). Each scan step logs and
returns the engines that really ran (``scanners``), and the report names them: npm audit and
trufflehog only when they are installed and answered.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any

from skills.audit.advisories import advisory_sources, api_client
from skills.audit.code import scan_code as find_code_problems
from skills.audit.dependencies import DependencyAudit, audit_dependencies
from skills.audit.end_of_life import eol_table
from skills.audit.findings import Finding, Severity
from skills.audit.npm_audit import NAME as NPM_AUDIT
from skills.audit.npm_audit import npm_available, npm_lockfiles, run_npm_audit
from skills.audit.permissions import check_permissions as find_permission_problems
from skills.audit.project_files import REPORT_NAMES, project_files
from skills.audit.report import report_document, sarif_document
from skills.audit.secrets import scan_secrets as find_secrets
from skills.audit.secrets import scan_with_trufflehog, trufflehog_available
from skills.context import StepContext
from skills.errors import CommandFailedError, PathOutsideWorkspaceError, StepError

# Where the report on a folder outside the workspace goes: skillworks writes only inside it.
OUTSIDE_REPORTS_FOLDER = "security-reports"
NOT_REQUESTED = "not requested"
OSV_MATCHER = "skillworks OSV matcher"
DRY_RUN = "not scanned in the dry run"


def validate_project_path(ctx: StepContext) -> dict[str, Any]:
    """Resolve ``projectPath`` to an existing folder, and decide where the report goes."""
    raw = ctx.params["projectPath"].strip()
    try:
        if PurePosixPath(raw).is_absolute() or raw.startswith("~"):
            return _outside_project(ctx, Path(raw).expanduser())
        relative = ctx.workspace.relative(raw)
        folder = ctx.workspace.root / relative
        if not ctx.workspace.is_dir(relative):  # on disk, or created earlier in a workflow's dry run
            raise StepError(
                f"Project folder {folder} does not exist.",
                ["Give the folder of a project inside the workspace, relative to it (e.g. my-app)."],
                field="projectPath",
            )
    except PathOutsideWorkspaceError as refused:
        raise StepError(refused.message, refused.suggestions, field="projectPath") from None
    except (OSError, RuntimeError) as unusable:  # too long a name; ``~user`` for a user who does not exist
        raise StepError(f"{raw[:80]!r} cannot be used as a path: {unusable}", [], field="projectPath") from None
    return {"project": str(folder), "label": relative, "reportFolder": relative, "outsideWorkspace": False}


def _outside_project(ctx: StepContext, folder: Path) -> dict[str, Any]:
    resolved = folder.resolve()
    if resolved == ctx.workspace.root or ctx.workspace.root in resolved.parents:
        relative = resolved.relative_to(ctx.workspace.root).as_posix()
        return {"project": str(resolved), "label": relative, "reportFolder": relative, "outsideWorkspace": False}
    if not ctx.params["allowOutsideWorkspace"]:
        raise StepError(
            f"{folder} is outside the workspace ({ctx.workspace.root}).",
            [
                "Give a path relative to the workspace,",
                "or set allowOutsideWorkspace to true to scan that folder read-only "
                f"(its report then goes to {OUTSIDE_REPORTS_FOLDER}/{resolved.name}/ in the workspace).",
            ],
            field="projectPath",
        )
    if not resolved.is_dir():
        raise StepError(
            f"Project folder {resolved} does not exist.", ["Give the absolute path of an existing folder."], field="projectPath"
        )
    report_folder = f"{OUTSIDE_REPORTS_FOLDER}/{resolved.name or 'root'}"
    ctx.log(f"{resolved} is outside the workspace: it is only read; the report goes to {report_folder}/")
    return {"project": str(resolved), "label": str(resolved), "reportFolder": report_folder, "outsideWorkspace": True}


def scan_dependencies(ctx: StepContext) -> dict[str, Any]:
    """Match dependencies against OSV advisories and the end-of-life table; add npm audit's view when npm is here."""
    if ctx.pretend:
        return {"status": DRY_RUN, "findings": []}
    project = _project(ctx)
    with api_client() as client:
        audit = audit_dependencies(project, advisory_sources(ctx.settings.get("advisory_db"), client))
    scanners, notes = [OSV_MATCHER], list(audit.source_notes)
    if npm_available() and npm_lockfiles(project):
        ctx.log(f"running {NPM_AUDIT} on {', '.join(npm_lockfiles(project))}")
        npm = run_npm_audit(project, ctx.step_timeout)
        notes += npm.notes
        if npm.lockfiles:
            scanners.append(NPM_AUDIT)
            audit.findings += _not_yet_reported(npm.findings, audit.findings)
    for note in notes:
        ctx.log(note, "warning")
    if audit.advisory_status == "no-advisory-data":
        ctx.log("no advisory data: dependencies were NOT checked for known vulnerabilities", "warning")
    ctx.log(f"dependencies checked with {' and '.join(scanners)}")
    return _dependency_summary(audit, scanners, notes)


def _not_yet_reported(extra: list[Finding], known: list[Finding]) -> list[Finding]:
    """npm audit's findings for advisories the OSV matcher did not already report on that package."""
    seen = {(f.details.get("package"), advisory) for f in known for advisory in [f.rule, *f.details.get("aliases", [])]}
    return [f for f in extra if (f.details.get("package"), f.rule) not in seen]


def _dependency_summary(audit: DependencyAudit, scanners: list[str], notes: list[str]) -> dict[str, Any]:
    table = eol_table()
    return {
        "status": "scanned",
        "complete": audit.advisory_status != "no-advisory-data" and not audit.unchecked_ecosystems,
        "scanners": scanners,
        "manifests": audit.manifests,
        "packagesPinned": audit.packages_pinned,
        "packagesChecked": audit.packages_checked,
        "advisoryStatus": audit.advisory_status,
        "advisorySource": audit.advisory_source,
        "dataDate": audit.data_date,
        "ecosystemsCovered": audit.ecosystems_covered,
        "uncheckedEcosystems": audit.unchecked_ecosystems,
        "notChecked": audit.not_checked,
        "unratedAdvisories": audit.unrated_advisories,
        "endOfLifeData": {"source": table["source"], "date": table["dataDate"]},
        "sourceNotes": notes,
        "findings": _dumped(audit.findings),
    }


def scan_secrets(ctx: StepContext) -> dict[str, Any]:
    strict = ctx.persona == "security"
    if strict:
        ctx.persona_change("the secret scan's entropy thresholds are lower (finds unknown key formats, more false positives)")
    if ctx.pretend:
        return {"status": DRY_RUN, "findings": []}
    project = _project(ctx)
    scan = find_secrets(project, strict=strict)
    notes: list[str] = []
    if trufflehog_available():
        try:
            scan.findings += scan_with_trufflehog(project, ctx.step_timeout, scan.findings)
            scan.scanners.append("trufflehog")
        except CommandFailedError as exc:
            notes.append(f"trufflehog failed, so only the built-in detectors' results are reported: {exc.message.splitlines()[0]}")
            ctx.log(notes[-1], "warning")
    ctx.log(f"secrets scanned with {' and '.join(scan.scanners)}")
    return {
        "status": "scanned",
        "filesScanned": scan.files_scanned,
        "accepted": scan.accepted,
        "scanners": scan.scanners,
        "notes": notes,
        "findings": _dumped(scan.findings),
    }


def scan_code(ctx: StepContext) -> dict[str, Any]:
    strict = ctx.persona == "security"
    if strict:
        ctx.persona_change("bandit's low-severity and low-confidence issues are reported too")
    if ctx.pretend:
        return {"status": DRY_RUN, "findings": []}
    scan = find_code_problems(_project(ctx), strict=strict)
    ctx.log(f"code scanned with {' and '.join(scan.scanners)}")
    return {
        "status": "scanned",
        "pythonFiles": scan.python_files,
        "javascriptFiles": scan.javascript_files,
        "scanners": scan.scanners,
        "findings": _dumped(scan.findings),
    }


def check_permissions(ctx: StepContext) -> dict[str, Any]:
    if ctx.pretend:
        return {"status": DRY_RUN, "findings": []}
    project = _project(ctx)
    return {
        "status": "scanned",
        "filesChecked": sum(1 for _ in project_files(project)),
        "findings": _dumped(find_permission_problems(project)),
    }


def generate_report(ctx: StepContext) -> dict[str, Any]:
    """Write the Markdown, JSON and SARIF reports; return the Markdown for the run's artifact."""
    threshold: Severity = "high"
    if ctx.persona == "security":
        threshold = "medium"
        ctx.persona_change("the verdict fails on medium findings, not only high and critical")
    checks = {
        "dependencies": ctx.outputs.get("scan-dependencies") or {"status": NOT_REQUESTED, "findings": []},
        "secrets": ctx.outputs.get("scan-secrets") or {"status": NOT_REQUESTED, "findings": []},
        "code": ctx.outputs.get("scan-code") or {"status": NOT_REQUESTED, "findings": []},
        "permissions": ctx.outputs.get("check-permissions") or {"status": NOT_REQUESTED, "findings": []},
    }
    findings = [Finding.model_validate(item) for check in checks.values() for item in check["findings"]]
    summaries = {name: {key: value for key, value in check.items() if key != "findings"} for name, check in checks.items()}
    location = ctx.outputs["validate-project-path"]
    report = report_document(location["label"], findings, summaries, threshold, ctx.skill.version)
    markdown = ctx.render("report.md.j2", report=report)
    folder = location["reportFolder"]
    files = [str(PurePosixPath(folder, name)) for name in REPORT_NAMES]
    ctx.workspace.write_text(files[0], markdown)
    ctx.workspace.write_text(files[1], _json(report))
    ctx.workspace.write_text(files[2], _json(sarif_document(findings, ctx.skill.version)))
    # A dry run scanned nothing: its verdict and counts would be made up.
    measured = not ctx.pretend
    return {
        "markdown": markdown, "files": files, "reportPath": files[0],
        "verdict": report["verdict"] if measured else None, "summary": report["summary"] if measured else None,
    }


def _project(ctx: StepContext) -> Path:
    return Path(ctx.outputs["validate-project-path"]["project"])


def _dumped(findings: list[Finding]) -> list[dict[str, Any]]:
    return [finding.model_dump(mode="json") for finding in findings]


def _json(value: Any) -> str:
    return json.dumps(value, indent=2) + "\n"
