"""Third-party skills end to end: published to the running marketplace, installed, hot-loaded,
run sandboxed through the API and a Prefect deployment, rolled back, upgraded and back, and
uninstalled without a trace; conflicts refused before anything is installed; dev folders.

Everything here uses the session's facade and serving process (one skillworks home), as a user
of ``skillworks up`` would; downloads are cached under ``.cache/skillworks`` across sessions.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from blocks.settings import installed_skills_root
from tests.conftest import THIRD_PARTY_SKILLS
from tests.marketplace_support import Publisher, skill_folder
from tests.test_execution_stream import execute, unique
from tests.tree import tree_fingerprint

SKILLWORKS = Path(sys.executable).parent / "skillworks"
HOT_LOAD_SECONDS = 1.0
# Registering or deleting a deployment is a call to the Prefect server, slower on a busy machine.
DEPLOYMENT_SECONDS = 20.0


@pytest.fixture(scope="module")
def publisher(facade: str, api: httpx.Client) -> Publisher:
    # The session facade is open (no token): its callers are the marketplace's admin.
    created = api.post("/api/marketplace/tokens", json={"name": f"third-party-{uuid.uuid4().hex[:6]}", "role": "publisher"})
    assert created.status_code == 201, created.text
    return Publisher(facade, created.json()["token"])


@pytest.fixture(scope="module")
def clean_sample(publisher: Publisher, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """clean-sample 1.0.0 and 1.1.0 published (each scanned active); their sha256 by version."""
    digests = {}
    for version in ("1.0.0", "1.1.0"):
        folder = tmp_path_factory.mktemp(f"clean-{version}") / "clean-sample"
        shutil.copytree(THIRD_PARTY_SKILLS / "clean-sample", folder)
        set_front(folder, version=version)
        digests[version] = publish_active(publisher, folder)
    return digests


def set_front(folder: Path, **changes: Any) -> None:
    _, front, body = (folder / "SKILL.md").read_text().split("---", 2)
    merged = {**yaml.safe_load(front), **changes}
    (folder / "SKILL.md").write_text(f"---\n{yaml.safe_dump(merged, sort_keys=False)}---{body}")


def publish_active(publisher: Publisher, folder: Path) -> str:
    published = publisher.publish(folder)
    assert published.status_code == 201, published.text
    assert published.json()["status"] == "active", published.json()
    return published.json()["sha256"]


def skillworks(facade: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SKILLWORKS), *arguments, *(["--api", facade] if arguments[0] != "dev" or len(arguments) > 1 else [])],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "240"})


def wait_for(condition: Any, seconds: float, what: str) -> float:
    """Poll ``condition`` until true; how long it took."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, f"{what} not within {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - started


def deployment_exists(skill_id: str) -> bool:
    response = httpx.get(f"{os.environ['PREFECT_API_URL']}/deployments/name/{skill_id}/{skill_id}")
    return response.status_code == 200


def metadata(api: httpx.Client, skill_id: str) -> dict[str, Any] | None:
    response = api.get("/api/skill-metadata", params={"skill": skill_id})
    return response.json() if response.status_code == 200 else None


def installed_traces(skill_id: str) -> list[str]:
    root = installed_skills_root()
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if skill_id in p.name) if root.exists() else []


@pytest.fixture
def uninstalled_after(api: httpx.Client) -> Iterator[list[str]]:
    """Skill ids to uninstall when the test ends, whatever happened."""
    ids: list[str] = []
    yield ids
    for skill_id in ids:
        api.delete(f"/api/marketplace/skills/{skill_id}/install")


def test_a_clean_skill_is_installed_run_sandboxed_rolled_back_and_uninstalled_without_trace(
    api: httpx.Client, clean_sample: dict[str, str], workspace: Path, uninstalled_after: list[str]
) -> None:
    uninstalled_after.append("clean-sample")
    before = tree_fingerprint(workspace)
    name = unique("clean")
    request = {"skillId": "clean-sample", "parameters": {"projectName": name, "title": "shop front"}, "level": "expert"}

    installed = api.post("/api/marketplace/skills/clean-sample/install", json={"version": "1.0.0"})
    assert installed.status_code == 201, installed.text
    assert installed.json()["python"] == ["inflection==0.5.1"] and installed.json()["npm"] == ["is-number@7.0.0"]
    skill = metadata(api, "clean-sample")
    assert skill is not None
    assert (skill["source"], skill["trust"], skill["version"], skill["sandboxed"]) == ("installed", "signed", "1.0.0", True)
    assert skill["digest"] == clean_sample["1.0.0"] and skill["publisher"].startswith("third-party-")
    wait_for(lambda: deployment_exists("clean-sample"), DEPLOYMENT_SECONDS, "the serving process registering clean-sample")

    dry = api.post("/api/validate-skill", json=request).json()
    assert dry["valid"], dry["errors"]
    preview = dry["dryRunPreview"]
    assert preview["files"] == [f"{name}/README.md", f"{name}/names.txt", f"{name}/where.txt", f"{name}/node.txt"]
    assert preview["commands"][0].startswith("node -e const isNumber = require('is-number')")
    assert tree_fingerprint(workspace) == before

    events = execute(api, request)
    assert events[-1][1]["type"] == "complete", events[-1]
    project = workspace / name
    assert (project / "README.md").read_text() == f"# Shop Front\n\nMade by the Clean Sample skill for {name}.\n"
    assert (project / "names.txt").read_text() == "clean_sample_project\n"  # its own venv's inflection
    assert (project / "node.txt").read_text() == "true\n"  # its own node_modules' is-number
    environment = installed_skills_root() / ".envs" / f"clean-sample-{clean_sample['1.0.0'][:16]}" / "venv"
    assert (project / "where.txt").read_text() == f"python environment {environment}\n"  # its own, not skillworks'

    rolled_back = api.post("/api/rollback", json={"rollbackToken": events[-1][1]["rollbackToken"]})
    assert rolled_back.status_code == 200, rolled_back.text
    assert tree_fingerprint(workspace) == before

    removed = api.delete("/api/marketplace/skills/clean-sample/install")
    assert removed.status_code == 200, removed.text
    assert metadata(api, "clean-sample") is None
    assert installed_traces("clean-sample") == []
    wait_for(lambda: not deployment_exists("clean-sample"), DEPLOYMENT_SECONDS, "the serving process dropping clean-sample")


def test_upgrade_moves_to_the_newest_active_version_and_goes_back_with_the_cli(
    api: httpx.Client, facade: str, clean_sample: dict[str, str], uninstalled_after: list[str]
) -> None:
    uninstalled_after.append("clean-sample")
    first = skillworks(facade, "install", "clean-sample@1.0.0")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Installed clean-sample 1.0.0" in first.stdout and "signature verified" in first.stdout

    upgraded = skillworks(facade, "upgrade", "clean-sample")
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert "Upgraded clean-sample 1.1.0 (was 1.0.0)" in upgraded.stdout
    assert metadata(api, "clean-sample")["digest"] == clean_sample["1.1.0"]  # type: ignore[index]
    again = skillworks(facade, "upgrade", "clean-sample")
    assert again.returncode == 1 and "is the newest active version" in again.stderr

    back = skillworks(facade, "upgrade", "clean-sample", "--to", "1.0.0")
    assert back.returncode == 0, back.stdout + back.stderr
    assert metadata(api, "clean-sample")["version"] == "1.0.0"  # type: ignore[index]
    environments = [p for p in installed_traces("clean-sample") if p.startswith(".envs/")]
    assert environments == [f".envs/clean-sample-{clean_sample['1.0.0'][:16]}"]  # the 1.1.0 one was removed

    gone = skillworks(facade, "uninstall", "clean-sample")
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert installed_traces("clean-sample") == []


def test_conflicting_pins_are_refused_before_anything_is_installed_naming_both_sides(
    api: httpx.Client, publisher: Publisher, tmp_path: Path, uninstalled_after: list[str]
) -> None:
    old_pydantic = skill_folder(tmp_path, "old-pydantic-skill", "1.0.0", front={"dependencies": {"python": ["pydantic==1.10.21"], "npm": []}})
    new_node = skill_folder(tmp_path, "new-node-skill", "1.0.0", front={"requires": {"node": ">=18"}})
    old_node = skill_folder(tmp_path, "old-node-skill", "1.0.0", front={"requires": {"node": "<16"}})
    for folder in (old_pydantic, new_node, old_node):
        publish_active(publisher, folder)
    uninstalled_after.append("new-node-skill")
    before = tree_fingerprint(installed_skills_root())

    refused = api.post("/api/marketplace/skills/old-pydantic-skill/install")
    assert refused.status_code == 409, refused.text
    [conflict] = refused.json()["details"]["conflicts"]
    assert conflict["skill"] == "old-pydantic-skill 1.0.0" and conflict["wants"] == "pydantic==1.10.21"
    assert conflict["other"] == "skillworks' step API" and conflict["holds"].startswith("uses pydantic 2.")
    assert tree_fingerprint(installed_skills_root()) == before

    assert api.post("/api/marketplace/skills/new-node-skill/install").status_code == 201
    with_node = tree_fingerprint(installed_skills_root())
    refused = api.post("/api/marketplace/skills/old-node-skill/install")
    assert refused.status_code == 409, refused.text
    assert "old-node-skill 1.0.0 requires node <16, but the installed skill new-node-skill 1.0.0 requires node >=18" in refused.json()["error"]
    assert tree_fingerprint(installed_skills_root()) == with_node
    assert metadata(api, "old-node-skill") is None and metadata(api, "old-pydantic-skill") is None


def test_only_active_versions_install(api: httpx.Client, publisher: Publisher, tmp_path: Path) -> None:
    steps = "def create_folder(ctx):\n    ctx.workspace.make_dirs(ctx.target)\n\ndef write_greeting(ctx):\n    import urllib.request\n    urllib.request.urlopen('https://example.org', timeout=5)\n"
    published = publisher.publish(skill_folder(tmp_path, "untrusted-skill", "1.0.0", steps=steps))
    assert published.json()["status"] == "untrusted", published.json()

    refused = api.post("/api/marketplace/skills/untrusted-skill/install")

    assert refused.status_code == 409 and refused.json()["code"] == "not_active", refused.text
    assert installed_traces("untrusted-skill") == []


def test_a_dev_folder_hot_loads_runs_through_its_deployment_and_a_broken_edit_keeps_the_last_good_version(
    api: httpx.Client, facade: str, workspace: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "dev-greeter"
    shutil.copytree(THIRD_PARTY_SKILLS / "clean-sample", folder)
    set_front(folder, id="dev-greeter", name="Dev Greeter", dependencies={"python": [], "npm": []},
              steps=[{"id": "create-folder", "name": "Create Project Folder", "critical": True}])
    registered = skillworks(facade, "dev", str(folder))
    try:
        assert registered.returncode == 0, registered.stdout + registered.stderr
        assert "loaded dev-greeter 1.0.0 (sandboxed" in registered.stdout
        assert metadata(api, "dev-greeter")["source"] == "dev"  # type: ignore[index]
        wait_for(lambda: deployment_exists("dev-greeter"), DEPLOYMENT_SECONDS, "the serving process registering dev-greeter")
        name = unique("dev")
        events = execute(api, {"skillId": "dev-greeter", "parameters": {"projectName": name}, "level": "expert"})
        assert events[-1][1]["type"] == "complete", events[-1]
        assert (workspace / name).is_dir()

        set_front(folder, version="1.0.1")
        wait_for(lambda: metadata(api, "dev-greeter")["version"] == "1.0.1", HOT_LOAD_SECONDS, "the edit")  # type: ignore[index]

        (folder / "SKILL.md").write_text("---\nid: dev-greeter\nname: [unclosed\n---\n")
        wait_for(lambda: api.get("/api/skill-metadata").json()["problems"], HOT_LOAD_SECONDS, "the broken edit reported")
        [problem] = api.get("/api/skill-metadata").json()["problems"]
        assert problem["skillId"] == "dev-greeter" and problem["servingPrevious"] and "not valid YAML" in problem["error"]
        assert metadata(api, "dev-greeter")["version"] == "1.0.1"  # type: ignore[index]
        events = execute(api, {"skillId": "dev-greeter", "parameters": {"projectName": unique("dev")}, "level": "expert"})
        assert events[-1][1]["type"] == "complete", events[-1]
    finally:
        stopped = skillworks(facade, "dev", str(folder), "--stop")
    assert stopped.returncode == 0 and "Stopped serving" in stopped.stdout
    wait_for(lambda: metadata(api, "dev-greeter") is None, HOT_LOAD_SECONDS, "the folder dropped")
    wait_for(lambda: not deployment_exists("dev-greeter"), DEPLOYMENT_SECONDS, "the serving process dropping dev-greeter")
