"""Rollback as a Prefect flow: undo one execution's journal, from the API, the CLI or the UI.

The token is ``rollback-<execution id>``. The flow is idempotent (a second run says the
execution was already rolled back) and keeps files edited since the execution as
conflicts unless ``force``. A deployment trigger runs it for every skillworks run that
Prefect marks ``Crashed`` or ``Cancelled`` (its process was killed, with no chance to clean up).
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from prefect import flow
from prefect.artifacts import acreate_markdown_artifact
from prefect.events import DeploymentEventTrigger

from blocks.settings import load_settings
from skills.errors import UserMessageError
from skills.journal import ExecutionJournal, UndoReport

ROLLBACK_FLOW_NAME = "rollback"
_TOKEN = re.compile(r"^rollback-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")


class InvalidRollbackToken(UserMessageError):
    def __init__(self, token: str) -> None:
        super().__init__(
            f"{token!r} is not a rollback token.",
            ["Use the rollbackToken of a 'complete' event or of the execution history: rollback-<execution id>."],
        )


def rollback_token(execution_id: UUID | str) -> str:
    return f"rollback-{execution_id}"


def execution_id_of(token: str) -> UUID:
    match = _TOKEN.match(token.strip().lower())
    if not match:
        raise InvalidRollbackToken(token)
    return UUID(match.group(1))


# The result is persisted so the facade (another process) can read the report.
@flow(name=ROLLBACK_FLOW_NAME, description="Undo everything one skillworks execution changed.", persist_result=True)
async def rollback(rollback_token: str, force: bool = False) -> dict[str, Any]:
    """Undo the execution named by ``rollback_token``; returns what was deleted, restored and kept."""
    execution_id = execution_id_of(rollback_token)
    settings = await load_settings()
    # An execution that stopped before its first change has no journal: nothing to undo.
    report = ExecutionJournal(settings.workspace_root, str(execution_id)).undo(force=force)
    await acreate_markdown_artifact(markdown=_markdown(execution_id, report), key="rollback-report")
    return report.model_dump(mode="json")


def crashed_run_trigger() -> DeploymentEventTrigger:
    """Run the rollback deployment, forced, for any skillworks flow run that crashes or is
    cancelled: its process was killed, with no chance to undo its own changes."""
    return DeploymentEventTrigger(
        name="Roll back crashed or cancelled skillworks runs",
        expect={"prefect.flow-run.Crashed", "prefect.flow-run.Cancelled"},
        match_related={"prefect.resource.id": "prefect.tag.skillworks"},
        parameters={
            "rollback_token": "rollback-{{ event.resource.id | replace('prefect.flow-run.', '') }}",
            "force": True,
        },
    )


def _markdown(execution_id: UUID, report: UndoReport) -> str:
    if report.already_undone:
        return f"Execution `{execution_id}` was already rolled back at {report.undone_at}; nothing changed."
    lines = [f"# Rollback of `{execution_id}`", ""]
    for title, paths in (("Deleted", report.deleted), ("Restored", report.restored), ("Kept (edited since)", report.conflicts)):
        lines += [f"## {title} ({len(paths)})", *[f"- `{path}`" for path in paths], ""]
    return "\n".join(lines)
