"""Code analysis: the JS/TS rules on real syntax trees, bandit on Python, and their place in the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skills.audit import advisories, npm_audit
from skills.audit.code import scan_code
from skills.catalog import load_builtin_catalog
from tests.audit_fixtures import VULNERABLE_JS, make_polyglot_project, write
from tests.skill_runner import execute_steps


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(advisories, "OSV_API_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setattr(npm_audit, "NPM", "npm-is-not-installed-here")


def rules_by_line(findings: list, path: str) -> list[tuple[int, str]]:
    return [(f.line, f.rule) for f in findings if f.path == path]


def test_javascript_rules_fire_on_dangerous_code_and_not_on_its_safe_twin(tmp_path: Path) -> None:
    write(tmp_path / "app.js", VULNERABLE_JS)

    findings = scan_code(tmp_path).findings

    assert rules_by_line(findings, "app.js") == [
        (8, "js-child-process-shell"),
        (9, "js-child-process-shell"),
        (10, "js-sql-concatenation"),
        (12, "js-sql-concatenation"),
        (13, "js-eval-dynamic"),
        (14, "js-tls-verification-disabled"),
        (15, "js-tls-verification-disabled"),
        (16, "js-weak-hash"),
        (17, "js-weak-cipher"),
        (18, "js-hardcoded-jwt-secret"),
        (19, "js-jwt-none-algorithm"),
        (20, "js-dom-html-injection"),
    ]
    assert all(f.details["cwe"].startswith("CWE-") and f.category == "code" for f in findings)


def test_rules_read_the_syntax_tree_not_the_text(tmp_path: Path) -> None:
    # The same words in comments and strings are not code; a regex over the text would flag them.
    write(tmp_path / "notes.js", '// exec(`ls ${dir}`) and eval(input) are forbidden here\nconst doc = "rejectUnauthorized: false";\n')
    write(tmp_path / "typed.ts", 'import { exec } from "child_process";\nconst dir: string = process.argv[2];\nexec(`du -sh ${dir}`);\n')

    findings = scan_code(tmp_path).findings

    assert [(f.path, f.line, f.rule) for f in findings] == [("typed.ts", 3, "js-child-process-shell")]


def test_a_file_that_does_not_parse_is_still_scanned_where_it_can_be(tmp_path: Path) -> None:
    write(tmp_path / "broken.js", 'const half = ;\neval(location.hash.slice(1));\n')

    assert [(f.line, f.rule) for f in scan_code(tmp_path).findings] == [(2, "js-eval-dynamic")]


def test_bandit_reports_python_issues_and_the_default_persona_drops_low_ones(tmp_path: Path) -> None:
    project = make_polyglot_project(tmp_path / "app")

    default = rules_by_line(scan_code(project).findings, "api/tasks.py")
    strict = rules_by_line(scan_code(project, strict=True).findings, "api/tasks.py")

    assert default == [(6, "bandit-B602"), (10, "bandit-B506")]
    assert strict == [(1, "bandit-B404"), (6, "bandit-B602"), (10, "bandit-B506")]


def test_code_findings_are_in_the_markdown_json_and_sarif_reports(tmp_path: Path) -> None:
    make_polyglot_project(tmp_path / "app")
    skill = load_builtin_catalog().get("security-audit")

    execute_steps(skill, {"projectPath": "app", "checkDependencies": False}, "full-stack", tmp_path)

    report = json.loads((tmp_path / "app" / "security-report.json").read_text())
    code = [f for f in report["findings"] if f["category"] == "code"]
    assert {f["path"] for f in code} == {"api/tasks.py", "server/app.js", "web/Comment.tsx"}
    assert report["checks"]["code"]["scanners"][1] == "skillworks JavaScript/TypeScript rules (tree-sitter)"
    assert report["checks"]["code"]["scanners"][0].startswith("bandit ")
    assert (report["checks"]["code"]["pythonFiles"], report["checks"]["code"]["javascriptFiles"]) == (1, 2)
    markdown = (tmp_path / "app" / "security-report.md").read_text()
    assert "dangerouslySetInnerHTML with content that is not a literal" in markdown
    assert "`web/Comment.tsx:3`" in markdown
    sarif = json.loads((tmp_path / "app" / "security-report.sarif").read_text())
    results = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in sarif["runs"][0]["results"]}
    assert ("react-dangerously-set-inner-html", "web/Comment.tsx") in results
    assert ("bandit-B602", "api/tasks.py") in results
    # The token is written twice: one finding, both lines.
    [token] = [f for f in report["findings"] if f["path"] == "deploy/env.sh"]
    assert token["details"]["lines"] == [1, 2]
