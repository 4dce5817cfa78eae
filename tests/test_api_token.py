"""With SKILLWORKS_API_TOKEN set, no /api route answers without ``Authorization: Bearer <token>``."""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ServingProcess, free_port, start_process, stop_process, wait_until_ok

TOKEN = "s3cret-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def guarded_facade(served_skills: ServingProcess) -> Iterator[str]:
    port = free_port()
    process = start_process(
        "guarded-facade",
        [sys.executable, "-m", "uvicorn", "--factory", "service.app:create_app", "--host", "127.0.0.1", "--port", str(port)],
        env={"SKILLWORKS_API_TOKEN": TOKEN},
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_ok(f"{base}/openapi.json", process, "guarded-facade")
    yield base
    stop_process(process)


def every_api_call(base: str) -> list[tuple[str, str]]:
    """Each documented /api operation, with a well-formed example path."""
    spec = httpx.get(f"{base}/openapi.json").json()
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path))
        for path, operations in spec["paths"].items()
        if path.startswith("/api/")
        for method in operations
    ]


def test_no_api_route_answers_without_the_token(guarded_facade: str) -> None:
    calls = every_api_call(guarded_facade)
    assert len(calls) >= 10
    for method, path in calls:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            response = httpx.request(method, guarded_facade + path, headers=headers, json={})
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.json()["code"] == "unauthenticated"


def test_the_token_opens_every_route(guarded_facade: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{guarded_facade}/api/skill-metadata", headers=headers).status_code == 200
    assert httpx.get(f"{guarded_facade}/api/execution-history", headers=headers).status_code == 200


def test_the_dashboard_page_loads_without_the_token_and_asks_for_it(guarded_facade: str) -> None:
    assert httpx.get(guarded_facade + "/").status_code == 200
