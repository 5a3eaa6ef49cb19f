"""Blocking Confluence Cloud calls through atlassian-python-api (run them via ``BlockingCalls``).

The SDK is built as ``Confluence(url=<site>/wiki, ..., cloud=True, api_version=2)``, which is its
v2 ``ConfluenceCloud`` client. Where the SDK has no call that fits (one page of a listing with
its cursor, ``GET /pages?id=...``, CQL through v1), this module uses the SDK's own ``get`` with
the full path, so authentication, base URL, timeouts and TLS settings stay the SDK's.
Every method makes exactly one HTTP request and raises only hub errors.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import requests
from atlassian import Confluence

from app.connectors.confluence.errors import error_for_status, translate
from app.errors import ConfigError
from app.settings import ConfluenceSettings

__all__ = ["ConfluenceClient", "PageListing", "next_cursor"]

T = TypeVar("T")
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


def next_cursor(link_header: str | None, links: dict[str, Any] | None) -> str | None:
    """The opaque ``cursor`` of the next page, from the ``Link`` header or else ``_links.next``."""
    target: str | None = None
    if link_header:
        match = _NEXT.search(link_header)
        target = match.group(1) if match else None
    if target is None and links:
        target = links.get("next")
    if not target:
        return None
    values = parse_qs(urlsplit(target).query).get("cursor")
    return values[0] if values else None


class PageListing:
    """One page of a v2 listing: its results and the cursor of the next one (``None`` at the end)."""

    def __init__(self, results: list[dict[str, Any]], cursor: str | None) -> None:
        self.results = results
        self.cursor = cursor


def wiki_url(base_url: str | None) -> str:
    """The site's ``/wiki`` URL; Confluence Cloud serves both APIs under it."""
    if not base_url:
        raise ConfigError("connectors.<confluence>.base_url is required (https://<site>.atlassian.net)")
    base = base_url.rstrip("/")
    return base if base.endswith("/wiki") else f"{base}/wiki"


class ConfluenceClient:
    def __init__(self, settings: ConfluenceSettings) -> None:
        self.site_url = wiki_url(settings.base_url)
        with warnings.catch_warnings():
            # ConfluenceCloud warns about its v1 method names on construction; we call v2 only.
            warnings.simplefilter("ignore", DeprecationWarning)
            # Any: the SDK's overloads type bodies as dicts, but label writes post a JSON list.
            self._sdk: Any = Confluence(  # type: ignore[no-untyped-call]
                url=self.site_url,
                username=settings.email,
                password=settings.api_token.get_secret_value(),
                cloud=True,
                api_version=2,
                timeout=settings.timeout_s,
                verify_ssl=str(settings.ca_file) if settings.ca_file else True,
                # The SDK would otherwise sleep out a 429 inside the worker thread; the connector
                # paces 429s itself (with_retries), visibly and without holding a thread.
                retry_with_header=False,
                backoff_and_retry=False,
            )

    def close(self) -> None:
        self._sdk.close()

    # --- plumbing ---------------------------------------------------------------------------
    @staticmethod
    def _call(what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except requests.RequestException as exc:
            raise translate(exc, what) from exc

    def _get(self, path: str, params: dict[str, Any], what: str) -> requests.Response:
        response: requests.Response = self._call(
            what, lambda: self._sdk.get(path, params=params, advanced_mode=True)
        )
        if response.status_code >= 400:
            raise error_for_status(response, what)
        return response

    def _listing(self, path: str, params: dict[str, Any], what: str) -> PageListing:
        response = self._get(path, params, what)
        body = response.json()
        return PageListing(
            list(body.get("results") or []), next_cursor(response.headers.get("Link"), body.get("_links"))
        )

    # --- reads ------------------------------------------------------------------------------
    def spaces(self, keys: Sequence[str], cursor: str | None = None) -> PageListing:
        params: dict[str, Any] = {"limit": 250, "status": "current"}
        if keys:
            params["keys"] = ",".join(keys)
        if cursor:
            params["cursor"] = cursor
        return self._listing("api/v2/spaces", params, "list spaces")

    def pages(
        self,
        space_id: str,
        *,
        sort: str,
        statuses: Sequence[str],
        limit: int = 250,
        with_body: bool = True,
        cursor: str | None = None,
    ) -> PageListing:
        params: dict[str, Any] = {"sort": sort, "status": ",".join(statuses), "limit": limit}
        if with_body:
            params["body-format"] = "storage"
        if cursor:
            params["cursor"] = cursor
        return self._listing(f"api/v2/spaces/{space_id}/pages", params, f"list pages of space {space_id}")

    def pages_by_id(self, ids: Sequence[str], cursor: str | None = None) -> PageListing:
        """Up to 250 pages by id, in any status but purged (purged pages are simply absent)."""
        params: dict[str, Any] = {
            "id": ",".join(ids),
            "status": "current,archived,trashed",
            "body-format": "storage",
            "limit": 250,
        }
        if cursor:
            params["cursor"] = cursor
        return self._listing("api/v2/pages", params, "get pages by id")

    def labels(self, ids: Sequence[str]) -> dict[str, list[str]]:
        """Labels of current pages in one CQL call (v2 lists pages without labels)."""
        params = {"cql": f"id in ({','.join(ids)})", "expand": "metadata.labels", "limit": len(ids)}
        body = self._get("rest/api/content/search", params, "get labels").json()
        out: dict[str, list[str]] = {}
        for item in body.get("results") or []:
            found = ((item.get("metadata") or {}).get("labels") or {}).get("results") or []
            out[str(item["id"])] = [str(label["name"]) for label in found]
        return out

    def page(self, page_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            f"get page {page_id}", lambda: self._sdk.get_page_by_id(page_id, body_format="storage")
        )
        return result

    def page_titled(self, space_id: str, title: str) -> dict[str, Any] | None:
        """The current page titled ``title`` in the space (titles are unique in a space), if any."""
        params: dict[str, Any] = {"title": title, "status": "current", "body-format": "storage", "limit": 1}
        listing = self._listing(f"api/v2/spaces/{space_id}/pages", params, f"find page {title!r}")
        return listing.results[0] if listing.results else None

    # --- writes -----------------------------------------------------------------------------
    def create_page(self, space_id: str, title: str, storage: str, parent_id: str | None) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "create page",
            lambda: self._sdk.create_page(
                space_id=space_id, title=title, body=storage, parent_id=parent_id, body_format="storage"
            ),
        )
        return result

    def update_page(self, page_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """``PUT /pages/{id}`` with a full v2 body (the SDK's ``update_page`` cannot move a page or
        set the version message); Confluence answers 409 unless ``version.number`` is current + 1."""
        result: dict[str, Any] = self._call(
            f"update page {page_id}", lambda: self._sdk.put(f"api/v2/pages/{page_id}", data=payload)
        )
        return result

    def add_labels(self, page_id: str, names: Sequence[str]) -> None:
        """v2 has no label write: labels are added through v1 ``POST /content/{id}/label``."""
        data = [{"prefix": "global", "name": name} for name in names]
        self._call(
            f"label page {page_id}", lambda: self._sdk.post(f"rest/api/content/{page_id}/label", data=data)
        )

    def trash_page(self, page_id: str) -> None:
        self._call(f"delete page {page_id}", lambda: self._sdk.delete_page(page_id))
