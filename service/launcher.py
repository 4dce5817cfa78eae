"""``skillworks up``: a Prefect server, the process serving every skill, and the facade.

The three run as child processes, each in its own process group so a terminal's Ctrl-C
reaches only this launcher, which then stops them in reverse order (terminate, wait,
kill). If the Prefect server or the API dies, the others are stopped and its last log lines
are shown; the serving process, which runs the skills, is started again instead.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from blocks.settings import environment_variable, environment_with
from service.stack_setup import SetupFailure, StackSetup
from skills.errors import UserMessageError

STARTUP_SECONDS = 120.0
STOP_SECONDS = 10.0
RESTARTS = 5  # a supervised child that dies more often than this in a minute stops the stack
_TAIL_LINES = 40


class LaunchRefused(UserMessageError):
    """``skillworks up`` will not start with these options."""


class LaunchFailed(UserMessageError):
    """The stack could not start, or one of its processes died."""


@dataclass
class ChildProcess:
    """One child: its output is echoed with a name prefix and its last lines kept.

    A ``supervised`` child that dies is started again (at most ``RESTARTS`` times a minute):
    the serving process runs skills in-process, and a run that brings it down must not
    bring down the stack; the restarted process's recovery undoes the runs that died with it.
    """

    name: str
    argv: list[str]
    env: dict[str, str]
    echo: Callable[[ChildProcess], None]
    stop_signal: int = signal.SIGTERM
    supervised: bool = False
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=_TAIL_LINES))
    restarts: deque[float] = field(default_factory=lambda: deque(maxlen=RESTARTS))
    process: subprocess.Popen[str] = field(init=False)

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            text=True, bufsize=1, env=self.env, start_new_session=True,
        )
        threading.Thread(target=self.echo, args=(self,), name=f"echo-{self.name}", daemon=True).start()

    def check_alive(self) -> None:
        """Raise ``LaunchFailed`` if the child died, unless it is supervised and may start again."""
        if self.process.poll() is None:
            return
        lines = "\n".join(self.tail) or "(no output)"
        crashing = len(self.restarts) == RESTARTS and time.monotonic() - self.restarts[0] < 60
        if not self.supervised or crashing:
            raise LaunchFailed(f"{self.name} exited with code {self.process.returncode}. Its last lines:\n{lines}")
        self.restarts.append(time.monotonic())
        self.tail.append(f"(exited with code {self.process.returncode}; starting it again)")
        self.start()

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

    def __init__(
        self, host: str, port: int, prefect_port: int, workspace: Path | None, console: Console,
        ready: Callable[[dict[str, str]], None] | None = None,
    ) -> None:
        """``console`` shows progress and the servers' logs; ``ready``, when given, receives the
        addresses once everything answers (``skillworks up --json``) instead of the announcement."""
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
        self.ready = ready
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
        overrides = {"PREFECT_API_URL": self.prefect_api_url, "PREFECT_UI_URL": self.prefect_ui_url}
        skills = self._set_up(overrides)
        if self.workspace:
            self.workspace.mkdir(parents=True, exist_ok=True)
            overrides["SKILLWORKS_WORKSPACE"] = str(self.workspace)
        # The serving process stops cleanly on Ctrl-C (SIGINT).
        self._spawn("serve", [sys.executable, "-m", "flows"], overrides, signal.SIGINT, supervised=True)
        self._wait_for_deployments(skills)
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
            server = self._spawn(
                "prefect",
                [sys.executable, "-m", "service.prefect_server", "--host", "127.0.0.1", "--port", str(self.prefect_port)],
                embedded_server_settings(url),
                signal.SIGINT,
            )
            self._wait_until_ok(f"{url}/health", server)
        self.prefect_api_url = url

    def _set_up(self, overrides: dict[str, str]) -> int:
        """Blocks, the marketplace's database, the catalog (``service.stack_setup``, in a child
        process so this one stays small); returns how many skills the serving process will deploy."""
        try:
            done = subprocess.run(
                [sys.executable, "-m", "service.stack_setup"], env=environment_with(overrides),
                capture_output=True, text=True, timeout=STARTUP_SECONDS,
            )
        except subprocess.TimeoutExpired:
            raise LaunchFailed(
                f"Setting up skillworks (blocks, marketplace database) took longer than {STARTUP_SECONDS:g} s.",
                ["Check that the Prefect server and the marketplace database answer."],
            ) from None
        answer = (done.stdout.strip().splitlines() or [""])[-1]
        try:
            if done.returncode != 0:
                failure = SetupFailure.model_validate_json(answer)
                raise LaunchFailed(failure.error, failure.suggestions)
            setup = StackSetup.model_validate_json(answer)
        except ValidationError:  # it crashed instead of answering
            raise LaunchFailed(f"Setting up skillworks failed:\n{done.stderr.strip()[-3000:] or '(no output)'}") from None
        self.workspace_root = self.workspace or setup.workspace_root
        return setup.skills

    def _wait_for_deployments(self, expected: int) -> None:
        """Until the serving process has registered a deployment per skill."""
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
        self, name: str, argv: list[str], overrides: dict[str, str], stop_signal: int = signal.SIGTERM,
        supervised: bool = False,
    ) -> ChildProcess:
        child = ChildProcess(name, argv, environment_with(overrides), self._echo, stop_signal, supervised)
        child.start()
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
        if self.ready is not None:
            self.ready({
                "status": "up", "dashboard": f"{base}/", "api": f"{base}/api", "prefectUi": str(self.prefect_ui_url),
                "workspace": str(self.workspace_root),
            })
            return
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


def embedded_server_settings(api_url: str) -> dict[str, str]:
    """Settings of the Prefect server ``skillworks up`` starts.

    The UI asks the server where its API is, and the server answers from its settings, not
    from ``--port``: without these it would send the UI to port 4200. Events are stored
    every half second (instead of 5 s), so a client re-attaching to a run that just ended
    finds its last events stored.
    """
    return {
        "PREFECT_UI_API_URL": api_url,
        "PREFECT_SERVER_API_PORT": api_url.rsplit(":", 1)[1].split("/", 1)[0],
        "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL": "0.5",
    }


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
