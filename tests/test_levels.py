"""The intermediate level asks once, before the first step, and only when the pre-flight warned."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
from prefect.flow_runs import resume_flow_run

from flows.skill_flow import build_skill_flow
from skills.definition import load_skill_definition
from skills.environment import installed_version

WARNED_SKILL = load_skill_definition(Path(__file__).parent / "fixtures" / "skills" / "warned")
warned = build_skill_flow(WARNED_SKILL, __name__)


@pytest.fixture(autouse=True)
def tool_without_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tool on PATH whose ``--version`` names no version: the pre-flight can only warn."""
    folder = tmp_path / "bin"
    folder.mkdir()
    tool = folder / "tool-without-version"
    tool.write_text("#!/bin/sh\necho 'no version here'\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    installed_version.cache_clear()


async def answer_pauses(run_name: str, stop: asyncio.Event) -> int:
    """Resume the named run each time it pauses; return how many times it did."""
    answered = 0
    async with get_client() as client:
        while not stop.is_set():
            runs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[run_name])))
            if runs and runs[0].state and runs[0].state.is_paused():
                await resume_flow_run(runs[0].id, run_input={"proceed": True})
                answered += 1
            await asyncio.sleep(0.3)
    return answered


async def test_intermediate_level_pauses_once_before_the_first_step_when_preflight_warns(
    prefect_server: str, workspace: Path
) -> None:
    folder = f"warned-{uuid.uuid4().hex[:8]}"
    run_name = f"intermediate-{folder}"
    stop = asyncio.Event()
    answering = asyncio.create_task(answer_pauses(run_name, stop))

    state = await warned.with_options(flow_run_name=run_name)(
        parameters={"folder": folder}, level="intermediate", return_state=True
    )
    stop.set()

    assert state.is_completed(), state.message
    assert await answering == 1
    assert sorted(p.name for p in (workspace / folder).iterdir()) == ["first.txt", "second.txt"]


async def test_expert_level_never_pauses(prefect_server: str, workspace: Path) -> None:
    folder = f"warned-{uuid.uuid4().hex[:8]}"

    state = await asyncio.wait_for(warned(parameters={"folder": folder}, level="expert", return_state=True), 60)

    assert state.is_completed(), state.message
