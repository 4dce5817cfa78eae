"""One real Prefect server, one serving process and one facade for the whole test session.

Everything lives under a temporary folder: ``PREFECT_HOME`` (so a user's ``~/.prefect`` is
never touched), the workspace, the servers' logs. Ports are free ones picked at start.
The environment is set in ``pytest_configure``, before anything imports Prefect.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from bench.postgres import SERVER as POSTGRES_SERVER
from bench.postgres import temporary_database

# Session fixtures kept in modules of their own, shared by the test modules that use them.
pytest_plugins = ["tests.observed_mix", "tests.browser"]

REPO = Path(__file__).resolve().parent.parent
SESSION_DIR = Path(tempfile.mkdtemp(prefix="skillworks-tests-"))
WORKSPACE = SESSION_DIR / "workspace"
NPM_CACHE = REPO / ".cache" / "npm"
# Test skills (slow steps, pauses, many files) served and listed beside the built-in ones.
FIXTURE_SKILLS = REPO / "tests" / "fixtures" / "skills"
# Third-party skills (a clean one, a hostile one): published, installed or served as dev folders.
THIRD_PARTY_SKILLS = REPO / "tests" / "fixtures" / "thirdparty"
TEST_SECRET = f"canary-{uuid.uuid4().hex}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PREFECT_PORT = free_port()


def pytest_configure(config: pytest.Config) -> None:
    WORKSPACE.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        PREFECT_HOME=str(SESSION_DIR / "prefect-home"),
        PREFECT_API_URL=f"http://127.0.0.1:{PREFECT_PORT}/api",
        PREFECT_UI_URL=f"http://127.0.0.1:{PREFECT_PORT}",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_RUNNER_POLL_FREQUENCY="1",
        PREFECT_LOGGING_TO_API_BATCH_INTERVAL="0.3",
        SKILLWORKS_WORKSPACE=str(WORKSPACE),
        SKILLWORKS_HOME=str(SESSION_DIR / "skillworks-home"),
        SKILLWORKS_SKILL_FOLDERS=str(FIXTURE_SKILLS),
        npm_config_cache=str(NPM_CACHE),
        # Installs of marketplace skills (uv, npm, packages) are cached across sessions.
        SKILLWORKS_CACHE=str(REPO / ".cache" / "skillworks"),
        # Sandboxed steps that try to exhaust memory are stopped early on this shared machine.
        SKILLWORKS_SANDBOX_MEMORY_MB="256",
        # A secret every process the tests start has: sandboxed skills must not be able to read it.
        SKILLWORKS_TEST_SECRET=TEST_SECRET,
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(SESSION_DIR, ignore_errors=True)


def start_process(
    name: str, argv: list[str], env: dict[str, str] | None = None, new_session: bool = False
) -> subprocess.Popen[bytes]:
    log = (SESSION_DIR / f"{name}.log").open("ab")
    return subprocess.Popen(
        argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
        start_new_session=new_session,
    )


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until_ok(url: str, process: subprocess.Popen[bytes], name: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited early:\n{(SESSION_DIR / f'{name}.log').read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{name} did not answer {url} within {seconds} s")


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[str]:
    """A Prefect server on SQLite under the session's PREFECT_HOME, started as ``skillworks up`` starts its own."""
    from service.launcher import embedded_server_settings

    process = start_process(
        "prefect-server",
        [sys.executable, "-m", "service.prefect_server", "--host", "127.0.0.1", "--port", str(PREFECT_PORT)],
        env=embedded_server_settings(os.environ["PREFECT_API_URL"]),
    )
    wait_until_ok(f"{os.environ['PREFECT_API_URL']}/health", process, "prefect-server")
    yield os.environ["PREFECT_API_URL"]
    # Flows run in this process (fixture skills) ship their logs in batches: send the last
    # ones while the server still answers.
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    stop_process(process)


class ServingProcess:
    """The process serving every deployment (``python -m flows``, as ``skillworks up`` runs it).

    Tests of crash recovery kill it with SIGKILL and start a new one, like a user restarting
    ``skillworks up`` after a crash.
    """

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        from skills.catalog import CatalogSources, load_catalog

        expected = len(load_catalog(CatalogSources(local_folders=(FIXTURE_SKILLS,))).ids()) + 1  # every skill, and rollback
        self.process = start_process("serve", [sys.executable, "-m", "flows", "--limit", "4"], new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            response = httpx.post(f"{self.api_url}/deployments/filter", json={"limit": 50})
            if response.status_code == 200 and len(response.json()) >= expected:
                return
            if self.process.poll() is not None:
                raise RuntimeError((SESSION_DIR / "serve.log").read_text()[-3000:])
            time.sleep(0.5)
        raise RuntimeError("the serving process registered no deployments within 60 s")

    def kill(self) -> None:
        """SIGKILL the serving process alone, as an operator's ``kill -9 <pid>`` would: no clean-up
        at all, and nothing else is killed for it (its runs must die with it on their own)."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop_process(self.process)


@pytest.fixture(scope="session")
def served_skills(prefect_server: str) -> Iterator[ServingProcess]:
    """Every skill deployment and rollback, served by one process (as ``skillworks up`` does)."""
    serving = ServingProcess(prefect_server)
    serving.start()
    yield serving
    serving.stop()


@contextmanager
def running_facade(name: str, env: dict[str, str] | None = None, workers: int = 1) -> Iterator[str]:
    """A REST facade (``service.app:create_app``) on a free port, in ``workers`` processes; yields its base URL."""
    port = free_port()
    process = start_process(
        name,
        [sys.executable, "-m", "uvicorn", "--factory", "service.app:create_app", "--host", "127.0.0.1", "--port", str(port),
         *(["--workers", str(workers)] if workers > 1 else [])],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ok(f"{base}/openapi.json", process, name)
        yield base
    finally:
        stop_process(process)


@pytest.fixture(scope="session")
def facade(served_skills: ServingProcess) -> Iterator[str]:
    """The REST facade, open to every caller (as on 127.0.0.1 without a token)."""
    with running_facade("facade") as base:
        yield base


@pytest.fixture(scope="session")
def api(facade: str) -> Iterator[httpx.Client]:
    """A client of the open facade; reads wait long enough for a whole run's stream."""
    with httpx.Client(base_url=facade, timeout=httpx.Timeout(30, read=300)) as client:
        yield client


@pytest.fixture(scope="session")
def guarded_facade(served_skills: ServingProcess) -> Iterator[tuple[str, str]]:
    """A second facade started with ``SKILLWORKS_API_TOKEN``: yields its URL and the token."""
    token = uuid.uuid4().hex
    with running_facade("guarded-facade", env={"SKILLWORKS_API_TOKEN": token}) as base:
        yield base, token


@pytest.fixture(scope="session")
def workspace() -> Path:
    """The workspace root the served skills write into (shared: use unique project names)."""
    return WORKSPACE


def _engine_answers(url: str) -> bool:
    import docker  # only the docker-config tests need the SDK

    try:
        client = docker.DockerClient(base_url=url, timeout=5)
    except docker.errors.DockerException:
        return False
    try:
        return bool(client.ping())
    except docker.errors.DockerException:
        return False
    finally:
        client.close()


@pytest.fixture(scope="session")
def docker_host() -> Iterator[str]:
    """A Docker Engine API: ``DOCKER_HOST`` if it answers, else Podman's, started for the session.

    ``make install`` installs Podman (Debian's package serves the Docker Engine API). The
    URL is exported as ``DOCKER_HOST``, which the skill's ``docker.from_env()`` reads.
    """
    current = os.environ.get("DOCKER_HOST")
    if current and _engine_answers(current):
        yield current
        return
    podman = shutil.which("podman")
    if podman is None:
        pytest.fail("No Docker Engine answers at DOCKER_HOST and podman is not installed: run `make install`.")
    url = f"unix://{SESSION_DIR / 'podman.sock'}"
    process = start_process("podman", [podman, "--runtime", "runc", "system", "service", "--time=0", url])
    deadline = time.monotonic() + 30
    while not _engine_answers(url):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process(process)
            pytest.fail(f"podman system service did not answer:\n{(SESSION_DIR / 'podman.log').read_text()[-3000:]}")
        time.sleep(0.3)
    os.environ["DOCKER_HOST"] = url
    yield url
    if current is None:
        del os.environ["DOCKER_HOST"]
    else:
        os.environ["DOCKER_HOST"] = current
    stop_process(process)


@contextmanager
def marketplace_database(backend: str, name: str) -> Iterator[str]:
    """A new, empty marketplace database for ``backend`` (sqlite or postgresql); PostgreSQL's is dropped after."""
    if backend == "sqlite":
        yield f"sqlite:///{SESSION_DIR / f'{name}-{uuid.uuid4().hex[:8]}.db'}"
        return
    import psycopg

    with ExitStack() as cleanup:
        try:
            url = cleanup.enter_context(temporary_database(f"test_{name.replace('-', '_')}"))
        except psycopg.OperationalError as exc:
            pytest.fail(f"PostgreSQL does not answer at {POSTGRES_SERVER} (user postgres, trust auth): {exc}")
        yield url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def store_backend(request: pytest.FixtureRequest) -> str:
    """Each marketplace test runs once on SQLite (the embedded default) and once on PostgreSQL."""
    return request.param


class MarketFacade(NamedTuple):
    base: str
    admin_token: str
    database_url: str

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


@contextmanager
def marketplace_facade(backend: str, name: str) -> Iterator[MarketFacade]:
    """A facade with its own marketplace database and an admin token (``SKILLWORKS_API_TOKEN``)."""
    token = uuid.uuid4().hex
    with marketplace_database(backend, name) as url:
        home = SESSION_DIR / f"{name}-home"
        environment = {"SKILLWORKS_DATABASE_URL": url, "SKILLWORKS_API_TOKEN": token, "SKILLWORKS_HOME": str(home)}
        with running_facade(name, env=environment) as base:
            yield MarketFacade(base, token, url)
