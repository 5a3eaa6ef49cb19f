"""The per-channel cursor of the ``messages`` stream, stored as JSON.

``oldest``
    the newest top-level ts seen: anything after it is new.
``at``
    when the run that wrote the cursor started (a reply posted since then in a thread
    we do not track shows as a ``latest_reply`` after it).
``seen``
    ts -> version of the top-level messages inside the look-back window: a re-read of
    the window finds edits (version moved) and deletion candidates (missing).
``threads``
    the threads active within the look-back: their ``latest_reply`` and reply
    versions; a thread is re-read only when its parent's summary moved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from app.errors import CursorInvalidated

__all__ = ["ChannelCursor", "ThreadState", "micros"]

VERSION = 1


def micros(ts: str) -> int:
    """A Slack ts as integer microseconds, for ordering (string order breaks across digit counts)."""
    if isinstance(ts, str) and ts.isascii():
        seconds, dot, fraction = ts.partition(".")
        if dot and len(fraction) == 6 and seconds.isdigit() and fraction.isdigit():
            # Slack's own shape ("1712345678.123456"): integer arithmetic, no Decimal per message.
            return int(seconds) * 1_000_000 + int(fraction)
    return _decimal_micros(ts)


def _decimal_micros(ts: str) -> int:
    """Any other ts the way Decimal reads it (fewer or more digits, exponents, signs)."""
    try:
        return int(Decimal(ts) * 1_000_000)
    except InvalidOperation as exc:
        raise ValueError(f"not a Slack ts: {ts!r}") from exc


@dataclass
class ThreadState:
    latest: str
    count: int
    replies: dict[str, str] = field(default_factory=dict)


@dataclass
class ChannelCursor:
    oldest: str | None = None
    at: float = 0.0
    seen: dict[str, str] = field(default_factory=dict)
    threads: dict[str, ThreadState] = field(default_factory=dict)

    def dumps(self) -> str:
        return json.dumps({
            "v": VERSION, "oldest": self.oldest, "at": self.at, "seen": self.seen,
            "threads": {ts: {"latest": t.latest, "count": t.count, "replies": t.replies}
                        for ts, t in self.threads.items()},
        }, separators=(",", ":"), sort_keys=True)

    @classmethod
    def loads(cls, text: str) -> ChannelCursor:
        """Parse a stored cursor; anything unreadable is a dead cursor (the engine resyncs the channel)."""
        try:
            data = json.loads(text)
            if data.get("v") != VERSION:
                raise ValueError(f"cursor version {data.get('v')!r}")
            threads = {str(ts): ThreadState(str(t["latest"]), int(t["count"]),
                                            {str(k): str(v) for k, v in t["replies"].items()})
                       for ts, t in data["threads"].items()}
            return cls(oldest=data["oldest"], at=float(data["at"]),
                       seen={str(k): str(v) for k, v in data["seen"].items()}, threads=threads)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CursorInvalidated(f"unreadable slack channel cursor: {exc}") from exc
