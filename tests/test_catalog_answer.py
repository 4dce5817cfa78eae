"""``GET /api/skill-metadata`` answered from memory (``service.catalog_answer``), and what it leaves to the route.

The middleware runs here in front of a stand-in for the FastAPI app that records what
reaches it; the catalog and the measured estimates are the real ones, read from the test
session's Prefect server.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from prefect import get_client
from starlette.types import Message, Receive, Scope, Send

from blocks.settings import load_settings
from service.catalog_answer import PATH, CatalogAnswer
from service.deps import current_catalog
from service.estimates import MeasuredEstimates


class TheRoute:
    """Stands in for the app behind the middleware: answers 299 and remembers each request."""

    def __init__(self) -> None:
        self.requests: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.requests.append(scope)
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"from the route"})


@pytest.fixture
def estimates(prefect_server: str) -> Iterator[MeasuredEstimates]:
    with get_client(sync_client=True) as client:
        yield MeasuredEstimates(client, current_catalog)


@pytest.fixture
def measured(estimates: MeasuredEstimates) -> MeasuredEstimates:
    """Estimates with every skill's measurement in memory, as after the facade's first answers."""
    for skill in current_catalog().all():
        estimates.of(skill.id)
    return estimates


async def ask(
    estimates: MeasuredEstimates, *, query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[int, bytes, TheRoute]:
    route = TheRoute()
    scope = {
        "type": "http", "method": "GET", "path": PATH, "query_string": query, "headers": headers or [],
        "app": SimpleNamespace(state=SimpleNamespace(estimates=estimates)),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await CatalogAnswer(route)(scope, receive, send)
    return sent[0]["status"], b"".join(message.get("body", b"") for message in sent[1:]), route


async def test_the_catalog_is_answered_from_memory_once_every_measurement_is_known(measured: MeasuredEstimates) -> None:
    status, body, route = await ask(measured)

    assert (status, route.requests) == (200, [])
    answer: dict[str, Any] = json.loads(body)
    assert [skill["id"] for skill in answer["skills"]] == [skill.id for skill in current_catalog().all()]


async def test_a_measurement_not_yet_in_memory_is_left_to_the_route(estimates: MeasuredEstimates) -> None:
    status, body, route = await ask(estimates)

    assert (status, body, len(route.requests)) == (299, b"from the route", 1)


@pytest.mark.parametrize("query", [b"skill=react-setup", b"anything=else"])
async def test_a_query_is_left_to_the_route(measured: MeasuredEstimates, query: bytes) -> None:
    assert (await ask(measured, query=query))[0] == 299


async def test_a_request_with_a_body_is_left_to_the_route(measured: MeasuredEstimates) -> None:
    assert (await ask(measured, headers=[(b"content-length", b"5")]))[0] == 299
    assert (await ask(measured, headers=[(b"transfer-encoding", b"chunked")]))[0] == 299
    assert (await ask(measured, headers=[(b"content-length", b"0")]))[0] == 200


@pytest.fixture
async def api_token(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    monkeypatch.setenv("SKILLWORKS_API_TOKEN", "s3cret")
    await load_settings(refresh=True)
    yield "s3cret"
    monkeypatch.delenv("SKILLWORKS_API_TOKEN")
    await load_settings(refresh=True)


async def test_with_a_token_set_only_its_bearer_is_answered_and_the_route_refuses_the_others(
    measured: MeasuredEstimates, api_token: str
) -> None:
    refused = [[], [(b"authorization", b"Bearer wrong")], [(b"authorization", api_token.encode())]]
    for headers in refused:
        assert (await ask(measured, headers=headers))[0] == 299, headers
    assert (await ask(measured, headers=[(b"authorization", f"Bearer {api_token}".encode())]))[0] == 200
