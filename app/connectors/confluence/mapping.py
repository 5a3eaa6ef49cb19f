"""Pure mapping between Confluence v2 page JSON and the unified :class:`Document`.

No I/O here: the connector fetches, this module translates. A page's ``version.number``
is its version token; ``trashed`` and ``archived`` pages become tombstones with that reason.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from app.connectors.base import Change
from app.errors import SkippableRecord
from app.models import DeleteReason, Document, Tombstone

__all__ = [
    "TOMBSTONE_REASONS",
    "page_to_change",
    "page_to_document",
    "parse_time",
    "storage_for",
    "storage_to_text",
    "update_payload",
]

TOMBSTONE_REASONS: Mapping[str, DeleteReason] = {
    "trashed": DeleteReason.TRASHED,
    "archived": DeleteReason.ARCHIVED,
    "deleted": DeleteReason.DELETED,
}

_BLOCKS = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "hr",
    "ac:task",
    "ac:parameter",
}


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS or tag in ("td", "th"):
            self.parts.append("\n" if tag in _BLOCKS else " ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def storage_to_text(storage: str) -> str:
    """Plain text of a storage-format body: tags stripped, entities decoded, blank runs collapsed.

    Macro parameters (``<ac:parameter ac:name="key">CHK-3</ac:parameter>``) keep their text,
    so Jira keys inside Jira macros stay visible to link derivation.
    """
    parser = _TextOnly()
    parser.feed(storage)
    parser.close()
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def parse_time(value: str | None) -> datetime | None:
    """Confluence's ``YYYY-MM-DDTHH:mm:ss.sssZ`` as an aware datetime."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _storage(page: Mapping[str, Any]) -> str:
    body = page.get("body") or {}
    storage = body.get("storage") or {}
    return str(storage.get("value") or "")


def page_to_document(page: Mapping[str, Any], space_key: str | None, labels: Iterable[str] = ()) -> Document:
    """The unified document of a v2 page (``body-format=storage``); ``labels`` come from a separate lookup."""
    try:
        storage = _storage(page)
        version = page.get("version") or {}
        return Document(
            title=str(page["title"]),
            space=space_key,
            parent=str(page["parentId"]) if page.get("parentId") else None,
            body_storage=storage,
            body_text=storage_to_text(storage),
            version=int(version["number"]) if version.get("number") is not None else None,
            author=page.get("authorId"),
            labels=tuple(sorted(set(labels))),
            status=str(page.get("status") or "current"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SkippableRecord(f"page {page.get('id')!r} cannot be mapped: {exc}") from exc


def page_to_change(
    page: Mapping[str, Any], space_key: str | None, labels: Iterable[str], base_url: str, fetched_at: datetime
) -> Change:
    """An upsert for a current page, a tombstone (reason trashed/archived) otherwise."""
    version = page.get("version") or {}
    number = version.get("number")
    webui = (page.get("_links") or {}).get("webui")
    common: dict[str, Any] = {
        "external_id": str(page["id"]),
        "version": str(number) if number is not None else None,
        "raw": dict(page),
        "created_at": parse_time(page.get("createdAt")),
        "updated_at": parse_time(version.get("createdAt")),
        "url": f"{base_url.rstrip('/')}{webui}" if webui else None,
    }
    status = str(page.get("status") or "current")
    reason = TOMBSTONE_REASONS.get(status)
    if reason is not None:
        return Change(tombstone=Tombstone(deleted_at=fetched_at, reason=reason), **common)
    return Change(body=page_to_document(page, space_key, labels), **common)


def storage_for(document: Document) -> str:
    """The storage body to write: the document's own, or its plain text in the page template."""
    if document.body_storage:
        return document.body_storage
    paragraphs = [p for p in document.body_text.split("\n") if p.strip()]
    return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs) or "<p></p>"


def update_payload(page_id: str, document: Document, next_version: int, message: str) -> dict[str, Any]:
    """A v2 ``PUT /pages/{id}`` body: every field the spec requires (id, status, title, body, version)."""
    payload: dict[str, Any] = {
        "id": page_id,
        "status": "current",
        "title": document.title,
        "body": {"representation": "storage", "value": storage_for(document)},
        "version": {"number": next_version, "message": message},
    }
    if document.parent:
        payload["parentId"] = document.parent
    return payload
