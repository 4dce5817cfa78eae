"""A stream whose run ended with a gap that never filled still ends with one terminal event."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from prefect.events import Event

from flows.events import EVENT_PREFIX, flow_run_resource_id
from service.streaming import _Ordering


def execution_event(execution_id: uuid.UUID, seq: int, event_type: str) -> Event:
    return Event(
        occurred=datetime.now(timezone.utc), event=f"{EVENT_PREFIX}{event_type}",
        resource={"prefect.resource.id": flow_run_resource_id(execution_id)},
        payload={"seq": seq, "data": {"type": event_type}}, id=uuid.uuid4(),
    )


def test_the_runs_own_terminal_event_behind_a_lost_one_is_the_last_and_only_terminal() -> None:
    execution_id = uuid.uuid4()
    ordering = _Ordering(str(execution_id), after=-1)
    released = ordering.accept(execution_event(execution_id, 1, "step_progress"))
    released += ordering.accept(execution_event(execution_id, 3, "complete"))  # seq 2 never arrives

    released += ordering.end_without_own_terminal()

    assert [(event.id, event.data["type"]) for event in released] == [(1, "step_progress"), (3, "complete")]


def test_a_run_that_ended_without_its_terminal_event_gets_one_saying_how_it_ended() -> None:
    execution_id = uuid.uuid4()
    ordering = _Ordering(str(execution_id), after=-1)
    released = ordering.accept(execution_event(execution_id, 1, "step_progress"))

    released += ordering.end_without_own_terminal()

    assert [(event.id, event.data["type"]) for event in released] == [(1, "step_progress"), (2, "error")]
