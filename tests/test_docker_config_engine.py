"""Docker Configuration against a real engine: build the image, start it, check it, roll it back.

The engine is the ``docker_host`` fixture's (Podman's Docker-compatible API unless
DOCKER_HOST answers). No registry is reachable here, so the projects are "already built"
(``baseImage``): a shell script served by busybox ``httpd``, on a base image the test
builds ``FROM scratch`` with the machine's static busybox.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from skills.catalog import load_builtin_catalog
from skills.definition import SkillDefinition
from skills.errors import StepError
from skills.journal import ExecutionJournal
from tests.skill_runner import dry_run, execute_steps, files_on_disk
from tests.tree import tree_fingerprint

BUSYBOX = Path("/bin/busybox")  # Debian's busybox-static (make install)
BASE_IMAGE = "skillworks-test/busybox:1"


@pytest.fixture(scope="module")
def skill() -> SkillDefinition:
    return load_builtin_catalog().get("docker-config")


@pytest.fixture(scope="module")
def engine(docker_host: str) -> Iterator[docker.DockerClient]:
    client = docker.DockerClient(base_url=docker_host)
    yield client
    client.close()


@pytest.fixture(scope="module")
def busybox_base(engine: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``FROM scratch`` plus the static busybox with its applets (sh, httpd, wget) linked into /bin."""
    context = tmp_path_factory.mktemp("busybox-base")
    shutil.copy(BUSYBOX, context / "busybox")
    (context / "Dockerfile").write_text(
        'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
    )
    image, _ = engine.images.build(path=str(context), tag=BASE_IMAGE, rm=True)
    yield BASE_IMAGE
    engine.images.remove(image.id, force=True)


def make_project(root: Path, folder: str, server_script: str) -> Path:
    """A prebuilt "Go" project: the executable ``server`` and the files it serves."""
    project = root / folder
    (project / "www").mkdir(parents=True)
    (project / "www" / "health").write_text("ok\n")
    (project / "server").write_text(server_script)
    (project / "server").chmod(0o755)
    return project


def unique(name: str) -> str:
    """A project (and so image) name no earlier run left an image under: its build is new."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def parameters(folder: str, base_image: str) -> dict[str, Any]:
    return {"projectPath": folder, "appType": "Go", "baseImage": base_image, "includeDatabase": False}


def test_builds_and_starts_the_image_then_rollback_removes_it_and_the_files(
    skill: SkillDefinition, engine: docker.DockerClient, busybox_base: str, tmp_path: Path
) -> None:
    name = unique("web")
    project = make_project(tmp_path, name, "#!/bin/sh\nexec httpd -f -p 8080 -h /app/www\n")
    before = tree_fingerprint(tmp_path)
    values = parameters(name, busybox_base)
    plan = dry_run(skill, values, "security", tmp_path)
    logs: list[str] = []

    execution = execute_steps(skill, values, "security", tmp_path, logs=logs)

    assert [step.status for step in plan.steps] == ["run"] * 7
    assert set(plan.files) == execution.files == files_on_disk(project) - {f"{name}/server", f"{name}/www/health"}
    assert plan.persona_changes == execution.persona_changes
    assert "the container check runs read-only, without capabilities, as compose will" in plan.persona_changes
    outputs = execution.context.outputs
    image_id = outputs["build-image"]["imageId"]
    assert any(f"FROM {busybox_base}" in line for line in logs), logs
    assert engine.images.get(f"{name}:latest").id == image_id
    assert outputs["test-container"]["status"] == "answered"
    assert "Healthcheck answered: wget -q --spider http://127.0.0.1:8080/health" in logs
    assert engine.containers.list(all=True, filters={"ancestor": image_id}) == []

    report = execution.journal.undo()

    assert f"docker image {image_id}" in report.deleted
    assert report.conflicts == []
    with pytest.raises(docker.errors.ImageNotFound):
        engine.images.get(image_id)
    assert tree_fingerprint(tmp_path) == before


def test_a_container_that_exits_fails_the_check_with_its_log(
    skill: SkillDefinition, engine: docker.DockerClient, busybox_base: str, tmp_path: Path
) -> None:
    name = unique("broken")
    make_project(tmp_path, name, "#!/bin/sh\necho 'cannot start: no config' >&2\nexit 3\n")

    with pytest.raises(StepError, match=r"^The container exited with code 3 before it was ready\.") as raised:
        execute_steps(skill, parameters(name, busybox_base), "full-stack", tmp_path, execution_id="broken")

    assert "cannot start: no config" in raised.value.message
    built = engine.images.get(f"{name}:latest")
    assert engine.containers.list(all=True, filters={"ancestor": built.id}) == []

    ExecutionJournal(tmp_path, "broken").undo()
    with pytest.raises(docker.errors.ImageNotFound):
        engine.images.get(built.id)


def test_without_an_engine_the_check_fails_with_suggestions(
    skill: SkillDefinition, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket = tmp_path / "no-engine.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket}")
    make_project(tmp_path, "web", "#!/bin/sh\n")

    with pytest.raises(StepError, match=rf"^No Docker Engine answers at unix://{socket}: ") as raised:
        execute_steps(skill, parameters("web", "busybox:1.37"), "full-stack", tmp_path)

    assert raised.value.suggestions[-1] == "Or run the skill with build=false to only write the Docker files."
    assert not (tmp_path / "web" / "Dockerfile").exists()
