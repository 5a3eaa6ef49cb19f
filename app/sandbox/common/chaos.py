"""Fault injection settings of one simulator."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Chaos:
    """What goes wrong, and how often. Rates are probabilities per request or per delivery."""

    error_rate: float = 0.0
    """Share of API requests answered 5xx (500/502/503 alternately)."""
    rate_limit_rate: float = 0.0
    """Share of API requests answered 429 with ``Retry-After``."""
    retry_after_s: float = 1.0
    latency_ms: float = 0.0
    """Added to every API request."""
    latency_spike_rate: float = 0.0
    latency_spike_ms: float = 500.0
    webhook_drop_rate: float = 0.0
    webhook_duplicate_rate: float = 0.0
    token_expired: bool = False
    lost_answers: int = 0
    """The next this many API requests take effect, but their answer is lost: the client gets a 502
    (a gateway that timed out after the vendor had done the work). Counts down."""
    """Every API request is refused as unauthenticated (a revoked or expired token)."""
    seed: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def roll(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    def choice(self, options: list[int]) -> int:
        return self._rng.choice(options)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_rng", None)
        return data

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial update from the admin API; unknown keys raise ``KeyError``."""
        known = set(self.to_dict())
        for key, value in changes.items():
            if key not in known:
                raise KeyError(key)
            setattr(self, key, type(getattr(self, key))(value))
        if "seed" in changes:
            self._rng = random.Random(self.seed)
