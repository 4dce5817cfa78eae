"""Deployments of the skill flows and of rollback, and serving them (what ``skillworks up`` runs)."""

from __future__ import annotations

from prefect import serve
from prefect.deployments.runner import EntrypointType, RunnerDeployment

from flows.rollback import ROLLBACK_FLOW_NAME, crashed_run_trigger, rollback
from flows.skill_flows import SKILL_FLOWS

TAG = "skillworks"


def deployment_name(skill_id: str) -> str:
    """The ``flow/deployment`` name ``run_deployment`` takes for a skill."""
    return f"{skill_id}/{skill_id}"


def skill_tags(skill_id: str) -> list[str]:
    return [TAG, f"skill:{skill_id}"]


def rollback_deployment_name() -> str:
    return f"{ROLLBACK_FLOW_NAME}/{ROLLBACK_FLOW_NAME}"


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
    """Serve every skill deployment and rollback from this process until interrupted."""
    serve(*all_deployments(), limit=limit, print_starting_message=False)
