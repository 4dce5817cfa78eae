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
from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from blocks.execution_defaults import ExecutionDefaults
    from blocks.marketplace_database import MarketplaceDatabase
    from blocks.workspace import SkillWorkspace
    from skills.catalog import CatalogSources

# The block types are imported where blocks are read: they load Prefect (about 2 s), which
# a CLI command that only reads the environment (its API token) must not wait for.

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
    sandbox_memory_mb: int = 1024
    sandbox_processes: int = 128
    metrics_public: bool = False  # SKILLWORKS_METRICS_PUBLIC: /metrics without the token


def environment_variable(name: str) -> str | None:
    """Read one variable (for callers outside this module that must, such as the CLI's flags)."""
    value = os.environ.get(name)
    return value if value else None


def environment_with(overrides: dict[str, str]) -> dict[str, str]:
    """This process's environment plus ``overrides``: what a child process (``skillworks up``) gets."""
    return {**os.environ, **overrides}


def skillworks_home() -> Path:
    """Where skillworks keeps its own files: ``SKILLWORKS_HOME``, else ``~/.skillworks``.

    The marketplace's embedded SQLite store and a publisher's signing key live here.
    """
    return Path(environment_variable("SKILLWORKS_HOME") or "~/.skillworks").expanduser()


def advisory_database_path() -> Path:
    """The local OSV database: ``SKILLWORKS_ADVISORY_DB``, else ``advisories`` in the skillworks home
    (where ``skillworks advisories update`` downloads it)."""
    configured = environment_variable("SKILLWORKS_ADVISORY_DB")
    return Path(configured).expanduser() if configured else skillworks_home() / "advisories"


def marketplace_database_url_from_environment() -> str | None:
    """``SKILLWORKS_DATABASE_URL``: the marketplace's database for this process, over any saved block."""
    return environment_variable("SKILLWORKS_DATABASE_URL")


async def marketplace_database_url() -> str:
    """The marketplace's SQLAlchemy URL: ``SKILLWORKS_DATABASE_URL``, else the saved ``MarketplaceDatabase``
    block, else SQLite under the skillworks home (the embedded default)."""
    from blocks.marketplace_database import MarketplaceDatabase

    configured = marketplace_database_url_from_environment()
    if configured:
        return configured
    block = await _load_block(MarketplaceDatabase)
    if block is not None and block.url.get_secret_value():
        return block.url.get_secret_value()
    return embedded_marketplace_database_url()


def embedded_marketplace_database_url() -> str:
    return f"sqlite:///{skillworks_home() / 'marketplace.db'}"


def installed_skills_root() -> Path:
    """Where ``skillworks install`` puts marketplace skills: ``skills`` in the skillworks home."""
    return skillworks_home() / "skills"


def download_cache() -> Path:
    """Where installs keep what they download (packages, uv's and npm's caches), so a repeat is fast:
    ``SKILLWORKS_CACHE``, else ``cache`` in the skillworks home."""
    configured = environment_variable("SKILLWORKS_CACHE")
    return Path(configured).expanduser() if configured else skillworks_home() / "cache"


def catalog_sources() -> CatalogSources:
    """Every source of skills besides the built-in ones, for this process."""
    from skills.catalog import CatalogSources
    from skills.dev_folders import DevFolders

    return CatalogSources(
        local_folders=local_skill_folders(), installed_root=installed_skills_root(),
        dev_folders=DevFolders(skillworks_home()).read(),
    )


def metrics_multiprocess_directory() -> Path | None:
    """``PROMETHEUS_MULTIPROC_DIR``: where each facade process writes its metrics when several
    serve behind one port (prometheus_client reads it when it is imported, so it can only come
    from the environment). Empty it before the processes start."""
    value = environment_variable("PROMETHEUS_MULTIPROC_DIR")
    return Path(value) if value else None


def local_skill_folders() -> tuple[Path, ...]:
    """Folders of local skills served beside the built-in ones (``SKILLWORKS_SKILL_FOLDERS``,
    separated by ``os.pathsep``): read from the environment only, because the flows module
    builds a flow per skill when it is imported, before any block can be loaded."""
    value = environment_variable("SKILLWORKS_SKILL_FOLDERS") or ""
    return tuple(Path(part).expanduser().resolve() for part in value.split(os.pathsep) if part)


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
    from blocks.execution_defaults import ExecutionDefaults
    from blocks.workspace import SkillWorkspace

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
        sandbox_memory_mb=int(environment_variable("SKILLWORKS_SANDBOX_MEMORY_MB") or 1024),
        sandbox_processes=int(environment_variable("SKILLWORKS_SANDBOX_PROCESSES") or 128),
        metrics_public=(environment_variable("SKILLWORKS_METRICS_PUBLIC") or "").lower() in ("1", "true", "yes"),
    )
    _cached = (time.monotonic(), settings)
    return settings


async def _load_block(block_type: type[SkillWorkspace] | type[ExecutionDefaults] | type[MarketplaceDatabase]):  # type: ignore[no-untyped-def]
    from blocks.workspace import DEFAULT_BLOCK_NAME

    try:
        return await block_type.aload(DEFAULT_BLOCK_NAME)
    except ValueError:
        return None  # not saved yet: `skillworks up` saves it on first start


async def register_blocks() -> None:
    """Register both block types and save defaults for any not yet saved (``skillworks up``)."""
    from blocks.execution_defaults import ExecutionDefaults
    from blocks.marketplace_database import MarketplaceDatabase
    from blocks.workspace import DEFAULT_BLOCK_NAME, SkillWorkspace

    await MarketplaceDatabase.aregister_type_and_schema()  # saved only by a user who wants PostgreSQL
    for block_type in (SkillWorkspace, ExecutionDefaults):
        await block_type.aregister_type_and_schema()
        if await _load_block(block_type) is None:
            await block_type().asave(DEFAULT_BLOCK_NAME)
