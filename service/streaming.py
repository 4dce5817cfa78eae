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

If the run ends without its own terminal event (the process crashed or was cancelled from
outside), the server's state event is turned into ``error`` or ``cancelled`` after a grace
period for late events.
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
    TERMINAL_TYPES,
    flow_run_resource_id,
    sse_data_from_event,
)
from flows.rollback import rollback_token

FLOW_RUN_STATE_PREFIX = "prefect.flow-run."
SERVER_TERMINAL_STATES = {"Completed", "Failed", "Crashed", "Cancelled", "TimedOut"}
# How long to wait for the flow's own events after the server says the run ended; longer
# than the server's event-persister flush interval, so a REST re-read can still fill gaps.
LATE_EVENT_GRACE_SECONDS = 8.0
GAP_REREAD_SECONDS = 1.0
STORED_PAGE_SIZE = 50  # the most Prefect's /events/filter returns per page


@dataclass(frozen=True)
class SseEvent:
    id: int
    data: dict[str, Any]

    def encode(self) -> str:
        return f"id: {self.id}\ndata: {json.dumps(self.data, separators=(',', ':'))}\n\n"


@dataclass
class _Ordering:
    """Puts one run's events back in ``seq`` order and decides when the stream is over."""

    execution_id: str
    after: int
    seen: set[UUID] = field(default_factory=set)
    buffered: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_seq: int = 1
    own_end_at: float | None = None  # when the flow's own terminal event was released
    gave_up: bool = False
    server_terminal: tuple[str, str | None, datetime] | None = None
    gap_since: float | None = None

    @property
    def finished(self) -> bool:
        """Over once the flow's terminal event is out and Prefect has recorded the end state,
        so a client that reads the run right after the stream sees it finished."""
        if self.gave_up:
            return True
        if self.own_end_at is None:
            return False
        return self.server_terminal is not None or time.monotonic() - self.own_end_at > LATE_EVENT_GRACE_SECONDS

    def accept(self, event: Event) -> list[SseEvent]:
        if event.id in self.seen:
            return []
        self.seen.add(event.id)
        decoded = sse_data_from_event(event.event, event.payload)
        if decoded is not None:
            seq, data = decoded
            self.buffered.setdefault(seq, data)
        elif event.event.startswith(FLOW_RUN_STATE_PREFIX):
            state = event.event.removeprefix(FLOW_RUN_STATE_PREFIX)
            if state in SERVER_TERMINAL_STATES:
                message = (event.payload.get("validated_state") or {}).get("message")
                self.server_terminal = (state, message, event.occurred)
        return self._release()

    def _release(self) -> list[SseEvent]:
        released: list[SseEvent] = []
        while self.next_seq in self.buffered and self.own_end_at is None:
            data = self.buffered.pop(self.next_seq)
            if self.next_seq > self.after:
                released.append(SseEvent(self.next_seq, data))
            if data.get("type") in TERMINAL_TYPES:
                self.own_end_at = time.monotonic()
            self.next_seq += 1
        self.gap_since = (self.gap_since or time.monotonic()) if self.buffered else None
        return released

    def seconds_left_for_late_events(self) -> float | None:
        """None while both ends are awaited; else how much longer to wait for the missing one."""
        if self.own_end_at is not None:
            return max(0.0, LATE_EVENT_GRACE_SECONDS - (time.monotonic() - self.own_end_at))
        if self.server_terminal is None:
            return None
        elapsed = (datetime.now(timezone.utc) - self.server_terminal[2]).total_seconds()
        return max(0.0, LATE_EVENT_GRACE_SECONDS - elapsed)

    def give_up(self) -> list[SseEvent]:
        """The run ended without its own terminal event: release what arrived, then say how it ended."""
        released = []
        for seq in sorted(self.buffered):
            if seq > self.after:
                released.append(SseEvent(seq, self.buffered[seq]))
            self.next_seq = seq + 1
        self.buffered.clear()
        state, message, _ = self.server_terminal or ("Crashed", None, None)
        if state == "Cancelled":
            data: dict[str, Any] = {"type": "cancelled", "executionId": self.execution_id}
        elif state == "Completed":
            data = {"type": "complete", "executionId": self.execution_id, "rollbackToken": rollback_token(self.execution_id)}
        else:
            data = {
                "type": "error", "executionId": self.execution_id,
                "error": f"The run ended {state}: {message or 'no message'}",
                "suggestions": ["See the run's logs in the Prefect UI."], "rolledBack": False,
            }
        if self.next_seq > self.after:
            released.append(SseEvent(self.next_seq, data))
        self.gave_up = True
        return released


def started_event(flow_run: FlowRun, skill_id: str | None, skill_name: str | None, total_steps: int, prefect_url: str | None) -> SseEvent:
    return SseEvent(0, {
        "type": "started", "executionId": str(flow_run.id), "skillId": skill_id, "skillName": skill_name,
        "totalSteps": total_steps, "prefectUrl": prefect_url,
    })


async def execution_events(client: PrefectClient, flow_run: FlowRun, started: SseEvent, after: int = -1) -> AsyncIterator[SseEvent]:
    """Every SSE event of ``flow_run`` with an id above ``after``, live, until the run is over."""
    if started.id > after:
        yield started
    ordering = _Ordering(str(flow_run.id), after)
    if flow_run.state and flow_run.state.is_final():
        # Re-attaching to a finished run: its last events may be neither stored yet nor live anymore.
        ordering.server_terminal = (flow_run.state.name, flow_run.state.message, flow_run.state.timestamp)
    run_filter = EventFilter(
        any_resource=EventAnyResourceFilter(id=[flow_run_resource_id(flow_run.id)]),
        event=EventNameFilter(prefix=[EVENT_PREFIX, FLOW_RUN_STATE_PREFIX]),
    )
    async with get_events_subscriber(filter=run_filter.model_copy(deep=True)) as subscriber:
        for event in await _stored_events(client, run_filter, flow_run):
            for released in ordering.accept(event):
                yield released
        last_reread = time.monotonic()
        # Events published just before the subscription but not yet stored reach neither the
        # subscription nor that first read: keep re-reading the store until they must be in it.
        reconcile_until = last_reread + LATE_EVENT_GRACE_SECONDS
        while not ordering.finished:
            wait = _next_wakeup(ordering, last_reread, reconcile_until)
            try:
                event = await asyncio.wait_for(subscriber.__anext__(), timeout=wait)
                batch = ordering.accept(event)
            except asyncio.TimeoutError:
                batch = []
                for stored in await _stored_events(client, run_filter, flow_run):
                    batch += ordering.accept(stored)
                last_reread = time.monotonic()
                if ordering.own_end_at is None and ordering.seconds_left_for_late_events() == 0:
                    batch += ordering.give_up()
            for released in batch:
                yield released


def _next_wakeup(ordering: _Ordering, last_reread: float, reconcile_until: float) -> float | None:
    """When to stop waiting for a live event and look at stored ones instead (None: wait on)."""
    waits = []
    late = ordering.seconds_left_for_late_events()
    if late is not None:
        waits.append(min(late, GAP_REREAD_SECONDS))
    if ordering.gap_since is not None or time.monotonic() < reconcile_until:
        waits.append(max(0.0, GAP_REREAD_SECONDS - (time.monotonic() - last_reread)))
    return min(waits) if waits else None


async def _stored_events(client: PrefectClient, run_filter: EventFilter, flow_run: FlowRun) -> list[Event]:
    # ``until`` defaults to the filter's creation time: stretch it so nothing recent is cut off.
    occurred = EventOccurredFilter(since=flow_run.created, until=datetime.now(timezone.utc) + timedelta(days=1))
    page = await client.read_events(filter=run_filter.model_copy(update={"occurred": occurred}), limit=STORED_PAGE_SIZE)
    events = list(page.events)
    while page.next_page:
        page = await client.read_events_page(str(page.next_page))
        events.extend(page.events)
    return events
