"""Which partitions a stream has, remembered between runs so a quiet run costs one read per partition.

Listing a tool's channels or calendars is a request of its own. The hub lists them on
the first run of a process, on every full run, and again once ``refresh_s`` has passed;
other runs reuse the last listing. A channel created in between is picked up at the
next refresh (or at once by a full resync).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

__all__ = ["PartitionCache"]


class PartitionCache:
    def __init__(self, refresh_s: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._refresh_s = refresh_s
        self._monotonic = monotonic
        self._listed: dict[tuple[str, str], tuple[float, list[str]]] = {}

    async def get(
        self, connector: str, stream: str, list_now: Callable[[], Awaitable[list[str]]], *, refresh: bool = False
    ) -> list[str]:
        """The cached listing of (connector, stream), or a fresh one from ``list_now``."""
        key = (connector, stream)
        cached = self._listed.get(key)
        now = self._monotonic()
        if not refresh and cached is not None and now - cached[0] < self._refresh_s:
            return cached[1]
        listed = await list_now()
        self._listed[key] = (now, list(listed))
        return listed

    def forget(self, connector: str, stream: str) -> None:
        self._listed.pop((connector, stream), None)
