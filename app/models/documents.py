"""Documents: Confluence pages (later Notion pages)."""

from __future__ import annotations

from typing import Literal

from app.models._base import Body


class Document(Body):
    kind: Literal["document"] = "document"
    title: str
    space: str | None = None
    parent: str | None = None
    body_storage: str = ""
    body_text: str = ""
    version: int | None = None
    author: str | None = None
    labels: tuple[str, ...] = ()
    status: str = "current"
