"""The wiki's state: spaces, pages and their versions, as Confluence Cloud keeps them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["PAGE_STATUSES", "Page", "PageVersion", "Space", "WikiError"]

PAGE_STATUSES = ("current", "archived", "trashed", "draft")
"""``deleted`` (purged) pages are not kept: they vanish, as in Confluence."""


class WikiError(Exception):
    """A refused request; the API layer renders it in the v1 or v2 error shape."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _CODES.get(status, "ERROR")


_CODES = {
    400: "INVALID_REQUEST_PARAMETER",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    429: "TOO_MANY_REQUESTS",
}


@dataclass
class Space:
    id: str
    key: str
    name: str
    author_id: str
    created_at: datetime
    homepage_id: str | None = None
    description: str = ""
    type: str = "global"
    status: str = "current"


@dataclass(frozen=True)
class PageVersion:
    """One published version; ``created_at`` is when it was saved (the page's modified date)."""

    number: int
    title: str
    body: str
    author_id: str
    created_at: datetime
    message: str = ""
    minor_edit: bool = False


@dataclass
class Page:
    id: str
    space_id: str
    parent_id: str | None
    author_id: str
    created_at: datetime
    versions: list[PageVersion]
    status: str = "current"
    position: int = 0
    labels: list[str] = field(default_factory=list)
    status_before_trash: str = "current"

    @property
    def version(self) -> PageVersion:
        return self.versions[-1]

    @property
    def title(self) -> str:
        return self.version.title

    @property
    def body(self) -> str:
        return self.version.body

    @property
    def modified_at(self) -> datetime:
        """What ``sort=modified-date`` orders by: the save time of the current version.

        Trashing, archiving and restoring change ``status`` only and create no version
        (as in Confluence), so they do not move a page in that order.
        """
        return self.version.created_at
