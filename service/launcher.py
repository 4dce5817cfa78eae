"""``skillworks up``: a Prefect server, the process serving every skill, and the facade.

The three run as child processes, each in its own process group so a terminal's Ctrl-C
reaches only this launcher, which then stops them in reverse order (terminate, wait,
kill). If one dies, the others are stopped and its last log lines are shown.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prefect.settings import get_current_settings
from rich.console import Console
from rich.markup import escape

from blocks.settings import (
    environment_variable,
    environment_with,
    load_settings,
    register_blocks,
)
from skills.catalog import load_builtin_catalog
from skills.errors import UserMessageError

STARTUP_SECONDS = 120.0
STOP_SECONDS = 10.0
_TAIL_LINES = 40


class LaunchRefused(UserMessageError):
    """``skillworks up`` will not start with these options."""


class LaunchFailed(UserMessageError):
    """The stack could not start, or one of its processes died."""


@dataclass
class ChildProcess:
    """One child: its output is echoed with a name prefix and its last lines kept."""

    name: str
    process: subprocess.Popen[str]
    stop_signal: int = signal.SIGTERM
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=_TAIL_LINES))

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            lines = "\n".join(self.tail) or "(no output)"
            raise LaunchFailed(f"{self.name} exited with code {self.process.returncode}. Its last lines:\n{lines}")

    def stop(self) -> None:
        """Ask the child to stop, kill it after a while, then clear up anything it left in its group."""
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait()
        # What the child started (the serving process's flow runs) shares its process group.
        self._signal_group(signal.SIGTERM)

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass


class SkillworksStack:
    """Everything ``skillworks up`` runs, from start to a clean stop."""

    def __init__(self, host: str, port: int, prefect_port: int, workspace: Path | None, console: Console) -> None:
        if not is_loopback(host) and not environment_variable("SKILLWORKS_API_TOKEN"):
            raise LaunchRefused(
                f"Refusing to bind the API to {host}: it runs commands on this machine, and without a token anyone "
                "who can reach it could.",
                ["Set SKILLWORKS_API_TOKEN (clients then send it as a bearer token), or bind 127.0.0.1."],
            )
        self.host = host
        self.port = port
        self.prefect_port = prefect_port
        self.workspace = workspace.expanduser().resolve() if workspace else None
        self.workspace_root = self.workspace
        self.console = console
        self.children: list[ChildProcess] = []
        self.prefect_api_url = environment_variable("PREFECT_API_URL")
        self.prefect_ui_url = environment_variable("PREFECT_UI_URL")

    def run(self) -> None:
        """Start everything, then wait for Ctrl-C / SIGTERM; raises ``LaunchFailed`` if a child dies."""
        # Ctrl-C even when started with SIGINT ignored (a background job); children then reset it too.
        previous = signal.signal(signal.SIGINT, signal.default_int_handler), signal.signal(signal.SIGTERM, _interrupt)
        try:
            self._start()
            self._announce()
            while True:
                for child in self.children:
                    child.check_alive()
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.console.print("\nStopping skillworks…")
        finally:
            # A second Ctrl-C must not interrupt the stopping itself.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            self._stop_all()
            signal.signal(signal.SIGINT, previous[0])
            signal.signal(signal.SIGTERM, previous[1])

    def _start(self) -> None:
        if not _can_bind(self.host, self.port):
            raise LaunchFailed(
                f"Port {self.port} on {self.host} is already in use (another `skillworks up`?).",
                ["Stop what uses it, or choose another port with --port."],
            )
        if self.prefect_api_url is None:
            self._start_prefect_server()
        elif not _answers(f"{self.prefect_api_url}/health"):
            raise LaunchFailed(
                f"The Prefect server PREFECT_API_URL names ({self.prefect_api_url}) does not answer.",
                ["Start it, or unset PREFECT_API_URL to let `skillworks up` start one."],
            )
        assert self.prefect_api_url is not None
        self.prefect_ui_url = self.prefect_ui_url or self.prefect_api_url.removesuffix("/api")
        self._register_blocks()
        overrides = {"PREFECT_API_URL": self.prefect_api_url, "PREFECT_UI_URL": self.prefect_ui_url}
        if self.workspace:
            self.workspace.mkdir(parents=True, exist_ok=True)
            overrides["SKILLWORKS_WORKSPACE"] = str(self.workspace)
        # Prefect's runner stops cleanly on Ctrl-C (SIGINT); its SIGTERM handler is noisy.
        self._spawn(
            "serve", [sys.executable, "-m", "flows"], {**overrides, "PREFECT_RUNNER_POLL_FREQUENCY": "1"}, signal.SIGINT
        )
        self._wait_for_deployments()
        facade = self._spawn(
            "api",
            [
                sys.executable, "-m", "uvicorn", "--factory", "service.app:create_app",
                "--host", self.host, "--port", str(self.port), "--no-access-log",
            ],
            overrides,
        )
        token = environment_variable("SKILLWORKS_API_TOKEN")
        self._wait_until_ok(
            f"http://{_url_host(self.host)}:{self.port}/api/skill-metadata",
            facade,
            headers={"Authorization": f"Bearer {token}"} if token else {},
        )

    def _start_prefect_server(self) -> None:
        url = f"http://127.0.0.1:{self.prefect_port}/api"
        if _answers(f"{url}/health"):
            self.console.print(f"Using the Prefect server already running at {url}")
        else:
            # Prefect creates its home but not missing parents (PREFECT_HOME=/new/dir/prefect).
            get_current_settings().home.mkdir(parents=True, exist_ok=True)
            server = self._spawn(
                "prefect",
                [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(self.prefect_port)],
                {},
                signal.SIGINT,
            )
            self._wait_until_ok(f"{url}/health", server)
        self.prefect_api_url = url

    def _register_blocks(self) -> None:
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: self.prefect_api_url}):
            asyncio.run(register_blocks())
            if self.workspace_root is None:
                self.workspace_root = asyncio.run(load_settings(refresh=True)).workspace_root

    def _wait_for_deployments(self) -> None:
        """Until the serving process has registered a deployment per skill."""
        expected = len(load_builtin_catalog().ids())
        serving = self.children[-1]
        query = {"deployments": {"tags": {"all_": ["skillworks"]}}}
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            serving.check_alive()
            try:
                response = httpx.post(f"{self.prefect_api_url}/deployments/count", json=query, timeout=5)
                if response.status_code == 200 and response.json() >= expected:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise LaunchFailed(f"serve did not register the skills' deployments within {STARTUP_SECONDS:g} s")

    def _spawn(
        self, name: str, argv: list[str], overrides: dict[str, str], stop_signal: int = signal.SIGTERM
    ) -> ChildProcess:
        process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            env=environment_with(overrides),
            start_new_session=True,
        )
        child = ChildProcess(name, process, stop_signal)
        threading.Thread(target=self._echo, args=(child,), name=f"echo-{name}", daemon=True).start()
        self.children.append(child)
        return child

    def _echo(self, child: ChildProcess) -> None:
        assert child.process.stdout is not None
        for line in child.process.stdout:
            line = line.rstrip()
            child.tail.append(line)
            self.console.print(f"[dim]{child.name:>7} │ {escape(line)}[/]")

    def _wait_until_ok(self, url: str, child: ChildProcess, headers: dict[str, str] | None = None) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            child.check_alive()
            if _answers(url, headers):
                return
            time.sleep(0.3)
        raise LaunchFailed(f"{child.name} did not answer {url} within {STARTUP_SECONDS:g} s")

    def _announce(self) -> None:
        base = f"http://{_url_host(self.host)}:{self.port}"
        self.console.print(
            "\n[bold green]skillworks is up[/]\n"
            f"  dashboard   {base}/\n"
            f"  API         {base}/api  (docs at {base}/docs)\n"
            f"  Prefect UI  {self.prefect_ui_url}\n"
            f"  workspace   {self.workspace_root}\n"
            "Press Ctrl-C to stop.\n"
        )

    def _stop_all(self) -> None:
        for child in reversed(self.children):
            child.stop()


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the API on this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    """Where a client on this machine reaches a server bound to ``host``."""
    if host in ("0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _can_bind(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _answers(url: str, headers: dict[str, str] | None = None) -> bool:
    try:
        return httpx.get(url, headers=headers, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
