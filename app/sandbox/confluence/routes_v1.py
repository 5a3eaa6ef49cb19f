"""REST API v1 (``/wiki/rest/api``) calls clients still make: content, CQL search, space, labels, archive.

``POST /wiki/rest/api/content`` is no longer in Atlassian's current v1 spec but is still
called by many clients (and still answered by Confluence Cloud), so it is served here.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.sandbox.confluence.cql import CqlQuery, parse_cql
from app.sandbox.confluence.http import base_url, int_param, list_param, v1_query
from app.sandbox.confluence.index import decode_cursor, encode_cursor
from app.sandbox.confluence.model import Page, WikiError
from app.sandbox.confluence.render import V1, iso

if TYPE_CHECKING:
    from app.sandbox.confluence.simulator import ConfluenceSimulator

__all__ = ["v1_router"]


def _expand(request: Request) -> list[str]:
    return list_param(request, "expand")


def _ancestors(sim: ConfluenceSimulator, page: Page) -> list[Page]:
    chain: list[Page] = []
    cursor = sim.wiki.pages.get(page.parent_id) if page.parent_id else None
    while cursor is not None:
        chain.insert(0, cursor)
        cursor = sim.wiki.pages.get(cursor.parent_id) if cursor.parent_id else None
    return chain


def _array(
    request: Request, results: list[dict[str, Any]], start: int, limit: int, next_path: str | None
) -> dict[str, Any]:
    links: dict[str, Any] = {
        "base": base_url(request),
        "context": "/wiki",
        "self": f"{base_url(request)}{request.url.path.removeprefix('/wiki')}",
    }
    if next_path:
        links["next"] = next_path
    return {"results": results, "start": start, "limit": limit, "size": len(results), "_links": links}


def _search(
    sim: ConfluenceSimulator, query: CqlQuery, cursor: dict[str, Any] | None, limit: int
) -> tuple[list[Page], dict[str, Any] | None]:
    """One page of matches and the cursor of the next one.

    Ordered by ``lastmodified`` ascending (the incremental-sync query), the walk starts at the
    query's lower bound in the modified-date index; other orders page by offset.
    """
    wiki = sim.wiki
    keys = query.spaces()
    space_ids = [s.id for s in wiki.spaces.values() if keys is None or s.key in keys]
    by_key = {s.id: s.key for s in wiki.spaces.values()}
    order = query.order_field or "lastmodified"
    by_modified = order == "lastmodified" and not query.order_desc
    after = tuple(cursor["m"]) if cursor and by_modified and isinstance(cursor.get("m"), list) else None
    offset = int(cursor.get("o", 0)) if cursor and not by_modified else 0
    if by_modified:
        since = query.since_ms() or 0
        if after is not None:
            since = max(since, int(after[0]))
        stream: Iterator[Page] = wiki.modified_since(space_ids, ["current"], since)
    else:
        sort = {"lastmodified": "modified-date", "created": "created-date", "title": "title"}.get(order, "id")
        stream = wiki.walk(space_ids, ["current"], f"-{sort}" if query.order_desc else sort, None)
    matches = (
        p
        for p in stream
        if (after is None or wiki.sort_key(p, "modified-date") > after)
        and query.matches(p, by_key[p.space_id])
    )
    found = list(itertools.islice(matches, offset, offset + limit + 1))
    pages = found[:limit]
    if len(found) <= limit or not pages:
        return pages, None
    if by_modified:
        return pages, {"m": list(wiki.sort_key(pages[-1], "modified-date"))}
    return pages, {"o": offset + limit}


def _next(request: Request, path: str, cursor: dict[str, Any] | None, limit: int) -> str | None:
    if cursor is None:
        return None
    params = {k: v for k, v in request.query_params.items() if k != "cursor"}
    if path == "/rest/api/search":
        params["next"] = "true"  # documented for /search only, not for /content/search
    params.update(cursor=encode_cursor(cursor), limit=str(limit))
    return f"{path}?{v1_query(params)}"


def v1_router(sim: ConfluenceSimulator) -> APIRouter:
    router = APIRouter(prefix="/wiki/rest/api")

    def render(request: Request) -> V1:
        return V1(sim.wiki.spaces, base_url(request), sim.person)

    def content(request: Request, page: Page, expand: list[str]) -> dict[str, Any]:
        return render(request).content(page, expand, _ancestors(sim, page) if "ancestors" in expand else None)

    @router.get("/space")
    def get_spaces(request: Request) -> Response:
        with sim.lock:
            keys = set(list_param(request, "spaceKey"))
            start = int_param(request, "start", 0, 0, 10**9)
            limit = int_param(request, "limit", 25, 0, 500)
            spaces = [s for s in sim.wiki.spaces.values() if not keys or s.key in keys]
            chunk = spaces[start : start + limit]
            nxt = None
            if start + limit < len(spaces):
                nxt = f"/rest/api/space?{v1_query({'start': start + limit, 'limit': limit})}"
            return JSONResponse(_array(request, [render(request).space(s) for s in chunk], start, limit, nxt))

    @router.get("/space/{space_key}")
    def get_space(space_key: str, request: Request) -> Response:
        with sim.lock:
            space = sim.wiki.space_by_key(space_key)
            if space is None:
                raise WikiError(404, f"No space with key : {space_key}")
            return JSONResponse(render(request).space(space))

    @router.get("/content")
    def get_content(request: Request) -> Response:
        with sim.lock:
            if request.query_params.get("type", "page") != "page":
                return JSONResponse(_array(request, [], 0, 25, None))
            start = int_param(request, "start", 0, 0, 10**9)
            limit = int_param(request, "limit", 25, 0, 250)
            status = (list_param(request, "status") or ["current"])[0]
            key = request.query_params.get("spaceKey")
            title = request.query_params.get("title")
            spaces = [s for s in sim.wiki.spaces.values() if key is None or s.key == key]
            if title is not None:
                found = [
                    p
                    for p in sim.wiki.pages.values()
                    if p.title == title and p.status == status and any(p.space_id == s.id for s in spaces)
                ]
                pages = found[start : start + limit]
                total = len(found)
            elif len(spaces) == 1:
                # Offset paging straight into the id index: O(limit), not O(space).
                pages = sim.wiki.at_offset(spaces[0].id, status, start, limit)
                total = sim.wiki.count(spaces[0].id, status)
            else:
                stream = sim.wiki.walk([s.id for s in spaces], [status], "id", None)
                pages = list(itertools.islice(stream, start, start + limit))
                total = start + len(pages) + (1 if len(pages) == limit else 0)
            nxt = None
            if start + limit < total:
                params = dict(request.query_params.items())
                params.update(start=str(start + limit), limit=str(limit))
                nxt = f"/rest/api/content?{v1_query(params)}"
            expand = _expand(request)
            return JSONResponse(
                _array(request, [content(request, p, expand) for p in pages], start, limit, nxt)
            )

    @router.post("/content")
    async def create_content(request: Request) -> Response:
        payload = await sim.json_body(request)
        if payload.get("type") != "page":
            raise WikiError(400, f"Unsupported content type: {payload.get('type')}")
        space_key = (payload.get("space") or {}).get("key")
        with sim.lock:
            space = sim.wiki.space_by_key(str(space_key)) if space_key else None
            if space is None:
                raise WikiError(
                    403, f"Space with key {space_key} does not exist or you cannot create content in it"
                )
            ancestors = payload.get("ancestors") or []
            parent = str(ancestors[-1]["id"]) if ancestors else None
            storage = (payload.get("body") or {}).get("storage") or {}
            page = sim.wiki.create_page(
                space.id,
                str(payload.get("title") or ""),
                str(storage.get("value", "")),
                sim.account_id(request),
                parent,
                str(payload.get("status", "current")),
            )
            return JSONResponse(
                content(request, page, ["body.storage", "version", "space", "history", "ancestors"])
            )

    @router.post("/content/archive")
    async def archive_pages(request: Request) -> Response:
        payload = await sim.json_body(request)
        ids = [str(p.get("id")) for p in payload.get("pages") or [] if isinstance(p, dict)]
        if not ids or len(ids) > 300:
            raise WikiError(400, "Give between 1 and 300 pages to archive")
        with sim.lock:
            for pid in ids:
                page = sim.wiki.pages.get(pid)
                if page is None or page.status != "current":
                    raise WikiError(400, f"Content {pid} is not a current page")
            for pid in ids:
                sim.wiki.archive_page(pid)
            task = sim.wiki.new_id()
        return JSONResponse({"id": task, "links": {"status": f"/rest/api/longtask/{task}"}}, status_code=202)

    @router.get("/content/search")
    def search_content(request: Request) -> Response:
        cql = request.query_params.get("cql")
        if not cql:
            raise WikiError(400, "cql is required")
        limit = int_param(request, "limit", 25, 0, 250)
        with sim.lock:
            query = parse_cql(cql, sim.user_tz)
            pages, cursor = _search(sim, query, _search_cursor(request), limit)
            nxt = _next(request, "/rest/api/content/search", cursor, limit)
            expand = _expand(request)
            return JSONResponse(_array(request, [content(request, p, expand) for p in pages], 0, limit, nxt))

    @router.get("/search")
    def search(request: Request) -> Response:
        cql = request.query_params.get("cql")
        if not cql:
            raise WikiError(400, "cql is required")
        limit = int_param(request, "limit", 25, 0, 250)
        with sim.lock:
            query = parse_cql(cql, sim.user_tz)
            pages, cursor = _search(sim, query, _search_cursor(request), limit)
            expand = _expand(request)
            results = []
            for p in pages:
                space = sim.wiki.spaces[p.space_id]
                results.append(
                    {
                        "content": content(request, p, expand),
                        "title": p.title,
                        "excerpt": "",
                        "url": f"/spaces/{space.key}/pages/{p.id}",
                        "breadcrumbs": [],
                        "entityType": "content",
                        "iconCssClass": "aui-icon content-type-page",
                        "lastModified": iso(p.modified_at),
                        "friendlyLastModified": iso(p.modified_at),
                        "score": 1.0,
                    }
                )
            body = _array(request, results, 0, limit, _next(request, "/rest/api/search", cursor, limit))
            body.update(totalSize=len(results), cqlQuery=cql, searchDuration=1, archivedResultCount=0)
            return JSONResponse(body)

    @router.get("/content/{page_id}")
    def get_content_by_id(page_id: str, request: Request) -> Response:
        with sim.lock:
            statuses = list_param(request, "status") or ["current", "archived"]
            if "any" in statuses:
                statuses = ["current", "archived", "trashed", "draft"]
            page = sim.wiki.page(page_id, statuses)
            return JSONResponse(content(request, page, _expand(request)))

    @router.put("/content/{page_id}")
    async def update_content(page_id: str, request: Request) -> Response:
        payload = await sim.json_body(request)
        version = payload.get("version")
        if not isinstance(version, dict) or not isinstance(version.get("number"), int):
            raise WikiError(400, "Must supply an incremented version when updating Content.")
        if not payload.get("title") or payload.get("type") != "page":
            raise WikiError(400, "title and type are required")
        with sim.lock:
            ancestors = payload.get("ancestors") or []
            storage = (payload.get("body") or {}).get("storage") or {}
            page = sim.wiki.update_page(
                page_id,
                version_number=version["number"],
                author_id=sim.account_id(request),
                title=str(payload["title"]),
                body=str(storage["value"]) if "value" in storage else None,
                status=str(payload.get("status", "current")),
                parent_id=str(ancestors[-1]["id"]) if ancestors else None,
                message=str(version.get("message") or ""),
            )
            return JSONResponse(content(request, page, ["body.storage", "version", "space", "history"]))

    @router.delete("/content/{page_id}")
    def delete_content(page_id: str, request: Request) -> Response:
        with sim.lock:
            if request.query_params.get("status") == "trashed":
                sim.wiki.purge_page(page_id)
            else:
                sim.wiki.trash_page(page_id)
        return Response(status_code=204)

    @router.get("/content/{page_id}/label")
    def get_labels(page_id: str) -> Response:
        with sim.lock:
            return JSONResponse(V1.labels(sim.wiki.page(page_id)))

    @router.post("/content/{page_id}/label")
    async def add_labels(page_id: str, request: Request) -> Response:
        raw = await request.body()
        payload = sim.parse_any_json(raw)
        items = payload if isinstance(payload, list) else [payload]
        names = [str(i.get("name", "")) for i in items if isinstance(i, dict)]
        with sim.lock:
            return JSONResponse(V1.labels(sim.wiki.add_labels(page_id, names)))

    @router.delete("/content/{page_id}/label/{label}")
    def remove_label(page_id: str, label: str) -> Response:
        with sim.lock:
            sim.wiki.remove_label(page_id, label)
        return Response(status_code=204)

    @router.delete("/content/{page_id}/label")
    def remove_label_by_query(page_id: str, request: Request) -> Response:
        with sim.lock:
            sim.wiki.remove_label(page_id, request.query_params.get("name", ""))
        return Response(status_code=204)

    @router.get("/content/{page_id}/version")
    def get_versions(page_id: str, request: Request) -> Response:
        with sim.lock:
            page = sim.wiki.page(page_id, ("current", "archived", "trashed"))
            start = int_param(request, "start", 0, 0, 10**9)
            limit = int_param(request, "limit", 200, 0, 500)
            versions = sorted(page.versions, key=lambda v: -v.number)[start : start + limit]
            r = render(request)
            return JSONResponse(_array(request, [r.version(page, v) for v in versions], start, limit, None))

    return router


def _search_cursor(request: Request) -> dict[str, Any] | None:
    raw = request.query_params.get("cursor")
    if not raw:
        return None
    data = decode_cursor(raw)
    if data is None:
        raise WikiError(400, "Invalid cursor")
    return data
