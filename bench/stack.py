"""Start ``skillworks up`` on temporary ports and folders for a benchmark, and stop it after."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import httpx


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RunningStack(NamedTuple):
    base: str  # the API's base URL
    workspace: Path
    prefect_api: str
    pid: int  # the `skillworks up` launcher; its descendants are the whole stack
    environment: dict[str, str]  # what another process needs to join it (a second facade)


def wait_until_serving(base: str, process: subprocess.Popen[bytes], seconds: float, log: Callable[[], str]) -> None:
    """Until the API at ``base`` answers; raise with ``log()`` if ``process`` exits or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/api/skill-metadata", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(log())
        time.sleep(0.5)


@contextmanager
def running_stack() -> Iterator[tuple[str, Path, str]]:
    """Yield the API's base URL, the workspace and the Prefect API URL of a fresh ``skillworks up``
    (SQLite, loopback)."""
    with running_stack_process() as stack:
        yield stack.base, stack.workspace, stack.prefect_api


@contextmanager
def running_stack_process(environment: dict[str, str] | None = None) -> Iterator[RunningStack]:
    """A fresh ``skillworks up`` (SQLite, loopback, temporary folders) with ``environment`` added."""
    home = Path(tempfile.mkdtemp(prefix="skillworks-bench-"))
    workspace = home / "workspace"
    api_port, prefect_port = _free_port(), _free_port()
    own = {
        "PREFECT_HOME": str(home / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "SKILLWORKS_HOME": str(home / "skillworks"), **(environment or {}),
    }
    environment = {**os.environ, **own}
    environment.pop("PREFECT_API_URL", None)
    skillworks = Path(sys.executable).with_name("skillworks")
    process = subprocess.Popen(
        [str(skillworks), "up", "--port", str(api_port), "--prefect-port", str(prefect_port), "--workspace", str(workspace)],
        env=environment, stdout=(home / "up.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{api_port}"
    try:
        wait_until_serving(base, process, 120, lambda: (home / "up.log").read_text()[-3000:])
        prefect_api = f"http://127.0.0.1:{prefect_port}/api"
        joined = {**own, "PREFECT_API_URL": prefect_api, "SKILLWORKS_WORKSPACE": str(workspace)}
        yield RunningStack(base, workspace, prefect_api, process.pid, joined)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
