"""The cluster of README's "Scaling out", brought up from nothing (``tests/cluster.py``) and used.

Prefect's API and services on PostgreSQL and Redis, ``prefect deploy --all``, two
``skillworks`` workers, two facades sharing one workspace: runs go through either facade,
land on either worker, and read the same from both; a worker killed mid-run is found by the
other one, whose recovery marks the run ``Crashed`` and undoes it while it goes on working.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from flows.events import TERMINAL_TYPES
from tests.cluster import Cluster, running_cluster
from tests.runtime import processes_with
from tests.test_crash_recovery import RECOVERY_SECONDS, inside_a_command
from tests.test_every_skill_api import CASES
from tests.test_execution_stream import Event, execute, react_request, unique
from tests.tree import tree_fingerprint

EXECUTIONS = 20
AT_ONCE = 4  # more than one worker's limit: both workers must take runs


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with running_cluster() as started:
        yield started


class Execution:
    def __init__(self, facade: str, skill_id: str, events: list[Event]) -> None:
        self.facade = facade
        self.skill_id = skill_id
        self.events = events

    @property
    def id(self) -> str:
        return self.events[0][1]["executionId"]


def one_execution(cluster: Cluster, index: int) -> Execution:
    skill_ids = sorted(CASES)
    skill_id = skill_ids[index % len(skill_ids)]
    prepare, parameters = CASES[skill_id]
    name = unique(f"cluster-{skill_id}")
    if prepare is not None:
        prepare(cluster.workspace / name)
    facade = cluster.facades[index % 2]
    request = {"skillId": skill_id, "parameters": parameters(name), "level": "expert", "persona": "full-stack"}
    with httpx.Client(base_url=facade, timeout=httpx.Timeout(30, read=300)) as client:
        return Execution(facade, skill_id, execute(client, request))


@pytest.fixture(scope="module")
def executions(cluster: Cluster) -> list[Execution]:
    with ThreadPoolExecutor(AT_ONCE) as pool:
        return list(pool.map(lambda index: one_execution(cluster, index), range(EXECUTIONS)))


def flow_run(cluster: Cluster, execution_id: str) -> dict[str, Any]:
    response = httpx.get(f"{cluster.api_url}/flow_runs/{execution_id}", timeout=30)
    response.raise_for_status()
    return response.json()


def stored_events(cluster: Cluster, execution: Execution) -> str:
    """What the stream said, beside what Prefect stored for the run (to tell a late event from a lost one)."""
    query = {"filter": {"any_resource": {"id": [f"prefect.flow-run.{execution.id}"]},
                        "occurred": {"since": "2000-01-01T00:00:00Z"}}, "limit": 50}
    stored = httpx.post(f"{cluster.api_url}/events/filter", json=query, timeout=30).json()["events"]
    seqs = sorted((e["payload"].get("seq"), e["event"], e["occurred"]) for e in stored if "seq" in e["payload"])
    streamed = [(event_id, data["type"]) for event_id, data in execution.events]
    return f"streamed {streamed}\nstored {seqs}"


def test_every_execution_through_either_facade_completes_on_one_of_the_workers(
    cluster: Cluster, executions: list[Execution]
) -> None:
    workers_used = set()
    for execution in executions:
        kinds = [data["type"] for _, data in execution.events]
        assert kinds[0] == "started" and kinds[-1] == "complete", (execution.skill_id, execution.events[-2:])
        assert sum(kind in TERMINAL_TYPES for kind in kinds) == 1, kinds
        assert [event_id for event_id, _ in execution.events] == list(range(len(execution.events))), stored_events(
            cluster, execution
        )
        progress = [data["progress"] for _, data in execution.events if "progress" in data]
        assert progress == sorted(progress)
        run = flow_run(cluster, execution.id)
        assert run["state"]["type"] == "COMPLETED"
        assert run["labels"]["prefect.worker.type"] == "skillworks"
        workers_used.add(run["labels"]["prefect.worker.name"])
    assert {execution.facade for execution in executions} == set(cluster.facades)
    assert workers_used == set(cluster.workers)


def test_either_facade_shows_the_same_history(cluster: Cluster, executions: list[Execution]) -> None:
    histories = []
    for facade in cluster.facades:
        response = httpx.get(f"{facade}/api/execution-history", params={"limit": 100}, timeout=30)
        assert response.status_code == 200, response.text
        histories.append(response.json())
    first, second = histories
    assert first == second
    listed = {entry["id"]: entry["status"] for entry in first["executions"]}
    assert all(listed[execution.id] == "completed" for execution in executions)


def test_a_run_started_through_one_facade_rolls_back_through_the_other(
    cluster: Cluster, executions: list[Execution]
) -> None:
    started_on_a = next(e for e in executions if e.facade == cluster.facades[0] and e.skill_id == "react-setup")
    complete = started_on_a.events[-1][1]

    response = httpx.post(f"{cluster.facades[1]}/api/rollback", json={"rollbackToken": complete["rollbackToken"]}, timeout=60)

    assert response.status_code == 200, response.text
    assert response.json()["conflicts"] == []
    assert not Path(complete["outputPath"]).exists()
    record = httpx.get(f"{cluster.facades[0]}/api/executions/{started_on_a.id}", timeout=30).json()
    assert record["status"] == "rolled_back"


def test_a_run_on_a_worker_cancelled_through_the_other_facade_stops_its_command_and_undoes(
    cluster: Cluster, executions: list[Execution]
) -> None:
    before = tree_fingerprint(cluster.workspace)
    folder, marker = f"cancel-{uuid.uuid4().hex[:8]}", f"marker-{uuid.uuid4().hex[:8]}"
    run = inside_a_command(cluster.facades[0], folder, marker, cluster.workspace)

    response = httpx.post(f"{cluster.facades[1]}/api/executions/{run.execution_id}/cancel", timeout=30)

    assert response.status_code == 200, response.text
    last = run.finish()[-1]
    assert last["type"] == "cancelled" and last["rolledBack"] is True, last
    assert flow_run(cluster, run.execution_id)["state"]["type"] == "CANCELLED"
    assert not processes_with(marker)
    assert tree_fingerprint(cluster.workspace) == before


def test_a_worker_killed_mid_run_leaves_its_run_crashed_and_undone_while_the_other_goes_on(
    cluster: Cluster, executions: list[Execution]
) -> None:
    before = tree_fingerprint(cluster.workspace)
    folder, marker = f"crash-{uuid.uuid4().hex[:8]}", f"marker-{uuid.uuid4().hex[:8]}"
    run = inside_a_command(cluster.facades[0], folder, marker, cluster.workspace)
    victim = flow_run(cluster, run.execution_id)["labels"]["prefect.worker.name"]

    cluster.kill_worker(victim)

    recovered_by = time.monotonic() + RECOVERY_SECONDS
    while (record := httpx.get(f"{cluster.facades[1]}/api/executions/{run.execution_id}", timeout=30).json())["status"] != "rolled_back":
        assert time.monotonic() < recovered_by, record
        time.sleep(0.5)
    assert record["stateName"] == "Crashed"
    assert not processes_with(marker)
    assert tree_fingerprint(cluster.workspace) == before
    last = run.finish()[-1]
    assert last["type"] == "error" and last["rolledBack"] is True, last

    [survivor] = cluster.workers
    with httpx.Client(base_url=cluster.facades[1], timeout=httpx.Timeout(30, read=300)) as client:
        after = execute(client, react_request(unique("after-kill")))
    assert after[-1][1]["type"] == "complete", after[-2:]
    assert flow_run(cluster, after[0][1]["executionId"])["labels"]["prefect.worker.name"] == survivor
