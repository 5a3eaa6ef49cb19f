"""The wiki store: spaces and pages, their indexes, and every mutation a user or client can make.

Rules kept from Confluence Cloud:

- an update must carry ``version.number`` = current + 1, else 409 (someone else saved first);
- deleting trashes a page; only a trashed page can be purged, and a purged page vanishes;
- trashing, archiving and restoring change the status only, they create no version;
- a title is unique among the current pages of a space.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta

from app.sandbox.confluence.index import SortedIndex, SortKey, merge
from app.sandbox.confluence.model import PAGE_STATUSES, Page, PageVersion, Space, WikiError

__all__ = ["SORT_FIELDS", "Wiki"]

SORT_FIELDS = ("id", "created-date", "modified-date", "title")


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _key(page: Page, field: str) -> SortKey:
    pid = int(page.id)
    if field == "id":
        return (pid, pid)
    if field == "created-date":
        return (_ms(page.created_at), pid)
    if field == "modified-date":
        return (_ms(page.modified_at), pid)
    return (page.title, pid)


class Wiki:
    """All spaces and pages of one Confluence site. Not thread-safe: callers hold the simulator lock."""

    def __init__(self, clock: Callable[[], datetime] | None = None, first_id: int = 98_305) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.spaces: dict[str, Space] = {}
        self.pages: dict[str, Page] = {}
        self._indexes: dict[tuple[str, str, str], SortedIndex] = {}
        self._titles: dict[tuple[str, str], set[str]] = {}
        """(space id, title) -> ids of current pages: titles are unique among them."""
        self._child_count: dict[str | None, int] = {}
        self._next_id = first_id
        self._last_now: datetime | None = None

    # --- time and ids -----------------------------------------------------------------------
    def now(self) -> datetime:
        """The clock, made strictly increasing at millisecond precision so saves never tie."""
        moment = self.clock().astimezone(UTC)
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        if self._last_now is not None and moment <= self._last_now:
            moment = self._last_now + timedelta(milliseconds=1)
        self._last_now = moment
        return moment

    def new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    # --- lookups ----------------------------------------------------------------------------
    def space_by_key(self, key: str) -> Space | None:
        return next((s for s in self.spaces.values() if s.key == key), None)

    def page(self, page_id: str, statuses: Iterable[str] = ("current", "archived")) -> Page:
        page = self.pages.get(page_id)
        if page is None or page.status not in set(statuses):
            raise WikiError(404, f"Page {page_id} not found")
        return page

    # --- indexes ----------------------------------------------------------------------------
    def _index(self, space_id: str, status: str, field: str) -> SortedIndex:
        return self._indexes.setdefault((space_id, status, field), SortedIndex())

    def _unindex(self, page: Page) -> None:
        for field in SORT_FIELDS:
            self._index(page.space_id, page.status, field).discard(_key(page, field))
        if page.status == "current":
            self._titles.get((page.space_id, page.title), set()).discard(page.id)

    def _reindex(self, page: Page) -> None:
        for field in SORT_FIELDS:
            self._index(page.space_id, page.status, field).add(_key(page, field))
        if page.status == "current":
            self._titles.setdefault((page.space_id, page.title), set()).add(page.id)

    def walk(
        self, space_ids: Iterable[str], statuses: Iterable[str], sort: str, after: SortKey | None
    ) -> Iterator[Page]:
        """Pages in ``sort`` order (``-field`` descends), strictly after ``after``, lazily."""
        descending = sort.startswith("-")
        field = sort.lstrip("-")
        streams = [
            self._index(sid, st, field).after(after, descending) for sid in space_ids for st in statuses
        ]
        for _, pid in merge(streams, descending):
            yield self.pages[str(pid)]

    def modified_since(
        self, space_ids: Iterable[str], statuses: Iterable[str], since_ms: int
    ) -> Iterator[Page]:
        """Pages saved at or after ``since_ms``, oldest first."""
        streams = [
            self._index(sid, st, "modified-date").from_value(since_ms) for sid in space_ids for st in statuses
        ]
        for _, pid in merge(streams, descending=False):
            yield self.pages[str(pid)]

    def count(self, space_id: str, status: str) -> int:
        return len(self._index(space_id, status, "id"))

    def at_offset(self, space_id: str, status: str, offset: int, limit: int) -> list[Page]:
        return [self.pages[str(pid)] for _, pid in self._index(space_id, status, "id").at(offset, limit)]

    @staticmethod
    def sort_key(page: Page, sort: str) -> SortKey:
        return _key(page, sort.lstrip("-"))

    # --- mutations --------------------------------------------------------------------------
    def add_space(self, space: Space) -> Space:
        self.spaces[space.id] = space
        return space

    def create_page(
        self,
        space_id: str,
        title: str,
        body: str,
        author_id: str,
        parent_id: str | None = None,
        status: str = "current",
        created_at: datetime | None = None,
        labels: Iterable[str] = (),
    ) -> Page:
        space = self.spaces.get(space_id)
        if space is None:
            raise WikiError(404, f"Space {space_id} not found")
        if status not in ("current", "draft"):
            raise WikiError(400, f"Cannot create a page with status {status}")
        if not title and status == "current":
            raise WikiError(400, "Title is required for a published page")
        if parent_id is None:
            parent_id = space.homepage_id
        elif parent_id not in self.pages or self.pages[parent_id].space_id != space_id:
            raise WikiError(404, f"Parent page {parent_id} not found in space {space.key}")
        self._check_title_free(space_id, title, None)
        moment = created_at or self.now()
        siblings = self._child_count.get(parent_id, 0)
        self._child_count[parent_id] = siblings + 1
        page = Page(
            id=self.new_id(),
            space_id=space_id,
            parent_id=parent_id,
            author_id=author_id,
            created_at=moment,
            versions=[PageVersion(1, title, body, author_id, moment)],
            status=status,
            position=siblings,
            labels=list(labels),
        )
        self.pages[page.id] = page
        if space.homepage_id is None and parent_id is None:
            space.homepage_id = page.id
        self._reindex(page)
        return page

    def update_page(
        self,
        page_id: str,
        *,
        version_number: int,
        author_id: str,
        title: str | None = None,
        body: str | None = None,
        status: str = "current",
        parent_id: str | None = None,
        message: str = "",
        at: datetime | None = None,
    ) -> Page:
        page = self.pages.get(page_id)
        if page is None or page.status == "draft":
            raise WikiError(404, f"Page {page_id} not found")
        if page.status == "trashed":
            if status != "current":
                raise WikiError(404, f"Page {page_id} not found")
            # Restoring through an update changes the status only (the v2 spec says so).
            return self.restore_page(page_id)
        if version_number != page.version.number + 1:
            raise WikiError(
                409,
                f"Version must be incremented on update. Current version is: {page.version.number}",
                code="CONFLICT",
            )
        if status not in ("current", "archived"):
            raise WikiError(400, f"Cannot update a page to status {status}")
        new_title = title if title is not None else page.title
        if not new_title:
            raise WikiError(400, "Title is required")
        self._check_title_free(page.space_id, new_title, page.id)
        if parent_id is not None and parent_id != page.parent_id:
            self._check_parent(page, parent_id)
        self._unindex(page)
        if parent_id is not None:
            page.parent_id = parent_id
        page.versions.append(
            PageVersion(
                version_number,
                new_title,
                body if body is not None else page.body,
                author_id,
                at or self.now(),
                message,
            )
        )
        page.status = status
        self._reindex(page)
        return page

    def set_status(self, page: Page, status: str) -> Page:
        if status not in PAGE_STATUSES:
            raise WikiError(400, f"Unknown status {status}")
        self._unindex(page)
        page.status = status
        self._reindex(page)
        return page

    def trash_page(self, page_id: str) -> Page:
        page = self.page(page_id, ("current", "archived"))
        # Confluence moves the children up to the trashed page's parent.
        for child in [p for p in self.pages.values() if p.parent_id == page.id]:
            child.parent_id = page.parent_id
        page.status_before_trash = page.status
        return self.set_status(page, "trashed")

    def purge_page(self, page_id: str) -> None:
        page = self.pages.get(page_id)
        if page is None:
            raise WikiError(404, f"Page {page_id} not found")
        if page.status != "trashed":
            raise WikiError(400, f"Page {page_id} must be trashed before it can be purged")
        self._unindex(page)
        del self.pages[page_id]

    def archive_page(self, page_id: str) -> Page:
        page = self.pages.get(page_id)
        if page is None or page.status not in ("current", "archived"):
            raise WikiError(404, f"Page {page_id} not found")
        if page.status == "archived":
            raise WikiError(400, f"Page {page_id} is already archived")
        return self.set_status(page, "archived")

    def restore_page(self, page_id: str) -> Page:
        page = self.pages.get(page_id)
        if page is None or page.status not in ("trashed", "archived"):
            raise WikiError(404, f"Page {page_id} not found in the trash or the archive")
        if page.status == "trashed":
            self._check_title_free(page.space_id, page.title, page.id)
        return self.set_status(page, "current")

    def add_labels(self, page_id: str, names: Iterable[str]) -> Page:
        page = self.page(page_id)
        for name in names:
            clean = name.strip().lower()
            if not clean or " " in clean or len(clean) > 255:
                raise WikiError(400, f"Invalid label name {name!r}")
            if clean not in page.labels:
                page.labels.append(clean)
        return page

    def remove_label(self, page_id: str, name: str) -> Page:
        page = self.page(page_id)
        if name not in page.labels:
            raise WikiError(404, f"Label {name} not found on page {page_id}")
        page.labels.remove(name)
        return page

    # --- rules ------------------------------------------------------------------------------
    def _check_title_free(self, space_id: str, title: str, except_id: str | None) -> None:
        if self._titles.get((space_id, title), set()) - {except_id}:
            raise WikiError(
                400,
                "A page with this title already exists: A page already exists with the same TITLE "
                "in this space",
            )

    def _check_parent(self, page: Page, parent_id: str) -> None:
        parent = self.pages.get(parent_id)
        if parent is None or parent.space_id != page.space_id:
            raise WikiError(404, f"Parent page {parent_id} not found")
        cursor: Page | None = parent
        while cursor is not None:
            if cursor.id == page.id:
                raise WikiError(400, "A page cannot be moved under itself")
            cursor = self.pages.get(cursor.parent_id) if cursor.parent_id else None
