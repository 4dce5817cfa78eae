"""``GET /api/analytics``: what the runs in a time window say, computed from Prefect's record."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from service.analytics import AnalyticsResponse, analytics
from service.deps import CatalogDep, SettingsDep, SyncPrefectClientDep
from service.errors import ApiError
from service.run_record import read_runs

router = APIRouter(prefix="/api", tags=["analytics"])

DEFAULT_WINDOW = timedelta(days=30)
LONGEST_WINDOW = timedelta(days=366)
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)  # before skillworks: surely a mistake


@router.get("/analytics", response_model=AnalyticsResponse)
async def run_analytics(
    client: SyncPrefectClientDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    skill: Annotated[str | None, Query(max_length=100, description="One skill's runs only")] = None,
    since: Annotated[datetime | None, Query(description="Runs due from this time on (default: 30 days ago)")] = None,
    until: Annotated[datetime | None, Query(description="Runs due up to this time (default: now)")] = None,
) -> AnalyticsResponse:
    """Per skill and step: success rates, p50/p95 durations, frequent failure diagnoses, runs per day."""
    if skill is not None:
        catalog.get(skill)  # 404 for an unknown skill
    now = datetime.now(timezone.utc)
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and not EARLIEST <= _aware(moment) <= now + LONGEST_WINDOW:
            raise ApiError(
                422, "invalid_request", f"`{name}` is out of range.",
                {"field": name, "hint": f"give a time between {EARLIEST.date()} and a year from now"},
            )
    until = _aware(until) if until else now
    since = _aware(since) if since else until - DEFAULT_WINDOW
    if since >= until:
        raise ApiError(422, "invalid_request", "`since` must be before `until`.", {"field": "since"})
    if until - since > LONGEST_WINDOW:
        raise ApiError(
            422, "invalid_request", f"The window is longer than {LONGEST_WINDOW.days} days.",
            {"field": "since", "hint": "ask for a shorter window, one year at most"},
        )
    window = await run_in_threadpool(read_runs, client, settings.workspace_root, skill, since, until)
    return analytics(window, catalog, since, until)


def _aware(moment: datetime) -> datetime:
    """A time given without a zone is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
