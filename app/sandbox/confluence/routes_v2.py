"""REST API v2 (``/wiki/api/v2``): spaces, pages (list, get, create, update, delete), labels, versions."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.sandbox.confluence.http import base_url, int_param, list_param, paged_response
from app.sandbox.confluence.index import decode_cursor, encode_cursor
from app.sandbox.confluence.model import Page, WikiError
from app.sandbox.confluence.render import V2
from app.sandbox.confluence.wiki import SORT_FIELDS

if TYPE_CHECKING:
    from app.sandbox.confluence.simulator import ConfluenceSimulator

__all__ = ["v2_router"]

_LIST_STATUSES = {"current", "archived", "deleted", "trashed"}
_SORTS = {s for f in SORT_FIELDS for s in (f, f"-{f}")}
_PAGE_LISTS = ("status", "space-id", "id")


def _bool(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() == "true"


def _body_format(request: Request, single: bool = False) -> str | None:
    fmt = request.query_params.get("body-format")
    allowed = {"storage", "atlas_doc_format"} | (
        {"view", "export_view", "styled_view", "editor", "anonymous_export_view"} if single else set()
    )
    if fmt is not None and fmt not in allowed and fmt != "none":
        raise WikiError(400, f"Invalid body-format '{fmt}'")
    return fmt


def _ids(values: list[str], name: str, max_items: int) -> list[str]:
    if len(values) > max_items:
        raise WikiError(400, f"'{name}' accepts at most {max_items} values")
    for v in values:
        if not v.isdigit():
            raise WikiError(400, f"'{name}' must hold numeric ids, got '{v}'")
    return values


def _write_body(payload: dict[str, Any]) -> str | None:
    """The storage value of a PageBodyWrite (``{representation, value}``) or nested (``{storage: {...}}``)."""
    body = payload.get("body")
    if body is None:
        return None
    if not isinstance(body, dict):
        raise WikiError(400, "'body' must be an object")
    if "value" in body:
        if body.get("representation", "storage") != "storage":
            raise WikiError(400, "only the storage representation is supported by this site")
        return str(body["value"])
    storage = body.get("storage")
    if isinstance(storage, dict) and "value" in storage:
        return str(storage["value"])
    raise WikiError(400, "'body' needs a storage value")


def _list_pages(sim: ConfluenceSimulator, request: Request, space_ids: list[str] | None) -> JSONResponse:
    limit = int_param(request, "limit", 25, 1, 250)
    sort = request.query_params.get("sort", "id")
    if sort not in _SORTS:
        raise WikiError(400, f"Invalid sort '{sort}'")
    statuses = list_param(request, "status") or ["current", "archived"]
    if not set(statuses) <= _LIST_STATUSES:
        raise WikiError(400, f"Invalid status {statuses}")
    fmt = _body_format(request)
    title = request.query_params.get("title")
    root_only = request.query_params.get("depth", "all") == "root"
    after: tuple[Any, int] | None = None
    raw_cursor = request.query_params.get("cursor")
    if raw_cursor:
        data = decode_cursor(raw_cursor)
        if data is None or data.get("s") != sort or not isinstance(data.get("k"), list):
            raise WikiError(400, "Invalid cursor")
        after = (data["k"][0], int(data["k"][1]))
    wiki = sim.wiki
    ids = _ids(list_param(request, "id"), "id", 250)
    chosen = space_ids if space_ids is not None else list(wiki.spaces)
    walk_statuses = [s for s in statuses if s != "deleted"]  # purged pages are gone
    if ids:
        found = [
            p for i in ids if (p := wiki.pages.get(i)) and p.space_id in chosen and p.status in walk_statuses
        ]
        found.sort(key=lambda p: wiki.sort_key(p, sort), reverse=sort.startswith("-"))
        if after is not None:
            desc = sort.startswith("-")
            found = [
                p
                for p in found
                if (wiki.sort_key(p, sort) < after if desc else wiki.sort_key(p, sort) > after)
            ]
        stream = iter(found)
    else:
        stream = wiki.walk(chosen, walk_statuses, sort, after)
    page_items: list[Page] = []
    more = False
    for page in stream:
        if title is not None and page.title != title:
            continue
        if root_only and page.parent_id is not None:
            continue
        if len(page_items) == limit:
            more = True
            break
        page_items.append(page)
    cursor = None
    if more and page_items:
        key = wiki.sort_key(page_items[-1], sort)
        cursor = encode_cursor({"s": sort, "k": [key[0], key[1]]})
    render = V2(wiki.spaces, base_url(request))
    results = [render.page(p, fmt) for p in page_items]
    return paged_response(request, results, cursor, _PAGE_LISTS)


def _offset_page(request: Request, items: list[dict[str, Any]]) -> JSONResponse:
    limit = int_param(request, "limit", 25, 1, 250)
    raw = request.query_params.get("cursor")
    start = 0
    if raw:
        data = decode_cursor(raw)
        if data is None or not isinstance(data.get("o"), int):
            raise WikiError(400, "Invalid cursor")
        start = data["o"]
    chunk = items[start : start + limit]
    cursor = encode_cursor({"o": start + limit}) if start + limit < len(items) else None
    return paged_response(request, chunk, cursor)


def v2_router(sim: ConfluenceSimulator) -> APIRouter:
    router = APIRouter(prefix="/wiki/api/v2")

    @router.get("/spaces")
    def get_spaces(request: Request) -> Response:
        with sim.lock:
            keys = set(list_param(request, "keys"))
            ids = set(_ids(list_param(request, "ids"), "ids", 250))
            status = request.query_params.get("status")
            kind = request.query_params.get("type")
            spaces = [
                s
                for s in sim.wiki.spaces.values()
                if (not keys or s.key in keys)
                and (not ids or s.id in ids)
                and (status is None or s.status == status)
                and (kind is None or s.type == kind)
            ]
            sort = request.query_params.get("sort", "id")
            field = sort.lstrip("-")
            if field not in ("id", "key", "name"):
                raise WikiError(400, f"Invalid sort '{sort}'")
            spaces.sort(
                key=lambda s: int(s.id) if field == "id" else getattr(s, field), reverse=sort.startswith("-")
            )
            return _offset_page(request, [V2.space(s) for s in spaces])

    @router.get("/spaces/{space_id}")
    def get_space(space_id: str) -> Response:
        with sim.lock:
            space = sim.wiki.spaces.get(space_id)
            if space is None:
                raise WikiError(404, f"Space {space_id} not found")
            return JSONResponse(V2.space(space))

    @router.get("/spaces/{space_id}/pages")
    def get_pages_in_space(space_id: str, request: Request) -> Response:
        with sim.lock:
            if space_id not in sim.wiki.spaces:
                raise WikiError(404, f"Space {space_id} not found")
            return _list_pages(sim, request, [space_id])

    @router.get("/pages")
    def get_pages(request: Request) -> Response:
        with sim.lock:
            space_ids = _ids(list_param(request, "space-id"), "space-id", 100)
            return _list_pages(sim, request, space_ids or None)

    @router.post("/pages")
    async def create_page(request: Request) -> Response:
        payload = await sim.json_body(request)
        root_level = _bool(request, "root-level")
        with sim.lock:
            space_id = payload.get("spaceId")
            if not isinstance(space_id, str | int) or str(space_id) not in sim.wiki.spaces:
                raise WikiError(400 if space_id is None else 404, f"Space {space_id} not found")
            parent = payload.get("parentId")
            if root_level and parent:
                raise WikiError(400, "parentId cannot be set when root-level is true")
            page = sim.wiki.create_page(
                str(space_id),
                str(payload.get("title") or ""),
                _write_body(payload) or "",
                sim.account_id(request),
                str(parent) if parent else None,
                str(payload.get("status", "current")),
            )
            if root_level:
                page.parent_id = None
            return JSONResponse(V2(sim.wiki.spaces, base_url(request)).page(page, "storage", single=True))

    @router.get("/pages/{page_id}")
    def get_page(page_id: str, request: Request) -> Response:
        with sim.lock:
            statuses = list_param(request, "status") or ["current", "archived"]
            page = sim.wiki.page(page_id, statuses)
            fmt = _body_format(request, single=True)
            render = V2(sim.wiki.spaces, base_url(request))
            version = request.query_params.get("version")
            data = render.page(page, fmt, single=True, labels=_bool(request, "include-labels"))
            if version:
                old = next((v for v in page.versions if str(v.number) == version), None)
                if old is None:
                    raise WikiError(404, f"Version {version} of page {page_id} not found")
                data.update(title=old.title, version=V2.version(old), status="historical")
                if fmt == "storage":
                    data["body"] = {"storage": {"representation": "storage", "value": old.body}}
            return JSONResponse(data)

    @router.put("/pages/{page_id}")
    async def update_page(page_id: str, request: Request) -> Response:
        payload = await sim.json_body(request)
        missing = [k for k in ("id", "status", "title", "body", "version") if k not in payload]
        if missing:
            raise WikiError(400, f"Missing required fields: {', '.join(missing)}")
        if str(payload["id"]) != page_id:
            raise WikiError(400, "The id in the body does not match the path")
        version = payload.get("version")
        if not isinstance(version, dict) or not isinstance(version.get("number"), int):
            raise WikiError(400, "version.number is required")
        status = str(payload["status"])
        if status not in ("current", "draft"):
            raise WikiError(400, f"Invalid status '{status}'")
        with sim.lock:
            page = sim.wiki.update_page(
                page_id,
                version_number=version["number"],
                author_id=sim.account_id(request),
                title=str(payload["title"]),
                body=_write_body(payload),
                status=status,
                parent_id=str(payload["parentId"]) if payload.get("parentId") else None,
                message=str(version.get("message") or ""),
            )
            return JSONResponse(V2(sim.wiki.spaces, base_url(request)).page(page, "storage", single=True))

    @router.delete("/pages/{page_id}")
    def delete_page(page_id: str, request: Request) -> Response:
        with sim.lock:
            if _bool(request, "purge"):
                sim.wiki.purge_page(page_id)
            else:
                sim.wiki.trash_page(page_id)
        return Response(status_code=204)

    @router.get("/pages/{page_id}/labels")
    def get_page_labels(page_id: str, request: Request) -> Response:
        with sim.lock:
            page = sim.wiki.page(page_id)
            prefix = request.query_params.get("prefix")
            labels = [V2.label(page, n) for n in page.labels if prefix in (None, "global")]
            return _offset_page(request, labels)

    @router.get("/pages/{page_id}/versions")
    def get_page_versions(page_id: str, request: Request) -> Response:
        with sim.lock:
            page = sim.wiki.page(page_id, ("current", "archived", "trashed"))
            fmt = _body_format(request)
            sort = request.query_params.get("sort", "-modified-date")
            if sort not in ("modified-date", "-modified-date"):
                raise WikiError(400, f"Invalid sort '{sort}'")
            render = V2(sim.wiki.spaces, base_url(request))
            versions = sorted(page.versions, key=lambda v: v.number, reverse=sort.startswith("-"))
            items = []
            for v in versions:
                item = render.page_version(page, v)
                if fmt == "storage":
                    item["page"]["body"] = {"storage": {"representation": "storage", "value": v.body}}
                items.append(item)
            return _offset_page(request, items)

    @router.get("/pages/{page_id}/versions/{number}")
    def get_page_version(page_id: str, number: str) -> Response:
        with sim.lock:
            page = sim.wiki.page(page_id, ("current", "archived", "trashed"))
            v = next((v for v in page.versions if str(v.number) == number), None)
            if v is None:
                raise WikiError(404, f"Version {number} of page {page_id} not found")
            detail: dict[str, Any] = {
                **V2.version(v),
                "contentTypeModified": False,
                "collaborators": [v.author_id],
            }
            if v.number > 1:
                detail["prevVersion"] = v.number - 1
            if v.number < page.version.number:
                detail["nextVersion"] = v.number + 1
            return JSONResponse(detail)

    return router


def parse_json(raw: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(raw or b"null")
    except ValueError:
        raise WikiError(400, "The request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise WikiError(400, "The request body must be a JSON object")
    return payload
