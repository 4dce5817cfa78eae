"""Cancelling a run that executes in this process: a request the run itself acts on.

A runner that starts a process per run cancels by killing the process. A run that shares
its process (``flows.in_process_runner``) is asked instead: ``request_cancellation`` kills
the commands its current step is running and wakes it wherever it waits (between steps,
in a step whose command just died, at a confirmation pause). The run then undoes what it
changed, with the same rules as any rollback, and ends ``Cancelled``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from uuid import UUID


class RunCancellation:
    """One run's cancellation request; register it for the run's lifetime with ``with``."""

    def __init__(self, flow_run_id: UUID, on_request: Callable[[], None]) -> None:
        self.flow_run_id = flow_run_id
        self._on_request = on_request
        self._loop = asyncio.get_running_loop()
        self._requested = asyncio.Event()

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    async def wait(self) -> None:
        await self._requested.wait()

    def request(self) -> None:
        """Ask the run to stop (from any thread): its commands die now, the run stops at its next check."""
        self._on_request()
        self._loop.call_soon_threadsafe(self._requested.set)

    def __enter__(self) -> RunCancellation:
        _registered[self.flow_run_id] = self
        if self.flow_run_id in _requested_early:
            self.request()
        return self

    def __exit__(self, *exc_info: object) -> None:
        _registered.pop(self.flow_run_id, None)


_registered: dict[UUID, RunCancellation] = {}
# Requests for runs this process has claimed but that have not reached their steps yet.
_requested_early: set[UUID] = set()


def request_cancellation(flow_run_id: UUID) -> None:
    """Ask the run ``flow_run_id``, executing in this process, to stop, now or as soon as it starts."""
    cancellation = _registered.get(flow_run_id)
    if cancellation is None:
        _requested_early.add(flow_run_id)
    else:
        cancellation.request()


def forget(flow_run_id: UUID) -> None:
    """The run is over: drop any request for it."""
    _requested_early.discard(flow_run_id)
