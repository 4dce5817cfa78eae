"""Executions as Prefect flow runs: reading one, listing them, describing them on the wire."""

from __future__ import annotations

from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.exceptions import ObjectNotFound

from blocks.settings import Settings
from flows.names import TAG, skill_tags, target_tag
from flows.recovery import UNFINISHED
from flows.rollback import rollback_token
from service.errors import ApiError
from service.schemas import ExecutionRecord
from service.workflow_schemas import NodeExecution
from skills.catalog import SkillCatalog
from skills.errors import UnknownSkillError
from skills.journal import ExecutionJournal
from skills.workflows.record import WorkflowRecord

STATUSES: dict[str, StateType] = {state.value.lower(): state for state in StateType}


def _tag_value(flow_run: FlowRun, prefix: str) -> str | None:
    return next((tag.split(":", 1)[1] for tag in flow_run.tags if tag.startswith(f"{prefix}:")), None)


def skill_id_of(flow_run: FlowRun) -> str | None:
    return _tag_value(flow_run, "skill")


def workflow_id_of(flow_run: FlowRun) -> str | None:
    """The workflow a workflow run runs (its own runs, not its nodes', carry no skill tag)."""
    return _tag_value(flow_run, "workflow") if skill_id_of(flow_run) is None else None


def prefect_run_url(ui_url: str | None, execution_id: UUID | str) -> str | None:
    return f"{ui_url.rstrip('/')}/runs/flow-run/{execution_id}" if ui_url else None


def execution_record(flow_run: FlowRun, catalog: SkillCatalog, settings: Settings) -> ExecutionRecord:
    """One execution on the wire: Prefect's flow run, plus whether its journal was undone."""
    skill_id = skill_id_of(flow_run)
    try:
        skill_name = catalog.get(skill_id).name if skill_id else None
    except UnknownSkillError:
        skill_name = None
    state = flow_run.state
    undone = ExecutionJournal(settings.workspace_root, str(flow_run.id)).undone()
    workflow_id = workflow_id_of(flow_run)
    timestamp = flow_run.start_time or flow_run.expected_start_time or flow_run.created
    return ExecutionRecord(
        id=str(flow_run.id),
        skill_id=skill_id,
        skill_name=skill_name,
        parameters=dict(flow_run.parameters.get("inputs" if workflow_id else "parameters") or {}),
        level=flow_run.parameters.get("level"),
        persona=flow_run.parameters.get("persona"),
        status="rolled_back" if undone else state.type.value.lower() if state else "unknown",
        state_name=state.name if state else "Unknown",
        message=state.message if state else None,
        timestamp=timestamp.isoformat() if timestamp else None,
        duration=f"{flow_run.total_run_time.total_seconds():.1f}s",
        rollback_token=rollback_token(flow_run.id),
        rolled_back_at=undone.undone_at.isoformat() if undone and undone.undone_at else None,
        prefect_url=prefect_run_url(settings.prefect_ui_url, flow_run.id),
        kind="workflow" if workflow_id else "skill",
        workflow_id=workflow_id,
        nodes=_nodes(settings, flow_run) if workflow_id else None,
        node_id=_tag_value(flow_run, "node"),
        workflow_execution_id=_tag_value(flow_run, "workflow-run"),
    )


def _nodes(settings: Settings, flow_run: FlowRun) -> list[NodeExecution]:
    record = WorkflowRecord.load(settings.workspace_root, str(flow_run.id))
    if record is None:  # not started yet, or stopped before its first node
        return []
    return [
        NodeExecution(node_id=node_id, status=run.status, execution_ids=[r for r in run.runs if r], reason=run.reason)
        for node_id, run in record.nodes.items()
    ]


async def read_execution(client: PrefectClient, execution_id: UUID) -> FlowRun:
    """The flow run of a skillworks execution; 404 for anything else."""
    try:
        flow_run = await client.read_flow_run(execution_id)
    except ObjectNotFound:
        flow_run = None
    if flow_run is None or TAG not in flow_run.tags:
        raise ApiError(404, "unknown_execution", f"No execution with id {execution_id}.")
    return flow_run


def history_filter(skill_id: str | None, status: str | None) -> FlowRunFilter:
    tags = skill_tags(skill_id) if skill_id else [TAG]
    state = None
    if status is not None:
        if status not in STATUSES:
            raise ApiError(
                422, "invalid_request", f"Unknown status {status!r}.", {"hint": f"use one of: {', '.join(STATUSES)}"}
            )
        state = FlowRunFilterState(type=FlowRunFilterStateType(any_=[STATUSES[status]]))
    return FlowRunFilter(tags=FlowRunFilterTags(all_=tags), state=state)


async def list_executions(
    client: PrefectClient, catalog: SkillCatalog, settings: Settings,
    skill_id: str | None, status: str | None, limit: int, offset: int,
) -> tuple[list[ExecutionRecord], int]:
    flow_run_filter = history_filter(skill_id, status)
    flow_runs = await client.read_flow_runs(
        flow_run_filter=flow_run_filter, sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=limit, offset=offset
    )
    count = await client.count_flow_runs(flow_run_filter=flow_run_filter)
    return [execution_record(run, catalog, settings) for run in flow_runs], count


async def active_execution_on(client: PrefectClient, target: str) -> UUID | None:
    """The id of an unfinished execution working in ``target``, if there is one."""
    runs = await client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            tags=FlowRunFilterTags(all_=[TAG, target_tag(target)]),
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=UNFINISHED)),
        ),
        limit=1,
    )
    return runs[0].id if runs else None
