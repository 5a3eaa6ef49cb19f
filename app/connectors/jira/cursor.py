"""The incremental cursor of one project: where the last read ended, and what it already saw.

Jira has no change token. The read asks for ``updated >= <epoch ms - overlap>`` ordered by
``updated`` (epoch milliseconds, never a date string: strings are read in the profile's
time zone at minute precision). The overlap re-reads a window so that an issue indexed
late is not lost; ``seen`` holds every issue emitted inside that window with the
``updated`` it had, so re-read issues are dropped unless they changed again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from app.errors import CursorInvalidated

__all__ = ["IssueCursor"]

_MAX_SEEN = 20_000


@dataclass
class IssueCursor:
    updated_ms: int | None = None
    seen: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, text: str | None) -> IssueCursor:
        if text is None:
            return cls()
        try:
            data = json.loads(text)
            updated = data["updated_ms"]
            return cls(None if updated is None else int(updated),
                       {str(k): int(v) for k, v in data.get("seen", {}).items()})
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CursorInvalidated(f"unreadable jira cursor: {text[:80]!r}") from exc

    def dump(self) -> str:
        """Always a cursor, even before the first issue: an empty project read once must not read
        as "never synced" (that would make every run a full read plus a census)."""
        return json.dumps({"updated_ms": self.updated_ms, "seen": self.seen}, separators=(",", ":"))

    def jql(self, project: str, overlap_ms: int) -> str:
        scope = f'project = "{project}"'
        if self.updated_ms is not None:
            scope += f" AND updated >= {max(0, self.updated_ms - overlap_ms)}"
        return f"{scope} ORDER BY updated ASC, id ASC"

    def admit(self, issue_id: str, updated_ms: int) -> bool:
        """True when this (issue, version) was not emitted yet; records it."""
        if self.seen.get(issue_id) == updated_ms:
            return False
        self.seen[issue_id] = updated_ms
        if self.updated_ms is None or updated_ms > self.updated_ms:
            self.updated_ms = updated_ms
        return True

    def prune(self, overlap_ms: int) -> None:
        """Forget what the next query cannot return again (older than the overlap window)."""
        if self.updated_ms is None:
            return
        floor = self.updated_ms - overlap_ms
        kept = {k: v for k, v in self.seen.items() if v >= floor}
        if len(kept) > _MAX_SEEN:
            kept = dict(sorted(kept.items(), key=lambda kv: kv[1])[-_MAX_SEEN:])
        self.seen = kept
