"""``python -m service.prefect_server ARGS``: ``prefect server start ARGS`` as ``skillworks up`` runs it.

Three differences from Prefect's own command:

- Its home folder is made first: Prefect creates its home but not missing parents
  (``PREFECT_HOME=/new/dir/prefect``), and doing it here keeps Prefect's imports out of the
  ``skillworks up`` launcher.
- On SQLite, a write that finds the database locked by another write answers 503 after
  Prefect's own handler, and Prefect's client waits ``2 ** attempt`` seconds before trying
  again unless the answer says how long to wait. Under twenty runs at once most runs then
  stood still for seconds at a time. The answer here says to retry in a fifth of a second
  (``Retry-After``), marked as a transient unavailability (``Prefect-Maintenance``), so the
  client retries until the lock is free instead of giving up after five attempts.
- On SQLite, every transaction that writes takes the write lock when it begins
  (``BEGIN IMMEDIATE``), not at its first write. Prefect does so only for reads "for
  update". A transaction that reads first and then writes fails at once with "database is
  locked" whenever another write committed in between, and SQLite's busy timeout does not
  help it: it must start over. Twenty ``create_flow_run`` calls at once failed over 800
  times and started their runs one by one over 30 seconds. Taking the lock first, they wait
  in SQLite's busy handler instead, and all start within two seconds.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy.exc
from fastapi import Request
from fastapi.responses import JSONResponse
from prefect.cli import app
from prefect.server.api import server
from prefect.server.database.configurations import SQLITE_BEGIN_MODE, AioSqliteConfiguration
from prefect.settings import get_current_settings
from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction

LOCKED_RETRY_AFTER_SECONDS = "0.2"

_prefects_internal_error_handler = server.custom_internal_exception_handler


def _is_sqlite_lock(exc: Exception) -> bool:
    """SQLite's "database is locked" (or busy): gone as soon as the other write commits.

    Other errors Prefect calls retryable (a PostgreSQL server that does not answer) keep
    Prefect's back-off and its limit on attempts.
    """
    return (
        isinstance(exc, sqlalchemy.exc.OperationalError) and isinstance(exc.orig, sqlite3.OperationalError)
        and server.is_client_retryable_exception(exc)
    )


async def _retry_soon_when_locked(request: Request, exc: Exception) -> JSONResponse:
    response = await _prefects_internal_error_handler(request, exc)
    if _is_sqlite_lock(exc):
        response.headers["Retry-After"] = LOCKED_RETRY_AFTER_SECONDS
        response.headers["Prefect-Maintenance"] = "true"  # the client keeps retrying, without counting attempts
    return response


@asynccontextmanager
async def _begin_immediately(
    self: AioSqliteConfiguration, session: AsyncSession, with_for_update: bool = False
) -> AsyncIterator[AsyncSessionTransaction]:
    """Prefect's ``begin_transaction`` for SQLite, with the write lock taken at the start
    (so a read "for update" is nothing special any more)."""
    mode = SQLITE_BEGIN_MODE.set("IMMEDIATE")
    try:
        async with session.begin() as transaction:
            yield transaction
    finally:
        SQLITE_BEGIN_MODE.reset(mode)


if __name__ == "__main__":
    get_current_settings().home.mkdir(parents=True, exist_ok=True)
    # create_app (called by the command below, in this process) registers this handler.
    server.custom_internal_exception_handler = _retry_soon_when_locked
    AioSqliteConfiguration.begin_transaction = _begin_immediately  # type: ignore[method-assign,assignment]
    sys.argv[1:1] = ["server", "start"]  # Prefect's CLI reads its arguments from sys.argv
    app()
