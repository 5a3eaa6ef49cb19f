"""A small HTTP/1.1 load generator on raw asyncio streams (uvloop when installed).

Requests are built as bytes before the clock starts, so the client's per-request work is
one write and one parse of the status line and ``Content-Length``: on a 2-core machine
the generator must cost far less than the server it measures. Two modes:

* :func:`closed_loop`: ``connections`` keep-alive connections, each sending its next
  request as soon as the previous answer arrived (maximum throughput);
* :func:`open_loop`: requests start on a fixed schedule (``rate`` per second) whatever
  the server does; latency is measured from the scheduled start, so a stalled server
  shows in the percentiles (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = ["LoadResult", "build_request", "closed_loop", "open_loop", "run"]


@dataclass
class LoadResult:
    sent: int = 0
    elapsed_s: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed_s if self.elapsed_s else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))  # nearest rank
        return ordered[index]


def build_request(url: str, headers: dict[str, str], body: bytes) -> bytes:
    parts = urlsplit(url)
    head = [f"POST {parts.path or '/'} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
            break
    if length:
        await reader.readexactly(length)
    return status


IDLE_REUSE_S = 4.0
"""A keep-alive connection idle longer than this is reopened before use: uvicorn closes idle
connections after 5 s (``timeout_keep_alive``), and a request written into one the server is
closing fails. The open loop leaves some of its connections idle that long (it takes the most
recently used first); a pooled HTTP client does the same."""


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = 0.0

    async def send(self, request: bytes) -> int:
        if self.writer is not None and time.perf_counter() - self.last_used > IDLE_REUSE_S:
            self.close()
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(request)
        try:
            return await _read_response(self.reader)
        except BaseException:
            self.close()
            raise
        finally:
            self.last_used = time.perf_counter()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
            self.reader = None


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


async def closed_loop(url: str, requests: Sequence[bytes], connections: int) -> LoadResult:
    host, port = _address(url)
    result = LoadResult()
    source: Iterator[bytes] = iter(requests)

    async def worker() -> None:
        conn = _Connection(host, port)
        try:
            for request in source:
                t0 = time.perf_counter()
                try:
                    status = await conn.send(request)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    result.errors += 1
                    continue
                result.latencies_ms.append((time.perf_counter() - t0) * 1000)
                result.statuses[status] += 1
        finally:
            conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    result.elapsed_s = time.perf_counter() - started
    result.sent = len(requests)
    return result


async def open_loop(url: str, requests: Sequence[bytes], rate: float, connections: int) -> LoadResult:
    """Start request ``i`` at ``i / rate`` seconds; a free connection takes it (more open if all are busy)."""
    host, port = _address(url)
    result = LoadResult()
    idle: list[_Connection] = [_Connection(host, port) for _ in range(connections)]
    started = time.perf_counter()

    async def one(request: bytes, due: float) -> None:
        conn = idle.pop() if idle else _Connection(host, port)
        try:
            status = await conn.send(request)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            result.errors += 1
            return
        result.latencies_ms.append((time.perf_counter() - due) * 1000)
        result.statuses[status] += 1
        idle.append(conn)

    tasks = []
    for i, request in enumerate(requests):
        due = started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(request, due)))
    await asyncio.gather(*tasks)
    result.elapsed_s = time.perf_counter() - started
    result.sent = len(requests)
    for conn in idle:
        conn.close()
    return result


def run(load: Coroutine[Any, Any, LoadResult]) -> LoadResult:
    """Run a load coroutine on uvloop when available (cheaper per request than the default loop)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        return asyncio.run(load)
    return uvloop.run(load)
