"""Rollback as a Prefect flow: undo one execution's journal, from the API, the CLI or the UI.

The token is ``rollback-<execution id>``. The flow is idempotent (a second run says the
execution was already rolled back) and keeps files edited since the execution as
conflicts unless ``force``; nothing, ``force`` included, lets it act outside the workspace
(``skills.undo``). When it is done it emits ``skillworks.rollback.completed`` about the
execution, so a client still streaming a run that crashed learns it was undone.

Runs that end ``Crashed`` or ``Cancelled`` (their process was killed, with no chance to
clean up) are undone by the serving process's recovery (``flows.recovery``) and, for runs
that workers execute, by the rollback deployment's trigger — with the same rules as a
person's rollback. Undoing twice is harmless: the journal's undo acts once.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import anyio
from prefect import flow
from prefect.artifacts import acreate_markdown_artifact
from prefect.events import DeploymentEventTrigger, emit_event

from blocks.settings import load_settings
from flows.events import ROLLBACK_COMPLETED_EVENT, execution_resource_id, flow_run_resource_id
from skills.errors import UserMessageError
from skills.journal import UndoReport
from skills.workflows.undo import undo_execution

ROLLBACK_FLOW_NAME = "rollback"
ROLLBACK_TAG = "skillworks-rollback"
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
    # An execution that stopped before its first change has no journal: nothing to undo. A
    # workflow's undo is its nodes'. In a thread: undoing a large tree takes a while, and this
    # flow may share its event loop with the serving process's runner.
    report = await anyio.to_thread.run_sync(lambda: undo_execution(settings.workspace_root, str(execution_id), force))
    await acreate_markdown_artifact(markdown=_markdown(execution_id, report), key="rollback-report")
    _announce(execution_id, report)
    return report.model_dump(mode="json")


def _announce(execution_id: UUID, report: UndoReport) -> None:
    emit_event(
        event=ROLLBACK_COMPLETED_EVENT,
        resource={"prefect.resource.id": execution_resource_id(execution_id)},
        related=[{"prefect.resource.id": flow_run_resource_id(execution_id), "prefect.resource.role": "flow-run"}],
        payload={"report": report.model_dump(mode="json")},
    )


def crashed_run_trigger() -> DeploymentEventTrigger:
    """Run the rollback deployment for any skillworks flow run that crashes or is cancelled:
    its process was killed, with no chance to undo its own changes. Not forced: a file
    someone edited since is kept, as in a person's rollback."""
    return DeploymentEventTrigger(
        name="Roll back crashed or cancelled skillworks runs",
        expect={"prefect.flow-run.Crashed", "prefect.flow-run.Cancelled"},
        match_related={"prefect.resource.id": "prefect.tag.skillworks"},
        parameters={
            "rollback_token": "rollback-{{ event.resource.id | replace('prefect.flow-run.', '') }}",
            "force": False,
        },
    )


def _markdown(execution_id: UUID, report: UndoReport) -> str:
    if report.already_undone:
        return f"Execution `{execution_id}` was already rolled back at {report.undone_at}; nothing changed."
    lines = [f"# Rollback of `{execution_id}`", ""]
    groups = (
        ("Deleted", report.deleted), ("Restored", report.restored),
        ("Conflicts (left in place)", report.conflicts), ("Kept (holding others' files)", report.kept),
    )
    for title, paths in groups:
        lines += [f"## {title} ({len(paths)})", *[f"- `{path}` {report.reasons.get(path, '')}".rstrip() for path in paths], ""]
    return "\n".join(lines)
