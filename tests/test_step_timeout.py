"""A step's timeout stops the real work: the command's whole process tree, then the run is undone."""

from __future__ import annotations

import uuid
from pathlib import Path

from prefect.states import State

from flows.skill_flow import build_skill_flow
from skills.definition import load_skill_definition
from tests.runtime import processes_with

SLOW_SKILL = load_skill_definition(Path(__file__).parent / "fixtures" / "skills" / "slow-step")
slow_step = build_skill_flow(SLOW_SKILL, __name__)


async def test_a_critical_step_that_times_out_leaves_no_process_and_no_file_behind(
    prefect_server: str, workspace: Path
) -> None:
    marker = f"marker-{uuid.uuid4().hex[:8]}"
    folder = f"slow-{uuid.uuid4().hex[:8]}"

    state: State = await slow_step(parameters={"folder": folder, "marker": marker}, level="expert", return_state=True)

    assert state.is_failed()
    assert "timed out after 2 s" in state.message
    assert processes_with(marker) == []
    assert not (workspace / folder).exists()
