"""The catalog of a long-running process, reloaded as skill folders change (hot loading).

``LiveCatalog.watch`` watches the installed-skills folder, the ``skillworks dev`` registry
and every dev and local folder (watchfiles: inotify where the kernel has it), and reloads the
catalog on any change: skills appear, change and disappear without a restart. A folder that
fails to load is reported in ``current.problems``; the version loaded from it before keeps
serving. ``on_change`` hears of every reload that changed a skill (the serving process
registers deployments with it).

Example:
    ```python
    catalog = LiveCatalog(catalog_sources)
    asyncio.create_task(catalog.watch())
    catalog.current.get("my-skill")
    ```
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from watchfiles import DefaultFilter, awatch

from skills.catalog import CatalogSources, SkillCatalog, load_catalog
from skills.definition import SkillDefinition
from skills.installed import ENVIRONMENTS_DIRNAME, STAGING_DIRNAME

logger = logging.getLogger("skillworks.catalog")
# Changes are gathered until none came for this long (ms), then the catalog reloads once.
SETTLE_MS = 50


@dataclass
class CatalogChange:
    """What a reload changed, by skill id."""

    added: list[SkillDefinition] = field(default_factory=list)
    changed: list[SkillDefinition] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


ChangeListener = Callable[[CatalogChange], Awaitable[None]]


class _SkillFolderFilter(DefaultFilter):
    """Watchfiles' defaults (no ``__pycache__``, ``node_modules``...), no half-made installs, no environments."""

    def __call__(self, change: object, path: str) -> bool:
        if f"/{STAGING_DIRNAME}" in path or f"/{ENVIRONMENTS_DIRNAME}" in path:
            return False
        return super().__call__(change, path)  # type: ignore[arg-type]


class LiveCatalog:
    def __init__(self, read_sources: Callable[[], CatalogSources], registry_folder: Path | None = None) -> None:
        self._read_sources = read_sources
        self.registry_folder = registry_folder
        self.sources = read_sources()
        self.current = load_catalog(self.sources)

    def reload(self) -> CatalogChange:
        """Read every source again; keep what fails to load as it was. Returns what changed."""
        previous = self.current
        self.sources = self._read_sources()
        self.current = load_catalog(self.sources, previous)
        return _difference(previous, self.current)

    def watched_paths(self) -> list[Path]:
        sources = self.sources
        paths = [*sources.local_folders, *sources.dev_folders]
        for folder in (sources.installed_root, self.registry_folder):
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                paths.append(folder)
        return sorted({p for p in paths if p.exists()})

    async def watch(self, on_change: ChangeListener | None = None, stop: asyncio.Event | None = None) -> None:
        """Reload on every change until ``stop`` is set; restarts watching when the dev folders change."""
        while stop is None or not stop.is_set():
            paths = self.watched_paths()
            async for _ in awatch(*paths, watch_filter=_SkillFolderFilter(), step=SETTLE_MS, stop_event=stop,
                                  ignore_permission_denied=True):
                change = self.reload()
                if change and on_change is not None:
                    try:
                        await on_change(change)
                    except Exception:  # a listener's failure must not stop hot loading
                        logger.exception("Reacting to a catalog change failed")
                if self.watched_paths() != paths:
                    break


def _difference(before: SkillCatalog, after: SkillCatalog) -> CatalogChange:
    change = CatalogChange()
    for skill in after.all():
        old = before.find(skill.id)
        if old is None:
            change.added.append(skill)
        elif old.origin != skill.origin or old.folder != skill.folder or old != skill:
            change.changed.append(skill)
    change.removed = [skill_id for skill_id in before.ids() if after.find(skill_id) is None]
    return change
