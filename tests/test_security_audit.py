"""Security Audit: exact findings on planted projects, the report files, and what the dry run says.

The advisories come from a local OSV database: PyPA's real snapshot for PyPI plus npm records
the tests write (``audit_fixtures``). The OSV API is not reachable from this machine; so that
the tests mean the same wherever they run, its address is pointed at a closed local port,
which is how an unreachable API looks to the audit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from audit_fixtures import AWS_ACCESS_KEY, make_shop_project, write, write_advisory_db
from skill_runner import dry_run, execute_steps

from skills.audit import advisories
from skills.audit.secrets import secret_hash
from skills.catalog import load_builtin_catalog
from skills.definition import SkillDefinition
from skills.journal import JOURNAL_DIRNAME
from skills.planning import plan_skill

REPORTS = ("security-report.md", "security-report.json", "security-report.sarif")
SHOP_FINDINGS = [
    ("secret", "Private Key", "critical", "deploy/id_rsa", 1),
    ("dependency", "PYSEC-2023-192", "high", "api/requirements.txt", 2),
    ("dependency", "GHSA-35jh-r3h4-6jhm", "high", "package-lock.json", 8),
    ("permission", "private-key-readable", "high", "deploy/id_rsa", None),
    ("permission", "world-writable", "high", "public/config.json", None),
    ("secret", "AWS Access Key", "high", "api/settings.py", 2),
    ("secret", "GitHub Token", "high", "scripts/deploy.sh", 2),
    ("dependency", "PYSEC-2023-212", "medium", "api/requirements.txt", 2),
    ("dependency", "unpinned-dependency", "medium", "package.json", 5),
    ("dependency", "unpinned-dependency", "low", "api/requirements.txt", 4),
    ("dependency", "install-script", "low", "package-lock.json", 18),
    ("permission", "executable-data-file", "low", "public/config.json", None),
]


@pytest.fixture(autouse=True)
def unreachable_osv_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(advisories, "OSV_API_URL", "http://127.0.0.1:9/v1")


@pytest.fixture(scope="module")
def skill() -> SkillDefinition:
    return load_builtin_catalog().get("security-audit")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    make_shop_project(tmp_path / "workspace" / "shop")
    return tmp_path / "workspace"


@pytest.fixture
def advisory_db(tmp_path: Path) -> Path:
    return write_advisory_db(tmp_path / "advisories")


def audit(skill: SkillDefinition, workspace: Path, advisory_db: Path | None, persona: str = "full-stack", **parameters: Any) -> dict[str, Any]:
    """Run the audit for real; return its JSON report."""
    values = {"projectPath": "shop", "checkPermissions": True, **parameters}
    execute_steps(skill, values, persona, workspace, settings={"advisory_db": advisory_db})
    return json.loads((workspace / "shop" / "security-report.json").read_text())


def summary(report: dict[str, Any]) -> list[tuple[str, str, str, str, int | None]]:
    return [(f["category"], f["rule"], f["severity"], f["path"], f["line"]) for f in report["findings"]]


def test_audit_finds_exactly_the_planted_problems(skill: SkillDefinition, workspace: Path, advisory_db: Path) -> None:
    report = audit(skill, workspace, advisory_db)

    assert summary(report) == SHOP_FINDINGS
    assert report["summary"] == {"critical": 1, "high": 6, "medium": 2, "low": 3}
    assert report["verdict"] == "fail"
    dependencies = report["checks"]["dependencies"]
    assert dependencies["advisoryStatus"] == "checked"
    assert dependencies["advisorySource"] == f"local OSV database at {advisory_db}"
    assert dependencies["sourceNotes"] == [
        "OSV API (api.osv.dev): the OSV API is unreachable (ConnectError: [Errno 111] Connection refused)"
    ]
    # The fixed boundary is not affected: requests 2.31.0 and minimist 1.2.6 are not reported.
    assert {f["details"].get("package") for f in report["findings"]} >= {"urllib3", "lodash"}
    assert not {"requests", "minimist"} & {f["details"].get("package") for f in report["findings"]}


def test_findings_say_where_what_and_how_to_fix(skill: SkillDefinition, workspace: Path, advisory_db: Path) -> None:
    findings = {(f["rule"], f["path"]): f for f in audit(skill, workspace, advisory_db)["findings"]}

    urllib3 = findings[("PYSEC-2023-192", "api/requirements.txt")]
    assert urllib3["fix"] == "Upgrade urllib3 to 1.26.17 or later."
    assert urllib3["details"]["aliases"] == ["CVE-2023-43804", "GHSA-v845-jxx5-vc9f"]
    assert findings[("GHSA-35jh-r3h4-6jhm", "package-lock.json")]["title"] == "lodash 4.17.20: Command Injection in lodash"
    aws = findings[("AWS Access Key", "api/settings.py")]
    assert aws["details"] == {"masked": "AKIA********", "hashedSecret": secret_hash(AWS_ACCESS_KEY)}
    markdown = (workspace / "shop" / "security-report.md").read_text()
    assert AWS_ACCESS_KEY not in markdown and AWS_ACCESS_KEY not in json.dumps(findings[("AWS Access Key", "api/settings.py")])
    assert "**Verdict: FAIL**" in markdown
    assert "| critical | 1 |" in markdown


def test_dry_run_lists_exactly_the_report_files_the_audit_writes(skill: SkillDefinition, workspace: Path, advisory_db: Path) -> None:
    before = snapshot(workspace)
    values = {"projectPath": "shop", "checkPermissions": True}
    plan = dry_run(skill, values, "full-stack", workspace)
    assert snapshot(workspace) == before, "the dry run changed the workspace"

    execution = execute_steps(skill, values, "full-stack", workspace, settings={"advisory_db": advisory_db})

    assert plan.files == [f"shop/{name}" for name in REPORTS]
    assert set(plan.files) == execution.files
    assert plan.commands == execution.commands == []
    changed = {path for path, data in snapshot(workspace).items() if before.get(path, b"missing") != data}
    assert changed == {f"shop/{name}" for name in REPORTS}, "the audit changed more than its report"


def test_rollback_removes_the_report_and_nothing_else(skill: SkillDefinition, workspace: Path, advisory_db: Path) -> None:
    before = snapshot(workspace)
    execution = execute_steps(skill, {"projectPath": "shop"}, "full-stack", workspace, settings={"advisory_db": advisory_db})

    undone = execution.journal.undo()

    assert sorted(undone.deleted) == sorted(f"shop/{name}" for name in REPORTS)
    assert snapshot(workspace) == before


def test_without_advisory_data_the_report_says_so_and_still_flags_offline_risks(
    skill: SkillDefinition, workspace: Path
) -> None:
    report = audit(skill, workspace, None, checkSecrets=False, checkPermissions=False)

    assert summary(report) == [
        ("dependency", "unpinned-dependency", "medium", "package.json", 5),
        ("dependency", "unpinned-dependency", "low", "api/requirements.txt", 4),
        ("dependency", "install-script", "low", "package-lock.json", 18),
    ]
    assert report["checks"]["dependencies"]["advisoryStatus"] == "no-advisory-data"
    assert report["checks"]["dependencies"]["uncheckedEcosystems"] == ["PyPI", "npm"]
    assert report["verdict"] == "incomplete"
    markdown = (workspace / "shop" / "security-report.md").read_text()
    assert "**No advisory data was available, so the 6 pinned package version(s) were NOT checked" in markdown
    assert "no vulnerabilities" not in markdown.lower()
    assert "**Verdict: INCOMPLETE**" in markdown


def test_an_ecosystem_missing_from_the_database_is_named_as_unchecked(
    skill: SkillDefinition, workspace: Path, tmp_path: Path
) -> None:
    pypi_only = write_advisory_db(tmp_path / "pypi-only", npm=False)

    report = audit(skill, workspace, pypi_only, checkSecrets=False, checkPermissions=False)

    assert [f["rule"] for f in report["findings"] if f["rule"].startswith(("PYSEC", "GHSA"))] == ["PYSEC-2023-192", "PYSEC-2023-212"]
    assert report["checks"]["dependencies"]["uncheckedEcosystems"] == ["npm"]
    assert "**No advisory data for npm" in (workspace / "shop" / "security-report.md").read_text()


def test_a_project_without_lockfile_is_flagged(skill: SkillDefinition, tmp_path: Path, advisory_db: Path) -> None:
    write(tmp_path / "shop" / "package.json", json.dumps({"dependencies": {"lodash": "4.17.20", "express": "latest"}}))

    report = audit(skill, tmp_path, advisory_db, checkSecrets=False, checkPermissions=False)

    assert summary(report) == [
        ("dependency", "GHSA-35jh-r3h4-6jhm", "high", "package.json", 1),
        ("dependency", "missing-lockfile", "medium", "package.json", None),
        ("dependency", "unpinned-dependency", "medium", "package.json", 1),
    ]


def test_secrets_listed_in_the_baseline_stop_being_reported(skill: SkillDefinition, workspace: Path, advisory_db: Path) -> None:
    project = workspace / "shop"
    baseline = {"results": {"api/settings.py": [{"type": "AWS Access Key", "hashed_secret": secret_hash(AWS_ACCESS_KEY), "line_number": 2}]}}
    write(project / ".secrets.baseline", json.dumps(baseline))
    # The accepted secret moves down a line: the baseline matches the secret, not its line.
    write(project / "api" / "settings.py", f'DEBUG = False\n\nAWS_ACCESS_KEY_ID = "{AWS_ACCESS_KEY}"\n')

    report = audit(skill, workspace, advisory_db, checkDependencies=False, checkPermissions=False)

    assert [(f["rule"], f["path"]) for f in report["findings"]] == [("Private Key", "deploy/id_rsa"), ("GitHub Token", "scripts/deploy.sh")]
    assert report["checks"]["secrets"]["accepted"] == 1
    assert "1 accepted finding(s) in `.secrets.baseline` not repeated" in (project / "security-report.md").read_text()


def test_security_persona_rates_unrated_advisories_high_and_fails_on_medium(
    skill: SkillDefinition, workspace: Path, advisory_db: Path
) -> None:
    write(workspace / "shop" / "api" / "requirements.txt", "requests==2.19.0\n")
    values = {"projectPath": "shop", "checkSecrets": False}
    plan = dry_run(skill, values, "security", workspace)

    report = audit(skill, workspace, advisory_db, persona="security", **values)

    assert plan.persona_changes == [
        "advisories that rate no severity count as high, not medium",
        "the verdict fails on medium findings, not only high and critical",
    ]
    # PYSEC-2018-28 and PYSEC-2023-74 rate no severity themselves.
    assert [(f["rule"], f["severity"]) for f in report["findings"] if f["rule"].startswith("PYSEC")] == [
        ("PYSEC-2018-28", "high"),
        ("PYSEC-2023-74", "high"),
    ]
    assert report["threshold"] == "medium"


def test_security_persona_adds_entropy_detection(skill: SkillDefinition, tmp_path: Path) -> None:
    write(tmp_path / "shop" / "signing.py", 'SIGNING_SALT = "6f1ed002ab5595859014ebf0951522d9"\n')
    values = {"projectPath": "shop", "checkDependencies": False}

    default = audit(skill, tmp_path, None, **values)
    strict = audit(skill, tmp_path, None, persona="security", **values)

    assert summary(default) == []
    assert summary(strict) == [("secret", "Hex High Entropy String", "low", "signing.py", 1)]
    assert default["verdict"] == strict["verdict"] == "pass"


def test_sarif_has_one_result_per_finding_with_levels_and_locations(
    skill: SkillDefinition, workspace: Path, advisory_db: Path
) -> None:
    audit(skill, workspace, advisory_db)
    sarif = json.loads((workspace / "shop" / "security-report.sarif").read_text())

    run = sarif["runs"][0]
    assert sarif["version"] == "2.1.0"
    results = [(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in run["results"]]
    assert results == [(rule, {"critical": "error", "high": "error", "medium": "warning", "low": "note"}[severity], path)
                       for _, rule, severity, path, _ in SHOP_FINDINGS]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in run["results"])
    assert run["results"][0]["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}


def test_an_outside_folder_needs_the_flag_and_is_only_read(skill: SkillDefinition, tmp_path: Path, advisory_db: Path) -> None:
    outside = make_shop_project(tmp_path / "elsewhere" / "legacy")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    before = snapshot(outside)

    checked, refused = plan_skill(skill, {"projectPath": str(outside)}, "expert", "full-stack", workspace)
    assert refused is None
    assert [(issue.field, issue.reason) for issue in checked.errors] == [
        ("validate-project-path", f"{outside} is outside the workspace ({workspace})."),
    ]

    values = {"projectPath": str(outside), "allowOutsideWorkspace": True}
    plan = dry_run(skill, values, "full-stack", workspace)
    execution = execute_steps(skill, values, "full-stack", workspace, settings={"advisory_db": advisory_db})

    assert set(plan.files) == execution.files == {f"security-reports/legacy/{name}" for name in REPORTS}
    assert snapshot(outside) == before
    report = json.loads((workspace / "security-reports" / "legacy" / "security-report.json").read_text())
    assert report["project"] == str(outside)
    assert len(report["findings"]) == len(SHOP_FINDINGS) - 3  # permissions are off by default


def test_a_missing_folder_fails_the_dry_run_on_the_validate_step(skill: SkillDefinition, tmp_path: Path) -> None:
    checked, plan = plan_skill(skill, {"projectPath": "nope"}, "expert", "full-stack", tmp_path)

    assert plan is None
    assert [issue.reason for issue in checked.errors] == [f"Project folder {tmp_path.resolve() / 'nope'} does not exist."]


def test_report_step_returns_the_markdown_for_the_runs_artifact(skill: SkillDefinition, workspace: Path, advisory_db: Path) -> None:
    execution = execute_steps(skill, {"projectPath": "shop"}, "full-stack", workspace, settings={"advisory_db": advisory_db})

    output = execution.context.outputs["generate-report"]
    assert output["markdown"] == (workspace / "shop" / "security-report.md").read_text()
    assert output["verdict"] == "fail"


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` (but the journal) with its bytes and mode, None for folders."""
    found: dict[str, Any] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] == JOURNAL_DIRNAME:
            continue
        found[str(relative)] = None if path.is_dir() else (path.read_bytes(), os.stat(path).st_mode)
    return found
