"""``GET /metrics``: the Prometheus exposition (see ``service.metrics``).

Behind the API token like every other route, unless ``SKILLWORKS_METRICS_PUBLIC`` is set
(for a Prometheus that cannot send a bearer token; the metrics hold no ids and no paths).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service.deps import SettingsDep, require_token
from service.metrics import exposition

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def prometheus_metrics(request: Request, settings: SettingsDep) -> Response:
    """Counters and histograms of executions, steps, rollbacks, dry runs, SSE clients and HTTP requests."""
    if not settings.metrics_public:
        await require_token(request)
    body, content_type = exposition()
    return Response(body, media_type=content_type)
