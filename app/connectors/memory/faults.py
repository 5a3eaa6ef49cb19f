"""Faults a test (or the demo) can inject into the in-memory connector.

Every connector operation calls :meth:`Faults.before` first; an armed fault raises
there. Operation names are the connector's method names: ``check``,
``list_partitions``, ``read_changes`` (once per page fetched), ``list_refs`` (once per
batch), ``get_many``, ``create``, ``update``, ``delete``. A write that succeeded calls
:meth:`Faults.after_write`, where an armed crash stands for the process dying before
the hub could record the write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from app.errors import ConfigError

__all__ = ["Faults", "SimulatedCrash"]


class SimulatedCrash(BaseException):
    """The process died mid-run.

    A ``BaseException`` on purpose: the engine's error handling (which catches
    ``Exception``) must not get to tidy up, exactly as after ``kill -9``.
    """


ErrorFactory = Callable[[], BaseException]


@dataclass
class _Armed:
    remaining: int
    error: ErrorFactory


@dataclass
class Faults:
    """The armed faults of one connector. Every fault is explicit and counted down."""

    latency_s: float = 0.0
    """Delay before every operation (lets a test catch a sync mid-run)."""
    list_nothing: bool = False
    """Access lost: reads and the census return nothing, as a vendor does after a revoked share."""
    revoked: bool = False
    """Credentials revoked: every call raises ``ConfigError``."""
    _armed: dict[str, list[_Armed]] = field(default_factory=dict)
    _crash_after: int | None = None
    _crash_stream: str | None = None
    _pages_since_armed: int = 0
    _after_write: dict[str, ErrorFactory] = field(default_factory=dict)

    def fail_next(self, operation: str, times: int, error: ErrorFactory) -> None:
        """Make the next ``times`` calls of ``operation`` raise ``error()``."""
        if times > 0:
            self._armed.setdefault(operation, []).append(_Armed(times, error))

    def crash_after_pages(self, pages: int, stream: str | None = None) -> None:
        """Raise :class:`SimulatedCrash` when the reader comes back for more after the ``pages``-th page
        handed out from now on, over all reads (of ``stream`` only, if given). One-shot."""
        self._crash_after = pages
        self._crash_stream = stream
        self._pages_since_armed = 0

    def crash_after_write(self, operation: str) -> None:
        """Raise :class:`SimulatedCrash` right after the next successful ``operation``
        (``create``, ``update`` or ``delete``): the tool holds the write, the hub never heard. One-shot."""
        self.fail_after_write(operation, lambda: SimulatedCrash(f"simulated crash after a successful {operation}"))

    def fail_after_write(self, operation: str, error: ErrorFactory) -> None:
        """Raise ``error()`` right after the next successful ``operation``: the tool holds the write and
        its answer was lost (a 5xx or a timeout after the vendor wrote). One-shot."""
        self._after_write[operation] = error

    def disarm_crash(self) -> None:
        self._crash_after = None
        self._crash_stream = None
        self._after_write.clear()

    def clear(self) -> None:
        """Disarm everything."""
        self._armed.clear()
        self._after_write.clear()
        self._crash_after = None
        self._crash_stream = None
        self.list_nothing = False
        self.revoked = False
        self.latency_s = 0.0

    @property
    def crash_armed(self) -> bool:
        return self._crash_after is not None or bool(self._after_write)

    async def before(self, operation: str) -> None:
        """Called at the start of every operation: waits, then raises the first armed fault."""
        if self.latency_s > 0:
            await asyncio.sleep(self.latency_s)
        if self.revoked:
            raise ConfigError("memory: credentials revoked (401)")
        queue = self._armed.get(operation)
        if queue:
            armed = queue[0]
            armed.remaining -= 1
            if armed.remaining <= 0:
                queue.pop(0)
            raise armed.error()

    def after_page(self, stream: str) -> None:
        """Called when a read resumes after handing out a page; fires an armed crash."""
        if self._crash_after is None or (self._crash_stream is not None and self._crash_stream != stream):
            return
        self._pages_since_armed += 1
        if self._pages_since_armed < self._crash_after:
            return
        self._crash_after = None
        self._crash_stream = None
        raise SimulatedCrash(f"simulated crash after page {self._pages_since_armed}")

    def after_write(self, operation: str) -> None:
        """Called once a write took effect in the tool; fires an armed fault-after-write."""
        error = self._after_write.pop(operation, None)
        if error is not None:
            raise error()
