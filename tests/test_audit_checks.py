"""The audit's building blocks: OSV version ranges, manifest readers, the advisory download, trufflehog."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import httpx
import pytest

from skills.audit import advisories, advisory_import
from skills.audit.advisories import LocalOsvDatabase, PackageVersion
from skills.audit.advisory_import import update_advisory_database
from skills.audit.manifests import scan_manifests
from skills.audit.osv import affects, severity_of
from skills.audit.secrets import scan_secrets, scan_with_trufflehog
from skills.errors import AdvisoryDatabaseError
from tests.audit_fixtures import AWS_ACCESS_KEY, NPM_RECORDS, write


def npm_record(*events: dict[str, str], kind: str = "SEMVER") -> dict:
    return {"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "pkg"}, "ranges": [{"type": kind, "events": list(events)}]}]}


@pytest.mark.parametrize(
    ("version", "expected"),
    [("1.1.9", False), ("1.2.0-beta.1", False), ("1.2.0", True), ("1.9.9", True), ("2.0.0-rc.1", True), ("2.0.0", False)],
)
def test_semver_ranges_follow_semver_precedence_with_prereleases(version: str, expected: bool) -> None:
    record = npm_record({"introduced": "1.2.0"}, {"fixed": "2.0.0"})

    assert affects(record, "npm", "pkg", version) is expected


def test_last_affected_closes_a_range_after_that_version() -> None:
    record = npm_record({"introduced": "0"}, {"last_affected": "3.1.4"})

    assert [affects(record, "npm", "pkg", v) for v in ("0.0.1", "3.1.4", "3.1.5")] == [True, True, False]


def test_pypi_ranges_use_pep440_order() -> None:
    record = {"id": "P", "affected": [{"package": {"ecosystem": "PyPI", "name": "Some_Pkg"},
                                        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"fixed": "1.10"}]}]}]}

    # PEP 440: 1.9 < 1.10, and 1.10rc1 is before 1.10; names compare normalised.
    assert [affects(record, "PyPI", "some-pkg", v) for v in ("0.9", "1.9", "1.10rc1", "1.10", "1.10.post1")] == [
        False, True, True, False, False,
    ]


def test_withdrawn_and_git_only_records_affect_nothing() -> None:
    withdrawn = {**npm_record({"introduced": "0"}), "withdrawn": "2024-01-01T00:00:00Z"}
    git_only = npm_record({"introduced": "0"}, {"fixed": "abc123"}, kind="GIT")

    assert not affects(withdrawn, "npm", "pkg", "1.0.0")
    assert not affects(git_only, "npm", "pkg", "1.0.0")


def test_severity_comes_from_the_database_rating_else_from_cvss() -> None:
    assert severity_of({"database_specific": {"severity": "MODERATE"}}) == "medium"
    assert severity_of({"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}) == "critical"
    assert severity_of({"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:A/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N"}]}) == "medium"
    assert severity_of({"details": "no rating"}) is None


def test_python_manifests_and_lockfiles_are_read(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "svc"\ndependencies = ["Django==4.2.1", "requests"]\n'
                                         '[project.optional-dependencies]\ndev = ["pytest>=8"]\n')
    write(tmp_path / "uv.lock", 'version = 1\n[[package]]\nname = "svc"\nversion = "0.1.0"\nsource = { editable = "." }\n'
                                 '[[package]]\nname = "Django"\nversion = "4.2.1"\n')
    write(tmp_path / "legacy" / "pyproject.toml", '[tool.poetry.dependencies]\npython = "^3.11"\nflask = "2.2.0"\nrich = "*"\n')
    write(tmp_path / "legacy" / "poetry.lock", '[[package]]\nname = "flask"\nversion = "2.2.0"\n')

    scan = scan_manifests(tmp_path)

    assert [(d.source, d.name, d.spec, d.version, d.locked) for d in scan.dependencies] == [
        ("legacy/poetry.lock", "flask", "2.2.0", "2.2.0", True),
        ("uv.lock", "django", "4.2.1", "4.2.1", True),
        ("legacy/pyproject.toml", "flask", "2.2.0", "2.2.0", False),
        ("legacy/pyproject.toml", "rich", "*", None, False),
        ("pyproject.toml", "django", "==4.2.1", "4.2.1", False),
        ("pyproject.toml", "requests", "", None, False),
        ("pyproject.toml", "pytest", ">=8", None, False),
    ]
    assert scan.folders_without_lockfile == {}


def test_npm_lockfile_version_1_is_read_with_nested_dependencies(tmp_path: Path) -> None:
    lock = {"lockfileVersion": 1, "dependencies": {"a": {"version": "1.0.0", "dependencies": {"b": {"version": "2.0.0"}}}}}
    write(tmp_path / "package-lock.json", json.dumps(lock))

    assert [(d.name, d.version) for d in scan_manifests(tmp_path).dependencies] == [("a", "1.0.0"), ("b", "2.0.0")]


def test_requirements_lines_with_options_hashes_and_continuations(tmp_path: Path) -> None:
    write(tmp_path / "requirements-dev.txt", "-r requirements.txt\n--index-url https://example.org/simple\n"
                                              "Jinja2==2.10 \\\n    --hash=sha256:abc  # pinned\nhttps://example.org/x.whl\n")

    assert [(d.name, d.version, d.line) for d in scan_manifests(tmp_path).dependencies] == [("jinja2", "2.10", 3)]


def test_an_unreadable_manifest_is_reported_not_fatal(tmp_path: Path) -> None:
    write(tmp_path / "package.json", "{ not json")

    scan = scan_manifests(tmp_path)

    assert list(scan.unreadable) == ["package.json"]


def osv_archive(records: list[dict]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for record in records:
            archive.writestr(f"{record['id']}.json", json.dumps(record))
    return buffer.getvalue()


def test_advisory_update_stores_records_by_package_for_the_local_database(tmp_path: Path) -> None:
    # OSV's archive host is not reachable from this machine: a MockTransport serves an
    # archive in OSV's format instead, so the unpacking and the layout are real.
    def serve(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/npm/all.zip"
        return httpx.Response(200, content=osv_archive(NPM_RECORDS))

    counts = update_advisory_database(tmp_path, ["npm"], client=httpx.Client(transport=httpx.MockTransport(serve)))

    assert counts == {"npm": 2}
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json")) == [
        "npm/.skillworks-source.json",
        "npm/lodash/GHSA-35jh-r3h4-6jhm.json",
        "npm/minimist/GHSA-xvch-5gv4-984h.json",
    ]
    source = json.loads((tmp_path / "npm" / ".skillworks-source.json").read_text())
    assert (source["source"], source["records"]) == ("https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip", 2)
    found = LocalOsvDatabase(tmp_path).records_for([PackageVersion("npm", "lodash", "4.17.20")])
    assert [r["id"] for r in found[PackageVersion("npm", "lodash", "4.17.20")]] == ["GHSA-35jh-r3h4-6jhm"]


def test_advisory_update_fails_with_a_clear_error_when_osv_is_unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A closed local port stands for the archive host wherever the test runs.
    monkeypatch.setattr(advisory_import, "OSV_ARCHIVE_URL", "http://127.0.0.1:9/{ecosystem}/all.zip")

    with pytest.raises(AdvisoryDatabaseError, match="Could not download the PyPI advisories") as raised:
        update_advisory_database(tmp_path / "db", ["PyPI"])

    assert any("skillworks advisories import" in suggestion for suggestion in raised.value.suggestions)
    assert not (tmp_path / "db" / "pypi").exists()


def test_trufflehog_findings_are_added_masked_and_deduplicated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The trufflehog binary is not installed here: a stand-in prints truffleHog v3's JSON lines.
    project = tmp_path / "project"
    write(project / "app.py", f'key = "{AWS_ACCESS_KEY}"\n')
    write(project / "notes.txt", "slack webhook below\nxoxb-not-really\n")
    lines = [
        {"SourceMetadata": {"Data": {"Filesystem": {"file": str(project / "app.py"), "line": 1}}}, "DetectorName": "AWS", "Raw": AWS_ACCESS_KEY},
        {"SourceMetadata": {"Data": {"Filesystem": {"file": str(project / "notes.txt"), "line": 2}}}, "DetectorName": "Slack", "Raw": "xoxb-not-really"},
    ]
    binary = tmp_path / "bin" / "trufflehog"
    write(binary, "#!/bin/sh\ncat <<'EOF'\n" + "\n".join(map(json.dumps, lines)) + "\nEOF\n", mode=0o755)
    monkeypatch.setenv("PATH", f"{binary.parent}{os.pathsep}{os.environ['PATH']}")

    known = scan_secrets(project).findings
    extra = scan_with_trufflehog(project, timeout=10, known=known)

    assert [(f.rule, f.path, f.line) for f in known] == [("AWS Access Key", "app.py", 1)]
    assert [(f.rule, f.path, f.line, f.details["masked"]) for f in extra] == [("truffleHog Slack", "notes.txt", 2, "xox********")]


def test_advisories_update_command_reports_the_failure_and_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from service.cli import app

    monkeypatch.setattr(advisory_import, "OSV_ARCHIVE_URL", "http://127.0.0.1:9/{ecosystem}/all.zip")
    monkeypatch.setenv("SKILLWORKS_ADVISORY_DB", str(tmp_path))

    human = CliRunner().invoke(app, ["advisories", "update"])
    scripted = CliRunner().invoke(app, ["advisories", "update", "--json"])

    assert human.exit_code == 1 and "Error: Could not download the npm advisories" in human.stderr
    assert scripted.exit_code == 1 and scripted.stdout == ""
    assert json.loads(scripted.stderr)["error"].startswith("Could not download the npm advisories")


def test_osv_api_answers_are_used_when_it_is_reachable() -> None:
    # api.osv.dev is not reachable from this machine: a MockTransport answers as it does
    # (querybatch gives ids, /vulns/<id> the record), so the client code is exercised.
    def serve(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/querybatch":
            queries = json.loads(request.content)["queries"]
            return httpx.Response(200, json={"results": [
                {"vulns": [{"id": "GHSA-35jh-r3h4-6jhm"}]} if q["package"]["name"] == "lodash" else {} for q in queries
            ]})
        return httpx.Response(200, json=NPM_RECORDS[0])

    api = advisories.OsvApi(httpx.Client(transport=httpx.MockTransport(serve)))
    lodash, react = PackageVersion("npm", "lodash", "4.17.20"), PackageVersion("npm", "react", "19.0.0")

    assert {package: [r["id"] for r in records] for package, records in api.records_for([lodash, react]).items()} == {
        lodash: ["GHSA-35jh-r3h4-6jhm"]
    }
