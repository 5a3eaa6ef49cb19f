"""How the engine stores a connector's cursor: as given, or marked as taken during a full read.

A full read (first sync, ``full=True``, or after ``CursorInvalidated``) ends with a census
that infers deletes. If the run dies half-way, the next run resumes from the last
committed cursor, and must still know it is finishing a full read, or the census would
never happen and a record deleted in the gap would stay live in the hub. So the cursor
committed with each page of a full read is stored as ``full-read|<cursor>``, and stays
marked until the census after the read has passed; only then is the final cursor stored
bare. A census whose mass-delete guard tripped leaves the mark, so every later run
censuses (and flags) again until the guard passes: a crash cannot bury the warning.
"""

from __future__ import annotations

__all__ = ["FULL_READ_MARK", "stored_cursor", "unwrap_cursor"]

FULL_READ_MARK = "full-read|"


def stored_cursor(cursor: str, *, full_read: bool) -> str:
    """The value to store for the connector's ``cursor``."""
    return f"{FULL_READ_MARK}{cursor}" if full_read else cursor


def unwrap_cursor(stored: str | None) -> tuple[str | None, bool]:
    """The connector's cursor and whether it was taken during a full read still to finish."""
    if stored is not None and stored.startswith(FULL_READ_MARK):
        return stored[len(FULL_READ_MARK):], True
    return stored, False
