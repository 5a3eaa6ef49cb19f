"""JSON shapes of the Confluence REST API: v2 (``/wiki/api/v2``) and v1 (``/wiki/rest/api``)."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from app.sandbox.confluence.model import Page, PageVersion, Space

__all__ = ["V1", "V2", "iso"]


def iso(moment: datetime) -> str:
    """Confluence's timestamp format: ``YYYY-MM-DDTHH:mm:ss.sssZ``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _webui(space: Space, page: Page) -> str:
    return f"/spaces/{space.key}/pages/{page.id}/{quote(page.title.replace(' ', '+'), safe='+')}"


class V2:
    """v2 shapes. ``spaces`` resolves a page's space (for links)."""

    def __init__(self, spaces: dict[str, Space], base: str) -> None:
        self.spaces = spaces
        self.base = base

    @staticmethod
    def version(v: PageVersion) -> dict[str, Any]:
        return {
            "createdAt": iso(v.created_at),
            "message": v.message,
            "number": v.number,
            "minorEdit": v.minor_edit,
            "authorId": v.author_id,
        }

    def page(
        self, page: Page, body_format: str | None, single: bool = False, labels: bool = False
    ) -> dict[str, Any]:
        space = self.spaces[page.space_id]
        body: dict[str, Any] = {}
        if body_format == "storage":
            body["storage"] = {"representation": "storage", "value": page.body}
        data: dict[str, Any] = {
            "id": page.id,
            "status": page.status,
            "title": page.title,
            "spaceId": page.space_id,
            "parentId": page.parent_id,
            "parentType": "page" if page.parent_id else None,
            "position": page.position,
            "authorId": page.author_id,
            "ownerId": page.author_id,
            "lastOwnerId": None,
            "createdAt": iso(page.created_at),
            "version": self.version(page.version),
            "body": body,
            "_links": {
                "editui": f"/pages/resumedraft.action?draftId={page.id}",
                "webui": _webui(space, page),
                "tinyui": f"/x/{page.id}",
            },
        }
        if not single:
            data["subtype"] = None
        else:
            data["_links"]["base"] = self.base
        if labels:
            data["labels"] = {
                "results": [self.label(page, n) for n in page.labels[:50]],
                "meta": {"hasMore": len(page.labels) > 50, "cursor": ""},
                "_links": {"self": f"/wiki/api/v2/pages/{page.id}/labels"},
            }
        return data

    @staticmethod
    def label(page: Page, name: str) -> dict[str, Any]:
        return {"id": str(zlib.crc32(name.encode()) % 10_000_000), "name": name, "prefix": "global"}

    @staticmethod
    def space(space: Space) -> dict[str, Any]:
        return {
            "id": space.id,
            "key": space.key,
            "name": space.name,
            "type": space.type,
            "status": space.status,
            "authorId": space.author_id,
            "createdAt": iso(space.created_at),
            "homepageId": space.homepage_id,
            "_links": {"webui": f"/spaces/{space.key}"},
        }

    def page_version(self, page: Page, v: PageVersion) -> dict[str, Any]:
        return {**self.version(v), "page": {"id": page.id, "title": v.title}}


class V1:
    """v1 shapes with ``expand`` support for the fields clients ask for."""

    def __init__(self, spaces: dict[str, Space], base: str, person: Callable[[str], tuple[str, str]]) -> None:
        self.spaces = spaces
        self.base = base
        self.person = person
        """account id -> (display name, email)."""

    def user(self, account_id: str) -> dict[str, Any]:
        name, _ = self.person(account_id)
        return {
            "type": "known",
            "accountId": account_id,
            "accountType": "atlassian",
            "email": "",
            "publicName": name,
            "displayName": name,
            "isExternalCollaborator": False,
            "_expandable": {"operations": "", "personalSpace": ""},
            "_links": {"self": f"{self.base}/rest/api/user?accountId={account_id}"},
        }

    def version(self, page: Page, v: PageVersion) -> dict[str, Any]:
        return {
            "by": self.user(v.author_id),
            "when": iso(v.created_at),
            "friendlyWhen": iso(v.created_at),
            "message": v.message,
            "number": v.number,
            "minorEdit": v.minor_edit,
            "contentTypeModified": False,
            "_expandable": {"content": f"/rest/api/content/{page.id}"},
            "_links": {"self": f"{self.base}/rest/api/content/{page.id}/version/{v.number}"},
        }

    def space(self, space: Space) -> dict[str, Any]:
        return {
            "id": int(space.id),
            "key": space.key,
            "name": space.name,
            "type": space.type,
            "status": space.status,
            "_expandable": {
                "settings": "",
                "metadata": "",
                "operations": "",
                "lookAndFeel": "",
                "permissions": "",
                "icon": "",
                "description": "",
                "theme": "",
                "history": "",
                "homepage": f"/rest/api/content/{space.homepage_id}",
            },
            "_links": {"webui": f"/spaces/{space.key}", "self": f"{self.base}/rest/api/space/{space.key}"},
        }

    @staticmethod
    def labels(page: Page) -> dict[str, Any]:
        results = [
            {"prefix": "global", "name": n, "id": V2.label(page, n)["id"], "label": n} for n in page.labels
        ]
        return {"results": results, "start": 0, "limit": 200, "size": len(results), "_links": {}}

    def content(
        self, page: Page, expand: Iterable[str], ancestors: list[Page] | None = None
    ) -> dict[str, Any]:
        wanted = set(expand)
        space = self.spaces[page.space_id]
        data: dict[str, Any] = {"id": page.id, "type": "page", "status": page.status, "title": page.title}
        expandable: dict[str, Any] = {}
        if "space" in wanted:
            data["space"] = self.space(space)
        else:
            expandable["space"] = f"/rest/api/space/{space.key}"
        if "version" in wanted:
            data["version"] = self.version(page, page.version)
        else:
            expandable["version"] = ""
        if wanted & {"history", "history.lastUpdated"}:
            data["history"] = {
                "latest": True,
                "createdBy": self.user(page.author_id),
                "createdDate": iso(page.created_at),
                "lastUpdated": self.version(page, page.version),
            }
        else:
            expandable["history"] = f"/rest/api/content/{page.id}/history"
        if "ancestors" in wanted:
            data["ancestors"] = [
                {"id": a.id, "type": "page", "status": a.status, "title": a.title} for a in (ancestors or [])
            ]
        else:
            expandable["ancestors"] = ""
        if "body.storage" in wanted:
            data["body"] = {
                "storage": {
                    "value": page.body,
                    "representation": "storage",
                    "_expandable": {"content": f"/rest/api/content/{page.id}"},
                },
                "_expandable": {
                    "view": "",
                    "export_view": "",
                    "styled_view": "",
                    "editor": "",
                    "atlas_doc_format": "",
                },
            }
        else:
            expandable["body"] = ""
        if "metadata.labels" in wanted:
            data["metadata"] = {"labels": self.labels(page)}
        else:
            expandable["metadata"] = ""
        expandable.update(
            {
                "container": f"/rest/api/space/{space.key}",
                "children": "",
                "descendants": "",
                "restrictions": "",
                "operations": "",
                "childTypes": "",
            }
        )
        data["extensions"] = {"position": page.position}
        data["_expandable"] = expandable
        data["_links"] = {
            "webui": _webui(space, page),
            "edit": f"/pages/resumedraft.action?draftId={page.id}",
            "tinyui": f"/x/{page.id}",
            "self": f"{self.base}/rest/api/content/{page.id}",
        }
        return data
