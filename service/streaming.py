"""The SSE bridge: one execution's Prefect events, as the documented SSE events.

Prefect's event stream has three traps, and each has its answer here:

- Events arrive out of order, and a step's events can arrive after the flow run's
  ``Completed``: the flow numbers its events (``seq``, see ``flows.events``), and this
  bridge emits them strictly in that order, ending only after the flow's own terminal
  event — so every step is accounted for.
- A subscription opened late can miss events the server had not yet stored: the bridge
  subscribes first, then reads what is stored through the REST API, and reads again
  whenever the sequence shows a gap.
- The subscription's backfill replays other runs' events: the filter names this flow run,
  and events of other runs are ignored.

A terminal event (``complete``, ``error``, ``cancelled``) means the run is over, for a
client that acts on it at once: the flow emits it just before it returns, so the bridge
holds it until Prefect has recorded the run's final state (read back through the API, the
source of the history and of the checks behind rollback and retry). By then the run's
process has left its folder lock too.

If the run ends without its own terminal event (its process was killed, or it was
cancelled from outside), the bridge waits for the recovery's undo (the rollback flow's
``skillworks.rollback.completed`` event, or the journal showing it undone) and says how it
ended with ``rolledBack``. A run that had already ended when the client attached ends as
soon as its stored events are out.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import FlowRun
from prefect.events import Event
from prefect.events.clients import get_events_subscriber
from prefect.events.filters import (
    EventAnyResourceFilter,
    EventFilter,
    EventNameFilter,
    EventOccurredFilter,
)

from flows.events import (
    EVENT_PREFIX,
    ROLLBACK_COMPLETED_EVENT,
    TERMINAL_TYPES,
    Cancelled,
    Complete,
    Error,
    Started,
    flow_run_resource_id,
    sse_data_from_event,
)
from flows.rollback import rollback_token
from skills.journal import ExecutionJournal, UndoReport
from skills.workflows.undo import has_changes

FLOW_RUN_STATE_PREFIX = "prefect.flow-run."
SERVER_TERMINAL_STATES = {"Completed", "Failed", "Crashed", "Cancelled", "TimedOut"}
_KILLED_STATES = {"Crashed", "Cancelled"}  # ended with no chance to undo itself
# How long to wait for the flow's own events after the server says the run ended; longer
# than the server's event-persister flush interval, so a REST re-read can still fill gaps.
LATE_EVENT_GRACE_SECONDS = 8.0
# How long a run that was killed may take to be undone by the recovery before the stream
# ends without it (the serving process itself may be restarting).
ROLLBACK_WAIT_SECONDS = 60.0
GAP_REREAD_SECONDS = 1.0
FINAL_STATE_WAIT_SECONDS = 10.0
STORED_PAGE_SIZE = 50  # the most Prefect's /events/filter returns per page


@dataclass(frozen=True)
class SseEvent:
    id: int
    data: dict[str, Any]

    def encode(self) -> str:
        return f"id: {self.id}\ndata: {json.dumps(self.data, separators=(',', ':'))}\n\n"


@dataclass
class _ServerEnd:
    state: str
    message: str | None
    occurred: datetime

    def seconds_ago(self) -> float:
        return (datetime.now(timezone.utc) - self.occurred).total_seconds()


@dataclass
class _Ordering:
    """Puts one run's events back in ``seq`` order and decides when the stream is over."""

    execution_id: str
    after: int
    seen: set[UUID] = field(default_factory=set)
    buffered: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_seq: int = 1
    held_terminal: SseEvent | None = None  # the flow's own terminal event, until the end is recorded
    held_at: float = 0.0
    server_end: _ServerEnd | None = None
    undo_report: UndoReport | None = None
    over: bool = False
    gap_since: float | None = None

    def accept(self, event: Event) -> list[SseEvent]:
        if event.id in self.seen:
            return []
        self.seen.add(event.id)
        decoded = sse_data_from_event(event.event, event.payload)
        if decoded is not None:
            seq, data = decoded
            self.buffered.setdefault(seq, data)
        elif event.event == ROLLBACK_COMPLETED_EVENT:
            self.undo_report = UndoReport.model_validate(event.payload.get("report", {}))
        elif event.event.startswith(FLOW_RUN_STATE_PREFIX):
            state = event.event.removeprefix(FLOW_RUN_STATE_PREFIX)
            if state in SERVER_TERMINAL_STATES:
                message = (event.payload.get("validated_state") or {}).get("message")
                self.server_end = _ServerEnd(state, message, event.occurred)
        return self._release()

    def _release(self) -> list[SseEvent]:
        released: list[SseEvent] = []
        while self.next_seq in self.buffered and self.held_terminal is None:
            event = SseEvent(self.next_seq, self.buffered.pop(self.next_seq))
            self.next_seq += 1
            if event.data.get("type") in TERMINAL_TYPES:
                self.held_terminal, self.held_at = event, time.monotonic()
            elif event.id > self.after:
                released.append(event)
        self.gap_since = (self.gap_since or time.monotonic()) if self.buffered else None
        return released

    def release_terminal(self) -> list[SseEvent]:
        """The flow's own terminal event, once the run's end is recorded."""
        assert self.held_terminal is not None
        self.over = True
        return [self.held_terminal] if self.held_terminal.id > self.after else []

    def end_without_own_terminal(self) -> list[SseEvent]:
        """The run ended without its terminal event: release what arrived, then say how it ended."""
        released = []
        # Its own terminal event may be here, behind a gap that never filled: then it is the last word.
        own_terminal = any(data.get("type") in TERMINAL_TYPES for data in self.buffered.values())
        for seq in sorted(self.buffered):
            if seq > self.after:
                released.append(SseEvent(seq, self.buffered[seq]))
            self.next_seq = seq + 1
        self.buffered.clear()
        if self.next_seq > self.after and not own_terminal:
            released.append(SseEvent(self.next_seq, self._closing_data()))
        self.over = True
        return released

    def _closing_data(self) -> dict[str, Any]:
        end = self.server_end or _ServerEnd("Crashed", None, datetime.now(timezone.utc))
        report = self.undo_report or UndoReport()
        rolled_back = {
            "rolled_back": self.undo_report is not None and report.complete,
            "undone": report.deleted + report.restored, "conflicts": report.conflicts,
        }
        if end.state == "Cancelled":
            return Cancelled(execution_id=self.execution_id, **rolled_back).wire()
        if end.state == "Completed":
            return Complete(
                execution_id=self.execution_id, duration="", rollback_token=rollback_token(self.execution_id)
            ).wire()
        suggestions = ["See the run's logs in the Prefect UI."]
        if end.state in _KILLED_STATES and not rolled_back["rolled_back"]:
            suggestions.append(f"Undo what it changed with POST /api/rollback ({rollback_token(self.execution_id)}).")
        return Error(
            execution_id=self.execution_id, error=f"The run ended {end.state}: {end.message or 'no message'}",
            suggestions=suggestions, **rolled_back,
        ).wire()


def started_event(flow_run: FlowRun, skill_id: str | None, skill_name: str | None, total_steps: int, prefect_url: str | None) -> SseEvent:
    return SseEvent(0, Started(
        execution_id=str(flow_run.id), skill_id=skill_id, skill_name=skill_name, total_steps=total_steps,
        prefect_url=prefect_url,
    ).wire())


async def execution_events(
    client: PrefectClient, flow_run: FlowRun, started: SseEvent, journal: ExecutionJournal, after: int = -1
) -> AsyncIterator[SseEvent]:
    """Every SSE event of ``flow_run`` with an id above ``after``, live, until the run is over."""
    if started.id > after:
        yield started
    ordering = _Ordering(str(flow_run.id), after)
    if flow_run.state and flow_run.state.is_final():
        # Re-attaching to a finished run: its last events may be neither stored yet nor live anymore.
        ordering.server_end = _ServerEnd(flow_run.state.name, flow_run.state.message, flow_run.state.timestamp)
    run_filter = EventFilter(
        any_resource=EventAnyResourceFilter(id=[flow_run_resource_id(flow_run.id)]),
        event=EventNameFilter(prefix=[EVENT_PREFIX, FLOW_RUN_STATE_PREFIX, ROLLBACK_COMPLETED_EVENT]),
    )
    async with get_events_subscriber(filter=run_filter.model_copy(deep=True)) as subscriber:
        for event in await _stored_events(client, run_filter, flow_run):
            for released in ordering.accept(event):
                yield released
        last_reread = time.monotonic()
        # Events published just before the subscription but not yet stored reach neither the
        # subscription nor that first read: keep re-reading the store until they must be in it.
        reconcile_until = last_reread + LATE_EVENT_GRACE_SECONDS
        while True:
            for released in await _closing(client, ordering, journal):
                yield released
            if ordering.over:
                return
            try:
                wait = _next_wakeup(ordering, last_reread, reconcile_until)
                batch = ordering.accept(await asyncio.wait_for(subscriber.__anext__(), timeout=wait))
            except asyncio.TimeoutError:
                batch = []
                for stored in await _stored_events(client, run_filter, flow_run):
                    batch += ordering.accept(stored)
                last_reread = time.monotonic()
            for released in batch:
                yield released


async def _closing(client: PrefectClient, ordering: _Ordering, journal: ExecutionJournal) -> list[SseEvent]:
    """The stream's last events, once the run is over and its end recorded; else nothing yet."""
    end = ordering.server_end
    if ordering.held_terminal is not None:
        if end is None and time.monotonic() < ordering.held_at + LATE_EVENT_GRACE_SECONDS:
            return []
        await _until_recorded_final(client, UUID(ordering.execution_id))
        return ordering.release_terminal()
    if end is None or (ordering.gap_since is not None and end.seconds_ago() < LATE_EVENT_GRACE_SECONDS):
        return []
    if end.state in _KILLED_STATES:
        if not has_changes(journal.workspace_root, ordering.execution_id):
            ordering.undo_report = UndoReport()  # it changed nothing: nothing to undo
        ordering.undo_report = ordering.undo_report or journal.last_undo()
        waiting_for_undo = ordering.undo_report is None
        if waiting_for_undo and end.seconds_ago() < ROLLBACK_WAIT_SECONDS:
            return []
    elif end.seconds_ago() < LATE_EVENT_GRACE_SECONDS:
        return []  # it ended on its own, so its terminal event is on its way
    return ordering.end_without_own_terminal()


async def _until_recorded_final(client: PrefectClient, flow_run_id: UUID) -> None:
    """Wait until the API shows the run in a final state (the flow announced it a moment earlier)."""
    deadline = time.monotonic() + FINAL_STATE_WAIT_SECONDS
    while time.monotonic() < deadline:
        flow_run = await client.read_flow_run(flow_run_id)
        if flow_run.state is not None and flow_run.state.is_final():
            return
        await asyncio.sleep(0.05)


def _next_wakeup(ordering: _Ordering, last_reread: float, reconcile_until: float) -> float | None:
    """When to stop waiting for a live event and look again (None: wait on)."""
    if ordering.held_terminal is not None or ordering.server_end is not None:
        return GAP_REREAD_SECONDS  # the end is near: look at the store and the journal each second
    if ordering.gap_since is not None or time.monotonic() < reconcile_until:
        return max(0.0, GAP_REREAD_SECONDS - (time.monotonic() - last_reread))
    return None


async def _stored_events(client: PrefectClient, run_filter: EventFilter, flow_run: FlowRun) -> list[Event]:
    # ``until`` defaults to the filter's creation time: stretch it so nothing recent is cut off.
    occurred = EventOccurredFilter(since=flow_run.created, until=datetime.now(timezone.utc) + timedelta(days=1))
    page = await client.read_events(filter=run_filter.model_copy(update={"occurred": occurred}), limit=STORED_PAGE_SIZE)
    events = list(page.events)
    while page.next_page:
        page = await client.read_events_page(str(page.next_page))
        events.extend(page.events)
    return events
