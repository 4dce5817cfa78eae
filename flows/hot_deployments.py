"""Deployments that follow the catalog: a skill installed, changed or removed while the serving
process runs gets its deployment registered, updated or deleted at once, and its flow runs
are taken by the in-process runner from then on (``flows.deployments`` wires this up)."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from prefect import get_client
from prefect.deployments.runner import EntrypointType
from prefect.exceptions import ObjectNotFound
from prefect.flows import Flow

from flows.names import deployment_name, skill_tags
from flows.skill_flows import add_skill_flow, remove_skill_flow
from skills.definition import SkillDefinition
from skills.live_catalog import CatalogChange

logger = logging.getLogger("skillworks.deployments")


async def skill_deployment(skill_flow: Flow[..., Any], skill_id: str) -> UUID:
    """Register (or update) the deployment named after the skill; its id."""
    deployment = await skill_flow.ato_deployment(
        name=skill_id, tags=skill_tags(skill_id), description=skill_flow.description,
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    return await deployment.aapply()


class HotDeployments:
    """Keeps ``flows`` (deployment id -> flow, the in-process runner's table) in step with the catalog."""

    def __init__(self, flows: dict[UUID, Flow[..., Any]]) -> None:
        self.flows = flows

    async def apply(self, change: CatalogChange) -> None:
        for skill in [*change.added, *change.changed]:
            await self._register(skill)
        for skill_id in change.removed:
            await self._remove(skill_id)

    async def _register(self, skill: SkillDefinition) -> None:
        skill_flow = add_skill_flow(skill)
        self.flows[await skill_deployment(skill_flow, skill.id)] = skill_flow
        logger.info("Serving %s %s (%s)", skill.id, skill.version, skill.origin.source if skill.origin else "local")

    async def _remove(self, skill_id: str) -> None:
        remove_skill_flow(skill_id)
        async with get_client() as client:
            try:
                deployment = await client.read_deployment_by_name(deployment_name(skill_id))
            except ObjectNotFound:
                return
            self.flows.pop(deployment.id, None)
            await client.delete_deployment(deployment.id)
        logger.info("Stopped serving %s", skill_id)
