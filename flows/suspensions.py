"""One observer per warm process of its runs being suspended from outside.

A deployment's flow run can be suspended while it runs (``suspend_flow_run(flow_run_id=...)``,
an automation's "suspend flow run" action): its engine notices and stops at the next task.
To notice, Prefect's engine (3.9) starts one observer per flow run: a thread with its own
event loop, Prefect client and events subscription, and it blocks the run's start until
that subscription is up. A warm process executing many runs side by side paid that per
run, and blocked its event loop, where every other run executes, at each start.

``ProcessSuspensions`` holds one Prefect ``FlowRunSuspendingObserver`` (the same class, which
watches any number of runs) for every run this process executes, and tells the engine of a
run it watches not to start an observer of its own. The engine learns of a suspension as it
did before: through the request it registered for the run.

Example:
    ```python
    async with ProcessSuspensions() as suspensions:
        async with suspensions.watching(flow_run.id):
            await run_flow(flow, flow_run=flow_run)
    ```
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from uuid import UUID

import prefect.flow_engine
from prefect._flow_run_suspension import mark_flow_run_suspension_requested
from prefect._internal.observers import FlowRunSuspendingObserver
from prefect.client.schemas.objects import State

# Prefect's own per-run observer, kept for the runs no ProcessSuspensions watches.
_observe_alone = prefect.flow_engine.observe_flow_run_suspension
_watched_here: set[UUID] = set()


class ProcessSuspensions:
    """While entered, watches the runs given to ``watching`` for suspensions (one subscription)."""

    def __init__(self) -> None:
        self._observer: FlowRunSuspendingObserver | None = None

    async def __aenter__(self) -> ProcessSuspensions:
        prefect.flow_engine.observe_flow_run_suspension = _observe_unless_watched_here
        self._observer = await FlowRunSuspendingObserver(on_suspended=_hand_to_engine).__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            await observer.__aexit__(*exc_info)

    @asynccontextmanager
    async def watching(self, flow_run_id: UUID) -> AsyncIterator[None]:
        """Watch the run from its current state on (as the engine's observer would) until the block ends."""
        observer = self._observer
        if observer is None:  # not entered: the engine observes the run itself
            yield
            return
        await observer.watch_flow_run_id(flow_run_id)
        _watched_here.add(flow_run_id)
        try:
            yield
        finally:
            _watched_here.discard(flow_run_id)
            observer.remove_in_flight_flow_run_id(flow_run_id)


def _hand_to_engine(flow_run_id: UUID, state: State) -> None:
    """The engine stops the run at its next task: it checks the request it registered for the run."""
    mark_flow_run_suspension_requested(flow_run_id, state)


@contextmanager
def _observe_unless_watched_here(flow_run_id: UUID, *args: Any, **kwargs: Any) -> Iterator[None]:
    """The engine's per-run observer, for a run that no ``ProcessSuspensions`` watches."""
    if flow_run_id in _watched_here:
        yield
        return
    with _observe_alone(flow_run_id, *args, **kwargs):
        yield
