"""The Confluence Cloud connector: stream ``pages`` (kind ``document``), one partition per space key.

Reads
    A full read lists the space by ``modified-date`` ascending, 250 pages per call, statuses
    current + archived + trashed (so trashed and archived pages arrive as tombstones), with a
    resumable cursor after every page. An incremental read lists by ``-modified-date`` and stops
    at the first page saved before ``since - overlap`` (see :mod:`.cursor`): when nothing changed
    that is exactly one API call per space. Purged pages vanish from every listing: the census
    (:meth:`list_refs`, ids and versions of current pages, 250 per call) finds them.
    Trashing, archiving and restoring create no version and so do not move a page in the
    modified-date order: they show in full reads, in :meth:`get_many` and through the census.
Writes
    ``create`` (from the document's storage body or its text in the page template), ``update``
    with ``version.number = if_version + 1`` (Confluence's 409 -> ``PreconditionFailed``; the
    version message carries the hub's origin marker), ``delete`` moves the page to the trash.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import structlog

from app.connectors.base import Capability, Change, CheckResult, Page, Ref, StreamSpec, WriteResult
from app.connectors.common import EARLIER_ATTEMPT_MARGIN, BlockingCalls, RetryPolicy, metered, with_retries
from app.connectors.confluence.client import ConfluenceClient
from app.connectors.confluence.cursor import SyncCursor
from app.connectors.confluence.mapping import page_to_change, parse_time, storage_for, update_payload
from app.errors import ConfigError, PreconditionFailed, RecordNotFound, SkippableRecord
from app.models import AnyBody, DeleteReason, Document, RecordKind, Tombstone
from app.settings import ConfluenceSettings

__all__ = ["ConfluenceConnector"]

T = TypeVar("T")
log = structlog.get_logger(__name__)

PAGES = "pages"
_READ_STATUSES = ("current", "archived", "trashed")
_LIMIT = 250
_LABEL_BATCH = 100
_OVERLAP_S = 60.0


def _saved_ms(page: dict[str, Any]) -> int:
    moment = parse_time((page.get("version") or {}).get("createdAt"))
    return int(moment.timestamp() * 1000) if moment else 0


def _token(page: dict[str, Any]) -> str:
    return f"{(page.get('version') or {}).get('number')}:{page.get('status')}"


class ConfluenceConnector:
    system = "confluence"
    streams: Sequence[StreamSpec] = (StreamSpec(PAGES, RecordKind.DOCUMENT, partitioned=True),)
    capabilities = frozenset(
        {Capability.READ, Capability.INCREMENTAL, Capability.CENSUS, Capability.WRITE, Capability.DELETE}
    )

    def __init__(
        self,
        name: str,
        settings: ConfluenceSettings,
        *,
        retry_policy: RetryPolicy | None = None,
        overlap_s: float = _OVERLAP_S,
    ) -> None:
        self.name = name
        self.settings = settings
        self.overlap_ms = int(overlap_s * 1000)
        self.api_calls = 0
        """Vendor requests made so far (retries included)."""
        self._retry = retry_policy or RetryPolicy()
        self._calls = BlockingCalls(settings.max_concurrency)
        self._client: ConfluenceClient | None = None
        self._space_ids: dict[str, str] = {}

    # --- lifecycle --------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        self._client = ConfluenceClient(self.settings)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def client(self) -> ConfluenceClient:
        if self._client is None:
            raise RuntimeError("use the connector as an async context manager")
        return self._client

    async def _run(self, what: str, fn: Callable[[], T], *, idempotent: bool = True) -> T:
        # A create is not idempotent: a 5xx after Confluence saved would duplicate the page on retry.
        policy = self._retry if idempotent else replace(self._retry, max_attempts=1)

        async def once() -> T:
            self.api_calls += 1
            return await self._calls.run(fn)  # which counts the call into the task's meter

        return await with_retries(once, policy, what=f"confluence {what}")

    @staticmethod
    def _stream(stream: str) -> None:
        if stream != PAGES:
            raise ConfigError(f"confluence has no stream {stream!r} (only {PAGES!r})")

    # --- spaces -----------------------------------------------------------------------------
    async def _space_id(self, key: str) -> str:
        if key not in self._space_ids:
            listing = await self._run("find space", lambda: self.client.spaces([key]))
            for space in listing.results:
                self._space_ids[str(space["key"])] = str(space["id"])
            if key not in self._space_ids:
                raise ConfigError(f"confluence space {key!r} does not exist or the account cannot see it")
        return self._space_ids[key]

    async def _all_spaces(self) -> dict[str, str]:
        cursor: str | None = None
        while True:
            listing = await self._run(
                "list spaces",
                lambda c=cursor: self.client.spaces(  # type: ignore[misc]
                    self.settings.spaces, c
                ),
            )
            for space in listing.results:
                self._space_ids[str(space["key"])] = str(space["id"])
            if listing.cursor is None:
                return dict(self._space_ids)
            cursor = listing.cursor

    def _key_of(self, space_id: str) -> str | None:
        return next((k for k, v in self._space_ids.items() if v == space_id), None)

    async def check(self) -> CheckResult:
        try:
            found = await self._all_spaces()
        except ConfigError as exc:
            return CheckResult(ok=False, detail=str(exc))
        missing = [k for k in self.settings.spaces if k not in found]
        if missing:
            return CheckResult(
                ok=False, detail=f"spaces not visible to {self.settings.email}: {', '.join(missing)}"
            )
        return CheckResult(ok=True, detail=f"{len(found)} space(s) visible")

    async def list_partitions(self, stream: str) -> list[str]:
        self._stream(stream)
        if self.settings.spaces:
            return list(self.settings.spaces)
        return sorted(await self._all_spaces())

    # --- reads ------------------------------------------------------------------------------
    async def _changes(self, pages: list[dict[str, Any]], space_key: str | None) -> list[Change]:
        live = [str(p["id"]) for p in pages if p.get("status") == "current"]
        labels: dict[str, list[str]] = {}
        for i in range(0, len(live), _LABEL_BATCH):
            batch = live[i : i + _LABEL_BATCH]
            labels.update(await self._run("get labels", lambda b=batch: self.client.labels(b)))  # type: ignore[misc]
        fetched_at = datetime.now(UTC)
        changes: list[Change] = []
        for page in pages:
            key = space_key or self._key_of(str(page.get("spaceId")))
            try:
                changes.append(
                    page_to_change(
                        page, key, labels.get(str(page["id"]), ()), self.client.site_url, fetched_at
                    )
                )
            except SkippableRecord as exc:
                log.warning("confluence page skipped", page_id=page.get("id"), error=str(exc))
        return changes

    async def read_changes(self, stream: str, partition: str, cursor: str | None) -> AsyncIterator[Page]:
        self._stream(stream)
        state = SyncCursor.parse(cursor)
        space_id = await self._space_id(partition)
        if state is None:
            async for page in self._full_read(space_id, partition):
                yield page
        else:
            async for page in self._incremental_read(space_id, partition, state):
                yield page

    async def _full_read(self, space_id: str, partition: str) -> AsyncIterator[Page]:
        # Ascending save time: the cursor after each page is a valid resume point.
        state = SyncCursor()
        next_cursor: str | None = None
        while True:
            with metered() as meter:
                listing = await self._run(
                    "list pages",
                    lambda c=next_cursor: self.client.pages(  # type: ignore[misc]
                        space_id, sort="modified-date", statuses=_READ_STATUSES, limit=_LIMIT, cursor=c
                    ),
                )
                changes = await self._changes(listing.results, partition)
            state = state.advanced(
                ((str(p["id"]), _saved_ms(p), _token(p)) for p in listing.results), self.overlap_ms
            )
            yield Page(changes, state.dump(), api_calls=meter.calls)
            if listing.cursor is None:
                return
            next_cursor = listing.cursor

    async def _incremental_read(
        self, space_id: str, partition: str, state: SyncCursor
    ) -> AsyncIterator[Page]:
        # Newest first, stopping below since - overlap; the cursor is only valid once the walk ends.
        floor = state.since_ms - self.overlap_ms
        observed: list[tuple[str, int, str]] = []
        next_cursor: str | None = None
        done = False
        while not done:
            with metered() as meter:
                listing = await self._run(
                    "list pages",
                    lambda c=next_cursor: self.client.pages(  # type: ignore[misc]
                        space_id, sort="-modified-date", statuses=_READ_STATUSES, limit=_LIMIT, cursor=c
                    ),
                )
                fresh: list[dict[str, Any]] = []
                for page in listing.results:
                    saved = _saved_ms(page)
                    if saved < floor:
                        if page.get("status") == "current":
                            done = True
                            break
                        # Only a current page's sort date is surely its version's save time; should
                        # Confluence sort a trashed/archived page by its status change, stopping on it
                        # could skip newer edits below it. Step over it (the census covers it).
                        continue
                    observed.append((str(page["id"]), saved, _token(page)))
                    if not state.already_seen(str(page["id"]), _token(page)):
                        fresh.append(page)
                next_cursor = listing.cursor
                done = done or next_cursor is None
                changes = await self._changes(fresh, partition)
            after = state.advanced(observed, self.overlap_ms).dump() if done else None
            yield Page(changes, after, api_calls=meter.calls)

    async def list_refs(self, stream: str, partition: str) -> AsyncIterator[Sequence[Ref]]:
        self._stream(stream)
        space_id = await self._space_id(partition)
        next_cursor: str | None = None
        while True:
            listing = await self._run(
                "census",
                lambda c=next_cursor: self.client.pages(  # type: ignore[misc]
                    space_id, sort="id", statuses=("current",), limit=_LIMIT, with_body=False, cursor=c
                ),
            )
            yield [Ref(str(p["id"]), str((p.get("version") or {}).get("number"))) for p in listing.results]
            if listing.cursor is None:
                return
            next_cursor = listing.cursor

    async def get_many(self, stream: str, ids: Sequence[str]) -> list[Change]:
        self._stream(stream)
        wanted = list(dict.fromkeys(ids))
        found: dict[str, dict[str, Any]] = {}
        for i in range(0, len(wanted), _LIMIT):
            chunk = wanted[i : i + _LIMIT]
            next_cursor: str | None = None
            while True:
                listing = await self._run(
                    "get pages",
                    lambda c=next_cursor, b=chunk: self.client.pages_by_id(  # type: ignore[misc]
                        b, c
                    ),
                )
                found.update({str(p["id"]): p for p in listing.results})
                if listing.cursor is None:
                    break
                next_cursor = listing.cursor
        if any(self._key_of(str(p.get("spaceId"))) is None for p in found.values()):
            await self._all_spaces()
        changes = {c.external_id: c for c in await self._changes(list(found.values()), None)}
        now = datetime.now(UTC)
        out: list[Change] = []
        for page_id in wanted:
            if page_id in changes:
                out.append(changes[page_id])
            elif page_id not in found:  # purged, or never existed
                out.append(
                    Change(page_id, None, tombstone=Tombstone(deleted_at=now, reason=DeleteReason.DELETED))
                )
        return out

    # --- writes -----------------------------------------------------------------------------
    @staticmethod
    def _document(body: AnyBody) -> Document:
        if not isinstance(body, Document):
            raise SkippableRecord(f"confluence pages are written from documents, not {body.kind}")
        return body

    async def create(
        self, stream: str, partition: str, body: AnyBody, origin: str, *, idempotency_key: str | None = None,
        earlier_attempt_since: datetime | None = None,
    ) -> WriteResult:
        """Create a page. Confluence has no idempotent create, but a space holds one page of a title.

        When the caller says an earlier call may have made the page (``earlier_attempt_since``: the
        outbox retrying a create that failed, or one a crashed run left), the page of that title in
        the space is looked for first; one created since that attempt is taken
        (``WriteResult.adopted``) and given its labels, instead of a create that the space would
        refuse and whose page the hub would then not know as its own.
        """
        self._stream(stream)
        doc = self._document(body)
        space_id = await self._space_id(partition)
        found = None
        if earlier_attempt_since is not None:
            found = await self._made_earlier(space_id, doc.title, earlier_attempt_since)
        if found is not None:
            created = found
        else:
            created = await self._run(
                "create page",
                lambda: self.client.create_page(space_id, doc.title, storage_for(doc), doc.parent),
                idempotent=False,
            )
        page_id = str(created["id"])
        if doc.labels:  # adding a label a page has is a no-op
            await self._run("label page", lambda: self.client.add_labels(page_id, list(doc.labels)))
        return WriteResult(page_id, str(created["version"]["number"]), raw=created, adopted=found is not None)

    async def _made_earlier(self, space_id: str, title: str, since: datetime) -> dict[str, Any] | None:
        page = await self._run("find page", lambda: self.client.page_titled(space_id, title))
        made = parse_time(str(page.get("createdAt") or "")) if page is not None else None
        # A margin for the hub's clock not being Confluence's.
        return page if made is not None and made >= since - EARLIER_ATTEMPT_MARGIN else None

    async def update(
        self, stream: str, external_id: str, body: AnyBody, if_version: str | None, origin: str
    ) -> WriteResult:
        self._stream(stream)
        doc = self._document(body)
        if if_version is None:
            current = await self._run("get page", lambda: self.client.page(external_id))
            if_version = str(current["version"]["number"])
        payload = update_payload(external_id, doc, int(if_version) + 1, f"passerelle origin={origin}")
        try:
            updated = await self._run("update page", lambda: self.client.update_page(external_id, payload))
        except PreconditionFailed as exc:
            raise PreconditionFailed(
                f"page {external_id} is no longer at version {if_version}: {exc}"
            ) from exc
        return WriteResult(external_id, str(updated["version"]["number"]), raw=updated)

    async def delete(self, stream: str, external_id: str, if_version: str | None) -> None:
        """Move the page to the trash; a page already gone counts as deleted."""
        self._stream(stream)
        try:
            if if_version is not None:
                current = await self._run("get page", lambda: self.client.page(external_id))
                if str(current["version"]["number"]) != if_version:
                    raise PreconditionFailed(
                        f"page {external_id} is at version {current['version']['number']}, not {if_version}"
                    )
            await self._run("delete page", lambda: self.client.trash_page(external_id))
        except RecordNotFound:
            return
