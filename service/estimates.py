"""Measured durations of the skills, read from Prefect's record and kept for a short while.

A dry run or the metadata must not wait on Prefect: a measurement is answered from memory
and refreshed in the background once it is a few seconds old (``skills.caching``: one read
at a time per skill, shared by every caller), so a run that just completed shows up in
the next answers without any request paying for the read. A refresh first asks which run of
the skill completed last, and reads the runs again only if that changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient

from service.run_record import last_completed_run, read_completed_runs
from skills.caching import cached_for
from skills.catalog import SkillCatalog
from skills.definition import SkillDefinition
from skills.estimates import CompletedRun, MeasuredTime, measured_time

logger = logging.getLogger("skillworks.estimates")

NEWEST_RUNS = 50  # estimates follow a skill's recent behaviour, not its whole past
KEEP_SECONDS = 300.0  # after this, a caller waits for a fresh read
REFRESH_AFTER_SECONDS = 2.0  # older than this, the answer is refreshed in the background

Measurements = tuple[tuple[str, MeasuredTime | None], ...]  # (skill id, its measured duration), in order


class MeasuredEstimates:
    """``of(skill_id)``: the skill's measured duration, or None (too few runs, or Prefect unreachable).

    Blocking: call it from a worker thread.
    """

    def __init__(self, client: SyncPrefectClient, catalog: Callable[[], SkillCatalog]) -> None:
        self.client = client
        self.catalog = catalog
        self._cached = cached_for(KEEP_SECONDS, refresh_after=REFRESH_AFTER_SECONDS)(self._measure)
        self._measured: dict[str, _Measurement] = {}  # by skill id

    def of(self, skill_id: str) -> MeasuredTime | None:
        try:
            return self._cached(skill_id)
        except Exception:  # the author's estimate still stands: a dry run must not fail for this
            logger.warning("Could not read the measured duration of %s", skill_id, exc_info=True)
            return None

    def known(self, skill_ids: tuple[str, ...]) -> Measurements | None:
        """Each skill's measured duration if all are in memory (answered without blocking, so
        from the event loop), else None: then ask ``of`` from a worker thread."""
        answers = []
        for skill_id in skill_ids:
            found, measured = self._cached.known(skill_id)  # type: ignore[attr-defined]
            if not found:
                return None
            answers.append((skill_id, measured))
        return tuple(answers)

    def _measure(self, skill_id: str) -> MeasuredTime | None:
        """Measured again only when a run of the skill completed (or the skill changed) since the
        last measurement: the newest runs with their steps are hundreds of rows, read every few
        seconds by every facade process, while most of the time nothing has completed."""
        skill = self.catalog().get(skill_id)
        last_completed = last_completed_run(self.client, skill_id)
        known = self._measured.get(skill_id)
        if known is not None and known.last_completed == last_completed and known.skill is skill:
            return known.time
        runs = read_completed_runs(self.client, skill_id, NEWEST_RUNS)
        completed = [
            CompletedRun(
                seconds=run.seconds,
                step_seconds={s.step_id: s.seconds for s in run.steps if s.status == "completed" and s.seconds is not None},
                steps=run.step_set,
            )
            for run in runs
        ]
        time = measured_time(skill, completed)
        self._measured[skill_id] = _Measurement(skill, last_completed, time)
        return time


@dataclass(frozen=True)
class _Measurement:
    skill: SkillDefinition  # as it was measured: a changed skill (new steps) is measured again
    last_completed: UUID | None
    time: MeasuredTime | None
