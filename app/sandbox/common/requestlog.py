"""The request log every simulator keeps: what a client asked, and what it got."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class RequestLogEntry:
    seq: int
    method: str
    path: str
    query: str
    status: int
    time: float          # wall clock (time.time()) when the request arrived
    duration_ms: float
    retry_after_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """A bounded, thread-safe log; ``seq`` grows monotonically so readers can ask for what is new."""

    def __init__(self, maxlen: int = 200_000) -> None:
        self._entries: deque[RequestLogEntry] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._seq = 0

    def add(self, method: str, path: str, query: str, status: int, started: float, duration_ms: float,
            retry_after_s: float | None = None) -> None:
        with self._lock:
            self._seq += 1
            self._entries.append(
                RequestLogEntry(self._seq, method, path, query, status, started, duration_ms, retry_after_s)
            )

    def since(self, seq: int = 0) -> list[RequestLogEntry]:
        with self._lock:
            return [e for e in self._entries if e.seq > seq]

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._seq

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
