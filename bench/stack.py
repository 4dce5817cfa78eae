"""Start ``skillworks up`` on temporary ports and folders for a benchmark, and stop it after."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_stack() -> Iterator[tuple[str, Path]]:
    """Yield the API's base URL and the workspace of a fresh ``skillworks up`` (SQLite, loopback)."""
    home = Path(tempfile.mkdtemp(prefix="skillworks-bench-"))
    workspace = home / "workspace"
    api_port, prefect_port = _free_port(), _free_port()
    environment = {**os.environ, "PREFECT_HOME": str(home / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    environment.pop("PREFECT_API_URL", None)
    skillworks = Path(sys.executable).with_name("skillworks")
    process = subprocess.Popen(
        [str(skillworks), "up", "--port", str(api_port), "--prefect-port", str(prefect_port), "--workspace", str(workspace)],
        env=environment, stdout=(home / "up.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{api_port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/api/skill-metadata", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((home / "up.log").read_text()[-3000:])
            time.sleep(0.5)
        yield base, workspace
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
