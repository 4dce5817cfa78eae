"""Deployments of the skill flows, the workflows and rollback, and serving them (what
``skillworks up`` runs).

Serving registers a deployment per skill of the catalog and one for rollback, then runs three
services side by side: the in-process runner that executes their flow runs
(``flows.in_process_runner``), the recovery that undoes runs that died (``flows.recovery``), and
hot loading, which keeps the deployments in step with the catalog as skills are installed,
changed or removed (``flows.hot_deployments``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.exceptions import TerminationSignal
from prefect.flows import Flow

from blocks.settings import catalog_sources, load_settings, skillworks_home
from flows.hot_deployments import HotDeployments, skill_deployment
from flows.in_process_runner import InProcessRunner
from flows.names import INLINE_WORKFLOW_DEPLOYMENT, TAG, workflow_tags
from flows.recovery import RecoveryService
from flows.rollback import ROLLBACK_FLOW_NAME, ROLLBACK_TAG, crashed_run_trigger, rollback
from flows.skill_flows import add_skill_flow
from flows.warm_execution import WarmExecutions
from flows.workflow_flow import run_workflow
from skills.dev_folders import DevFolders
from skills.live_catalog import LiveCatalog
from skills.workflows.library import WorkflowLibrary


def rollback_deployment() -> RunnerDeployment:
    """Rollback's deployment, triggered by any crashed or cancelled skillworks run."""
    return rollback.to_deployment(
        name=ROLLBACK_FLOW_NAME, tags=[ROLLBACK_TAG], triggers=[crashed_run_trigger()],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


WORKFLOW_ENTRYPOINT = f"{run_workflow.__module__}.{run_workflow.fn.__name__}"


async def apply_workflow_deployment(workflow_id: str | None, description: str = "") -> UUID:
    """Register the deployment that runs one built-in or saved workflow (None: a spec given
    inline); a saved workflow's can then be scheduled in the Prefect UI like any deployment."""
    deployment = await run_workflow.ato_deployment(
        name=workflow_id or INLINE_WORKFLOW_DEPLOYMENT,
        parameters={"workflow_id": workflow_id} if workflow_id else {},
        tags=workflow_tags(workflow_id) if workflow_id else [TAG],
        description=description or "Runs the workflow spec given as a parameter.",
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    return await deployment.aapply()


async def _apply_workflow_deployments(workspace_root: Path) -> list[UUID]:
    library = WorkflowLibrary(workspace_root)
    ids = [await apply_workflow_deployment(None)]
    return ids + [await apply_workflow_deployment(spec.id, spec.description) for spec, _ in library.all()]


def serve_skills(limit: int) -> None:
    """Serve every skill deployment and rollback from this process until interrupted."""
    undo = rollback_deployment()  # outside the event loop: to_deployment() is sync here
    try:
        asyncio.run(_serve(undo, limit))
    except (KeyboardInterrupt, TerminationSignal):
        pass


async def _serve(undo: RunnerDeployment, limit: int) -> None:
    # Rollback first, so its trigger exists before recovery marks anything crashed.
    flows: dict[UUID, Flow[..., Any]] = {await undo.aapply(): rollback}
    catalog = LiveCatalog(catalog_sources, DevFolders(skillworks_home()).folder)
    for skill in catalog.current.all():
        skill_flow = add_skill_flow(skill)
        flows[await skill_deployment(skill_flow, skill.id)] = skill_flow
    workspace_root = (await load_settings()).workspace_root
    for deployment_id in await _apply_workflow_deployments(workspace_root):
        flows[deployment_id] = run_workflow
    runner = InProcessRunner(flows, limit, WarmExecutions(workspace_root), by_entrypoint={WORKFLOW_ENTRYPOINT: run_workflow})
    recovery = RecoveryService(workspace_root)
    hot = HotDeployments(flows)
    async with asyncio.TaskGroup() as group:
        group.create_task(runner.run_forever())
        group.create_task(recovery.run_forever())
        group.create_task(catalog.watch(hot.apply))
