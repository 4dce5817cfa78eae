"""Opening the marketplace's database and bringing its schema up to date.

SQLite (the embedded default, under the skillworks home) and PostgreSQL are both served by
the same models and migrations; only full-text search differs (see ``search``). Migrations
are Alembic's, shipped inside the package and run programmatically: ``skillworks up``
migrates before it starts the facade, and a facade migrates on first use when started
alone (a PostgreSQL advisory lock keeps several facades from migrating at once).
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from skills.marketplace.errors import StoreNotReady
from skills.marketplace.models import StoreSession

MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK_ID = 0x5C111_0_0C  # any constant: the key of PostgreSQL's advisory lock
_migrate_in_process = threading.Lock()


def normalized_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL whatever driver the URL names (the store is synchronous).

    >>> normalized_url("postgresql://u@h/db"), normalized_url("postgresql+asyncpg://u@h/db")
    ('postgresql+psycopg://u@h/db', 'postgresql+psycopg://u@h/db')
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def open_engine(url: str) -> Engine:
    url = normalized_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise StoreNotReady(
            f"The marketplace supports SQLite and PostgreSQL, not {parsed.get_backend_name()!r}.",
            ["Set SKILLWORKS_DATABASE_URL to sqlite:///PATH or postgresql://USER@HOST/DB."],
        )
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _sqlite_pragmas(connection, record) -> None:  # type: ignore[no-untyped-def]
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for a publishing writer
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[StoreSession]:
    return sessionmaker(engine, class_=StoreSession, expire_on_commit=False)


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is there already)."""
    with _migrate_in_process:
        try:
            command.upgrade(_alembic_config(engine), "head")
        except SQLAlchemyError as exc:
            raise StoreNotReady(
                f"Could not migrate the marketplace database ({engine.url.render_as_string()}): {exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0]}",
                ["Check SKILLWORKS_DATABASE_URL or the MarketplaceDatabase block, and that the server answers."],
            ) from exc


def is_current(engine: Engine) -> bool:
    """Whether the schema is at the newest revision."""
    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


def migration_lock_id() -> int:
    return _MIGRATION_LOCK_ID
