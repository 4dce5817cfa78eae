"""A throwaway PostgreSQL database for a benchmark or a test: made on entry, dropped on exit.

The server is the one at 127.0.0.1:5432 (trust auth); set BENCH_POSTGRES to another server URL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


@contextmanager
def temporary_database(purpose: str) -> Iterator[str]:
    """Yield the URL (``postgresql://...``, no driver) of a new, empty database named after ``purpose``."""
    import psycopg

    name = f"skillworks_{purpose}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
