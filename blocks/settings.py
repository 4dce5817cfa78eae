"""The one place skillworks reads its settings.

Order of precedence, per value: an environment variable (overrides for one process),
then the saved block (editable in the Prefect UI), then the built-in default. Nothing
else in skillworks reads ``os.environ``.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from pydantic import BaseModel

from blocks.execution_defaults import ExecutionDefaults
from blocks.workspace import DEFAULT_BLOCK_NAME, SkillWorkspace

_CACHE_SECONDS = 15.0
_cached: tuple[float, Settings] | None = None
_refreshing: asyncio.Task[Settings] | None = None


class Settings(BaseModel):
    workspace_root: Path
    step_timeout_seconds: float
    step_retries: int
    concurrency_limit: int
    api_token: str | None = None
    prefect_api_url: str | None = None
    prefect_ui_url: str | None = None
    advisory_db: Path | None = None


def environment_variable(name: str) -> str | None:
    """Read one variable (for callers outside this module that must, such as the CLI's flags)."""
    value = os.environ.get(name)
    return value if value else None


def environment_with(overrides: dict[str, str]) -> dict[str, str]:
    """This process's environment plus ``overrides``: what a child process (``skillworks up``) gets."""
    return {**os.environ, **overrides}


def advisory_database_path() -> Path:
    """The local OSV database: ``SKILLWORKS_ADVISORY_DB``, else ``~/.skillworks/advisories``
    (where ``skillworks advisories update`` downloads it)."""
    return Path(environment_variable("SKILLWORKS_ADVISORY_DB") or "~/.skillworks/advisories").expanduser()


async def load_settings(refresh: bool = False) -> Settings:
    """Settings for this process; blocks are re-read at most every few seconds.

    Once read, a stale value is answered at once while one re-read runs in the background:
    a busy facade must neither make every request wait for the blocks nor start a re-read
    per request.
    """
    global _refreshing
    if _cached is None or refresh:
        return await _read_settings()
    stale = time.monotonic() - _cached[0] >= _CACHE_SECONDS
    if stale and (_refreshing is None or _refreshing.done()):
        _refreshing = asyncio.get_running_loop().create_task(_read_settings())
    return _cached[1]


async def _read_settings() -> Settings:
    global _cached
    workspace = await _load_block(SkillWorkspace) or SkillWorkspace()
    defaults = await _load_block(ExecutionDefaults) or ExecutionDefaults()
    settings = Settings(
        workspace_root=Path(environment_variable("SKILLWORKS_WORKSPACE") or workspace.root).expanduser().resolve(),
        step_timeout_seconds=float(environment_variable("SKILLWORKS_STEP_TIMEOUT") or defaults.step_timeout_seconds),
        step_retries=int(environment_variable("SKILLWORKS_STEP_RETRIES") or defaults.step_retries),
        concurrency_limit=int(environment_variable("SKILLWORKS_CONCURRENCY_LIMIT") or defaults.concurrency_limit),
        api_token=environment_variable("SKILLWORKS_API_TOKEN"),
        prefect_api_url=environment_variable("PREFECT_API_URL"),
        prefect_ui_url=environment_variable("PREFECT_UI_URL"),
        advisory_db=advisory_database_path(),
    )
    _cached = (time.monotonic(), settings)
    return settings


async def _load_block(block_type: type[SkillWorkspace] | type[ExecutionDefaults]):  # type: ignore[no-untyped-def]
    try:
        return await block_type.aload(DEFAULT_BLOCK_NAME)
    except ValueError:
        return None  # not saved yet: `skillworks up` saves it on first start


async def register_blocks() -> None:
    """Register both block types and save defaults for any not yet saved (``skillworks up``)."""
    for block_type in (SkillWorkspace, ExecutionDefaults):
        await block_type.aregister_type_and_schema()
        if await _load_block(block_type) is None:
            await block_type().asave(DEFAULT_BLOCK_NAME)
