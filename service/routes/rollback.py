"""``POST /api/rollback``: undo a finished execution through the rollback deployment."""

from __future__ import annotations

from fastapi import APIRouter
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound

from flows.names import rollback_deployment_name
from flows.rollback import InvalidRollbackToken, execution_id_of
from service.deps import PrefectClientDep, SettingsDep
from service.errors import ApiError, deployment_missing
from service.history import read_execution
from service.schemas import RollbackRequest, RollbackResponse
from skills.journal import UndoReport
from skills.workflows.undo import has_changes

router = APIRouter(prefix="/api", tags=["rollback"])

# Undoing even a large project takes seconds; the run also has to be picked up first.
ROLLBACK_WAIT_SECONDS = 120
# The undo itself takes milliseconds once the serving process has it: look often (Prefect's default is 5 s).
ROLLBACK_POLL_SECONDS = 0.1


@router.post("/rollback", response_model=RollbackResponse)
async def rollback_execution(request: RollbackRequest, client: PrefectClientDep, settings: SettingsDep) -> RollbackResponse:
    """Undo everything an execution changed; files edited since are kept (as conflicts) unless ``force``."""
    try:
        execution_id = execution_id_of(request.rollback_token)
    except InvalidRollbackToken as exc:
        raise ApiError(422, "invalid_rollback_token", exc.message, {"suggestions": exc.suggestions}) from None
    flow_run = await read_execution(client, execution_id)
    if flow_run.state and not flow_run.state.is_final():
        raise ApiError(409, "still_running", f"Execution {execution_id} is still {flow_run.state.name}; cancel it or wait for it to end.")
    if not has_changes(settings.workspace_root, str(execution_id)):
        raise ApiError(404, "nothing_to_roll_back", f"Execution {execution_id} changed no files in this workspace.")
    try:
        run = await run_deployment(
            rollback_deployment_name(),
            parameters={"rollback_token": request.rollback_token, "force": request.force},
            timeout=ROLLBACK_WAIT_SECONDS,
            poll_interval=ROLLBACK_POLL_SECONDS,
            client=client,
        )
    except ObjectNotFound:
        raise deployment_missing(rollback_deployment_name()) from None
    if not (run.state and run.state.is_completed()):
        message = run.state.message if run.state else "it did not start"
        raise ApiError(500, "rollback_failed", f"The rollback run {run.id} did not complete: {message}")
    report = UndoReport.model_validate(await run.state.aresult())
    return RollbackResponse(
        execution_id=str(execution_id),
        rollback_run_id=str(run.id),
        already_rolled_back=report.already_undone,
        deleted=report.deleted,
        restored=report.restored,
        conflicts=report.conflicts,
        kept=report.kept,
        reasons=report.reasons,
        rolled_back_at=report.undone_at.isoformat() if report.undone_at else None,
    )
