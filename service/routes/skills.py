"""``/api/skill-metadata`` and ``/api/validate-skill`` (the dry run)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from service.deps import CatalogDep, EstimatesDep, SettingsDep
from service.estimates import MeasuredEstimates
from service.metrics import DRY_RUNS
from service.schemas import (
    CatalogProblem,
    FieldError,
    SkillCatalogResponse,
    SkillMetadata,
    ValidateRequest,
    ValidationResponse,
)
from skills.catalog import SkillCatalog
from skills.definition import SkillDefinition
from skills.estimates import MeasuredTime, measured_for_plan
from skills.planning import ExecutionPlan, Preflight, plan_skill

router = APIRouter(prefix="/api", tags=["skills"])


@router.get("/skill-metadata", response_model=SkillCatalogResponse | SkillMetadata)
async def skill_metadata(
    catalog: CatalogDep, estimates: EstimatesDep, skill: str | None = Query(default=None, max_length=100)
) -> Response:
    """All skills, or one with ``?skill=ID`` (404 if unknown), each with its measured duration once known."""
    chosen = [catalog.get(skill)] if skill is not None else catalog.all()  # 404 for an unknown id
    measured = await run_in_threadpool(_measured, estimates, tuple(definition.id for definition in chosen))
    described = [
        _metadata(catalog, definition.id).model_copy(update={"measured_time": measured[definition.id]})
        for definition in chosen
    ]
    if skill is not None:
        return Response(described[0].model_dump_json(), media_type="application/json")
    problems = [CatalogProblem(**vars(problem)) for problem in catalog.problems]
    body = SkillCatalogResponse(skills=described, count=len(described), problems=problems).model_dump_json()
    return Response(body, media_type="application/json")


def _measured(estimates: MeasuredEstimates, skill_ids: tuple[str, ...]) -> dict[str, MeasuredTime | None]:
    return {skill_id: estimates.of(skill_id) for skill_id in skill_ids}


@lru_cache(maxsize=256)
def _metadata(catalog: SkillCatalog, skill_id: str) -> SkillMetadata:
    """Described once per catalog: a reload makes a new catalog (``skills.live_catalog``)."""
    return SkillMetadata.of(catalog.get(skill_id))


@router.post("/validate-skill", response_model=ValidationResponse)
async def validate_skill(
    request: ValidateRequest, catalog: CatalogDep, settings: SettingsDep, estimates: EstimatesDep
) -> ValidationResponse:
    """Validate parameters and preview the run: steps, files, commands, persona changes. Changes nothing."""
    skill = catalog.get(request.skill_id)
    checked, plan = await run_in_threadpool(_dry_run, skill, request, settings.workspace_root, estimates)
    DRY_RUNS.labels(skill.id, "valid" if checked.ok else "invalid").inc()
    return ValidationResponse(
        skill_id=skill.id,
        valid=checked.ok,
        errors=[FieldError(field=i.field, reason=i.reason, hint=i.hint) for i in checked.errors],
        warnings=checked.warnings,
        dry_run_preview=plan,
    )


def _dry_run(
    skill: SkillDefinition, request: ValidateRequest, workspace_root: Path, estimates: MeasuredEstimates
) -> tuple[Preflight, ExecutionPlan | None]:
    """The dry run, with the measured duration of past runs that ran the same steps."""
    checked, plan = plan_skill(skill, request.parameters, request.level, request.persona, workspace_root)
    if plan is not None:
        planned = frozenset(step.id for step in plan.steps if step.status == "run")
        plan.measured_time = measured_for_plan(skill, estimates.of(skill.id), planned)
    return checked, plan
