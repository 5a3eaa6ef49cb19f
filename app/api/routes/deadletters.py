"""Dead letters: webhook deliveries that failed ``webhooks.max_attempts`` times, and their retry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, status

from app.api.deps import AdminDep, HubDep
from app.api.schemas import DeadLetterPublic, DeadLetterRetried
from app.storage.protocol import InboxItem
from app.webhooks.headers import CONNECTOR_HEADER

__all__ = ["router"]

router = APIRouter(prefix="/api/deadletters", tags=["deadletters"], dependencies=[AdminDep])


def _public(item: InboxItem) -> DeadLetterPublic:
    return DeadLetterPublic(
        id=item.id,
        source=item.source,
        delivery_id=item.delivery_id,
        connector=item.headers.get(CONNECTOR_HEADER),
        received_at=item.received_at,
        attempts=item.attempts,
        status=item.status,
        last_error=item.last_error,
        body_bytes=len(item.body),
    )


@router.get("")
def list_dead_letters(
    hub: HubDep,
    source: Annotated[
        str | None, Query(max_length=32, description="jira | slack | google | graph | ...")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[DeadLetterPublic]:
    """Dead deliveries, newest first, with the last error."""
    items = hub.db.inbox_list(status="dead", limit=limit if source is None else 1000)
    return [_public(i) for i in items if source is None or i.source == source][:limit]


@router.post(
    "/{item_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: {"description": "no dead letter with this id"}},
)
def retry(hub: HubDep, request: Request, item_id: Annotated[int, Path(ge=1, le=2**62)]) -> DeadLetterRetried:
    """Put a dead letter back in the inbox with a fresh attempt budget; it is processed at once."""
    if not hub.db.inbox_retry(item_id):
        raise HTTPException(404, f"no dead letter {item_id}")
    service = getattr(request.app.state, "webhooks", None)
    if service is not None:
        service.processor.notify()
    return DeadLetterRetried(id=item_id, status="pending")
