"""``/api/skill-metadata`` and ``/api/validate-skill`` (the dry run)."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import CatalogDep, SettingsDep
from service.schemas import (
    FieldError,
    SkillCatalogResponse,
    SkillMetadata,
    ValidateRequest,
    ValidationResponse,
)
from skills.planning import plan_skill

router = APIRouter(prefix="/api", tags=["skills"])


@router.get("/skill-metadata", response_model=SkillCatalogResponse | SkillMetadata)
def skill_metadata(catalog: CatalogDep, skill: str | None = None) -> SkillCatalogResponse | SkillMetadata:
    """All skills, or one with ``?skill=ID`` (404 if unknown)."""
    if skill is not None:
        return SkillMetadata.of(catalog.get(skill))
    skills = [SkillMetadata.of(definition) for definition in catalog.all()]
    return SkillCatalogResponse(skills=skills, count=len(skills))


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
