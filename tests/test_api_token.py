"""With SKILLWORKS_API_TOKEN set, no /api route answers without ``Authorization: Bearer <token>``."""

from __future__ import annotations

import re
import uuid

import httpx


def every_api_call(base: str) -> list[tuple[str, str]]:
    """Each documented /api operation, with a well-formed example path."""
    spec = httpx.get(f"{base}/openapi.json").json()
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path))
        for path, operations in spec["paths"].items()
        if path.startswith("/api/")
        for method in operations
    ]


def test_no_api_route_answers_without_the_token(guarded_facade: tuple[str, str]) -> None:
    base, token = guarded_facade
    calls = every_api_call(base)
    assert len(calls) >= 10
    for method, path in calls:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token}):
            response = httpx.request(method, base + path, headers=headers, json={})
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.json()["code"] == "unauthenticated"


def test_a_plain_get_of_the_catalog_is_refused_too(guarded_facade: tuple[str, str]) -> None:
    """Without a body, as browsers send it: the catalog answered from memory checks the token too."""
    base, token = guarded_facade
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token}):
        response = httpx.get(f"{base}/api/skill-metadata", headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.json()["code"] == "unauthenticated"


def test_the_token_opens_the_api(guarded_facade: tuple[str, str]) -> None:
    base, token = guarded_facade
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{base}/api/skill-metadata", headers=headers).status_code == 200
    assert httpx.get(f"{base}/api/execution-history", headers=headers).status_code == 200


def test_the_dashboard_page_loads_without_the_token(guarded_facade: tuple[str, str]) -> None:
    assert httpx.get(guarded_facade[0] + "/").status_code == 200
