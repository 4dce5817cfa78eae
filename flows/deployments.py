"""Deployments of the skill flows and of rollback, and serving them (what ``skillworks up`` runs)."""

from __future__ import annotations

import asyncio

from prefect import serve
from prefect.deployments.runner import EntrypointType, RunnerDeployment

from blocks.settings import load_settings
from flows.names import skill_tags
from flows.recovery import crash_orphaned_executions
from flows.rollback import ROLLBACK_FLOW_NAME, crashed_run_trigger, rollback
from flows.skill_flows import SKILL_FLOWS


def all_deployments() -> list[RunnerDeployment]:
    """One deployment per skill, plus rollback (triggered by any crashed skillworks run)."""
    undo = rollback.to_deployment(
        name=ROLLBACK_FLOW_NAME,
        tags=["skillworks-rollback"],
        triggers=[crashed_run_trigger()],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    return [undo] + [
        skill_flow.to_deployment(
            name=skill_id,
            tags=skill_tags(skill_id),
            description=skill_flow.description,
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        for skill_id, skill_flow in SKILL_FLOWS.items()
    ]


def serve_skills(limit: int) -> None:
    """Serve every skill deployment and rollback from this process until interrupted.

    First, executions orphaned by an earlier serving process that died are marked crashed,
    so the rollback trigger undoes them.
    """
    asyncio.run(_crash_orphans())
    serve(*all_deployments(), limit=limit, print_starting_message=False)


async def _crash_orphans() -> None:
    await crash_orphaned_executions((await load_settings()).workspace_root)
