"""Metrics, analytics and measured estimates read back after a scripted mix of real runs.

The mix (``tests.observed_mix``) runs the ``observed`` fixture skill ten times: seven runs
complete (one with a non-critical step failing, one rolled back after), two fail at a
critical step with a diagnosed failure, one is cancelled mid-command. ``/metrics`` must
count exactly that, with histogram buckets that hold Prefect's recorded durations;
``/api/analytics`` must give the same success rate and the same step that failed most.
The estimates test adds runs, so it comes last.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Thread

import httpx
import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prometheus_client.parser import text_string_to_metric_families

from service.metrics import EXECUTION_BUCKETS
from skills.estimates import percentile
from tests.conftest import REPO, running_facade
from tests.observed_mix import SKILL, ObservedMix, observed_request, run_observed
from tests.sse import read_events

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def scrape(base: str, headers: dict[str, str] | None = None) -> tuple[str, Samples]:
    response = httpx.get(f"{base}/metrics", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    return response.text, samples


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name`` over every sample whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(value for (sample, found), value in samples.items() if sample == name and wanted <= found)


def by_label(samples: Samples, name: str, label: str, **labels: str) -> Counter[str]:
    counted: Counter[str] = Counter()
    wanted = set(labels.items())
    for (sample, found), value in samples.items():
        if sample == name and wanted <= found:
            counted[dict(found)[label]] += value
    return counted


def scrape_until(base: str, done: Callable[[Samples], bool], seconds: float = 60) -> tuple[str, Samples]:
    """Scrape until ``done`` holds: the facade counts runs from Prefect's events, a moment after they happen."""
    deadline = time.monotonic() + seconds
    while True:
        text, samples = scrape(base)
        if done(samples) or time.monotonic() > deadline:
            return text, samples
        time.sleep(0.5)


def mix_counted(samples: Samples) -> bool:
    return (
        total(samples, "skillworks_executions_finished_total", skill=SKILL) >= 10
        and total(samples, "skillworks_rollbacks_total", skill=SKILL) >= 1
    )


def recorded(execution_ids: list[str]) -> list[tuple[str, float]]:
    """Each run's final status and duration as Prefect recorded them."""

    async def read() -> list[tuple[str, float]]:
        async with get_client() as client:
            runs = await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[uuid.UUID(i) for i in execution_ids]))
            )
            return [(run.state.type.value.lower(), run.total_run_time.total_seconds()) for run in runs]

    return asyncio.run(read())


def recorded_seconds(execution_ids: list[str]) -> list[float]:
    return [seconds for _, seconds in recorded(execution_ids)]


def recorded_statuses(mix: ObservedMix) -> Counter[str]:
    """The mix's final statuses: seven completed and two failed; the run cancelled mid-command
    ends cancelled (or crashed, when the serving process stops it from outside)."""
    statuses = Counter(status for status, _ in recorded(mix.ids()))
    assert statuses["completed"] == 7 and statuses["failed"] == 2
    assert statuses["cancelled"] + statuses["crashed"] == 1
    return statuses


def test_metrics_count_the_mix_by_status_step_and_rule_with_prefects_durations(
    observed_mix: ObservedMix, facade: str
) -> None:
    text, samples = scrape_until(facade, mix_counted)

    assert total(samples, "skillworks_executions_started_total", skill=SKILL, level="expert", persona="full-stack") == 10
    finished = by_label(samples, "skillworks_executions_finished_total", "status", skill=SKILL)
    assert finished == recorded_statuses(observed_mix)
    # Every bucket holds exactly the runs whose recorded duration fits in it.
    durations = recorded_seconds(observed_mix.ids())
    for bound in EXECUTION_BUCKETS:
        in_bucket = total(samples, "skillworks_execution_duration_seconds_bucket", skill=SKILL, le=str(float(bound)))
        assert in_bucket == sum(1 for seconds in durations if seconds <= bound), bound
    assert total(samples, "skillworks_execution_duration_seconds_count", skill=SKILL) == 10
    assert total(samples, "skillworks_execution_duration_seconds_sum", skill=SKILL) == pytest.approx(sum(durations))
    # prepare ran in every run; check failed in the warned one; finish failed twice and was cancelled once.
    steps = by_label(samples, "skillworks_step_duration_seconds_count", "step", skill=SKILL)
    assert steps == Counter({"prepare": 10, "check": 9, "finish": 7})
    failures = {
        (dict(labels)["step"], dict(labels)["rule"]): value
        for (name, labels), value in samples.items()
        if name == "skillworks_step_failures_total" and dict(labels)["skill"] == SKILL
    }
    # The cancelled run's command is killed: its step reports a failure, unless the run is stopped from outside first.
    assert failures.pop(("finish", "none"), 1) == 1
    assert failures == {("check", "none"): 1, ("finish", "git-not-a-repository"): 2}
    # The person's rollback, and the recovery's undo of a run that crashed.
    undos = 1 + recorded_statuses(observed_mix)["crashed"]
    _, samples = scrape_until(facade, lambda s: total(s, "skillworks_rollbacks_total", skill=SKILL) >= undos)
    assert total(samples, "skillworks_rollbacks_total", skill=SKILL, outcome="complete") == undos
    assert total(samples, "skillworks_http_requests_total", route="/api/execute-skill", status="200") >= 10
    # Bounded labels: no execution id and no path of the workspace anywhere.
    assert not UUID_PATTERN.search(text)
    assert "observed-" not in text


def test_dry_runs_are_counted_by_verdict(observed_mix: ObservedMix, facade: str) -> None:
    _, before = scrape(facade)
    assert httpx.post(f"{facade}/api/validate-skill", json=observed_request()).json()["valid"]
    invalid = observed_request()
    invalid["parameters"]["folder"] = "Not Valid"
    assert not httpx.post(f"{facade}/api/validate-skill", json=invalid).json()["valid"]
    _, after = scrape(facade)
    for verdict in ("valid", "invalid"):
        counted = total(after, "skillworks_dry_runs_total", skill=SKILL, verdict=verdict)
        assert counted == total(before, "skillworks_dry_runs_total", skill=SKILL, verdict=verdict) + 1


def test_catalog_requests_are_counted_under_their_route(facade: str) -> None:
    """Most are answered from memory before FastAPI's router (``service.catalog_answer``): counted all the same."""
    route = {"route": "/api/skill-metadata", "status": "200"}
    _, before = scrape(facade)
    for _ in range(5):
        assert httpx.get(f"{facade}/api/skill-metadata").status_code == 200
    _, after = scrape(facade)
    assert total(after, "skillworks_http_requests_total", **route) == total(before, "skillworks_http_requests_total", **route) + 5


def test_a_multiprocess_facade_sums_its_processes_and_counts_each_run_once(observed_mix: ObservedMix) -> None:
    base = observed_mix.multiprocess_facade
    _, samples = scrape_until(base, mix_counted)
    time.sleep(2)  # a second process counting too would show by now
    _, samples = scrape(base)
    finished = by_label(samples, "skillworks_executions_finished_total", "status", skill=SKILL)
    assert finished == recorded_statuses(observed_mix)
    requests = 12
    for _ in range(requests):  # uvicorn spreads them over both processes
        assert httpx.post(f"{base}/api/validate-skill", json=observed_request()).status_code == 200
    _, samples = scrape(base)
    assert total(samples, "skillworks_dry_runs_total", skill=SKILL, verdict="valid") == requests
    assert total(samples, "skillworks_http_requests_total", route="/api/validate-skill", status="200") == requests


def test_metrics_need_the_token_unless_made_public(guarded_facade: tuple[str, str]) -> None:
    base, token = guarded_facade
    assert httpx.get(f"{base}/metrics").status_code == 401
    assert httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    scrape(base, {"Authorization": f"Bearer {token}"})
    with running_facade("public-metrics-facade", env={"SKILLWORKS_API_TOKEN": token, "SKILLWORKS_METRICS_PUBLIC": "1"}) as public:
        scrape(public)
        assert httpx.get(f"{public}/api/analytics").status_code == 401  # only the metrics are opened


def test_analytics_give_the_same_success_rate_and_most_failed_step_as_the_metrics(
    observed_mix: ObservedMix, api: httpx.Client, facade: str
) -> None:
    _, samples = scrape_until(facade, mix_counted)
    response = api.get("/api/analytics", params={"skill": SKILL})
    assert response.status_code == 200, response.text
    (observed,) = response.json()["skills"]

    assert observed["runs"] == 10 and observed["rolledBack"] >= 1
    assert observed["statuses"] == {"unfinished": 0, "cancelled": 0, "crashed": 0, **recorded_statuses(observed_mix)}
    finished = by_label(samples, "skillworks_executions_finished_total", "status", skill=SKILL)
    assert observed["successRate"] == pytest.approx(finished["completed"] / sum(finished.values()))
    failed_most_by_metrics = by_label(samples, "skillworks_step_failures_total", "step", skill=SKILL).most_common(1)[0][0]
    failed_most = max(observed["steps"], key=lambda step: step["failed"])
    assert failed_most["stepId"] == failed_most_by_metrics == "finish"
    assert {step["stepId"]: step["completed"] for step in observed["steps"]} == dict(
        by_label(samples, "skillworks_step_duration_seconds_count", "step", skill=SKILL)
    )
    assert observed["failures"][0] == {
        "stepId": "finish", "ruleId": "git-not-a-repository", "title": "The folder is not a git repository", "count": 2
    }
    durations = sorted(recorded_seconds(observed_mix.ids("complete")))
    assert observed["durations"]["p50Seconds"] == pytest.approx(durations[len(durations) // 2], abs=1e-3)
    assert sum(day["statuses"]["completed"] for day in observed["daily"]) == 7


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"skill": "no-such-skill"}, 404, "unknown_skill"),
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, 422, "invalid_request"),
        ({"since": "2020-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, 422, "invalid_request"),
        ({"since": "yesterday"}, 422, None),
    ],
)
def test_analytics_refuse_a_bad_window_or_skill(api: httpx.Client, params: dict[str, str], status: int, code: str | None) -> None:
    response = api.get("/api/analytics", params=params)
    assert response.status_code == status, response.text
    if code:
        assert response.json()["code"] == code


def test_stats_command_shows_the_skill_its_steps_and_failures(observed_mix: ObservedMix, facade: str) -> None:
    shown = subprocess.run(
        [sys.executable, "-c", "from service.cli import main; main()", "stats", SKILL, "--api", facade],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "COLUMNS": "160"}, timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"observed\s+10\s+7\s+2\s+1\s+\d+\s+70%", shown.stdout), shown.stdout
    assert "Steps of Observed" in shown.stdout and "The folder is not a git repository" in shown.stdout


def test_dry_run_shows_the_measured_p50_and_it_changes_as_runs_complete(
    observed_mix: ObservedMix, api: httpx.Client, facade: str
) -> None:
    before = api.post("/api/validate-skill", json=observed_request()).json()["dryRunPreview"]
    assert before["estimatedTotalTime"] == "1-2 minutes"
    assert before["measuredTime"]["runs"] == 7  # every completed run, the rolled-back one too
    metadata = api.get("/api/skill-metadata", params={"skill": SKILL}).json()["measuredTime"]
    assert set(metadata["stepP50Seconds"]) == {"prepare", "check", "finish"}
    assert metadata["variants"][0]["skippedSteps"] == ["extra"]
    with_extra = observed_request()
    with_extra["parameters"]["withExtra"] = True
    assert api.post("/api/validate-skill", json=with_extra).json()["dryRunPreview"]["measuredTime"] is None

    # Two runs slower than any before, side by side; while they stream, the metrics show their SSE clients.
    seen_clients: list[float] = []
    watcher = Thread(target=lambda: seen_clients.append(_sse_clients_while_streaming(facade)))
    watcher.start()
    with ThreadPoolExecutor(max_workers=2) as pool:
        slow = list(pool.map(lambda _: run_observed(facade, "complete", 8000), range(2)))
    watcher.join()
    assert [run.final for run in slow] == ["complete", "complete"]
    assert seen_clients and seen_clients[0] >= 1

    deadline = time.monotonic() + 30
    after = before
    while after["measuredTime"]["runs"] < 9 and time.monotonic() < deadline:
        time.sleep(0.5)
        after = api.post("/api/validate-skill", json=observed_request()).json()["dryRunPreview"]
    assert after["measuredTime"]["runs"] == 9
    assert after["measuredTime"]["p50Seconds"] > before["measuredTime"]["p50Seconds"]
    completed = [seconds for status, seconds in recorded(observed_mix.ids() + [run.execution_id for run in slow]) if status == "completed"]
    assert after["measuredTime"]["p50Seconds"] == pytest.approx(percentile(completed, 0.5), abs=1e-3)


def _sse_clients_while_streaming(facade: str) -> float:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        _, samples = scrape(facade)
        if total(samples, "skillworks_sse_clients") > 0:
            return total(samples, "skillworks_sse_clients")
        time.sleep(0.1)
    return 0


def test_a_workflow_counts_apart_and_its_node_as_an_execution(api: httpx.Client, facade: str, observed_mix: ObservedMix) -> None:
    _, before = scrape(facade)
    spec = {"id": "observed-flow", "name": "Observed flow", "nodes": [
        {"id": "only", "skill": SKILL, "parameters": {"folder": f"observed-{uuid.uuid4().hex[:8]}"}},
    ]}
    with api.stream("POST", "/api/workflows/execute", json={"spec": spec, "level": "expert"}) as response:
        assert response.status_code == 200, response.read()
        events = [event for _, event in read_events(response)]
    assert events[-1]["type"] == "complete", events[-1]

    _, after = scrape_until(facade, lambda s: total(s, "skillworks_executions_finished_total") > total(
        before, "skillworks_executions_finished_total"))
    time.sleep(2)  # the workflow's own run, if it were counted, would show by now
    _, after = scrape(facade)
    finished = "skillworks_executions_finished_total"
    assert total(after, finished, skill=SKILL) - total(before, finished, skill=SKILL) == 1  # the node
    assert total(after, finished) - total(before, finished) == 1  # and not the workflow's own run
    workflows = {w["workflowId"]: w for w in api.get("/api/analytics").json()["workflows"]}
    assert workflows["observed-flow"]["statuses"]["completed"] == 1 and workflows["observed-flow"]["runs"] == 1
