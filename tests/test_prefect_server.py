"""The Prefect server of ``skillworks up`` (``service.prefect_server``) on SQLite.

Writes that run at once wait for each other instead of failing: every transaction that
writes takes SQLite's write lock when it begins. And a write that still finds the database
locked is retried soon: Prefect answers it with 503, and its client then waits
``2 ** attempt`` seconds and gives up after five attempts; here the answer carries its own
short ``Retry-After``, so the client of any skillworks process retries within a fraction of
a second, for as long as the lock lasts.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
import sqlalchemy.exc
from prefect.client.base import PrefectHttpxAsyncClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from service.prefect_server import _retry_soon_when_locked

RUNS_AT_ONCE = 20
LOCKED_ANSWERS = 8  # more than Prefect's client retries an ordinary 503 (five times)


Endpoint = Callable[[Request], Awaitable[JSONResponse]]


def served(endpoint: Endpoint) -> httpx.ASGITransport:
    """``endpoint`` at ``POST /``, its errors answered by the handler ``skillworks up`` gives Prefect's server."""
    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])], exception_handlers={Exception: _retry_soon_when_locked})
    return httpx.ASGITransport(app=app, raise_app_exceptions=False)


def locked_for(answers: int) -> Endpoint:
    """A write that finds SQLite locked ``answers`` times, then succeeds."""
    remaining = [answers]

    async def write(request: Request) -> JSONResponse:
        if remaining[0] > 0:
            remaining[0] -= 1
            raise sqlalchemy.exc.OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))
        return JSONResponse({"written": True})

    return write


async def test_a_write_that_finds_sqlite_locked_is_retried_within_a_fraction_of_a_second_until_it_succeeds() -> None:
    async with PrefectHttpxAsyncClient(transport=served(locked_for(LOCKED_ANSWERS)), base_url="http://prefect") as client:
        started = time.monotonic()
        response = await client.post("/")

    assert response.status_code == 200 and response.json() == {"written": True}
    # Prefect's own back-off would have waited 2 + 4 + 8 + 16 + 32 s, then failed.
    assert time.monotonic() - started < LOCKED_ANSWERS * 0.5


async def test_other_server_errors_keep_prefects_answer() -> None:
    async def broken(request: Request) -> JSONResponse:
        raise RuntimeError("a bug")

    async with httpx.AsyncClient(transport=served(broken), base_url="http://prefect") as client:
        response = await client.post("/")

    assert response.status_code == 500 and "Retry-After" not in response.headers


async def test_a_database_server_that_does_not_answer_keeps_prefects_back_off() -> None:
    async def unreachable(request: Request) -> JSONResponse:
        raise sqlalchemy.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    async with httpx.AsyncClient(transport=served(unreachable), base_url="http://prefect") as client:
        response = await client.post("/")

    assert response.status_code == 503 and "Retry-After" not in response.headers


async def test_twenty_runs_created_at_once_are_all_created_at_the_first_attempt(prefect_server: str) -> None:
    # Plain httpx, which does not retry: Prefect's own client would hide the 503s (and their cost).
    async with httpx.AsyncClient(base_url=prefect_server, timeout=60) as client:
        flow = (await client.post("/flows/", json={"name": f"never-run-{uuid.uuid4().hex[:8]}"})).json()
        # A deployment nobody serves: its runs stay scheduled, and go with the flow.
        deployment = (await client.post("/deployments/", json={"name": "idle", "flow_id": flow["id"]})).json()
        try:
            answers = await asyncio.gather(*(
                client.post(f"/deployments/{deployment['id']}/create_flow_run", json={}) for _ in range(RUNS_AT_ONCE)
            ))
        finally:
            await client.delete(f"/flows/{flow['id']}")

    # Prefect's deferred transactions read the deployment, then fail to write whenever another
    # run was created in between ("database is locked", 503): most of them, at twenty at once.
    assert [answer.status_code for answer in answers] == [201] * RUNS_AT_ONCE
