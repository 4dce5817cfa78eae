"""The skill deployments of ``prefect.yaml``, generated from the catalog (``skillworks deployments``).

``prefect deploy --all`` reads a static file, so the catalog is written into it: between the
two marker lines of its ``deployments:`` list, one entry per skill, named and tagged like the
deployments ``skillworks up`` serves. What a person adds to a skill's deployment (a schedule)
lives outside the markers, under ``definitions`` as an anchor named ``extras_<flow name>``,
and is merged into the generated entry (``<<: *extras_security_audit``).
"""

from __future__ import annotations

import re
from pathlib import Path

from flows.skill_flow import flow_attribute_name
from skills.catalog import SkillCatalog
from skills.errors import UserMessageError

BEGIN = "  # BEGIN skill deployments: generated from the catalog by `skillworks deployments --write prefect.yaml`"
END = "  # END skill deployments"
_EXTRAS_ANCHOR = re.compile(r"&extras_([a-z0-9_]+)")


class DeploymentSpecError(UserMessageError):
    """The file has no generated section to replace."""


def skill_deployments_yaml(catalog: SkillCatalog, extras: set[str] | None = None) -> str:
    """The generated section, markers included: one deployment per skill of ``catalog``."""
    lines = [BEGIN]
    for skill in catalog.all():
        attribute = flow_attribute_name(skill.id)
        lines += [
            f"  - name: {skill.id}",
            f"    entrypoint: flows.skill_flows.{attribute}",
            f'    tags: [skillworks, "skill:{skill.id}"]',
            "    work_pool: *skillworks_pool",
        ]
        if attribute in (extras or set()):
            lines.append(f"    <<: *extras_{attribute}")
        lines.append("")
    return "\n".join([*lines[:-1], END]) + "\n"


def rewrite_prefect_yaml(text: str, catalog: SkillCatalog) -> str:
    """``text`` (a prefect.yaml) with its generated section replaced by the catalog's deployments."""
    try:
        start, end = text.index(BEGIN), text.index(END) + len(END) + 1
    except ValueError:
        raise DeploymentSpecError(
            "The file has no generated section (the BEGIN and END skill deployments lines).",
            [f"Add the two lines under `deployments:`:\n{BEGIN}\n{END}"],
        ) from None
    extras = set(_EXTRAS_ANCHOR.findall(text))
    return text[:start] + skill_deployments_yaml(catalog, extras) + text[end:]


def write_prefect_yaml(path: Path, catalog: SkillCatalog) -> None:
    path.write_text(rewrite_prefect_yaml(path.read_text(encoding="utf-8"), catalog), encoding="utf-8")
