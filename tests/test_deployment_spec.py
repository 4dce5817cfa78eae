"""Deployments generated from the catalog: prefect.yaml holds exactly the catalog's skills, and
``skillworks deployments`` writes any machine's catalog (built-in, local, installed) into it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from flows.deployment_spec import DeploymentSpecError, rewrite_prefect_yaml
from skills.catalog import CatalogSources, load_builtin_catalog, load_catalog
from tests.conftest import FIXTURE_SKILLS, REPO

SKILLWORKS = Path(sys.executable).parent / "skillworks"


def test_prefect_yaml_holds_the_deployments_generated_from_the_built_in_catalog() -> None:
    text = (REPO / "prefect.yaml").read_text()

    assert rewrite_prefect_yaml(text, load_builtin_catalog()) == text


def test_a_deployments_extras_are_merged_into_its_generated_entry() -> None:
    deployments = {d["name"]: d for d in yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]}

    assert deployments["security-audit"]["schedules"][0]["cron"] == "0 6 * * 1"
    assert deployments["security-audit"]["entrypoint"] == "flows.skill_flows.security_audit"
    assert "schedules" not in deployments["react-setup"]


def test_skillworks_deployments_writes_every_skill_of_the_catalog(tmp_path: Path) -> None:
    target = tmp_path / "prefect.yaml"
    shutil.copy(REPO / "prefect.yaml", target)
    environment = {**os.environ, "SKILLWORKS_SKILL_FOLDERS": str(FIXTURE_SKILLS)}

    written = subprocess.run([str(SKILLWORKS), "deployments", "--write", str(target)], capture_output=True, text=True,
                             env=environment, timeout=120)

    assert written.returncode == 0, written.stderr
    expected = load_catalog(CatalogSources(local_folders=(FIXTURE_SKILLS,)))
    names = [d["name"] for d in yaml.safe_load(target.read_text())["deployments"]]
    assert names[: len(expected.ids())] == expected.ids() and names[-1] == "rollback"
    assert target.read_text() == rewrite_prefect_yaml((REPO / "prefect.yaml").read_text(), expected)
    assert "<<: *extras_security_audit" in target.read_text()


def test_a_file_without_the_generated_section_is_refused_with_what_to_add() -> None:
    with pytest.raises(DeploymentSpecError) as refused:
        rewrite_prefect_yaml("deployments: []\n", load_builtin_catalog())

    assert "BEGIN skill deployments" in " ".join(refused.value.suggestions)
