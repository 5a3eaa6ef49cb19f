"""Sorted indexes over pages and the opaque cursors that page through them.

A listing walks an index from a position found by bisection, so one page of results
costs O(limit · log n), never a scan of the whole wiki. Keys are ``(sort value, numeric id)``
so they are unique and the order is total.
"""

from __future__ import annotations

import base64
import bisect
import heapq
import json
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["SortKey", "SortedIndex", "decode_cursor", "encode_cursor", "merge"]

SortKey = tuple[Any, int]


class SortedIndex:
    """A sorted list of unique keys with lazy iteration from a position."""

    def __init__(self) -> None:
        self._keys: list[SortKey] = []

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: SortKey) -> None:
        bisect.insort(self._keys, key)

    def discard(self, key: SortKey) -> None:
        i = bisect.bisect_left(self._keys, key)
        if i < len(self._keys) and self._keys[i] == key:
            del self._keys[i]

    def after(self, key: SortKey | None, descending: bool = False) -> Iterator[SortKey]:
        """Keys strictly after ``key`` in the walking direction (from the start when ``None``)."""
        keys = self._keys
        if not descending:
            start = 0 if key is None else bisect.bisect_right(keys, key)
            for i in range(start, len(keys)):
                yield keys[i]
        else:
            start = len(keys) - 1 if key is None else bisect.bisect_left(keys, key) - 1
            for i in range(start, -1, -1):
                yield keys[i]

    def from_value(self, value: Any) -> Iterator[SortKey]:
        """Ascending keys whose sort value is ``>= value``."""
        keys = self._keys
        for i in range(bisect.bisect_left(keys, (value, -1)), len(keys)):
            yield keys[i]

    def at(self, offset: int, count: int) -> list[SortKey]:
        return self._keys[offset : offset + count]


def merge(streams: Iterable[Iterator[SortKey]], descending: bool) -> Iterator[SortKey]:
    """Merge already sorted key streams lazily."""
    return heapq.merge(*streams, reverse=descending)


def encode_cursor(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any] | None:
    """The cursor's content, or ``None`` when it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None
