"""People matched across tools, and the admin's identity overrides."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import AdminDep, HubDep
from app.api.schemas import IdentityOverrideUpdate, PersonPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/people", tags=["people"], dependencies=[AdminDep])


@router.get("")
def list_people(
    hub: HubDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[PersonPublic]:
    """Each person with display name, emails and one account per tool, by name."""
    return [PersonPublic.model_validate(p) for p in hub.db.list_people(limit=limit, offset=offset)]


@router.put("/overrides")
def put_override(hub: HubDep, override: IdentityOverrideUpdate) -> IdentityOverrideUpdate:
    """Pin a tool account to a person (created if new); later sightings keep it there."""
    hub.db.set_identity_override(override.system, override.account_id, override.person_id)
    return override
