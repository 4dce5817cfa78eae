"""Estimates that learn: how long a skill really takes, from its completed runs.

A skill's ``estimated_time`` is its author's guess ("3-5 minutes"). Once it has completed
``MIN_RUNS`` times, the measured p50 and p95 are shown beside it. Parameters can change
what runs (react-setup without installs skips its npm steps and takes seconds, not
minutes), so runs are grouped by the set of steps they ran: a dry run is given the
measurement of runs that ran the same steps as it plans to, and the metadata lists each
such group. The median duration of each step gives the time remaining during a run.

Plain Python: the runs come from whoever reads Prefect's record (``service.run_record``).

    >>> percentile([1.0, 2.0, 3.0, 4.0], 0.5)
    3.0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from skills.definition import SkillDefinition
from skills.wire import WireModel

MIN_RUNS = 5  # fewer completed runs than this, and the author's estimate stands alone


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of ``samples`` (not empty), as ``bench/`` reports them."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


class MeasuredDuration(WireModel):
    """What completed runs took: how many, their median and 95th percentile, in seconds."""

    runs: int
    p50_seconds: float
    p95_seconds: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> MeasuredDuration:
        return cls(
            runs=len(seconds), p50_seconds=round(percentile(seconds, 0.5), 3),
            p95_seconds=round(percentile(seconds, 0.95), 3),
        )


class MeasuredVariant(MeasuredDuration):
    """Runs that ran the same steps; ``skipped_steps`` names the skill's steps they did not run."""

    skipped_steps: list[str]


class MeasuredTime(MeasuredDuration):
    """A skill's measured duration: over all its recent completed runs, per group of runs that
    ran the same steps (with at least ``MIN_RUNS`` runs each), and each step's median."""

    step_p50_seconds: dict[str, float]
    variants: list[MeasuredVariant]


@dataclass(frozen=True)
class CompletedRun:
    """One completed run: the steps it ran, its duration and each completed step's duration."""

    seconds: float
    step_seconds: dict[str, float] = field(default_factory=dict)
    steps: frozenset[str] = frozenset()


def measured_time(skill: SkillDefinition, runs: Sequence[CompletedRun]) -> MeasuredTime | None:
    """The measurement of ``skill`` from its completed ``runs``; None while there are too few."""
    if len(runs) < MIN_RUNS:
        return None
    groups: dict[frozenset[str], list[float]] = {}
    for run in runs:
        groups.setdefault(run.steps, []).append(run.seconds)
    variants = [
        MeasuredVariant(
            **MeasuredDuration.of(seconds).model_dump(), skipped_steps=[s.id for s in skill.steps if s.id not in steps]
        )
        for steps, seconds in sorted(groups.items(), key=lambda group: -len(group[1]))
        if len(seconds) >= MIN_RUNS
    ]
    step_samples: dict[str, list[float]] = {}
    for run in runs:
        for step_id, seconds in run.step_seconds.items():
            step_samples.setdefault(step_id, []).append(seconds)
    return MeasuredTime(
        **MeasuredDuration.of([run.seconds for run in runs]).model_dump(),
        step_p50_seconds={step_id: round(percentile(s, 0.5), 3) for step_id, s in step_samples.items()},
        variants=variants,
    )


def measured_for_plan(skill: SkillDefinition, measured: MeasuredTime | None, steps: frozenset[str]) -> MeasuredDuration | None:
    """The measurement of runs that ran exactly ``steps`` (what a dry run plans), if there are enough."""
    if measured is None:
        return None
    skipped = [step.id for step in skill.steps if step.id not in steps]
    variant = next((v for v in measured.variants if v.skipped_steps == skipped), None)
    return MeasuredDuration(runs=variant.runs, p50_seconds=variant.p50_seconds, p95_seconds=variant.p95_seconds) if variant else None
