"""The ``MarketplaceDatabase`` block: a database server for the marketplace's store.

Unsaved, the marketplace keeps its store in SQLite under the skillworks home. Saved as
``default`` (or with ``SKILLWORKS_DATABASE_URL`` set), every facade uses that database, so
several facades behind a load balancer share one marketplace.
"""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field, SecretStr


class MarketplaceDatabase(Block):
    """A SQLAlchemy URL of the marketplace's database (PostgreSQL for a shared one).

    Example:
        ```python
        MarketplaceDatabase(url="postgresql+psycopg://skillworks@db.internal/marketplace").save("default")
        ```
    """

    _block_type_name = "Skillworks Marketplace Database"
    _block_type_slug = "skillworks-marketplace-database"
    _description = "The database of the skillworks marketplace (SQLite under the skillworks home when unset)."

    url: SecretStr = Field(
        default=SecretStr(""),
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user:password@host:5432/marketplace",
    )
