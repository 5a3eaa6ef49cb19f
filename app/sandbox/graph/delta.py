"""``calendarView/delta``: rounds of pages over one calendar's change journal.

A round starts with ``startDateTime``/``endDateTime`` (the window, fixed from then on)
and snapshots the journal's last sequence. Pages walk the journal from a position,
expanding series masters into occurrences; the last page hands out a ``$deltatoken``
whose next round reads only what changed after that snapshot. Tokens are opaque,
signed, and carry the window, the positions and the store generation: a token of an
older generation, or one that was tampered with, is answered 410 ``syncStateNotFound``.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.sandbox.graph.errors import GraphError
from app.sandbox.graph.model import Instance, StoredEvent, occurrence_id
from app.sandbox.graph.store import GraphStore

__all__ = ["DeltaPage", "DeltaState", "TokenCodec", "read_delta_page"]


@dataclass(frozen=True)
class DeltaState:
    user_id: str
    calendar_id: str
    start: datetime
    end: datetime
    low: int  # changes with a sequence above ``low`` ...
    high: int  # ... and up to ``high`` belong to this round
    position: tuple[int, int]  # (journal sequence, item index) of the next item to return
    generation: int

    def to_json(self) -> dict[str, Any]:
        return {
            "u": self.user_id,
            "c": self.calendar_id,
            "s": self.start.isoformat(),
            "e": self.end.isoformat(),
            "lo": self.low,
            "hi": self.high,
            "p": list(self.position),
            "g": self.generation,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeltaState:
        return cls(
            str(data["u"]),
            str(data["c"]),
            datetime.fromisoformat(data["s"]),
            datetime.fromisoformat(data["e"]),
            int(data["lo"]),
            int(data["hi"]),
            (int(data["p"][0]), int(data["p"][1])),
            int(data["g"]),
        )


class TokenCodec:
    """Signs states into opaque URL-safe tokens and refuses forged or dead ones."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def encode(self, state: DeltaState) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(state.to_json(), separators=(",", ":")).encode())
        sig = hmac.new(self._secret, payload, hashlib.sha256).digest()[:12]
        return (payload + b"." + base64.urlsafe_b64encode(sig)).decode().replace("=", "")

    def decode(self, token: str, store: GraphStore) -> DeltaState:
        try:
            payload, _, sig = token.partition(".")
            raw = payload.encode() + b"=" * (-len(payload) % 4)
            expected = base64.urlsafe_b64encode(hmac.new(self._secret, raw, hashlib.sha256).digest()[:12])
            if not hmac.compare_digest(expected.decode().replace("=", ""), sig):
                raise ValueError("bad signature")
            state = DeltaState.from_json(json.loads(base64.urlsafe_b64decode(raw)))
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise sync_state_not_found() from exc
        if state.generation != store.generation:
            raise sync_state_not_found()
        return state


def sync_state_not_found() -> GraphError:
    return GraphError(
        410,
        "SyncStateNotFound",
        "The sync state generation is not found; the delta token is expired or invalid. "
        "Start a new round of delta (syncStateNotFound).",
    )


@dataclass(frozen=True)
class DeltaPage:
    items: list[dict[str, Any]]
    next_state: DeltaState
    finished: bool  # True: ``next_state`` is the start of the next round (a deltaLink)


def _items_of(event: StoredEvent, state: DeltaState, initial: bool) -> list[tuple[str, Instance | None]]:
    """(id, instance or None for removed) for one changed event, in a stable order."""
    gone = event.deleted
    if not event.is_series:
        inst = event.instance()
        alive = not gone and inst.overlaps(state.start, state.end)
        if alive:
            return [(inst.id, inst)]
        return [] if initial else [(inst.id, None)]
    out: list[tuple[str, Instance | None]] = []
    dates = set(event.occurrences(state.start, state.end))
    if not initial:
        dates |= {d for d in event.retired_dates | event.cancelled_dates if _in_window(event, d, state)}
    for day in sorted(dates):
        occ_id = occurrence_id(event.id, day)
        if gone or day in event.cancelled_dates or day in event.retired_dates:
            if not initial:
                out.append((occ_id, None))
            continue
        inst = event.occurrence(day)
        if inst.overlaps(state.start, state.end):
            out.append((occ_id, inst))
        elif not initial:
            out.append((occ_id, None))
    return out


def _in_window(event: StoredEvent, day: Any, state: DeltaState) -> bool:
    inst = event.occurrence(day)
    return inst.overlaps(state.start, state.end)


def read_delta_page(
    store: GraphStore,
    state: DeltaState,
    page_size: int,
    tz_name: str,
    expand_ids: frozenset[str] | None,
    body_type: str = "html",
) -> DeltaPage:
    """One page of the round described by ``state``."""
    journal = store.journals.get(state.calendar_id, [])
    initial = state.low == 0
    items: list[dict[str, Any]] = []
    at = bisect.bisect_left(journal, (state.position[0], ""))
    skip_in_first = state.position[1]
    while at < len(journal):
        seq, event_id = journal[at]
        if seq > state.high:
            break
        event = store.events[event_id]
        entries = _items_of(event, state, initial) if seq > state.low else []
        start_index = skip_in_first if seq == state.position[0] else 0
        for index in range(start_index, len(entries)):
            if len(items) >= page_size:
                return DeltaPage(items, _with_position(state, (seq, index)), finished=False)
            item_id, inst = entries[index]
            if inst is None:
                items.append(
                    {
                        "@odata.type": "#microsoft.graph.event",
                        "id": item_id,
                        "@removed": {"reason": "deleted"},
                    }
                )
            else:
                items.append(inst.render(tz_name, expand_ids, body_type))
        at += 1
    following = DeltaState(
        state.user_id,
        state.calendar_id,
        state.start,
        state.end,
        state.high,
        state.high,
        (state.high + 1, 0),
        state.generation,
    )
    return DeltaPage(items, following, finished=True)


def _with_position(state: DeltaState, position: tuple[int, int]) -> DeltaState:
    return DeltaState(
        state.user_id,
        state.calendar_id,
        state.start,
        state.end,
        state.low,
        state.high,
        position,
        state.generation,
    )
