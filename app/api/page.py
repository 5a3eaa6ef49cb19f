"""The HTML status page at ``/``: a static shell that reads ``/api/status`` with the admin token.

Why a shell plus script rather than server rendering: the page holds no data until the
browser presents the token, so it can be served to anyone; the token is asked for once
and kept in ``sessionStorage`` (gone when the tab closes), and it travels only in the
``Authorization`` header, never in a URL (access logs, history, referrers) or a cookie
(which would expose the admin API to cross-site requests). Plain JavaScript, no build step.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

__all__ = ["STATIC_DIR", "router"]

STATIC_DIR = Path(__file__).resolve().parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def status_page() -> FileResponse:
    return FileResponse(
        STATIC_DIR / "status.html",
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )


@router.get("/static/status.js")
def status_script() -> FileResponse:
    return FileResponse(
        STATIC_DIR / "status.js",
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )


@router.get("/static/status.css")
def status_style() -> FileResponse:
    return FileResponse(
        STATIC_DIR / "status.css", media_type="text/css; charset=utf-8", headers={"Cache-Control": "no-store"}
    )
