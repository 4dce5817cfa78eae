"""Dependencies: severities from aliases, yarn and pnpm lockfiles, OSV imports, end-of-life lines, npm audit."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest
import yaml

from skills.audit import advisories, npm_audit
from skills.audit.advisories import SOURCE_FILE, LocalOsvDatabase
from skills.audit.advisory_import import import_advisories
from skills.audit.dependencies import NO_EXACT_VERSION, audit_dependencies
from skills.audit.end_of_life import end_of_life_findings
from skills.audit.manifests import scan_manifests
from skills.errors import AdvisoryDatabaseError
from tests.audit_fixtures import NPM_RECORDS, pypa_advisories, write

GHSA_PYYAML = {
    "id": "GHSA-3pqx-4fqf-j49f",
    "summary": "PyYAML Arbitrary Code Execution",
    "aliases": ["CVE-2019-20477"],
    "modified": "2024-09-30T12:00:00Z",
    "affected": [{"package": {"ecosystem": "PyPI", "name": "pyyaml"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "5.1"}, {"fixed": "5.2"}]}]}],
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
}


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(advisories, "OSV_API_URL", "http://127.0.0.1:9/v1")


def test_an_unrated_advisory_takes_the_severity_of_an_alias_the_database_holds(tmp_path: Path) -> None:
    database = tmp_path / "db"
    shutil.copytree(pypa_advisories() / "vulns" / "pyyaml", database / "pypi" / "pyyaml")
    write(database / "pypi" / "pyyaml" / "GHSA-3pqx-4fqf-j49f.json", json.dumps(GHSA_PYYAML))
    write(tmp_path / "app" / "requirements.txt", "PyYAML==5.1\n")

    audit = audit_dependencies(tmp_path / "app", [LocalOsvDatabase(database)])

    rated = {f.rule: (f.severity, f.details["ratedBy"]) for f in audit.findings if f.rule.startswith(("PYSEC", "GHSA"))}
    assert rated["PYSEC-2020-176"] == ("critical", "GHSA-3pqx-4fqf-j49f")  # PyPA rates nothing; its GHSA alias does
    assert rated["PYSEC-2021-142"] == ("unrated", None)  # its alias is not in this database
    assert audit.data_date == "2024-09-30"


def test_yarn_v1_yarn_berry_and_pnpm_lockfiles_are_read(tmp_path: Path) -> None:
    write(tmp_path / "v1" / "yarn.lock", '# yarn lockfile v1\n\n\n"@babel/core@^7.0.0", "@babel/core@^7.12.0":\n'
                                         '  version "7.12.3"\n  resolved "https://registry.yarnpkg.com/x"\n  dependencies:\n'
                                         '    lodash "^4.17.19"\n\nlodash@^4.17.19:\n  version "4.17.20"\n')
    write(tmp_path / "berry" / "yarn.lock", yaml.safe_dump({
        "__metadata": {"version": 6},
        "lodash@npm:^4.17.19": {"version": "4.17.20", "resolution": "lodash@npm:4.17.20"},
        "app@workspace:.": {"version": "0.0.0-use.local", "resolution": "app@workspace:."},
        "left-pad@patch:left-pad@npm%3A1.3.0#./p.patch": {"version": "1.3.0", "resolution": "left-pad@patch:left-pad@npm%3A1.3.0#./p.patch"},
    }))
    write(tmp_path / "pnpm5" / "pnpm-lock.yaml", "lockfileVersion: 5.4\npackages:\n  /minimist/1.2.5:\n    dev: false\n"
                                                 "  /@types/node/18.0.0_typescript@4.9.5:\n    dev: true\n")
    write(tmp_path / "pnpm6" / "pnpm-lock.yaml", "lockfileVersion: '6.0'\npackages:\n  /minimist@1.2.5:\n    dev: false\n"
                                                 "  /@vue/shared@3.3.4(typescript@5.0.0):\n    dev: false\n")
    write(tmp_path / "pnpm9" / "pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages:\n  minimist@1.2.5:\n    resolution: {integrity: x}\n"
                                                 "  link-dep@link:../x:\n    resolution: {directory: ../x}\nsnapshots:\n  minimist@1.2.5: {}\n")

    found = [(d.source, d.name, d.version, d.locked) for d in scan_manifests(tmp_path).dependencies]

    assert found == [
        ("berry/yarn.lock", "lodash", "4.17.20", True),
        ("pnpm5/pnpm-lock.yaml", "minimist", "1.2.5", True),
        ("pnpm5/pnpm-lock.yaml", "@types/node", "18.0.0", True),
        ("pnpm6/pnpm-lock.yaml", "minimist", "1.2.5", True),
        ("pnpm6/pnpm-lock.yaml", "@vue/shared", "3.3.4", True),
        ("pnpm9/pnpm-lock.yaml", "minimist", "1.2.5", True),
        ("v1/yarn.lock", "@babel/core", "7.12.3", True),
        ("v1/yarn.lock", "lodash", "4.17.20", True),
    ]


def test_a_yarn_project_is_matched_against_npm_advisories(tmp_path: Path) -> None:
    write(tmp_path / "app" / "package.json", json.dumps({"dependencies": {"lodash": "^4.17.19"}}))
    write(tmp_path / "app" / "yarn.lock", '# yarn lockfile v1\n\nlodash@^4.17.19:\n  version "4.17.20"\n')
    database = tmp_path / "db"
    for record in NPM_RECORDS:
        write(database / "npm" / record["affected"][0]["package"]["name"] / f"{record['id']}.json", json.dumps(record))

    audit = audit_dependencies(tmp_path / "app", [LocalOsvDatabase(database)])

    assert [(f.rule, f.path, f.severity) for f in audit.findings] == [("GHSA-35jh-r3h4-6jhm", "yarn.lock", "high")]
    assert audit.not_checked == {}


def test_the_audit_counts_what_it_could_not_check_and_why(tmp_path: Path) -> None:
    write(tmp_path / "app" / "package.json", json.dumps({"dependencies": {"express": "^4.18.0", "lodash": "4.17.20"}}))
    write(tmp_path / "app" / "requirements.txt", "requests==2.31.0\nflask>=2\n")

    audit = audit_dependencies(tmp_path / "app", [LocalOsvDatabase(tmp_path / "pypi-only")])
    write(tmp_path / "pypi-only" / "pypi" / "requests" / "X.json", json.dumps({"id": "X", "modified": "2024-01-01", "affected": []}))
    audit = audit_dependencies(tmp_path / "app", [LocalOsvDatabase(tmp_path / "pypi-only")])

    assert audit.not_checked == {NO_EXACT_VERSION: 2, "no advisory data for npm": 1}
    assert (audit.packages_pinned, audit.packages_checked, audit.ecosystems_covered) == (2, 1, ["PyPI"])


def osv_zip(records: list[dict]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for record in records:
            archive.writestr(f"{record['id']}.json", json.dumps(record))
    return buffer.getvalue()


def test_import_takes_an_osv_zip_and_records_where_the_data_came_from(tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    archive.write_bytes(osv_zip([{**record, "modified": "2025-01-0%d" % i} for i, record in enumerate(NPM_RECORDS, 1)]))

    counts = import_advisories(archive, tmp_path / "db")

    assert counts == {"npm": 2}
    source = json.loads((tmp_path / "db" / "npm" / SOURCE_FILE).read_text())
    assert (source["source"], source["records"], source["dataDate"]) == (str(archive.resolve()), 2, "2025-01-02")
    assert LocalOsvDatabase(tmp_path / "db").data_date() == "2025-01-02"


def test_import_takes_a_folder_of_osv_yaml_records(tmp_path: Path) -> None:
    counts = import_advisories(pypa_advisories() / "vulns" / "django", tmp_path / "db")

    database = LocalOsvDatabase(tmp_path / "db")
    assert counts["PyPI"] == len(list((pypa_advisories() / "vulns" / "django").glob("*.yaml")))
    assert database.ecosystems() == {"PyPI"}
    assert database.record("PYSEC-2021-98")["aliases"] == ["CVE-2021-33203", "GHSA-68w8-qjq3-2gfm"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        (b"not a zip", "neither a zip archive nor a folder"),
        (osv_zip([{"id": "GO-1", "affected": [{"package": {"ecosystem": "Go", "name": "x"}}]}]), "no OSV records for npm or PyPI"),
    ],
)
def test_a_bad_import_says_why_and_leaves_the_database_as_it_was(tmp_path: Path, content: bytes | None, message: str) -> None:
    database = tmp_path / "db"
    import_advisories(pypa_advisories() / "vulns" / "sqlparse", database)
    before = sorted(p.relative_to(database) for p in database.rglob("*"))
    source = tmp_path / "export.zip"
    if content is not None:
        source.write_bytes(content)

    with pytest.raises(AdvisoryDatabaseError, match=message):
        import_advisories(source, database)

    assert sorted(p.relative_to(database) for p in database.rglob("*")) == before


def test_the_cli_imports_an_export_into_the_configured_database(tmp_path: Path) -> None:
    archive = tmp_path / "npm-all.zip"
    archive.write_bytes(osv_zip(NPM_RECORDS))
    # A wide terminal: rich would wrap the error's long path (and the words the test looks for) at 80.
    environment = {**os.environ, "SKILLWORKS_ADVISORY_DB": str(tmp_path / "db"), "COLUMNS": "400"}
    cli = [str(Path(sys.executable).with_name("skillworks"))]  # the console script of this environment

    done = subprocess.run([*cli, "advisories", "import", str(archive)], env=environment, capture_output=True, text=True, timeout=120)
    failed = subprocess.run([*cli, "advisories", "import", str(tmp_path / "nope.zip")], env=environment, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert "npm: 2 advisories imported" in done.stdout
    assert (tmp_path / "db" / "npm" / "lodash" / "GHSA-35jh-r3h4-6jhm.json").is_file()
    assert failed.returncode == 2 and "does not exist" in failed.stderr  # invalid input: nothing was imported


def test_runtime_lines_past_their_end_of_life_are_found_in_the_files_that_pin_them(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", "FROM node:14-alpine AS build\nRUN npm ci\nFROM python:3.12-slim\n")
    write(tmp_path / ".python-version", "3.7.17\n")
    write(tmp_path / "web" / ".nvmrc", "v20.11.0\n")
    write(tmp_path / "web" / "package.json", json.dumps({"dependencies": {"react": "^16.14.0", "express": "3.21.2"}}))

    findings = end_of_life_findings(tmp_path, scan_manifests(tmp_path), today=date(2026, 12, 2))

    assert sorted((f.path, f.line, f.rule, f.details["product"], f.details["cycle"], f.severity) for f in findings) == [
        (".python-version", 1, "end-of-life", "Python", "3.7", "high"),
        ("Dockerfile", 1, "end-of-life", "Node.js", "14", "high"),
        ("web/.nvmrc", 1, "end-of-life", "Node.js", "20", "high"),
        ("web/package.json", 1, "end-of-active-support", "React", "16", "low"),
        ("web/package.json", 1, "end-of-life", "Express", "3", "high"),
    ]


def test_a_line_is_judged_by_the_date_of_the_audit(tmp_path: Path) -> None:
    write(tmp_path / ".nvmrc", "20\n")

    before = end_of_life_findings(tmp_path, scan_manifests(tmp_path), today=date(2026, 4, 29))
    after = end_of_life_findings(tmp_path, scan_manifests(tmp_path), today=date(2026, 4, 30))

    assert (before, [f.details["endOfLife"] for f in after]) == ([], ["2026-04-30"])


NPM_AUDIT_REPORT = {
    "auditReportVersion": 2,
    "vulnerabilities": {
        "lodash": {
            "name": "lodash", "severity": "high", "range": "<=4.17.20", "nodes": ["node_modules/lodash"],
            "via": [
                {"source": 1, "name": "lodash", "title": "Command Injection in lodash", "url": "https://github.com/advisories/GHSA-35jh-r3h4-6jhm",
                 "severity": "high", "range": "<4.17.21", "cvss": {"score": 7.2, "vectorString": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"}},
                {"source": 2, "name": "lodash", "title": "Regular Expression Denial of Service (ReDoS) in lodash",
                 "url": "https://github.com/advisories/GHSA-29mw-wpgm-hmr9", "severity": "moderate", "range": "<4.17.21", "cvss": {"score": 0}},
            ],
            "fixAvailable": {"name": "lodash", "version": "4.17.21", "isSemVerMajor": False},
        },
    },
}


def test_npm_audit_findings_join_the_osv_matchers_without_repeating_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # This machine's npm registry refuses the audit endpoint: a stand-in npm prints npm audit's JSON
    # (report version 2) so that the parsing and the merge are the product's own.
    from skills.catalog import load_builtin_catalog
    from tests.audit_fixtures import make_shop_project
    from tests.skill_runner import execute_steps

    make_shop_project(tmp_path / "shop")
    binary = tmp_path / "bin" / "npm"
    write(binary, "#!/bin/sh\ncat <<'EOF'\nnpm warn config something\n" + json.dumps(NPM_AUDIT_REPORT) + "\nEOF\nexit 1\n", mode=0o755)
    monkeypatch.setattr(npm_audit, "NPM", str(binary))
    database = tmp_path / "db"
    for record in NPM_RECORDS:
        write(database / "npm" / record["affected"][0]["package"]["name"] / f"{record['id']}.json", json.dumps(record))
    skill = load_builtin_catalog().get("security-audit")

    execute_steps(skill, {"projectPath": "shop", "checkSecrets": False, "checkCode": False}, "full-stack", tmp_path,
                  settings={"advisory_db": database})

    report = json.loads((tmp_path / "shop" / "security-report.json").read_text())
    lodash = [(f["rule"], f["severity"], f["details"].get("scanner")) for f in report["findings"] if f["details"].get("package") == "lodash"]
    assert lodash == [("GHSA-35jh-r3h4-6jhm", "high", None), ("GHSA-29mw-wpgm-hmr9", "medium", "npm audit")]
    assert report["checks"]["dependencies"]["scanners"] == ["skillworks OSV matcher", "npm audit"]
    assert "(checked with skillworks OSV matcher and npm audit)" in (tmp_path / "shop" / "security-report.md").read_text()


@pytest.mark.slow
def test_real_npm_audit_is_named_only_when_it_answered(tmp_path: Path) -> None:
    # The real npm against the real registry: here the registry refuses the audit endpoint, elsewhere it answers.
    write(tmp_path / "package.json", json.dumps({"name": "t", "version": "1.0.0", "dependencies": {"lodash": "4.17.20"}}))
    write(tmp_path / "package-lock.json", json.dumps({"name": "t", "lockfileVersion": 3, "packages": {
        "": {"name": "t", "dependencies": {"lodash": "4.17.20"}},
        "node_modules/lodash": {"version": "4.17.20", "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz"},
    }}))
    if not npm_audit.npm_available():
        pytest.skip("npm is not installed")

    result = npm_audit.run_npm_audit(tmp_path, timeout=120)

    if result.lockfiles:
        assert "GHSA-35jh-r3h4-6jhm" in {f.rule for f in result.findings}
    else:
        assert result.findings == [] and result.notes[0].startswith("npm audit could not check package-lock.json: ")


def test_an_imported_record_cannot_write_outside_the_database(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    evil = {"id": "EVIL-1", "affected": [{"package": {"ecosystem": "npm", "name": "../../../outside"}}]}
    archive.write_bytes(osv_zip([evil, NPM_RECORDS[0]]))

    counts = import_advisories(archive, tmp_path / "db")

    assert counts == {"npm": 1}
    assert sorted(p.name for p in tmp_path.rglob("*.json")) == [".skillworks-source.json", "GHSA-35jh-r3h4-6jhm.json"]
