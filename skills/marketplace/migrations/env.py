"""Alembic's entry point, run programmatically by ``skills.marketplace.database.migrate``.

The engine comes in ``config.attributes``; on PostgreSQL the whole upgrade holds an
advisory lock, so facades starting together migrate one after the other.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from skills.marketplace.database import migration_lock_id
from skills.marketplace.models import Base

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": migration_lock_id()})
        context.run_migrations()
