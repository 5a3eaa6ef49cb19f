"""Counting the vendor calls one piece of work made.

A connector's clients count every call, but a page read is not the only work on a client:
a webhook's read by id or another partition of a concurrent run may call it meanwhile, and a
difference of the client's total would count those into the page. A meter lives in a context
variable instead: the calls made by the task that opened it, and by tasks it starts while it is
open (they copy its context, and with it the same meter), count into it; nobody else's do.

A ``metered()`` block must not contain a ``yield`` of an async generator: the code after a
yield may run in another task's context, where the meter cannot be closed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["CallMeter", "count_call", "metered"]


class CallMeter:
    __slots__ = ("calls",)

    def __init__(self) -> None:
        self.calls = 0


_current: ContextVar[CallMeter | None] = ContextVar("passerelle_call_meter", default=None)


def count_call() -> None:
    """One vendor request is going out (the clients call this next to their own total)."""
    meter = _current.get()
    if meter is not None:
        meter.calls += 1


@contextmanager
def metered() -> Iterator[CallMeter]:
    """Count the calls this task (and the tasks it starts inside the block) makes."""
    meter = CallMeter()
    token = _current.set(meter)
    try:
        yield meter
    finally:
        _current.reset(token)
