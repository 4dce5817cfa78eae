"""What ``skillworks up`` prepares once the Prefect server answers, in a process of its own.

Registering the blocks, migrating the marketplace's database and reading the catalog load
Prefect's client, SQLAlchemy and the skill models: some 80 MB that the launcher, which only
supervises its children afterwards, would otherwise hold for as long as the stack runs. So
``python -m service.stack_setup`` does the work and exits, answering with one JSON line: a
``StackSetup``, or (exit code 1) a ``SetupFailure`` the launcher shows as its own error.
The launcher imports this module for those two models only: the work's imports are inside it.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from pydantic import BaseModel

from blocks.settings import catalog_sources, load_settings, marketplace_database_url, register_blocks
from skills.errors import UserMessageError


class StackSetup(BaseModel):
    workspace_root: Path  # as the settings say (``--workspace`` overrides it for the children)
    skills: int  # how many deployments the serving process will register


class SetupFailure(BaseModel):
    error: str
    suggestions: list[str]


async def prepare() -> StackSetup:
    """Register the blocks, bring the marketplace's database up to date, count the catalog."""
    from skills.catalog import load_catalog

    await register_blocks()
    settings = await load_settings(refresh=True)
    _migrate_marketplace(await marketplace_database_url())
    return StackSetup(workspace_root=settings.workspace_root, skills=len(load_catalog(catalog_sources()).ids()))


def _migrate_marketplace(url: str) -> None:
    from skills.marketplace.store import Marketplace

    market = Marketplace.open(url)  # StoreNotReady (a UserMessageError) when it cannot
    try:
        market.migrate()
    finally:
        market.close()


def main() -> None:
    try:
        print(asyncio.run(prepare()).model_dump_json())
    except UserMessageError as failed:
        print(SetupFailure(error=failed.message, suggestions=failed.suggestions).model_dump_json())
        sys.exit(1)


if __name__ == "__main__":
    main()
