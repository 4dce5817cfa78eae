"""Talking to a Docker Engine API through the Docker SDK for Python: connect, build, smoke-test, remove.

The engine is whatever ``DOCKER_HOST`` names (the SDK's ``docker.from_env()``; the default
is the local ``/var/run/docker.sock``). Podman's ``podman system service`` serves the same
API and works too. Every failure a user must act on is a ``DockerEngineError`` with
suggestions.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
from docker.constants import MINIMUM_DOCKER_API_VERSION
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.models.containers import Container
from requests import RequestException

from skills.errors import StepError

LineSink = Callable[[str], None]

DEFAULT_ENGINE_URL = "unix:///var/run/docker.sock"
_POLL_SECONDS = 1.0


class DockerEngineError(StepError):
    """The engine is unreachable, or refused a build, a start or a removal."""


@dataclass(frozen=True)
class EngineInfo:
    url: str
    name: str  # "Docker Engine", "Podman Engine", ...
    version: str
    api_version: str
    platform: str


@dataclass(frozen=True)
class ContainerCheck:
    """How a started container proved it works."""

    status: str  # "healthy": the engine ran its HEALTHCHECK; "answered": we ran it; "running": no HEALTHCHECK
    seconds: float


def engine_url() -> str:
    """Where the SDK will connect (read only to name it in messages; the SDK reads it itself)."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_ENGINE_URL


def connect(timeout: float = 60) -> docker.DockerClient:
    """A client for the engine at ``DOCKER_HOST``, checked with a ping."""
    try:
        client = docker.from_env(version=_api_version(timeout), timeout=int(timeout))
    except (DockerException, RequestException) as exc:
        raise DockerEngineError(
            f"No Docker Engine answers at {engine_url()}: {_reason(exc)}",
            [
                "Start Docker (Docker Desktop, or `sudo systemctl start docker`) and run the skill again.",
                "Or point DOCKER_HOST at a running engine, e.g. DOCKER_HOST=unix:///tmp/podman.sock after "
                "`podman system service --time=0 unix:///tmp/podman.sock`.",
                "Or run the skill with build=false to only write the Docker files.",
            ],
        ) from exc
    return client


def _api_version(timeout: float) -> str:
    """The engine's API version, from ``/_ping`` as the docker CLI negotiates it.

    The SDK's own negotiation asks ``/version``, which Podman answers in about two seconds.
    """
    with docker.from_env(version=MINIMUM_DOCKER_API_VERSION, timeout=int(timeout)).api as api:
        response = api.get(f"{api.base_url}/_ping")
        response.raise_for_status()
    return response.headers.get("Api-Version") or MINIMUM_DOCKER_API_VERSION


def describe_engine(client: docker.DockerClient) -> EngineInfo:
    version = client.version()
    components = [c.get("Name", "") for c in version.get("Components", [])]
    name = next((c for c in components if c.endswith("Engine")), "Docker Engine")
    return EngineInfo(
        url=engine_url(),
        name=name,
        version=str(version.get("Version", "")),
        api_version=str(version.get("ApiVersion", "")),
        platform=f"{version.get('Os', '')}/{version.get('Arch', '')}",
    )


def build_image(client: docker.DockerClient, context: Path, tag: str, on_line: LineSink) -> str:
    """Build ``context``'s Dockerfile as ``tag`` with the engine's build API; returns the image id.

    The build log is streamed line by line to ``on_line``; a failed build raises with its tail.
    """
    lines: list[str] = []
    image_id: str | None = None
    try:
        for chunk in client.api.build(path=str(context), tag=tag, rm=True, forcerm=True, decode=True):
            for line in str(chunk.get("stream", "")).splitlines():
                if line.strip():
                    lines.append(line)
                    on_line(line)
            if "error" in chunk or "errorDetail" in chunk:
                message = chunk.get("error") or chunk["errorDetail"].get("message", "")
                raise DockerEngineError(
                    f"Building the image failed: {message.strip()}\n" + "\n".join(lines[-15:]),
                    ["Read the build log above; fix the Dockerfile or the project and run the skill again."],
                )
            image_id = chunk.get("aux", {}).get("ID", image_id)
    except APIError as exc:
        raise DockerEngineError(f"The engine refused the build: {_reason(exc)}", _retry_suggestions()) from exc
    return image_id or client.images.get(tag).id


def check_container(
    client: docker.DockerClient, image_id: str, timeout: float, on_line: LineSink, **run_options: Any
) -> ContainerCheck:
    """Start ``image_id``, wait until it is healthy or answers its HEALTHCHECK, then stop and remove it.

    The container runs without a network (it needs none to answer a check run inside it,
    and publishes no port that could clash). ``run_options`` go to ``containers.run``
    (``read_only``, ``cap_drop``...), so the check runs under the hardening compose applies.
    """
    started = time.monotonic()
    try:
        container = client.containers.run(image_id, detach=True, network_mode="none", **run_options)
    except APIError as exc:
        raise DockerEngineError(f"The container did not start: {_reason(exc)}", _retry_suggestions()) from exc
    on_line(f"Started container {container.short_id} from {image_id[:19]}")
    try:
        status = _wait_until_working(container, started + timeout, on_line)
        return ContainerCheck(status, round(time.monotonic() - started, 1))
    finally:
        _stop_and_remove(container, on_line)


def _wait_until_working(container: Container, deadline: float, on_line: LineSink) -> str:
    healthcheck = (container.attrs.get("Config") or {}).get("Healthcheck") or {}
    probe = _probe_argv(healthcheck.get("Test") or [])
    while True:
        container.reload()
        state = container.attrs["State"]
        if state.get("Status") in ("exited", "dead"):
            raise DockerEngineError(
                f"The container exited with code {state.get('ExitCode')} before it was ready.\n{_log_tail(container)}",
                ["Run the image by hand (`docker run --rm IMAGE`) to see why it stops."],
            )
        health = (state.get("Health") or {}).get("Status")
        if health == "healthy":
            return "healthy"
        if health == "unhealthy":
            raise DockerEngineError(f"The container is unhealthy.\n{_log_tail(container)}", _health_suggestions())
        if probe is None and state.get("Running"):
            return "running"
        # Engines that schedule HEALTHCHECK through systemd timers (Podman without systemd)
        # never run it on their own; running the same command ourselves is the same check.
        if probe is not None and _probe_answers(container, probe):
            on_line(f"Healthcheck answered: {' '.join(probe)}")
            return "answered"
        if time.monotonic() >= deadline:
            raise DockerEngineError(
                f"The container was not healthy in time (health: {health or 'not reported'}).\n{_log_tail(container)}",
                _health_suggestions(),
            )
        time.sleep(_POLL_SECONDS)


def _probe_answers(container: Container, probe: list[str]) -> bool:
    try:
        return container.exec_run(probe).exit_code == 0
    except APIError:
        return False  # stopped since the last look: the next one reports how it exited


def _probe_argv(test: list[str]) -> list[str] | None:
    """The HEALTHCHECK test as an argv: ``["CMD", ...]`` or ``["CMD-SHELL", "cmd"]``; None for NONE."""
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", test[1]]
    return test[1:] if test[0] == "CMD" else test


def _stop_and_remove(container: Container, on_line: LineSink) -> None:
    try:
        container.remove(force=True)  # the check is over: a graceful stop would only add its timeout
    except NotFound:
        return
    on_line(f"Stopped and removed container {container.short_id}")


def _log_tail(container: Container) -> str:
    try:
        return container.logs(tail=20).decode("utf-8", errors="replace").strip()
    except APIError:
        return ""


def remove_image(image_id: str) -> bool:
    """Remove an image this skill built (for rollback); False if it is already gone.

    Not forced: an image someone tagged again, or a container uses, stays (the engine refuses).
    """
    client = connect()
    try:
        client.images.remove(image_id)
    except ImageNotFound:
        return False
    except APIError as exc:
        raise DockerEngineError(f"The engine kept image {image_id}: {_reason(exc)}") from exc
    finally:
        client.close()
    return True


def image_id_of(client: docker.DockerClient, reference: str) -> str | None:
    """The id of the image ``reference`` names, None if there is none."""
    try:
        return client.images.get(reference).id
    except ImageNotFound:
        return None


def _reason(exc: DockerException) -> str:
    if isinstance(exc, APIError) and exc.explanation:
        return str(exc.explanation)
    return str(exc)


def _retry_suggestions() -> list[str]:
    return [f"Check that the engine at {engine_url()} is healthy (`docker info`), then run the skill again."]


def _health_suggestions() -> list[str]:
    return [
        "Make the app answer its health endpoint (see HEALTHCHECK in the Dockerfile) within the step timeout.",
        "Read the container log above for the error that stopped it.",
    ]
