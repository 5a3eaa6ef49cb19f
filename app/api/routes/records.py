"""Records search and one record with its links and lineage."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import AwareDatetime

from app.api.deps import AdminDep, HubDep
from app.api.schemas import LinkPublic, RecordDetailPublic, RecordPublic, SourceRefPublic
from app.models import Record, RecordKind
from app.storage.protocol import RecordQuery

__all__ = ["router"]

router = APIRouter(prefix="/api/records", tags=["records"], dependencies=[AdminDep])


def _fields(record: Record) -> dict[str, object]:
    src = record.source
    return {
        "hub_id": record.hub_id,
        "kind": record.kind.value,
        "source": SourceRefPublic(
            system=src.system,
            connector=src.connector,
            stream=src.stream,
            external_id=src.external_id,
            partition=src.partition,
            url=src.url,
        ),
        "source_version": record.source_version,
        "content_hash": record.content_hash,
        "created_at": record.created_at,
        "updated_at_source": record.updated_at_source,
        "fetched_at": record.fetched_at,
        "deleted_at": record.tombstone.deleted_at if record.tombstone else None,
        "delete_reason": record.tombstone.reason.value if record.tombstone else None,
        "body": record.body.model_dump(mode="json"),
    }


@router.get("")
def search(
    hub: HubDep,
    kind: RecordKind | None = None,
    connector: Annotated[str | None, Query(max_length=128)] = None,
    q: Annotated[str | None, Query(max_length=200, description="text anywhere in the record")] = None,
    updated_since: Annotated[
        AwareDatetime | None, Query(description="changed at or after (ISO 8601, with zone)")
    ] = None,
    include_deleted: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[RecordPublic]:
    """Records, the most recently changed first."""
    since: datetime | None = updated_since
    found = hub.db.search_records(
        RecordQuery(
            kind=kind,
            connector=connector,
            text=q or None,
            updated_since=since,
            include_deleted=include_deleted,
            limit=limit,
            offset=offset,
        )
    )
    return [RecordPublic.model_validate(_fields(r)) for r in found]


@router.get("/{hub_id}", responses={404: {"description": "no such record"}})
def get_record(hub: HubDep, hub_id: str) -> RecordDetailPublic:
    """One record (tombstoned included) with its raw payload, links and the run or delivery that wrote it."""
    record = hub.db.get_record(hub_id)
    if record is None:
        raise HTTPException(404, f"no record {hub_id!r}")
    links = [
        LinkPublic(
            from_record=link.from_record,
            to_record=link.to_record,
            kind=link.kind,
            derived_by=link.derived_by,
            created_at=link.created_at,
        )
        for link in hub.db.links_for(hub_id)
    ]
    return RecordDetailPublic.model_validate(
        {**_fields(record), "raw": record.raw, "links": links, "lineage": hub.db.record_lineage(hub_id)}
    )
