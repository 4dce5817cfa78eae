"""``GET /``: the dashboard, a static page that is a client of the same API and events as the CLI.

The page, its script modules and its stylesheet live in ``service/static/`` (plain HTML, CSS
and JavaScript modules, no build step), served under ``/static``. The mount sits on this
router, so including the router is all the app factory does.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
PAGE = STATIC / "dashboard.html"

router = APIRouter(include_in_schema=False)
router.mount("/static", StaticFiles(directory=STATIC), name="static")


@router.get("/", response_class=HTMLResponse)
def dashboard() -> HTMLResponse:
    return HTMLResponse(PAGE.read_text(encoding="utf-8"))
