"""Slack's per-method rate-limit tiers, as a sliding window per (method[, channel]).

Tiers per docs.slack.dev (calls per minute, per method, per workspace and app):
Tier 1: 1+, Tier 2: 20+, Tier 3: 50+, Tier 4: 100+. ``chat.postMessage`` is "special":
about one message per second per channel, short bursts tolerated. ``auth.test`` is
listed as ``t5`` (special, effectively unthrottled) and is not limited here.

Over the limit, Slack answers HTTP 429 with ``Retry-After`` in whole seconds.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["METHOD_TIERS", "RateLimiter", "RateLimits"]

METHOD_TIERS: dict[str, str] = {
    "auth.test": "t5",
    "conversations.list": "t2",
    "conversations.history": "t3",
    "conversations.replies": "t3",
    "conversations.info": "t3",
    "users.list": "t2",
    "users.info": "t4",
    "chat.postMessage": "special",
    "chat.update": "t3",
    "chat.delete": "t3",
    "reactions.add": "t3",
    "reactions.get": "t3",
    "reactions.remove": "t2",
}


@dataclass
class RateLimits:
    """Calls allowed per ``window_s`` for each tier; ``enabled=False`` turns limiting off.

    ``special_per_channel`` applies to ``chat.postMessage`` per channel per
    ``special_window_s`` (Slack: 1 per second, with short bursts).
    """

    enabled: bool = True
    window_s: float = 60.0
    t1: int = 1
    t2: int = 20
    t3: int = 50
    t4: int = 100
    special_per_channel: int = 5
    special_window_s: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        known = self.to_dict()
        for key, value in changes.items():
            if key not in known:
                raise KeyError(key)
            setattr(self, key, type(known[key])(value))


@dataclass
class RateLimiter:
    limits: RateLimits = field(default_factory=RateLimits)
    clock: Callable[[], float] = time.monotonic
    _calls: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, method: str, channel: str = "") -> float | None:
        """Count a call; return the ``Retry-After`` seconds if it is over the limit (not counted then)."""
        if not self.limits.enabled:
            return None
        tier = METHOD_TIERS.get(method, "t3")
        if tier == "t5":
            return None
        if tier == "special":
            allowed, window = self.limits.special_per_channel, self.limits.special_window_s
            key = (method, channel)
        else:
            allowed, window, key = int(getattr(self.limits, tier)), self.limits.window_s, (method, "")
        now = self.clock()
        with self._lock:
            calls = self._calls.setdefault(key, deque())
            while calls and calls[0] <= now - window:
                calls.popleft()
            if len(calls) >= allowed:
                # Whole seconds, rounded up: a client that waits exactly this long gets through.
                return float(max(1, math.ceil(calls[0] + window - now)))
            calls.append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
