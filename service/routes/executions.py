"""Executions: start one and stream it, re-attach, answer a pause, cancel, and the history."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

import anyio
from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound
from prefect.flow_runs import resume_flow_run
from prefect.states import Cancelled, Cancelling

from blocks.settings import Settings
from flows.names import deployment_name, target_tag
from service.deps import CatalogDep, PrefectClientDep, SettingsDep
from service.errors import ApiError, deployment_missing, invalid_input
from service.history import (
    active_execution_on,
    execution_record,
    list_executions,
    prefect_run_url,
    read_execution,
    skill_id_of,
    workflow_id_of,
)
from service.metrics import SSE_CLIENTS
from service.schemas import (
    CancelResponse,
    ConfirmRequest,
    ConfirmResponse,
    ExecuteRequest,
    ExecutionHistory,
    ExecutionRecord,
)
from service.streaming import SseEvent, execution_events, started_event
from service.workflow_runs import start_workflow_run, workflow_started_event
from skills.catalog import SkillCatalog
from skills.definition import SkillDefinition
from skills.errors import UnknownSkillError
from skills.journal import ExecutionJournal
from skills.planning import Preflight, plan_skill

router = APIRouter(prefix="/api", tags=["executions"])

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
PAUSE_SETTLE_SECONDS = 5.0


class FolderLocks:
    """One lock per target folder, forgotten once nobody holds it or waits for it.

    Starts for different folders must not wait for each other: under load each check and
    start takes a few hundred milliseconds of the Prefect server's time, and one lock for
    all of them made twenty runs at once start one after the other.
    """

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    def __len__(self) -> int:
        """Folders whose lock is held or waited for."""
        return len(self._locks)

    @contextlib.asynccontextmanager
    async def holding(self, folder: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(folder, asyncio.Lock())
        self._users[folder] = self._users.get(folder, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[folder] -= 1
            if not self._users[folder]:
                del self._users[folder], self._locks[folder]


_starting = FolderLocks()


@router.post(
    "/execute-skill",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The run's events as Server-Sent Events"}},
)
async def execute_skill(
    request: ExecuteRequest, catalog: CatalogDep, settings: SettingsDep, client: PrefectClientDep
) -> StreamingResponse:
    """Validate, start the skill's deployment run, and stream its events (422 and nothing started if invalid)."""
    skill = catalog.get(request.skill_id)
    checked = await _checked(skill, request.parameters, request.level, request.persona, settings)
    flow_run = await _start_run(client, skill.id, checked, request.level, request.persona, allow_network=request.allow_network)
    return stream_execution(client, flow_run, catalog, settings, after=-1)


@router.post(
    "/executions/{execution_id}/retry",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The new run's events as Server-Sent Events"}},
)
async def retry_execution(
    execution_id: UUID, client: PrefectClientDep, catalog: CatalogDep, settings: SettingsDep
) -> StreamingResponse:
    """Run a failed execution again from the step that failed, reusing the steps that completed
    (for a workflow: from the node that failed, reusing the nodes that completed)."""
    failed = await read_execution(client, execution_id)
    if not (failed.state and failed.state.is_final() and not failed.state.is_completed()):
        state = failed.state.name if failed.state else "unknown"
        raise ApiError(409, "not_failed", f"Execution {execution_id} is {state}: only a failed run can be retried.")
    if workflow_id_of(failed) is not None:
        flow_run = await start_workflow_run(client, settings, failed.parameters, resume_from=execution_id)
        return stream_execution(client, flow_run, catalog, settings, after=-1)
    skill = catalog.get(skill_id_of(failed) or "")
    arguments = failed.parameters
    checked = await _checked(skill, arguments.get("parameters", {}), arguments.get("level"), arguments.get("persona"), settings)
    flow_run = await _start_run(
        client, skill.id, checked, arguments["level"], arguments["persona"], resume_from=execution_id,
        allow_network=bool(arguments.get("allow_network")),
    )
    return stream_execution(client, flow_run, catalog, settings, after=-1)


async def _checked(skill: SkillDefinition, parameters: Any, level: Any, persona: Any, settings: Settings) -> Preflight:
    """The verdict of a run about to start; 422 with every problem if it fails.

    The same dry run as ``/api/validate-skill``: a run is started exactly when the dry run
    says the request is valid, never for a problem only a step would find later.
    """
    # In a thread: the dry run runs the steps' own code, off the event loop.
    checked, _ = await anyio.to_thread.run_sync(
        lambda: plan_skill(skill, parameters, level, persona, settings.workspace_root)
    )
    if not checked.ok:
        raise invalid_input(checked.errors, checked.warnings)
    return checked


async def _start_run(
    client: PrefectClient, skill_id: str, checked: Preflight, level: str, persona: str, resume_from: UUID | None = None,
    allow_network: bool = False,
) -> FlowRun:
    """Start a deployment run of a checked request, unless another run works in the same folder (409)."""
    target = checked.target
    # Check and start under the folder's lock, so two requests for one folder cannot both pass
    # the check. (Facades behind a load balancer race past it; the flow's own target lock catches that.)
    async with _starting.holding(target) if target else contextlib.nullcontext():
        busy = await active_execution_on(client, target) if target else None
        if busy is not None:
            raise ApiError(
                409, "target_busy", f"Execution {busy} is already working in {target!r}.", {"executionId": str(busy)}
            )
        try:
            return await run_deployment(
                deployment_name(skill_id),
                parameters={
                    "parameters": checked.values, "level": level, "persona": persona,
                    "resume_from": str(resume_from) if resume_from else None,
                    "allow_network": allow_network,
                },
                timeout=0,
                tags=[target_tag(target)] if target else [],
                client=client,
            )
        except ObjectNotFound:
            raise deployment_missing(deployment_name(skill_id)) from None


@router.get("/executions/{execution_id}", response_model=ExecutionRecord)
async def get_execution(
    execution_id: UUID, client: PrefectClientDep, catalog: CatalogDep, settings: SettingsDep
) -> ExecutionRecord:
    return execution_record(await read_execution(client, execution_id), catalog, settings)


@router.get(
    "/executions/{execution_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The run's events as Server-Sent Events"}},
)
async def execution_event_stream(
    execution_id: UUID,
    client: PrefectClientDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    last_event_id: Annotated[int | None, Header(ge=-1)] = None,
) -> StreamingResponse:
    """Re-attach to a run's stream; with ``Last-Event-ID`` only the events after it."""
    flow_run = await read_execution(client, execution_id)
    return stream_execution(client, flow_run, catalog, settings, after=-1 if last_event_id is None else last_event_id)


@router.post("/executions/{execution_id}/confirm", response_model=ConfirmResponse)
async def confirm_execution(execution_id: UUID, answer: ConfirmRequest, client: PrefectClientDep) -> ConfirmResponse:
    """Answer a pause: ``proceed: true`` runs the next step, ``false`` stops the run and undoes it."""
    flow_run = await _paused_execution(client, execution_id)
    if not (flow_run.state and flow_run.state.is_paused()):
        state = flow_run.state.name if flow_run.state else "unknown"
        raise ApiError(409, "not_paused", f"Execution {execution_id} is not waiting for confirmation (it is {state}).")
    await _resume(execution_id, answer.proceed)
    return ConfirmResponse(execution_id=str(execution_id), proceed=answer.proceed)


async def _resume(execution_id: UUID, proceed: bool) -> None:
    """Resume a paused run with its answer. Prefect records the pause a moment before the
    schema of the input it waits for, and refuses to resume until that schema is saved."""
    deadline = time.monotonic() + PAUSE_SETTLE_SECONDS
    while True:
        try:
            await resume_flow_run(execution_id, run_input={"proceed": proceed})
            return
        except RuntimeError as refused:
            if "schema not found" not in str(refused) or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def _paused_execution(client: PrefectClient, execution_id: UUID) -> FlowRun:
    """The run, once paused: the flow announces a pause just before Prefect records it,
    so a client answering at once may find it still Running for a moment."""
    deadline = time.monotonic() + PAUSE_SETTLE_SECONDS
    flow_run = await read_execution(client, execution_id)
    while flow_run.state and flow_run.state.is_running() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        flow_run = await read_execution(client, execution_id)
    return flow_run


@router.post("/executions/{execution_id}/cancel", response_model=CancelResponse)
async def cancel_execution(execution_id: UUID, client: PrefectClientDep) -> CancelResponse:
    flow_run = await read_execution(client, execution_id)
    if flow_run.state and flow_run.state.is_final():
        raise ApiError(409, "already_finished", f"Execution {execution_id} already ended ({flow_run.state.name}).")
    # A run nothing has picked up yet has nobody to stop: it is cancelled outright.
    message = "Cancelled through the skillworks API"
    state = Cancelled(message=message) if flow_run.state and flow_run.state.is_scheduled() else Cancelling(message=message)
    try:
        result = await client.set_flow_run_state(execution_id, state)
    except ObjectNotFound:
        raise ApiError(404, "unknown_execution", f"No execution with id {execution_id}.") from None
    return CancelResponse(execution_id=str(execution_id), state=result.state.name if result.state else "Cancelling")


@router.get("/execution-history", response_model=ExecutionHistory)
async def execution_history(
    client: PrefectClientDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    skill_id: Annotated[str | None, Query(alias="skillId", max_length=100)] = None,
    status: Annotated[str | None, Query(max_length=30)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ExecutionHistory:
    """Every execution, newest first, read from Prefect's flow runs."""
    if skill_id is not None:
        catalog.get(skill_id)
    executions, count = await list_executions(client, catalog, settings, skill_id, status, limit, offset)
    return ExecutionHistory(executions=executions, count=count)


def stream_execution(
    client: PrefectClient, flow_run: FlowRun, catalog: SkillCatalog, settings: Settings, after: int
) -> StreamingResponse:
    """The SSE stream of a skill's or a workflow's run."""
    prefect_url = prefect_run_url(settings.prefect_ui_url, flow_run.id)
    if workflow_id_of(flow_run) is not None:
        started = workflow_started_event(flow_run, settings, prefect_url)
    else:
        skill_id = skill_id_of(flow_run)
        try:
            skill = catalog.get(skill_id) if skill_id else None
        except UnknownSkillError:
            skill = None
        started = started_event(flow_run, skill_id, skill.name if skill else None, len(skill.steps) if skill else 0, prefect_url)
    journal = ExecutionJournal(settings.workspace_root, str(flow_run.id))
    events = execution_events(client, flow_run, started, journal, after)
    return StreamingResponse(_encoded(events), media_type="text/event-stream", headers=SSE_HEADERS)


async def _encoded(events: AsyncIterator[SseEvent]) -> AsyncIterator[str]:
    SSE_CLIENTS.inc()
    try:
        async for event in events:
            yield event.encode()
    finally:  # the stream ended, or its client went away
        SSE_CLIENTS.dec()
