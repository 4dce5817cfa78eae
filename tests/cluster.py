"""A skillworks cluster from nothing, as README's "Scaling out" describes, on this machine's engines.

- Prefect's API and its background services as two processes, on a PostgreSQL database made
  for the cluster (dropped after), with Redis as the messaging broker, cache, causal ordering,
  lease storage and Docket (a Redis database number nobody uses, emptied after);
- the ``skillworks`` work pool and ``prefect deploy --all`` from ``prefect.yaml`` (plus the
  crash-points test skill, to have a run slow enough to kill a worker under);
- ``prefect worker start --pool skillworks`` twice: two ``skillworks`` workers;
- two facades on two ports, all sharing one workspace.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from tests.conftest import (
    FIXTURE_SKILLS,
    REPO,
    SESSION_DIR,
    free_port,
    marketplace_database,
    running_facade,
    start_process,
    stop_process,
    wait_until_ok,
)

REDIS_SERVER = "redis://127.0.0.1:6379"
# Databases 1-15 are tried from the top; 0 is left to whoever else uses this Redis.
_REDIS_DATABASES = range(15, 0, -1)
_CLAIM_KEY = "skillworks-test-cluster"
WORKER_LIMIT = 3
FIXTURE_DEPLOYMENTS = REPO / "tests" / "fixtures" / "cluster-prefect.yaml"


@dataclass
class Cluster:
    api_url: str
    workspace: Path
    environment: dict[str, str]
    facades: list[str]
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def kill_worker(self, name: str) -> None:
        """SIGKILL one worker, as a machine that loses power would: no clean-up at all."""
        process = self.workers.pop(name)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def redis_database() -> Iterator[str]:
    """A Redis database number that holds no key, claimed with a key of ours; emptied after."""
    for number in _REDIS_DATABASES:
        client = redis.Redis.from_url(f"{REDIS_SERVER}/{number}")
        try:
            if client.dbsize() != 0 or not client.set(_CLAIM_KEY, "1", nx=True):
                continue
            if client.dbsize() != 1:  # someone started using it at the same moment
                client.delete(_CLAIM_KEY)
                continue
            try:
                yield f"{REDIS_SERVER}/{number}"
            finally:
                client.flushdb()
            return
        finally:
            client.close()
    raise RuntimeError(f"Every Redis database 1-15 at {REDIS_SERVER} holds keys: no free one for the cluster.")


def cluster_environment(api_port: int, database_url: str, redis_url: str, workspace: Path) -> dict[str, str]:
    """What every process of the cluster shares: the servers it talks to, and the workspace."""
    return {
        "PREFECT_HOME": str(SESSION_DIR / "cluster-prefect-home"),
        "PREFECT_API_URL": f"http://127.0.0.1:{api_port}/api",
        "PREFECT_UI_URL": f"http://127.0.0.1:{api_port}",
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": database_url,
        "PREFECT_MESSAGING_BROKER": "prefect_redis.messaging",
        "PREFECT_MESSAGING_CACHE": "prefect_redis.messaging",
        "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING": "prefect_redis.ordering",
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect_redis.lease_storage",
        "PREFECT_REDIS_MESSAGING_URL": redis_url,
        "PREFECT_SERVER_DOCKET_URL": redis_url,
        "PREFECT_SERVER_DOCKET_NAME": f"skillworks-{uuid.uuid4().hex[:8]}",
        # Stored within half a second (not 5 s): a stream that missed a live event finds it stored.
        "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL": "0.5",
        "PREFECT_WORKER_QUERY_SECONDS": "5",  # the safety net: workers hear of runs by events
        "SKILLWORKS_WORKSPACE": str(workspace),
        "SKILLWORKS_SKILL_FOLDERS": str(FIXTURE_SKILLS),
    }


def prefect_cli(environment: dict[str, str], *arguments: str) -> None:
    log = SESSION_DIR / "cluster-prefect-cli.log"
    process = start_process("cluster-prefect-cli", [sys.executable, "-m", "prefect", "--no-prompt", *arguments], environment)
    assert process.wait(timeout=300) == 0, f"prefect {' '.join(arguments)} failed:\n{log.read_text()[-3000:]}"


def wait_for_workers(api_url: str, names: list[str], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        response = httpx.post(f"{api_url}/work_pools/skillworks/workers/filter", json={})
        online = {w["name"] for w in response.json() if w.get("status") == "ONLINE"} if response.status_code == 200 else set()
        if set(names) <= online:
            return
        time.sleep(0.5)
    raise RuntimeError(f"workers {names} not online within {seconds} s:\n{(SESSION_DIR / 'cluster-worker-1.log').read_text()[-3000:]}")


@contextmanager
def running_cluster(workers: int = 2, facades: int = 2) -> Iterator[Cluster]:
    with ExitStack() as stack:
        # Prefect's server speaks asyncpg to the same kind of database the marketplace tests make.
        database_url = stack.enter_context(marketplace_database("postgresql", "cluster")).replace("+psycopg", "+asyncpg")
        redis_url = stack.enter_context(redis_database())
        workspace = SESSION_DIR / f"cluster-workspace-{uuid.uuid4().hex[:8]}"
        workspace.mkdir()
        api_port = free_port()
        environment = cluster_environment(api_port, database_url, redis_url, workspace)
        api_url = environment["PREFECT_API_URL"]

        api = start_process("cluster-api", [
            sys.executable, "-m", "prefect", "server", "start", "--no-services",
            "--host", "127.0.0.1", "--port", str(api_port),
        ], environment)
        stack.callback(stop_process, api)
        wait_until_ok(f"{api_url}/health", api, "cluster-api", seconds=120)
        services = start_process("cluster-services", [sys.executable, "-m", "prefect", "server", "services", "start"], environment)
        stack.callback(stop_process, services)

        prefect_cli(environment, "work-pool", "create", "skillworks", "--type", "skillworks")
        prefect_cli(environment, "deploy", "--all")
        prefect_cli(environment, "deploy", "--all", "--prefect-file", str(FIXTURE_DEPLOYMENTS))

        cluster = Cluster(api_url, workspace, environment, [])
        for index in range(1, workers + 1):
            name = f"cluster-worker-{index}"
            process = start_process(name, [
                sys.executable, "-m", "prefect", "worker", "start", "--pool", "skillworks",
                "--name", name, "--limit", str(WORKER_LIMIT),
            ], environment)
            cluster.workers[name] = process
            stack.callback(lambda p=process: p.poll() is None and stop_process(p))
        wait_for_workers(api_url, list(cluster.workers))
        for index in range(1, facades + 1):
            cluster.facades.append(stack.enter_context(running_facade(f"cluster-facade-{index}", env=environment)))
        yield cluster
