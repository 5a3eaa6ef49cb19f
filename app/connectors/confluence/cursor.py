"""The per-space sync cursor: a high-water mark on the save time plus what was seen near it.

Confluence has no change token. A read lists the space's pages by ``-modified-date`` (the save
time of each page's current version, exact to the millisecond) and stops at the first page older
than ``since - overlap``. The overlap absorbs listings that lag behind saves; ``seen`` holds
``(version, status)`` of the pages inside the overlap window so they are not emitted twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.errors import CursorInvalidated

__all__ = ["SyncCursor"]

_FORMAT = 1


@dataclass
class SyncCursor:
    since_ms: int = 0
    seen: dict[str, tuple[int, str]] = field(default_factory=dict)
    """page id -> (save time ms, "version:status") for pages saved within the overlap window."""

    @classmethod
    def parse(cls, raw: str | None) -> SyncCursor | None:
        """``None`` for a full read; raises ``CursorInvalidated`` for a cursor this code cannot use."""
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            if data.get("v") != _FORMAT:
                raise ValueError("unknown cursor format")
            seen = {str(k): (int(v[0]), str(v[1])) for k, v in data["seen"].items()}
            return cls(int(data["since"]), seen)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CursorInvalidated(f"confluence cursor is unreadable: {exc}") from exc

    def dump(self) -> str:
        seen = {k: [ts, token] for k, (ts, token) in sorted(self.seen.items())}
        return json.dumps({"v": _FORMAT, "since": self.since_ms, "seen": seen}, separators=(",", ":"))

    def already_seen(self, page_id: str, token: str) -> bool:
        entry = self.seen.get(page_id)
        return entry is not None and entry[1] == token

    def advanced(self, observed: Iterable[tuple[str, int, str]], overlap_ms: int) -> SyncCursor:
        """The cursor after observing ``(page id, save time ms, token)``: a new high-water mark and
        the window of pages saved within ``overlap_ms`` of it (older entries are dropped)."""
        merged = dict(self.seen)
        since = self.since_ms
        for page_id, ts, token in observed:
            merged[page_id] = (ts, token)
            since = max(since, ts)
        floor = since - overlap_ms
        return SyncCursor(since, {k: v for k, v in merged.items() if v[0] >= floor})
