"""How skillworks names what it creates in Prefect: tags and deployment names."""

from __future__ import annotations

from flows.rollback import ROLLBACK_FLOW_NAME

TAG = "skillworks"
WORKFLOW_FLOW_NAME = "workflow"
INLINE_WORKFLOW_DEPLOYMENT = "inline"


def deployment_name(skill_id: str) -> str:
    """The ``flow/deployment`` name ``run_deployment`` takes for a skill."""
    return f"{skill_id}/{skill_id}"


def rollback_deployment_name() -> str:
    return f"{ROLLBACK_FLOW_NAME}/{ROLLBACK_FLOW_NAME}"


def skill_tags(skill_id: str) -> list[str]:
    return [TAG, f"skill:{skill_id}"]


STEP_TASK_PREFIX = "step:"


def step_task_qualname(step_id: str) -> str:
    """The ``__qualname__`` of a step's task function, which Prefect makes the task runs' key.

    Task run names are the step's title, which parameters change, so the key is how the step
    of a task run is known again (``step_id_of_task_key``). Not a tag on purpose: Prefect asks
    its server for a concurrency slot for every tag a task run has, and on SQLite that request
    fails with "database is locked" under load and is retried after about 2 s.
    """
    return f"{STEP_TASK_PREFIX}{step_id}"


def step_id_of_task_key(task_key: str) -> str | None:
    """The step id in a task run's key (``step:<id>-<code hash>``); None for any other task."""
    if not task_key.startswith(STEP_TASK_PREFIX):
        return None
    return task_key.removeprefix(STEP_TASK_PREFIX).rsplit("-", 1)[0]


def workflow_tags(workflow_id: str) -> list[str]:
    return [TAG, f"workflow:{workflow_id}"]


def workflow_deployment_name(workflow_id: str | None) -> str:
    """A saved or built-in workflow's deployment, or (None) the one that runs a spec given inline."""
    return f"{WORKFLOW_FLOW_NAME}/{workflow_id or INLINE_WORKFLOW_DEPLOYMENT}"


def target_tag(target: str) -> str:
    """The tag of a run working in ``target`` (workspace-relative), to find runs on the same folder."""
    return f"target:{target}"
