"""A small HTTP client of the facade's REST API, used by the CLI.

The CLI is a client of the same API and the same SSE events as the dashboard: it never
talks to Prefect itself.

Example:
    ```python
    with FacadeClient("http://127.0.0.1:5173") as api:
        for event_id, event in api.execute({"skillId": "react-setup", "parameters": {...}}):
            print(event["type"])
    ```
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx

from skills.errors import UserMessageError

DEFAULT_API_URL = "http://127.0.0.1:5173"
TERMINAL_EVENT_TYPES = frozenset({"complete", "error", "cancelled"})
_RECONNECT_ATTEMPTS = 5
_CONFIRM_WAIT_SECONDS = 10.0


class FacadeUnavailableError(UserMessageError):
    """Nothing answers at the API address."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"Cannot reach the skillworks API at {url}: {reason}",
            ["Start it with `skillworks up` (or `make up`), or pass --api with its address."],
        )


class FacadeError(UserMessageError):
    """The facade answered with an error body ``{error, code, details?}``."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        details = body.get("details")
        suggestions = details.get("suggestions", []) if isinstance(details, dict) else []
        super().__init__(str(body.get("error") or f"HTTP {status}"), list(suggestions))
        self.status = status
        self.code = str(body.get("code") or "")
        self.details = details

    @property
    def field_errors(self) -> list[dict[str, str]]:
        """The per-field errors of a 422 (``[{field, reason, hint}]``), if any."""
        if isinstance(self.details, dict) and isinstance(self.details.get("errors"), list):
            return self.details["errors"]
        return []


class FacadeClient:
    """Calls the facade; every ``/api`` call carries the bearer token when one is given."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def __enter__(self) -> FacadeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    def skills(self) -> dict[str, Any]:
        return self._json("GET", "/api/skill-metadata")

    def skill(self, skill_id: str) -> dict[str, Any]:
        return self._json("GET", "/api/skill-metadata", params={"skill": skill_id})

    def validate(self, request: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", "/api/validate-skill", json=request)

    def analytics(self, **filters: Any) -> dict[str, Any]:
        params = {name: value for name, value in filters.items() if value is not None}
        return self._json("GET", "/api/analytics", params=params)

    def history(self, **filters: Any) -> dict[str, Any]:
        params = {name: value for name, value in filters.items() if value is not None}
        return self._json("GET", "/api/execution-history", params=params)

    def confirm(self, execution_id: str, proceed: bool) -> dict[str, Any]:
        """Answer a pause.

        ``awaiting_confirmation`` is emitted just before the run pauses, so an answer can
        arrive first; a ``409 not_paused`` is retried for a few seconds.
        """
        deadline = time.monotonic() + _CONFIRM_WAIT_SECONDS
        while True:
            try:
                return self._json("POST", f"/api/executions/{execution_id}/confirm", json={"proceed": proceed})
            except FacadeError as refused:
                if refused.code != "not_paused" or time.monotonic() > deadline:
                    raise
            time.sleep(0.25)

    def cancel(self, execution_id: str) -> dict[str, Any]:
        return self._json("POST", f"/api/executions/{execution_id}/cancel")

    def execute(self, request: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
        """Start a run and yield its SSE events as ``(id, data)`` until a terminal one.

        Raises ``FacadeError`` (422 with field errors) when nothing was started. If the
        stream breaks before the end, it re-attaches with ``Last-Event-ID``.
        """
        return self._follow("/api/execute-skill", json=request)

    def retry(self, execution_id: str) -> Iterator[tuple[int, dict[str, Any]]]:
        """Run a failed execution again from its failed step, yielding the new run's events."""
        return self._follow(f"/api/executions/{execution_id}/retry")

    def workflows(self) -> dict[str, Any]:
        return self._json("GET", "/api/workflows")

    def workflow(self, workflow_id: str) -> dict[str, Any]:
        return self._json("GET", f"/api/workflows/{workflow_id}")

    def validate_workflow(self, request: dict[str, Any]) -> dict[str, Any]:
        """``{spec | workflowId, inputs, level, persona}`` -> ``{valid, problems, plan}`` (changes nothing)."""
        return self._json("POST", "/api/workflows/validate", json=request)

    def execute_workflow(self, request: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
        """Start a workflow run and yield its SSE events; ``FacadeError`` (422, the problems) if nothing started."""
        return self._follow("/api/workflows/execute", json=request)

    def rollback(self, token: str, force: bool) -> dict[str, Any]:
        return self._json("POST", "/api/rollback", json={"rollbackToken": token, "force": force})

    def _follow(self, path: str, **kwargs: Any) -> Iterator[tuple[int, dict[str, Any]]]:
        last_id = -1
        execution_id: str | None = None
        try:
            for last_id, event in self._events("POST", path, **kwargs):
                execution_id = execution_id or event.get("executionId")
                yield last_id, event
                if event.get("type") in TERMINAL_EVENT_TYPES:
                    return
        except httpx.TransportError:
            if execution_id is None:
                raise
        if execution_id is None:
            raise FacadeUnavailableError(self.base_url, "the stream ended before the run started")
        yield from self.attach(execution_id, last_id)

    def attach(self, execution_id: str, last_event_id: int = -1) -> Iterator[tuple[int, dict[str, Any]]]:
        """Re-attach to a run's stream, yielding only events after ``last_event_id``."""
        for _ in range(_RECONNECT_ATTEMPTS):
            headers = {"Last-Event-ID": str(last_event_id)} if last_event_id >= 0 else {}
            try:
                for last_event_id, event in self._events("GET", f"/api/executions/{execution_id}/events", headers=headers):
                    yield last_event_id, event
                    if event.get("type") in TERMINAL_EVENT_TYPES:
                        return
            except httpx.TransportError:
                continue
        raise FacadeUnavailableError(self.base_url, f"lost the event stream of execution {execution_id}")

    def _events(self, method: str, path: str, **kwargs: Any) -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            with self._http.stream(method, path, timeout=httpx.Timeout(30.0, read=None), **kwargs) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error(response)
                yield from parse_sse(response.iter_lines())
        except httpx.ConnectError as exc:
            raise FacadeUnavailableError(self.base_url, str(exc)) from exc

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise FacadeUnavailableError(self.base_url, str(exc) or type(exc).__name__) from exc
        if response.status_code >= 400:
            raise _error(response)
        return response.json()


def parse_sse(lines: Iterator[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(id, data)`` for each Server-Sent Event in ``lines`` (comments and keep-alives skipped).

    >>> list(parse_sse(iter(["id: 3", 'data: {"type": "log"}', ""])))
    [(3, {'type': 'log'})]
    """
    event_id, data = -1, []
    for line in lines:
        if not line:
            if data:
                yield event_id, json.loads("\n".join(data))
            data = []
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "id" and value.lstrip("-").isdigit():
            event_id = int(value)
        elif name == "data":
            data.append(value)
    if data:
        yield event_id, json.loads("\n".join(data))


def _error(response: httpx.Response) -> FacadeError:
    try:
        body = response.json()
    except ValueError:
        body = {"error": response.text.strip() or response.reason_phrase}
    return FacadeError(response.status_code, body if isinstance(body, dict) else {"error": str(body)})
