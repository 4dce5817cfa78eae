"""Follow Prefect's events about skillworks runs and count them in the metrics.

Prefect already announces everything the execution metrics need: a flow run's state
changes (``prefect.flow-run.Running``, ``.Completed``, ...), the flow's own step events
(``skillworks.execution.step_completed`` with its duration, ``step_failed`` with its
diagnosis) and the rollback flow's report. One subscription per facade turns them into
counters and histograms, whoever started the run (this facade, another one, the Prefect UI
or a schedule) and whether or not anybody streams it.

With several facade processes sharing a ``PROMETHEUS_MULTIPROC_DIR``, their metrics are
summed, so exactly one of them may count runs: the one holding a lock file there. The
others try again every few seconds, and one takes over when the holder exits.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import FlowRun
from prefect.events import Event
from prefect.events.clients import get_events_subscriber
from prefect.events.filters import EventFilter, EventNameFilter
from prefect.exceptions import ObjectNotFound

from blocks.settings import metrics_multiprocess_directory
from flows.events import EVENT_PREFIX, ROLLBACK_COMPLETED_EVENT
from flows.names import TAG
from service import metrics
from skills.catalog import SkillCatalog
from skills.errors import UnknownSkillError
from skills.journal import UndoReport

logger = logging.getLogger("skillworks.metrics")

FLOW_RUN_PREFIX = "prefect.flow-run."
STEP_EVENTS_PREFIX = f"{EVENT_PREFIX}step_"
FINAL_STATES = {"Completed": "completed", "Failed": "failed", "Cancelled": "cancelled", "Crashed": "crashed"}
SKILLWORKS_TAG_RESOURCE = f"prefect.tag.{TAG}"
RESUBSCRIBE_SECONDS = 2.0
LEADERSHIP_RETRY_SECONDS = 5.0
_REMEMBERED_RUNS = 5000
_REMEMBERED_EVENTS = 20000


@dataclass(frozen=True)
class RunLabels:
    """The labels of one execution: bounded values only."""

    skill: str
    level: str
    persona: str
    steps: frozenset[str]
    workflow: bool = False  # a workflow's own run: its nodes are the executions counted


class _Bounded(OrderedDict[Any, Any]):
    """A dict that forgets its oldest entries beyond ``size``."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def remember(self, key: Any, value: Any = True) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class RunFollower:
    """Counts skillworks runs from Prefect's events."""

    def __init__(self, client: PrefectClient, catalog: Callable[[], SkillCatalog]) -> None:
        self.client = client
        self.catalog = catalog
        self.labels: _Bounded = _Bounded(_REMEMBERED_RUNS)
        self.started: _Bounded = _Bounded(_REMEMBERED_RUNS)
        self.ended: _Bounded = _Bounded(_REMEMBERED_RUNS)
        self.seen: _Bounded = _Bounded(_REMEMBERED_EVENTS)
        self.since = datetime.now(timezone.utc)  # what happened before this facade is not its to count

    async def follow(self) -> None:
        """Run until cancelled: take the lead, then count every event, re-subscribing after errors."""
        lock = await _leadership()
        try:
            while True:
                try:
                    await self._subscribe()
                except asyncio.CancelledError:
                    raise
                except Exception:  # Prefect restarting, a network blip: counting resumes shortly
                    logger.warning("Following Prefect's events failed; retrying", exc_info=True)
                    await asyncio.sleep(RESUBSCRIBE_SECONDS)
        finally:
            if lock is not None:
                lock.close()

    async def _subscribe(self) -> None:
        names = EventNameFilter(prefix=[FLOW_RUN_PREFIX, STEP_EVENTS_PREFIX, ROLLBACK_COMPLETED_EVENT])
        async with get_events_subscriber(filter=EventFilter(event=names)) as subscriber:
            async for event in subscriber:
                if event.id in self.seen or event.occurred < self.since:
                    continue
                self.seen.remember(event.id)
                try:
                    await self.count(event)
                except ObjectNotFound:
                    continue  # the run was deleted meanwhile: nothing to label it with

    async def count(self, event: Event) -> None:
        if event.event.startswith(FLOW_RUN_PREFIX):
            if any(related.id == SKILLWORKS_TAG_RESOURCE for related in event.related):
                await self._flow_run_state(event, event.event.removeprefix(FLOW_RUN_PREFIX))
            return
        run_id = _run_id(event.resource.id)
        if run_id is None:
            return
        if event.event == ROLLBACK_COMPLETED_EVENT:
            await self._rollback(run_id, UndoReport.model_validate(event.payload.get("report") or {}))
            return
        data = dict(event.payload.get("data") or {})
        labels = await self._labels(run_id)
        step = metrics.bounded(data.get("stepId"), labels.steps)
        if event.event == f"{EVENT_PREFIX}step_completed" and isinstance(data.get("durationMs"), int | float):
            metrics.STEP_DURATION.labels(labels.skill, step).observe(data["durationMs"] / 1000)
        elif event.event == f"{EVENT_PREFIX}step_failed":
            rule = (data.get("diagnosis") or {}).get("ruleId")
            metrics.STEP_FAILURES.labels(labels.skill, step, metrics.rule_label(rule)).inc()

    async def _flow_run_state(self, event: Event, state: str) -> None:
        run_id = _run_id(event.resource.id)
        if run_id is None:
            return
        if state == "Running" and run_id not in self.started:  # again after each pause: count the first
            self.started.remember(run_id)
            labels = await self._labels(run_id)
            if labels.workflow:
                return
            metrics.EXECUTIONS_STARTED.labels(labels.skill, labels.level, labels.persona).inc()
        elif state in FINAL_STATES and run_id not in self.ended:
            self.ended.remember(run_id)
            flow_run = await self.client.read_flow_run(run_id)
            labels = self._remember_labels(run_id, flow_run)
            if labels.workflow:
                return
            status = FINAL_STATES[state]
            metrics.EXECUTIONS_FINISHED.labels(labels.skill, labels.level, labels.persona, status).inc()
            metrics.EXECUTION_DURATION.labels(labels.skill, status).observe(flow_run.total_run_time.total_seconds())

    async def _rollback(self, run_id: UUID, report: UndoReport) -> None:
        labels = await self._labels(run_id)
        outcome = "already_undone" if report.already_undone else "complete" if report.complete else "conflicts"
        metrics.ROLLBACKS.labels(labels.skill, outcome).inc()
        if report.conflicts and not report.already_undone:
            metrics.ROLLBACK_CONFLICTS.labels(labels.skill).inc(len(report.conflicts))

    async def _labels(self, run_id: UUID) -> RunLabels:
        known = self.labels.get(run_id)
        if known is not None:
            return known
        return self._remember_labels(run_id, await self.client.read_flow_run(run_id))

    def _remember_labels(self, run_id: UUID, flow_run: FlowRun) -> RunLabels:
        skill_id = next((tag.split(":", 1)[1] for tag in flow_run.tags if tag.startswith("skill:")), None)
        if skill_id is None:
            labels = RunLabels(metrics.OTHER, metrics.OTHER, metrics.OTHER, frozenset(), workflow=True)
            self.labels.remember(run_id, labels)
            return labels
        try:
            skill = self.catalog().get(skill_id or "")
            name, steps = skill.id, frozenset(step.id for step in skill.steps)
        except UnknownSkillError:
            name, steps = metrics.OTHER, frozenset()
        labels = RunLabels(
            name, metrics.level_label(flow_run.parameters.get("level")),
            metrics.persona_label(flow_run.parameters.get("persona")), steps,
        )
        self.labels.remember(run_id, labels)
        return labels


def _run_id(resource_id: str) -> UUID | None:
    """The flow run id at the end of ``prefect.flow-run.<id>`` or ``skillworks.execution.<id>``."""
    try:
        return UUID(resource_id.rsplit(".", 1)[-1])
    except ValueError:
        return None


async def _leadership() -> IO[bytes] | None:
    """In multiprocess mode, wait until this process holds the follower's lock (returned, to keep)."""
    directory = metrics_multiprocess_directory()
    if directory is None:
        return None
    lock = Path(directory, "run-follower.lock").open("ab")
    while True:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            logger.info("Process %s counts the runs for every facade process", os.getpid())
            return lock
        except BlockingIOError:
            await asyncio.sleep(LEADERSHIP_RETRY_SECONDS)
