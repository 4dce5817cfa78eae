"""Starting a workflow's run (a Prefect deployment run) and the ``started`` event of its stream."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound

from blocks.settings import Settings
from flows.events import Started
from flows.names import workflow_deployment_name
from service.errors import deployment_missing
from service.streaming import SseEvent
from skills.errors import UserMessageError
from skills.workflows.library import WorkflowLibrary
from skills.workflows.spec import WorkflowSpec, parse_workflow


async def start_workflow_run(
    client: PrefectClient, settings: Settings, arguments: dict[str, Any], resume_from: UUID | None = None
) -> FlowRun:
    """Start the workflow named by ``arguments`` (``workflow_id``, or an inline ``spec``) with its
    ``inputs``, ``level`` and ``persona``; its own deployment for a built-in or saved one."""
    workflow_id = arguments.get("workflow_id")
    spec = arguments.get("spec")
    parameters = {
        "inputs": arguments.get("inputs") or {}, "level": arguments.get("level", "intermediate"),
        "persona": arguments.get("persona", "full-stack"), "resume_from": str(resume_from) if resume_from else None,
    }
    if spec is not None:
        parameters["spec"] = spec
        tags = [f"workflow:{spec['id']}"]  # the inline deployment has no workflow of its own
        name = workflow_deployment_name(None)
    else:
        tags = []
        name = workflow_deployment_name(workflow_id)
    try:
        return await run_deployment(name, parameters=parameters, timeout=0, tags=tags, client=client)
    except ObjectNotFound:
        raise deployment_missing(name) from None


def workflow_started_event(flow_run: FlowRun, settings: Settings, prefect_url: str | None) -> SseEvent:
    spec = _spec_of(flow_run, settings)
    nodes = [
        {"id": node.id, "skill": node.skill, "workflow": node.workflow, "dependsOn": node.depends_on, "approval": node.approval}
        for node in spec.nodes
    ] if spec else []
    return SseEvent(0, Started(
        execution_id=str(flow_run.id), prefect_url=prefect_url, workflow_id=spec.id if spec else None,
        workflow_name=spec.name if spec else None, total_nodes=len(nodes), nodes=nodes,
    ).wire())


def _spec_of(flow_run: FlowRun, settings: Settings) -> WorkflowSpec | None:
    try:
        if flow_run.parameters.get("spec") is not None:
            return parse_workflow(flow_run.parameters["spec"])
        return WorkflowLibrary(settings.workspace_root).get(flow_run.parameters.get("workflow_id") or "")[0]
    except UserMessageError:  # deleted since, say: the stream still works, its nodes are not listed
        return None
