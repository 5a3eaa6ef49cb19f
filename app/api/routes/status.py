"""Status of every connector and pair, and the run history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from app.api.deps import AdminDep, HubDep
from app.api.schemas import RunPublic, StatusPublic
from app.api.status_view import build_status
from app.storage.protocol import RunStatus
from app.webhooks.status import add_webhook_status

router = APIRouter(prefix="/api", tags=["status"], dependencies=[AdminDep])


@router.get("/status")
def status(hub: HubDep, request: Request) -> StatusPublic:
    """State, last run (counts, error), next run, cursor age, lag and webhook coverage of every pair;
    connector health, webhook subscriptions with their expiry, inbox depth."""
    service = getattr(request.app.state, "webhooks", None)
    return add_webhook_status(build_status(hub), hub, service.subscriptions if service is not None else None)


@router.get("/runs")
def runs(
    hub: HubDep,
    pair: Annotated[str | None, Query(description="only this pair")] = None,
    run_status: Annotated[RunStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[RunPublic]:
    """Run history, newest first."""
    return [RunPublic.of(r) for r in hub.db.list_runs(pair_id=pair, status=run_status, limit=limit)]


@router.get("/runs/{run_id}", responses={404: {"description": "no such run"}})
def run(hub: HubDep, run_id: str) -> RunPublic:
    found = hub.db.get_run(run_id)
    if found is None:
        raise HTTPException(404, f"no run {run_id!r}")
    return RunPublic.of(found)
