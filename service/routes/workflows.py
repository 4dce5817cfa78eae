"""Workflows: the spec's schema, validation with the plan, execution (SSE), and saved workflows.

A workflow execution is a Prefect flow run like a skill's: ``/api/executions/{id}`` (events,
confirm, cancel, retry), ``/api/rollback`` and the history work on it as they do for skills.
Saved workflows get a Prefect deployment each, so they can be scheduled in the Prefect UI.
"""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse

from blocks.settings import Settings
from flows.deployments import apply_workflow_deployment
from flows.names import workflow_deployment_name
from service.deps import CatalogDep, PrefectClientDep, SettingsDep
from service.errors import ApiError
from service.routes.executions import stream_execution
from service.workflow_runs import start_workflow_run
from service.workflow_schemas import (
    SaveWorkflowRequest,
    WorkflowDetail,
    WorkflowList,
    WorkflowRequest,
    WorkflowSummary,
    WorkflowValidationResponse,
)
from skills.catalog import SkillCatalog
from skills.errors import UserMessageError
from skills.workflows.library import BuiltinWorkflowError, UnknownWorkflowError, WorkflowLibrary, WorkflowSource
from skills.workflows.spec import WorkflowSpec, workflow_json_schema
from skills.workflows.validation import ValidationContext, WorkflowValidation, validate_workflow

router = APIRouter(prefix="/api/workflows", tags=["workflows"])


@router.get("/schema")
def workflow_schema() -> dict[str, Any]:
    """The JSON Schema of a workflow spec (YAML files use these snake_case names)."""
    return workflow_json_schema()


@router.post("/validate", response_model=WorkflowValidationResponse)
async def validate(request: WorkflowRequest, catalog: CatalogDep, settings: SettingsDep) -> WorkflowValidationResponse:
    """Every problem at once, and the plan: generations, each node's dry run, the critical path. Changes nothing."""
    checked = await _validated(request, catalog, settings)
    return WorkflowValidationResponse(valid=checked.valid, problems=checked.problems, plan=checked.plan)


@router.post(
    "/execute",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The workflow run's events as Server-Sent Events"}},
)
async def execute(request: WorkflowRequest, catalog: CatalogDep, settings: SettingsDep, client: PrefectClientDep) -> StreamingResponse:
    """Validate, then start the workflow's run and stream it (422 with every problem, and nothing started, if invalid)."""
    checked = await _validated(request, catalog, settings)
    if not checked.valid or checked.spec is None:
        raise _invalid(checked)
    arguments = request.model_dump(include={"inputs", "level", "persona"})
    if request.spec is not None:
        arguments["spec"] = checked.spec.model_dump(mode="json", exclude_defaults=True)
    else:
        arguments["workflow_id"] = request.workflow_id
    flow_run = await start_workflow_run(client, settings, arguments)
    return stream_execution(client, flow_run, catalog, settings, after=-1)


@router.get("", response_model=WorkflowList)
def list_workflows(settings: SettingsDep) -> WorkflowList:
    workflows = [_summary(spec, source) for spec, source in WorkflowLibrary(settings.workspace_root).all()]
    return WorkflowList(workflows=workflows, count=len(workflows))


@router.post("", response_model=WorkflowDetail, status_code=201)
async def save_workflow(request: SaveWorkflowRequest, catalog: CatalogDep, settings: SettingsDep) -> WorkflowDetail:
    """Save a workflow (replacing a saved one with the same id) and give it a Prefect deployment.

    It is checked as for a run, except for its inputs, which each run gives."""
    checked = await anyio.to_thread.run_sync(lambda: _check(request.spec, None, "expert", "full-stack", catalog, settings))
    checked.problems = [problem for problem in checked.problems if problem.kind != "invalid_input"]
    if checked.problems or checked.spec is None:
        raise _invalid(checked)
    library = WorkflowLibrary(settings.workspace_root)
    try:
        library.save(checked.spec)
    except BuiltinWorkflowError as builtin:
        raise ApiError(409, "builtin_workflow", builtin.message, {"suggestions": builtin.suggestions}) from None
    await apply_workflow_deployment(checked.spec.id, checked.spec.description)
    return _detail(checked.spec, "saved")


@router.get("/{workflow_id}", response_model=WorkflowDetail)
def get_workflow(workflow_id: str, settings: SettingsDep) -> WorkflowDetail:
    spec, source = _get(WorkflowLibrary(settings.workspace_root), workflow_id)
    return _detail(spec, source)


@router.delete("/{workflow_id}", status_code=204, response_class=Response)
async def delete_workflow(workflow_id: str, settings: SettingsDep, client: PrefectClientDep) -> Response:
    """Delete a saved workflow and its deployment (its past runs stay in the history)."""
    library = WorkflowLibrary(settings.workspace_root)
    _get(library, workflow_id)
    try:
        library.delete(workflow_id)
    except BuiltinWorkflowError as builtin:
        raise ApiError(409, "builtin_workflow", builtin.message, {"suggestions": builtin.suggestions}) from None
    deployment = await client.read_deployment_by_name(workflow_deployment_name(workflow_id))
    await client.delete_deployment(deployment.id)
    return Response(status_code=204)


async def _validated(request: WorkflowRequest, catalog: SkillCatalog, settings: Settings) -> WorkflowValidation:
    source: Any = request.spec
    if request.workflow_id is not None:
        source = _get(WorkflowLibrary(settings.workspace_root), request.workflow_id)[0]
    # In a thread: the nodes' dry runs run the skills' own step code, off the event loop.
    return await anyio.to_thread.run_sync(
        lambda: _check(source, request.inputs, request.level, request.persona, catalog, settings)
    )


def _check(source: Any, inputs: Any, level: str, persona: str, catalog: SkillCatalog, settings: Settings) -> WorkflowValidation:
    context = ValidationContext(catalog, WorkflowLibrary(settings.workspace_root), settings.workspace_root, level, persona)
    return validate_workflow(source, inputs, context)


def _invalid(checked: WorkflowValidation) -> ApiError:
    problems = [problem.model_dump(mode="json") for problem in checked.problems]
    summary = "; ".join(f"{p.node_id or p.field or 'workflow'}: {p.message}" for p in checked.problems[:5])
    return ApiError(422, "invalid_workflow", f"The workflow is not valid: {summary}", {"problems": problems})


def _get(library: WorkflowLibrary, workflow_id: str) -> tuple[WorkflowSpec, WorkflowSource]:
    try:
        return library.get(workflow_id)
    except UnknownWorkflowError as unknown:
        raise ApiError(404, "unknown_workflow", unknown.message, {"suggestions": unknown.suggestions}) from None
    except UserMessageError as broken:  # a saved file edited by hand into something invalid
        raise ApiError(500, "broken_workflow", broken.message) from None


def _summary(spec: WorkflowSpec, source: WorkflowSource) -> WorkflowSummary:
    return WorkflowSummary(
        id=spec.id, name=spec.name, version=spec.version, description=spec.description, source=source,
        deployment=workflow_deployment_name(spec.id), nodes=len(spec.nodes),
    )


def _detail(spec: WorkflowSpec, source: WorkflowSource) -> WorkflowDetail:
    return WorkflowDetail(**_summary(spec, source).model_dump(), spec=spec.model_dump(mode="json", exclude_defaults=True))
