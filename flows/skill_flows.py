"""A flow per skill of the catalog, each a module-level name so deployments can point at it.

The catalog's every source is here: the built-in skills (``prefect.yaml`` names them:
``flows.skill_flows.react_setup``...), local skill folders (``SKILLWORKS_SKILL_FOLDERS``),
installed marketplace skills and ``skillworks dev`` folders. A process serving them and the
flow-run processes it starts, which import this module again with the same environment and
skillworks home, find the same names. Skills loaded later (hot loading) are added with
``add_skill_flow``.
"""

from __future__ import annotations

import sys
from typing import Any

from prefect.flows import Flow

from blocks.settings import catalog_sources
from flows.skill_flow import build_skill_flow, flow_attribute_name
from skills.catalog import load_catalog
from skills.definition import SkillDefinition

SKILL_FLOWS: dict[str, Flow[..., Any]] = {}


def add_skill_flow(skill: SkillDefinition) -> Flow[..., Any]:
    """Build (or rebuild) the flow of ``skill`` and publish it under its module-level name."""
    skill_flow = build_skill_flow(skill, __name__)
    SKILL_FLOWS[skill.id] = skill_flow
    setattr(sys.modules[__name__], flow_attribute_name(skill.id), skill_flow)
    return skill_flow


def remove_skill_flow(skill_id: str) -> None:
    SKILL_FLOWS.pop(skill_id, None)
    if hasattr(sys.modules[__name__], flow_attribute_name(skill_id)):
        delattr(sys.modules[__name__], flow_attribute_name(skill_id))


for _skill in load_catalog(catalog_sources()).all():
    add_skill_flow(_skill)
