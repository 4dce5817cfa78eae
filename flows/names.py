"""How skillworks names what it creates in Prefect: tags and deployment names."""

from __future__ import annotations

from flows.rollback import ROLLBACK_FLOW_NAME

TAG = "skillworks"


def deployment_name(skill_id: str) -> str:
    """The ``flow/deployment`` name ``run_deployment`` takes for a skill."""
    return f"{skill_id}/{skill_id}"


def rollback_deployment_name() -> str:
    return f"{ROLLBACK_FLOW_NAME}/{ROLLBACK_FLOW_NAME}"


def skill_tags(skill_id: str) -> list[str]:
    return [TAG, f"skill:{skill_id}"]


def target_tag(target: str) -> str:
    """The tag of a run working in ``target`` (workspace-relative), to find runs on the same folder."""
    return f"target:{target}"
