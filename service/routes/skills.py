"""``/api/skill-metadata`` and ``/api/validate-skill`` (the dry run)."""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, Query, Response

from service.deps import CatalogDep, SettingsDep
from service.schemas import (
    FieldError,
    SkillCatalogResponse,
    SkillMetadata,
    ValidateRequest,
    ValidationResponse,
)
from skills.catalog import SkillCatalog
from skills.planning import plan_skill

router = APIRouter(prefix="/api", tags=["skills"])


@router.get("/skill-metadata", response_model=SkillCatalogResponse | SkillMetadata)
async def skill_metadata(catalog: CatalogDep, skill: str | None = Query(default=None, max_length=100)) -> Response:
    """All skills, or one with ``?skill=ID`` (404 if unknown)."""
    if skill is not None:
        catalog.get(skill)  # 404 for an unknown id
    return Response(_metadata_json(catalog, skill), media_type="application/json")


@lru_cache(maxsize=64)
def _metadata_json(catalog: SkillCatalog, skill_id: str | None) -> bytes:
    """Skills do not change while the process runs: their metadata is rendered once."""
    if skill_id is not None:
        return SkillMetadata.of(catalog.get(skill_id)).model_dump_json().encode()
    skills = [SkillMetadata.of(definition) for definition in catalog.all()]
    return SkillCatalogResponse(skills=skills, count=len(skills)).model_dump_json().encode()


@router.post("/validate-skill", response_model=ValidationResponse)
def validate_skill(request: ValidateRequest, catalog: CatalogDep, settings: SettingsDep) -> ValidationResponse:
    """Validate parameters and preview the run: steps, files, commands, persona changes. Changes nothing."""
    skill = catalog.get(request.skill_id)
    checked, plan = plan_skill(skill, request.parameters, request.level, request.persona, settings.workspace_root)
    return ValidationResponse(
        skill_id=skill.id,
        valid=checked.ok,
        errors=[FieldError(field=i.field, reason=i.reason, hint=i.hint) for i in checked.errors],
        warnings=checked.warnings,
        dry_run_preview=plan,
    )
