"""Skillworks runs as Prefect recorded them: flow runs, their steps' task runs, failure diagnoses.

Analytics and measured estimates are computed from this record, never from a store of
their own: a flow run per execution (tags ``skillworks`` and ``skill:<id>``), a task run per
executed step (keyed ``step:<id>-<hash>``), and the flow's ``step_failed`` events, which carry the
diagnosis of each failed attempt. Prefect keeps events for a limited time
(``PREFECT_EVENTS_RETENTION_PERIOD``, 7 days by default), so diagnoses older than that are
gone while runs and steps are not.

Reads use Prefect's synchronous client: callers run them in a worker thread (the
single-flight cache of ``skills.caching`` is thread-based).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun, StateType, TaskRun
from prefect.client.schemas.sorting import FlowRunSort
from prefect.events.filters import EventFilter, EventNameFilter, EventOccurredFilter

from flows.events import EVENT_PREFIX
from flows.names import TAG, skill_tags, step_id_of_task_key
from skills.journal import ExecutionJournal

PAGE = 200  # the most Prefect's filter endpoints return at once
ID_CHUNK = 200  # flow run ids per task-run query
MAX_RUNS = 5000  # analytics over more runs than this reads the newest ones and says so
MAX_FAILURE_EVENTS = 2000
STEP_FAILED_EVENT = f"{EVENT_PREFIX}step_failed"


@dataclass(frozen=True)
class StepRun:
    step_id: str
    status: str  # Prefect's state type, lower case: completed, failed, ...
    seconds: float | None  # None: it never ran to an end


@dataclass(frozen=True)
class StepFailure:
    step_id: str
    rule_id: str | None
    title: str | None
    occurred: datetime


@dataclass
class RunRecord:
    """One execution as Prefect recorded it."""

    id: UUID
    skill_id: str | None  # None: a workflow's own run
    workflow_id: str | None  # the saved workflow a workflow run ran ("inline": a spec given inline)
    level: str | None
    persona: str | None
    status: str  # Prefect's state type, lower case
    started: datetime  # when it started (or was due to, if it never did)
    seconds: float  # Prefect's run time, pauses excluded
    rolled_back: bool = False
    steps: list[StepRun] = field(default_factory=list)
    failures: list[StepFailure] = field(default_factory=list)

    @property
    def step_set(self) -> frozenset[str]:
        """The steps that ran: what tells a run with installs from one without."""
        return frozenset(step.step_id for step in self.steps)


@dataclass
class RunWindow:
    """The runs read for one question, and whether there were more than were read."""

    runs: list[RunRecord]
    truncated: bool


def read_runs(
    client: SyncPrefectClient, workspace_root: Path, skill_id: str | None, since: datetime, until: datetime
) -> RunWindow:
    """Every skillworks run due between ``since`` and ``until`` (newest first), with steps and diagnoses."""
    run_filter = FlowRunFilter(
        tags=FlowRunFilterTags(all_=skill_tags(skill_id) if skill_id else [TAG]),
        expected_start_time=FlowRunFilterExpectedStartTime(after_=since, before_=until),
    )
    flow_runs = list(_flow_runs(client, run_filter, MAX_RUNS + 1))
    runs = [_record(run, workspace_root) for run in flow_runs[:MAX_RUNS]]
    _attach_steps(client, runs)
    _attach_failures(client, runs, since, until)
    return RunWindow(runs, truncated=len(flow_runs) > MAX_RUNS)


def read_completed_runs(client: SyncPrefectClient, skill_id: str, newest: int) -> list[RunRecord]:
    """The ``newest`` completed runs of a skill, with their steps (what estimates learn from)."""
    runs = [_record(run, None) for run in _flow_runs(client, _completed(skill_id), newest)]
    _attach_steps(client, runs)
    return runs


def last_completed_run(client: SyncPrefectClient, skill_id: str) -> UUID | None:
    """The run of the skill that completed last: one row, to tell whether any completed since."""
    last = client.read_flow_runs(flow_run_filter=_completed(skill_id), sort=FlowRunSort.END_TIME_DESC, limit=1)
    return last[0].id if last else None


def _completed(skill_id: str) -> FlowRunFilter:
    return FlowRunFilter(
        tags=FlowRunFilterTags(all_=skill_tags(skill_id)),
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.COMPLETED])),
    )


def _flow_runs(client: SyncPrefectClient, run_filter: FlowRunFilter, most: int) -> Iterator[FlowRun]:
    offset = 0
    while offset < most:
        page = client.read_flow_runs(
            flow_run_filter=run_filter, sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            limit=min(PAGE, most - offset), offset=offset,
        )
        yield from page
        if len(page) < PAGE:
            return
        offset += len(page)


def _record(flow_run: FlowRun, workspace_root: Path | None) -> RunRecord:
    skill_id = _tagged(flow_run.tags, "skill")
    workflow_id = None if skill_id else _tagged(flow_run.tags, "workflow") or "inline"
    state = flow_run.state.type.value.lower() if flow_run.state else "unknown"
    undone = workspace_root is not None and ExecutionJournal(workspace_root, str(flow_run.id)).undone() is not None
    return RunRecord(
        id=flow_run.id,
        skill_id=skill_id,
        workflow_id=workflow_id,
        level=flow_run.parameters.get("level"),
        persona=flow_run.parameters.get("persona"),
        status=state,
        started=flow_run.start_time or flow_run.expected_start_time or flow_run.created,  # type: ignore[arg-type]
        seconds=flow_run.total_run_time.total_seconds(),
        rolled_back=undone,
    )


def _tagged(tags: list[str], kind: str) -> str | None:
    """The value of the ``kind:<value>`` tag, if there is one."""
    return next((tag.split(":", 1)[1] for tag in tags if tag.startswith(f"{kind}:")), None)


def _attach_steps(client: SyncPrefectClient, runs: list[RunRecord]) -> None:
    by_id = {run.id: run for run in runs}
    ids = list(by_id)
    for start in range(0, len(ids), ID_CHUNK):
        chunk = FlowRunFilter(id=FlowRunFilterId(any_=ids[start : start + ID_CHUNK]))
        offset = 0
        while True:
            page = client.read_task_runs(flow_run_filter=chunk, limit=PAGE, offset=offset)
            for task_run in page:
                step = _step_run(task_run)
                if step is not None and task_run.flow_run_id in by_id:
                    by_id[task_run.flow_run_id].steps.append(step)
            if len(page) < PAGE:
                break
            offset += len(page)


def _step_run(task_run: TaskRun) -> StepRun | None:
    step_id = step_id_of_task_key(task_run.task_key)
    if step_id is None:
        return None  # not a step (a task of some other kind)
    status = task_run.state.type.value.lower() if task_run.state else "unknown"
    seconds = None
    if task_run.start_time and task_run.end_time:
        seconds = (task_run.end_time - task_run.start_time).total_seconds()
    return StepRun(step_id, status, seconds)


def _attach_failures(client: SyncPrefectClient, runs: list[RunRecord], since: datetime, until: datetime) -> None:
    """Each run's failed step attempts and their diagnoses, from the flow's ``step_failed`` events."""
    by_id = {str(run.id): run for run in runs}
    # A run due just before ``until`` may fail a little after it.
    occurred = EventOccurredFilter(since=since, until=until + timedelta(days=1))
    page = client.read_events(
        filter=EventFilter(event=EventNameFilter(name=[STEP_FAILED_EVENT]), occurred=occurred), limit=50
    )
    read = 0
    while True:
        for event in page.events:
            run = by_id.get(event.resource.id.removeprefix(EVENT_PREFIX))
            data = dict(event.payload.get("data") or {})
            if run is not None and isinstance(data.get("stepId"), str):
                diagnosis = data.get("diagnosis") or {}
                run.failures.append(StepFailure(data["stepId"], diagnosis.get("ruleId"), diagnosis.get("title"), event.occurred))
        read += len(page.events)
        if not page.next_page or read >= MAX_FAILURE_EVENTS:
            return
        page = client.read_events_page(str(page.next_page))
