"""The facade's Prometheus metrics, what ``GET /metrics`` exposes.

Counted where the facade sees things happen: its own HTTP requests, dry runs and SSE clients,
and, for executions, steps and rollbacks, Prefect's events about skillworks runs (see
``service.run_follower``), so a run started from the Prefect UI or a schedule counts as much
as one started here. Every label has a bounded set of values: skills, steps, levels,
personas and diagnosis rules come from the catalog and the rule table (anything else is
``other``), routes are templates (``/api/executions/{execution_id}``), never paths or ids.

With ``PROMETHEUS_MULTIPROC_DIR`` set, prometheus_client keeps each process's values in
files there and ``/metrics`` adds them up, so several facade processes behind one port
expose one set of numbers (the directory must be emptied before they start).
"""

from __future__ import annotations

import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from blocks.settings import metrics_multiprocess_directory
from skills.definition import LEVELS, PERSONAS
from skills.diagnosis import RULES

OTHER = "other"  # the value of a label whose real value is not in its bounded set
NO_RULE = "none"  # a step failure no diagnosis rule recognised
EXECUTION_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)
STEP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

EXECUTIONS_STARTED = Counter(
    "skillworks_executions_started", "Executions that started running", ["skill", "level", "persona"]
)
EXECUTIONS_FINISHED = Counter(
    "skillworks_executions_finished",
    "Executions that ended, by final status (completed, failed, cancelled, crashed)",
    ["skill", "level", "persona", "status"],
)
EXECUTION_DURATION = Histogram(
    "skillworks_execution_duration_seconds",
    "Run time of ended executions, as Prefect records it (pauses excluded)",
    ["skill", "status"],
    buckets=EXECUTION_BUCKETS,
)
STEP_DURATION = Histogram(
    "skillworks_step_duration_seconds", "Duration of completed steps", ["skill", "step"], buckets=STEP_BUCKETS
)
STEP_FAILURES = Counter(
    "skillworks_step_failures",
    "Failed step attempts, by the diagnosis rule that recognised the failure (none: no rule did)",
    ["skill", "step", "rule"],
)
ROLLBACKS = Counter(
    "skillworks_rollbacks", "Undos of an execution (a person's rollback or the recovery's)", ["skill", "outcome"]
)
ROLLBACK_CONFLICTS = Counter(
    "skillworks_rollback_conflicts", "Files a rollback kept because they changed since the execution", ["skill"]
)
SSE_CLIENTS = Gauge(
    "skillworks_sse_clients", "Clients connected to an execution's event stream", multiprocess_mode="livesum"
)
DRY_RUNS = Counter("skillworks_dry_runs", "Dry runs, by verdict (valid or invalid)", ["skill", "verdict"])
HTTP_REQUESTS = Counter("skillworks_http_requests", "HTTP requests answered", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "skillworks_http_request_duration_seconds",
    "Time from a request's arrival to its response's first byte (the headers, for a stream)",
    ["method", "route"],
    buckets=HTTP_BUCKETS,
)

_LEVELS = frozenset(LEVELS)
_PERSONAS = frozenset(PERSONAS)
_RULES = frozenset(rule.id for rule in RULES)
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


def bounded(value: object, allowed: frozenset[str] | set[str]) -> str:
    """``value`` as a label if it is one of ``allowed``, else ``other``."""
    return value if isinstance(value, str) and value in allowed else OTHER


def level_label(level: object) -> str:
    return bounded(level, _LEVELS)


def persona_label(persona: object) -> str:
    return bounded(persona, _PERSONAS)


def rule_label(rule_id: object) -> str:
    return NO_RULE if rule_id is None else bounded(rule_id, _RULES)


def exposition() -> tuple[bytes, str]:
    """The current values in Prometheus' text format, summed over processes in multiprocess mode."""
    if metrics_multiprocess_directory() is None:
        from prometheus_client import REGISTRY

        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry), CONTENT_TYPE_LATEST


def forget_this_process() -> None:
    """At a facade process's exit: its live gauges (SSE clients) stop counting in the sum."""
    if metrics_multiprocess_directory() is not None:
        multiprocess.mark_process_dead(os.getpid())


class HttpMetrics:
    """Count every HTTP request by method, route template and status, and time it to its first byte.

    A plain ASGI middleware, like ``BodySizeLimit``: no per-request task, and a streamed
    response is timed to its headers rather than to the end of the stream.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                self._observe_latency(scope, time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            HTTP_REQUESTS.labels(bounded(scope["method"], _METHODS), _route(scope), str(status)).inc()

    @staticmethod
    def _observe_latency(scope: Scope, seconds: float) -> None:
        HTTP_LATENCY.labels(bounded(scope["method"], _METHODS), _route(scope)).observe(seconds)


def _route(scope: Scope) -> str:
    """The matched route's template (set on the scope by the router), never the path itself."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"
