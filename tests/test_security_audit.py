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

from skills.audit import advisories, npm_audit
from skills.audit.secrets import secret_hash
from skills.catalog import load_builtin_catalog
from skills.definition import SkillDefinition
from skills.journal import JOURNAL_DIRNAME
from skills.planning import plan_skill
from tests.audit_fixtures import AWS_ACCESS_KEY, make_shop_project, write, write_advisory_db
from tests.skill_runner import dry_run, execute_steps

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


@pytest.fixture(autouse=True)
def without_npm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exact findings are asserted as on a machine without npm: npm audit's answers come from the live
    registry (and this machine's registry refuses its audit endpoint). test_npm_audit.py covers npm audit."""
    monkeypatch.setattr(npm_audit, "NPM", "npm-is-not-installed-here")


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
    return json.loads((workspace / values["projectPath"] / "security-report.json").read_text())


def summary(report: dict[str, Any]) -> list[tuple[str, str, str, str, int | None]]:
    return [(f["category"], f["rule"], f["severity"], f["path"], f["line"]) for f in report["findings"]]


def test_audit_finds_exactly_the_planted_problems(skill: SkillDefinition, workspace: Path, advisory_db: Path) -> None:
    report = audit(skill, workspace, advisory_db)

    assert summary(report) == SHOP_FINDINGS
    assert report["summary"] == {"critical": 1, "high": 6, "medium": 2, "low": 3, "unrated": 0}
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
    assert aws["details"] == {"masked": "AKIA********", "hashedSecret": secret_hash(AWS_ACCESS_KEY), "lines": [2]}
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


def test_unrated_advisories_are_called_unrated_in_every_persona_and_fail_the_verdict(
    skill: SkillDefinition, workspace: Path, advisory_db: Path
) -> None:
    write(workspace / "shop" / "api" / "requirements.txt", "requests==2.19.0\n")
    values = {"projectPath": "shop", "checkSecrets": False, "checkCode": False}

    reports = {persona: audit(skill, workspace, advisory_db, persona=persona, **values) for persona in ("full-stack", "security")}

    for report in reports.values():
        # PYSEC-2018-28 and PYSEC-2023-74 rate no severity, and PyPA's data holds no record of their aliases.
        assert [(f["rule"], f["severity"]) for f in report["findings"] if f["rule"].startswith("PYSEC")] == [
            ("PYSEC-2018-28", "unrated"),
            ("PYSEC-2023-74", "unrated"),
        ]
        assert report["checks"]["dependencies"]["unratedAdvisories"] == 2
        assert report["verdict"] == "fail"
    markdown = (workspace / "shop" / "security-report.md").read_text()
    assert "**2 advisory(ies) rate no severity" in markdown and "| unrated | 2 |" in markdown
    assert "medium" not in json.dumps([f for f in reports["full-stack"]["findings"] if f["rule"].startswith("PYSEC")])


def test_security_persona_lowers_entropy_thresholds_reports_all_of_bandit_and_fails_on_medium(
    skill: SkillDefinition, tmp_path: Path
) -> None:
    write(tmp_path / "shop" / "cache.py", 'CACHE_BUSTER = "kQ9zR2vX7mT4pL8wN3bY6c"\nimport subprocess\n')
    values = {"projectPath": "shop", "checkDependencies": False}
    plan = dry_run(skill, values, "security", tmp_path)

    default = audit(skill, tmp_path, None, **values)
    strict = audit(skill, tmp_path, None, persona="security", **values)

    assert plan.persona_changes == [
        "the secret scan's entropy thresholds are lower (finds unknown key formats, more false positives)",
        "bandit's low-severity and low-confidence issues are reported too",
        "the verdict fails on medium findings, not only high and critical",
    ]
    assert summary(default) == []
    assert summary(strict) == [
        ("secret", "High Entropy String", "medium", "cache.py", 1),
        ("code", "bandit-B404", "low", "cache.py", 2),
    ]
    assert (default["threshold"], strict["threshold"]) == ("high", "medium")
    assert strict["verdict"] == "fail"


def test_a_keyed_secret_is_found_by_entropy_in_the_default_persona(skill: SkillDefinition, tmp_path: Path) -> None:
    write(tmp_path / "shop" / "signing.py", 'SIGNING_SALT = "6f1ed002ab5595859014ebf0951522d9"\n')

    report = audit(skill, tmp_path, None, projectPath="shop", checkDependencies=False)

    assert summary(report) == [("secret", "Hardcoded Secret", "medium", "signing.py", 1)]


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
        ("projectPath", f"{outside} is outside the workspace ({workspace})."),
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


def test_a_pinned_django_3_0_project_fails_on_its_end_of_life_line_and_unrated_advisories(
    skill: SkillDefinition, tmp_path: Path
) -> None:
    write(tmp_path / "legacy" / "requirements.txt", "Django==3.0.14\nPyYAML==5.1\nsqlparse==0.3.1\n")
    database = write_advisory_db(tmp_path / "advisories", npm=False)

    report = audit(skill, tmp_path, database, projectPath="legacy")

    assert report["verdict"] == "fail"
    assert [(f["rule"], f["details"].get("package") or f["details"].get("product"), f["severity"]) for f in report["findings"]] == [
        ("end-of-life", "Django", "high"),
        ("PYSEC-2021-98", "django", "unrated"),
        ("PYSEC-2021-99", "django", "unrated"),
        ("PYSEC-2020-176", "pyyaml", "unrated"),
        ("PYSEC-2020-96", "pyyaml", "unrated"),
        ("PYSEC-2021-142", "pyyaml", "unrated"),
        ("PYSEC-2023-87", "sqlparse", "unrated"),
    ]
    dependencies = report["checks"]["dependencies"]
    assert (dependencies["dataDate"], dependencies["ecosystemsCovered"], dependencies["unratedAdvisories"]) == ("2024-10-10", ["PyPI"], 6)
    assert dependencies["advisorySource"] == f"local OSV database at {database}"
    markdown = (tmp_path / "legacy" / "security-report.md").read_text()
    assert "**Verdict: FAIL**" in markdown
    assert f"the local OSV database at {database}, data as of **2024-10-10**, covering PyPI" in markdown
    assert "Django 3.0 reached its end of life on 2021-04-06: it gets no more security fixes" in markdown
    assert "**6 advisory(ies) rate no severity" in markdown and "| unrated | 6 |" in markdown
    assert "End-of-life data: endoflife.date release tables" in markdown


def test_steps_and_report_name_only_the_engines_that_ran(skill: SkillDefinition, workspace: Path, advisory_db: Path) -> None:
    logs: list[str] = []
    execute_steps(skill, {"projectPath": "shop"}, "full-stack", workspace, settings={"advisory_db": advisory_db}, logs=logs)

    report = json.loads((workspace / "shop" / "security-report.json").read_text())
    checks = report["checks"]
    assert checks["dependencies"]["scanners"] == ["skillworks OSV matcher"]  # npm is hidden, trufflehog absent
    assert checks["secrets"]["scanners"] == ["skillworks secret detectors"]
    assert "dependencies checked with skillworks OSV matcher" in logs
    assert "secrets scanned with skillworks secret detectors" in logs
    markdown = (workspace / "shop" / "security-report.md").read_text()
    assert "npm audit" not in markdown and "trufflehog" not in markdown.lower()
    names = {step.id: step.name for step in skill.steps}
    assert names["scan-dependencies"].endswith("npm audit when npm is installed)")
    assert names["scan-secrets"] == "Scan for Secrets (built-in detectors; trufflehog when installed)"
