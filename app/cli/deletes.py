"""``passerelle approve-deletes PAIR LABEL``: approve deletes the mass-delete guard held back,
for deployments that run ``passerelle sync`` without the service and its admin API."""

from __future__ import annotations

import sys

from app.errors import ConfigError, RecordNotFound
from app.hub import Hub
from app.settings import Settings
from app.storage.protocol import CursorKey
from app.sync.census import approve_held_deletes

__all__ = ["approve_deletes_command"]


async def approve_deletes_command(settings: Settings, pair_id: str, label: str, up_to: int | None) -> int:
    """Exit 0 once approved; 1 when nothing is held there; 2 (``ConfigError``) for a wrong pair or label."""
    pair = next((p for p in settings.pairs if p.id == pair_id), None)
    if pair is None:
        raise ConfigError(f"no pair {pair_id!r}")
    parts = label.split("/", 2)
    if len(parts) != 3:
        raise ConfigError(f"{label!r} is not a partition label: connector/stream/partition, as `status` prints")
    async with Hub(settings, connect=False) as hub:
        try:
            held = approve_held_deletes(hub.db, pair, CursorKey(*parts), up_to)
        except RecordNotFound as exc:
            print(f"passerelle: {exc}", file=sys.stderr)
            return 1
    print(f"approved up to {held.approved_up_to} deletes in {label} ({held.missing} vanished at the last "
          f"census); the next run of {pair_id} makes them: passerelle sync {pair_id}")
    return 0
