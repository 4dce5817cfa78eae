"""``/api/analytics``: success rates, durations, failures and a daily series, from Prefect's record.

Computed from the runs ``service.run_record`` reads (flow runs, their steps' task runs and
the flow's ``step_failed`` events): per skill and per step the success rate and p50/p95
durations, the most frequent failure diagnoses, and per day the runs by final status.

A success rate is completed runs over ended runs (completed, failed, cancelled, crashed);
a run later rolled back still completed, and is counted in ``rolledBack`` as well (as is a
failed or cancelled run, which undoes its own changes: the history's ``rolled_back``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime

from service.run_record import RunRecord, RunWindow
from skills.catalog import SkillCatalog
from skills.errors import UnknownSkillError
from skills.estimates import percentile
from skills.wire import WireModel

ENDED = ("completed", "failed", "cancelled", "crashed")
TOP_FAILURES = 10


class StatusCounts(WireModel):
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    crashed: int = 0
    unfinished: int = 0  # scheduled, pending, running or paused when read

    @classmethod
    def of(cls, statuses: Iterable[str]) -> StatusCounts:
        counted = Counter(status if status in ENDED else "unfinished" for status in statuses)
        return cls(**counted)

    @property
    def ended(self) -> int:
        return self.completed + self.failed + self.cancelled + self.crashed

    def success_rate(self) -> float | None:
        return round(self.completed / self.ended, 4) if self.ended else None


class Durations(WireModel):
    p50_seconds: float | None = None
    p95_seconds: float | None = None

    @classmethod
    def of(cls, seconds: list[float]) -> Durations:
        if not seconds:
            return cls()
        return cls(p50_seconds=round(percentile(seconds, 0.5), 3), p95_seconds=round(percentile(seconds, 0.95), 3))


class FailureCount(WireModel):
    """Failed step attempts recognised by one diagnosis rule (``ruleId`` null: by none)."""

    step_id: str
    rule_id: str | None
    title: str | None
    count: int


class StepAnalytics(WireModel):
    step_id: str
    step_name: str
    runs: int
    completed: int
    failed: int
    success_rate: float | None
    durations: Durations


class DailyPoint(WireModel):
    day: date
    statuses: StatusCounts
    durations: Durations  # of the runs that completed that day


class SkillAnalytics(WireModel):
    skill_id: str
    skill_name: str
    runs: int
    statuses: StatusCounts
    rolled_back: int  # runs whose changes were undone: rolled back, or failed or cancelled (they undo themselves)
    success_rate: float | None
    durations: Durations  # of completed runs
    steps: list[StepAnalytics]
    failures: list[FailureCount]  # most frequent first
    daily: list[DailyPoint]


class WorkflowAnalytics(WireModel):
    """A workflow's own runs (its nodes' runs count under their skills)."""

    workflow_id: str  # the spec's id, for a saved workflow and one given inline alike
    runs: int
    statuses: StatusCounts
    success_rate: float | None
    durations: Durations  # of completed runs
    daily: list[DailyPoint]


class AnalyticsResponse(WireModel):
    since: datetime
    until: datetime
    truncated: bool  # more runs than are read at once were due in the window: the newest were used
    runs: int  # executions of skills (a workflow's nodes included); workflows are counted apart
    statuses: StatusCounts
    success_rate: float | None
    skills: list[SkillAnalytics]
    daily: list[DailyPoint]
    workflows: list[WorkflowAnalytics]


def analytics(window: RunWindow, catalog: SkillCatalog, since: datetime, until: datetime) -> AnalyticsResponse:
    by_skill: dict[str, list[RunRecord]] = {}
    by_workflow: dict[str, list[RunRecord]] = {}
    for run in window.runs:
        if run.skill_id is not None:
            by_skill.setdefault(run.skill_id, []).append(run)
        else:
            by_workflow.setdefault(run.workflow_id or "inline", []).append(run)
    executions = [run for runs in by_skill.values() for run in runs]
    statuses = StatusCounts.of(run.status for run in executions)
    return AnalyticsResponse(
        since=since,
        until=until,
        truncated=window.truncated,
        runs=len(executions),
        statuses=statuses,
        success_rate=statuses.success_rate(),
        skills=[_skill(skill_id, runs, catalog) for skill_id, runs in sorted(by_skill.items())],
        daily=_daily(executions),
        workflows=[_workflow(workflow_id, runs) for workflow_id, runs in sorted(by_workflow.items())],
    )


def _workflow(workflow_id: str, runs: list[RunRecord]) -> WorkflowAnalytics:
    statuses = StatusCounts.of(run.status for run in runs)
    return WorkflowAnalytics(
        workflow_id=workflow_id,
        runs=len(runs),
        statuses=statuses,
        success_rate=statuses.success_rate(),
        durations=Durations.of([run.seconds for run in runs if run.status == "completed"]),
        daily=_daily(runs),
    )


def _skill(skill_id: str, runs: list[RunRecord], catalog: SkillCatalog) -> SkillAnalytics:
    try:
        skill = catalog.get(skill_id)
        name, order = skill.name, {step.id: (index, step.name) for index, step in enumerate(skill.steps)}
    except UnknownSkillError:  # runs of a skill since uninstalled
        name, order = skill_id, {}
    statuses = StatusCounts.of(run.status for run in runs)
    return SkillAnalytics(
        skill_id=skill_id,
        skill_name=name,
        runs=len(runs),
        statuses=statuses,
        rolled_back=sum(run.rolled_back for run in runs),
        success_rate=statuses.success_rate(),
        durations=Durations.of([run.seconds for run in runs if run.status == "completed"]),
        steps=_steps(runs, order),
        failures=_failures(runs),
        daily=_daily(runs),
    )


def _steps(runs: list[RunRecord], order: dict[str, tuple[int, str]]) -> list[StepAnalytics]:
    by_step: dict[str, list[tuple[str, float | None]]] = {}
    for run in runs:
        for step in run.steps:
            by_step.setdefault(step.step_id, []).append((step.status, step.seconds))
    rows = []
    for step_id, outcomes in sorted(by_step.items(), key=lambda item: order.get(item[0], (len(order), ""))[0]):
        counted = StatusCounts.of(status for status, _ in outcomes)
        rows.append(StepAnalytics(
            step_id=step_id,
            step_name=order.get(step_id, (0, step_id))[1],
            runs=len(outcomes),
            completed=counted.completed,
            failed=counted.failed + counted.crashed,
            success_rate=counted.success_rate(),
            durations=Durations.of([s for status, s in outcomes if status == "completed" and s is not None]),
        ))
    return rows


def _failures(runs: list[RunRecord]) -> list[FailureCount]:
    counted = Counter((f.step_id, f.rule_id) for run in runs for f in run.failures)
    titles = {(f.step_id, f.rule_id): f.title for run in runs for f in run.failures}
    return [
        FailureCount(step_id=step_id, rule_id=rule_id, title=titles[(step_id, rule_id)], count=count)
        for (step_id, rule_id), count in counted.most_common(TOP_FAILURES)
    ]


def _daily(runs: list[RunRecord]) -> list[DailyPoint]:
    by_day: dict[date, list[RunRecord]] = {}
    for run in runs:
        by_day.setdefault(run.started.date(), []).append(run)
    return [
        DailyPoint(
            day=day,
            statuses=StatusCounts.of(run.status for run in day_runs),
            durations=Durations.of([run.seconds for run in day_runs if run.status == "completed"]),
        )
        for day, day_runs in sorted(by_day.items())
    ]
