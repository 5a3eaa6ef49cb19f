"""The incremental cursor of one project: where the last read ended, and what it already saw.

Jira has no change token. The read asks for ``updated >= <floor>`` ordered by ``updated``
(epoch milliseconds, never a date string: strings are read in the profile's time zone at
minute precision). Search is eventually consistent ("recent updates might not be immediately
visible"), so the floor sits an overlap before what the hub knows it has read: an issue
indexed late, with an ``updated`` inside the overlap, is still found. ``seen`` holds every
issue emitted inside that window with the ``updated`` it had, so re-read issues are dropped
unless they changed again.

The floor is the overlap before the later of two marks:

- ``updated_ms``, the newest change emitted. Reads go in ``updated`` order, so everything
  before it was read; a read cut off half way resumes from here.
- ``read_ms``, Jira's clock (the first answer's ``Date``) when the last *complete* read
  began. Every issue changed an overlap before that was visible to that read, and it read
  to the end. Without this mark a quiet project would re-read the overlap before its last
  burst of edits on every cycle until something newer happened. It is written only with a
  read's last page, so a crash half way through never moves the floor past unread issues.
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
    read_ms: int | None = None

    @classmethod
    def load(cls, text: str | None) -> IssueCursor:
        if text is None:
            return cls()
        try:
            data = json.loads(text)
            updated = data["updated_ms"]
            read = data.get("read_ms")  # cursors written before this mark existed have none
            return cls(
                None if updated is None else int(updated),
                {str(k): int(v) for k, v in data.get("seen", {}).items()},
                None if read is None else int(read),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CursorInvalidated(f"unreadable jira cursor: {text[:80]!r}") from exc

    def dump(self) -> str:
        """Always a cursor, even before the first issue: an empty project read once must not read
        as "never synced" (that would make every run a full read plus a census)."""
        return json.dumps(
            {"updated_ms": self.updated_ms, "read_ms": self.read_ms, "seen": self.seen}, separators=(",", ":")
        )

    def floor(self, overlap_ms: int) -> int | None:
        """The lowest ``updated`` the next read asks for; None: read everything."""
        marks = [m for m in (self.updated_ms, self.read_ms) if m is not None]
        return max(0, max(marks) - overlap_ms) if marks else None

    def jql(self, project: str, overlap_ms: int) -> str:
        scope = f'project = "{project}"'
        floor = self.floor(overlap_ms)
        if floor is not None:
            scope += f" AND updated >= {floor}"
        return f"{scope} ORDER BY updated ASC, id ASC"

    def admit(self, issue_id: str, updated_ms: int) -> bool:
        """True when this (issue, version) was not emitted yet; records it."""
        if self.seen.get(issue_id) == updated_ms:
            return False
        self.seen[issue_id] = updated_ms
        if self.updated_ms is None or updated_ms > self.updated_ms:
            self.updated_ms = updated_ms
        return True

    def completed(self, started_ms: int | None) -> None:
        """A read that began at Jira's ``started_ms`` reached its last page."""
        if started_ms is not None:
            self.read_ms = started_ms

    def prune(self, overlap_ms: int) -> None:
        """Forget what the next query cannot return again (older than its floor)."""
        floor = self.floor(overlap_ms)
        if floor is None:
            return
        kept = {k: v for k, v in self.seen.items() if v >= floor}
        if len(kept) > _MAX_SEEN:
            kept = dict(sorted(kept.items(), key=lambda kv: kv[1])[-_MAX_SEEN:])
        self.seen = kept
