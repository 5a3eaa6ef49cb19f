"""``/_sandbox`` routes that change the wiki as a user would (no auth, not in the request log)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.sandbox.common.simulator import ADMIN_PREFIX
from app.sandbox.confluence.model import Page

if TYPE_CHECKING:
    from app.sandbox.confluence.simulator import ConfluenceSimulator

__all__ = ["admin_router"]


def _summary(page: Page) -> dict[str, Any]:
    return {
        "id": page.id,
        "title": page.title,
        "status": page.status,
        "version": page.version.number,
        "spaceId": page.space_id,
        "parentId": page.parent_id,
        "labels": list(page.labels),
    }


def admin_router(sim: ConfluenceSimulator) -> APIRouter:
    router = APIRouter(prefix=f"{ADMIN_PREFIX}/pages")

    @router.get("")
    def list_pages(space: str | None = None, status: str = "current") -> Response:
        return JSONResponse({"pages": [_summary(p) for p in sim.pages_in(space, status)]})

    @router.post("")
    async def create(request: Request) -> Response:
        data = await sim.json_body(request)
        page = sim.create_page(
            str(data.get("title", "")),
            str(data.get("body", "<p></p>")),
            data.get("space"),
            data.get("parent_id"),
            data.get("as"),
            tuple(data.get("labels", ())),
        )
        return JSONResponse(_summary(page), status_code=201)

    @router.post("/{page_id}/edit")
    async def edit(page_id: str, request: Request) -> Response:
        data = await sim.json_body(request)
        return JSONResponse(
            _summary(sim.edit_page(page_id, data.get("body"), data.get("title"), data.get("as")))
        )

    @router.post("/{page_id}/trash")
    def trash(page_id: str) -> Response:
        return JSONResponse(_summary(sim.trash_page(page_id)))

    @router.post("/{page_id}/archive")
    def archive(page_id: str) -> Response:
        return JSONResponse(_summary(sim.archive_page(page_id)))

    @router.post("/{page_id}/restore")
    def restore(page_id: str) -> Response:
        return JSONResponse(_summary(sim.restore_page(page_id)))

    @router.post("/{page_id}/purge")
    def purge(page_id: str) -> Response:
        sim.purge_page(page_id)
        return JSONResponse({"id": page_id, "purged": True})

    return router
