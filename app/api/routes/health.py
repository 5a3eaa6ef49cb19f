"""Liveness and readiness, for orchestrators and load balancers (no token)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import HubDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "store unreachable or scheduler stopped"}})
def ready(hub: HubDep) -> JSONResponse:
    """The store answers and the scheduler runs."""
    store_ok = hub.store is not None and hub.store.ping()
    scheduler_ok = hub.scheduler is not None and hub.scheduler.running
    body = {"store": store_ok, "scheduler": scheduler_ok}
    return JSONResponse(body, status_code=200 if store_ok and scheduler_ok else 503)
