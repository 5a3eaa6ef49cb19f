"""Opaque sync and page tokens: what they bind (calendar, expiry epoch, position) and nothing else."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from app.sandbox.google_calendar.errors import GoogleApiError

__all__ = ["PageToken", "SyncToken"]


def _encode(prefix: str, data: dict[str, Any]) -> str:
    raw = prefix.encode() + json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(prefix: str, token: str) -> dict[str, Any] | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        if not raw.startswith(prefix.encode()):
            return None
        data = json.loads(raw[len(prefix) :])
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class SyncToken:
    """Everything of ``calendar`` changed after ``seq``; dead once the calendar's epoch moves on."""

    calendar_key: str
    epoch: int
    seq: int

    def encode(self) -> str:
        return _encode("S", {"c": self.calendar_key, "e": self.epoch, "s": self.seq})

    @classmethod
    def decode(cls, token: str, calendar_key: str, epoch: int) -> SyncToken:
        """Raises 410 ``fullSyncRequired`` for a token that is malformed, foreign or expired."""
        data = _decode("S", token)
        if (
            data is None
            or data.get("c") != calendar_key
            or not isinstance(data.get("s"), int)
            or data.get("e") != epoch
        ):
            raise GoogleApiError(
                410, "Sync token is no longer valid, a full sync is required.", "fullSyncRequired"
            )
        return cls(calendar_key, epoch, int(data["s"]))


@dataclass(frozen=True)
class PageToken:
    """Where the next page of a listing starts.

    ``after`` is a change-log sequence (log walks) or an offset (expanded listings);
    ``sync`` is the sync-token floor the listing started from (or -1).
    """

    calendar_key: str
    after: int
    sync: int = -1

    def encode(self) -> str:
        return _encode("P", {"c": self.calendar_key, "a": self.after, "s": self.sync})

    @classmethod
    def decode(cls, token: str, calendar_key: str) -> PageToken:
        data = _decode("P", token)
        if data is None or data.get("c") != calendar_key or not isinstance(data.get("a"), int):
            raise GoogleApiError(400, "Invalid page token value.", "invalid", location="pageToken")
        return cls(calendar_key, int(data["a"]), int(data.get("s", -1)))
