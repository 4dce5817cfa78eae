"""The SARIF report validates against OASIS' SARIF 2.1.0 schema (vendored: tests/schemas/README.md says from where)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from skills.audit import advisories, npm_audit
from skills.catalog import load_builtin_catalog
from tests.audit_fixtures import make_polyglot_project, make_shop_project, write_advisory_db
from tests.skill_runner import execute_steps

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text())


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(advisories, "OSV_API_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setattr(npm_audit, "NPM", "npm-is-not-installed-here")


def sarif_of(workspace: Path, project: str, advisory_db: Path) -> dict:
    skill = load_builtin_catalog().get("security-audit")
    execute_steps(skill, {"projectPath": project, "checkPermissions": True}, "security", workspace, settings={"advisory_db": advisory_db})
    return json.loads((workspace / project / "security-report.sarif").read_text())


def test_sarif_with_every_kind_of_finding_validates_against_the_sarif_2_1_0_schema(tmp_path: Path) -> None:
    make_shop_project(tmp_path / "shop")
    make_polyglot_project(tmp_path / "shop" / "services")
    sarif = sarif_of(tmp_path, "shop", write_advisory_db(tmp_path / "advisories"))

    jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER).validate(sarif)

    results = sarif["runs"][0]["results"]
    tags = {tag for rule in sarif["runs"][0]["tool"]["driver"]["rules"] for tag in rule["properties"]["tags"]}
    assert {"dependency", "secret", "code", "permission", "external/cwe/cwe-78"} <= tags
    assert any(r.get("properties") == {"severity": "unrated"} and r["level"] == "error" for r in results)
    assert any("relatedLocations" in r for r in results)  # a secret written on two lines


def test_the_schema_rejects_a_broken_sarif_document(tmp_path: Path) -> None:
    # The validation above means something only if the schema catches mistakes.
    make_shop_project(tmp_path / "shop")
    sarif = sarif_of(tmp_path, "shop", write_advisory_db(tmp_path / "advisories"))
    sarif["runs"][0]["results"][0]["level"] = "fatal"

    with pytest.raises(jsonschema.ValidationError, match="fatal"):
        jsonschema.Draft4Validator(SCHEMA).validate(sarif)
