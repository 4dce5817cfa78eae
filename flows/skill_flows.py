"""The built-in skills' flows, one module-level name each so ``prefect.yaml`` can point at them."""

from __future__ import annotations

from flows.skill_flow import build_skill_flow
from skills.catalog import load_builtin_catalog

_catalog = load_builtin_catalog()

react_setup = build_skill_flow(_catalog.get("react-setup"), __name__)
docker_config = build_skill_flow(_catalog.get("docker-config"), __name__)
rest_api = build_skill_flow(_catalog.get("rest-api"), __name__)
security_audit = build_skill_flow(_catalog.get("security-audit"), __name__)
cicd_pipeline = build_skill_flow(_catalog.get("cicd-pipeline"), __name__)

SKILL_FLOWS = {flow.name: flow for flow in (react_setup, docker_config, rest_api, security_audit, cicd_pipeline)}
