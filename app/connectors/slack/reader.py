"""Reading one channel: full read, incremental read, census and targeted fetches.

Incremental read (one ``conversations.history`` call per channel when nothing changed
and the window holds at most 999 messages):

1. re-read the history window: from the oldest of (now - look-back, the last ts seen,
   the parents of tracked threads) to now, at the largest page (999);
2. top-level messages after the last ts seen are new; inside the window a moved
   version is an edit (Slack keeps the ts on edits, so ``oldest`` alone never sees them);
3. a thread is re-read with ``conversations.replies`` only when its parent's
   ``latest_reply`` / ``reply_count`` moved (or a new or newly active parent has replies);
4. deletes: a top-level message of the window that is missing is a *candidate*; it is
   tombstoned only after ``conversations.history(latest=ts, inclusive, limit=1)`` confirms it
   is gone. A reply missing from a complete re-read of its thread is gone (the listing is
   authoritative); a thread that no longer exists tombstones its tracked replies. A parent
   deleted while replies remain reads as Slack's ``tombstone`` placeholder and is tombstoned.

Edits of replies do not move the parent's summary: they arrive through the Events API
(a targeted ``get_many``) or the next full read. Threads quiet for longer than the
look-back are dropped from the cursor.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from app.connectors.base import Change, Page, Ref, RefBatch
from app.connectors.slack.client import SlackClient
from app.connectors.slack.cursor import ChannelCursor, ThreadState, micros
from app.connectors.slack.mapping import external_id, is_placeholder, message_version, to_message, ts_datetime
from app.errors import RecordNotFound
from app.models import DeleteReason, Tombstone

__all__ = ["HISTORY_PAGE", "ChannelReader"]

HISTORY_PAGE = 999  # conversations.history: "Maximum of 999"
REPLIES_PAGE = 1000
Raw = dict[str, Any]


class ChannelReader:
    def __init__(self, client: SlackClient, lookback_s: float,
                 clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._lookback_s = lookback_s
        self._clock = clock

    # --- Slack listings ---------------------------------------------------------------------
    async def history(self, channel: str, oldest: str | None = None) -> AsyncIterator[list[Raw]]:
        cursor: str | None = None
        while True:
            answer = await self._client.call("conversations.history", channel=channel, limit=HISTORY_PAGE,
                                             oldest=oldest, inclusive=True if oldest else None, cursor=cursor,
                                             include_all_metadata=True)
            yield list(answer.data.get("messages", []))
            cursor = (answer.data.get("response_metadata") or {}).get("next_cursor") or None
            if not answer.data.get("has_more") or not cursor:
                return

    async def thread(self, channel: str, ts: str) -> list[Raw] | None:
        """The replies of a thread (parent excluded), or ``None`` when the thread is gone."""
        replies: list[Raw] = []
        cursor: str | None = None
        while True:
            try:
                answer = await self._client.call("conversations.replies", channel=channel, ts=ts,
                                                 limit=REPLIES_PAGE, cursor=cursor, include_all_metadata=True)
            except RecordNotFound:
                return None
            replies.extend(m for m in answer.data.get("messages", []) if m.get("ts") != ts)
            cursor = (answer.data.get("response_metadata") or {}).get("next_cursor") or None
            if not answer.data.get("has_more") or not cursor:
                return replies

    async def one(self, channel: str, ts: str) -> Raw | None:
        """One message by ts: history for a top-level one, then its thread for a reply."""
        answer = await self._client.call("conversations.history", channel=channel, latest=ts, oldest=ts,
                                         inclusive=True, limit=1, include_all_metadata=True)
        found: Raw | None = next((m for m in answer.data.get("messages", []) if m.get("ts") == ts), None)
        if found is not None:
            return found
        try:
            answer = await self._client.call("conversations.replies", channel=channel, ts=ts, oldest=ts,
                                             latest=ts, inclusive=True, limit=2, include_all_metadata=True)
        except RecordNotFound:
            return None
        reply: Raw | None = next((m for m in answer.data.get("messages", []) if m.get("ts") == ts), None)
        return reply

    # --- changes ----------------------------------------------------------------------------
    def upsert(self, channel: str, raw: Raw) -> Change:
        if is_placeholder(raw):
            return self.tombstone(channel, str(raw["ts"]))
        ts = str(raw["ts"])
        created = ts_datetime(ts)
        edited = (raw.get("edited") or {}).get("ts")
        return Change(external_id(channel, ts), message_version(raw), body=to_message(channel, raw), raw=raw,
                      created_at=created, updated_at=ts_datetime(str(edited)) if edited else created)

    def tombstone(self, channel: str, ts: str) -> Change:
        return Change(external_id(channel, ts), None,
                      tombstone=Tombstone(deleted_at=datetime.fromtimestamp(self._clock(), UTC),
                                          reason=DeleteReason.DELETED))

    # --- full read --------------------------------------------------------------------------
    async def full(self, channel: str) -> AsyncIterator[Page]:
        started = self._clock()
        horizon = micros(f"{started - self._lookback_s:.6f}")
        state = ChannelCursor(at=started)
        pending: Page | None = None
        calls = self._client.calls
        async for messages in self.history(channel):
            changes: list[Change] = []
            for raw in messages:
                ts = str(raw["ts"])
                changes.append(self.upsert(channel, raw))
                if state.oldest is None or micros(ts) > micros(state.oldest):
                    state.oldest = ts
                if micros(ts) >= horizon:
                    state.seen[ts] = message_version(raw)
                if raw.get("latest_reply"):
                    replies = await self.thread(channel, ts) or []
                    changes.extend(self.upsert(channel, r) for r in replies)
                    self._track(state, raw, replies, horizon)
                    if ts in state.threads:
                        state.seen[ts] = message_version(raw)
            if pending is not None:
                yield pending
            pending = Page(changes, None, self._client.calls - calls)
            calls = self._client.calls
        yield Page(pending.changes if pending else [], state.dumps(),
                   (pending.api_calls if pending else 0) + self._client.calls - calls)

    # --- incremental read -------------------------------------------------------------------
    async def incremental(self, channel: str, cursor: ChannelCursor) -> AsyncIterator[Page]:
        started = self._clock()
        calls = self._client.calls
        horizon = micros(f"{started - self._lookback_s:.6f}")
        start = min([horizon, *(micros(t) for t in cursor.threads), *(micros(t) for t in cursor.seen),
                     *([micros(cursor.oldest)] if cursor.oldest else [])])
        start = max(start, 0)
        window: dict[str, Raw] = {}
        async for messages in self.history(channel, oldest=_ts_of(start)):
            window.update((str(m["ts"]), m) for m in messages)

        state = ChannelCursor(oldest=cursor.oldest, at=started)
        changes: list[Change] = []
        last_seen = micros(cursor.oldest) if cursor.oldest else -1
        for ts, raw in sorted(window.items(), key=lambda item: micros(item[0])):
            version = message_version(raw)
            is_new = micros(ts) > last_seen
            if is_new or (ts in cursor.seen and cursor.seen[ts] != version):
                changes.append(self.upsert(channel, raw))
            if micros(ts) >= horizon or ts in cursor.threads:
                state.seen[ts] = version
            if state.oldest is None or micros(ts) > micros(state.oldest):
                state.oldest = ts
            changes.extend(await self._thread_changes(channel, raw, cursor, state, is_new, horizon))

        for ts in cursor.seen:
            if ts not in window and micros(ts) >= start:
                changes.extend(await self._confirm_missing(channel, ts, cursor, state))
        for ts, tracked in cursor.threads.items():
            if ts not in window and ts not in cursor.seen:
                changes.extend(await self._vanished_thread(channel, ts, tracked))
        yield Page(changes, state.dumps(), self._client.calls - calls)

    async def _thread_changes(self, channel: str, parent: Raw, cursor: ChannelCursor, state: ChannelCursor,
                              is_new: bool, horizon: int) -> list[Change]:
        ts = str(parent["ts"])
        tracked = cursor.threads.get(ts)
        latest = parent.get("latest_reply")
        count = int(parent.get("reply_count", 0))
        if not latest:
            if tracked is None:
                return []
            # Every reply is gone.
            return [self.tombstone(channel, r) for r in tracked.replies]
        if tracked is not None and (tracked.latest, tracked.count) == (str(latest), count):
            if micros(str(latest)) >= horizon:
                state.threads[ts] = tracked
            return []
        newly_active = tracked is None and micros(str(latest)) >= micros(f"{cursor.at:.6f}") - 1_000_000
        if tracked is None and not (is_new or newly_active):
            return []
        replies = await self.thread(channel, ts)
        if replies is None:
            return [self.tombstone(channel, r) for r in (tracked.replies if tracked else {})]
        known = tracked.replies if tracked else {}
        out = [self.upsert(channel, r) for r in replies if known.get(str(r["ts"])) != message_version(r)]
        live = {str(r["ts"]) for r in replies}
        out.extend(self.tombstone(channel, r) for r in known if r not in live)
        self._track(state, parent, replies, horizon)
        return out

    async def _confirm_missing(self, channel: str, ts: str, cursor: ChannelCursor,
                               state: ChannelCursor) -> list[Change]:
        found = await self.one(channel, ts)
        if found is not None and found.get("thread_ts") in (None, ts):
            # Still there (the window raced a write): report it if it moved.
            state.seen[ts] = message_version(found)
            return [self.upsert(channel, found)] if message_version(found) != cursor.seen[ts] else []
        tracked = cursor.threads.get(ts)
        gone = [self.tombstone(channel, ts)]
        if tracked is not None:
            gone.extend(self.tombstone(channel, r) for r in tracked.replies)
        return gone

    async def _vanished_thread(self, channel: str, ts: str, tracked: ThreadState) -> list[Change]:
        replies = await self.thread(channel, ts)
        live = {str(r["ts"]) for r in replies or []}
        return [self.tombstone(channel, r) for r in tracked.replies if r not in live]

    def _track(self, state: ChannelCursor, parent: Raw, replies: list[Raw], horizon: int) -> None:
        latest = parent.get("latest_reply")
        if latest and micros(str(latest)) >= horizon:
            state.threads[str(parent["ts"])] = ThreadState(
                str(latest), int(parent.get("reply_count", len(replies))),
                {str(r["ts"]): message_version(r) for r in replies})

    # --- census -----------------------------------------------------------------------------
    async def refs(self, channel: str) -> AsyncIterator[RefBatch]:
        async for messages in self.history(channel):
            # One history page, plus one conversations.replies read per thread in it.
            batch = RefBatch(api_calls=1)
            for raw in messages:
                if not is_placeholder(raw):
                    batch.append(Ref(external_id(channel, str(raw["ts"])), message_version(raw)))
                if raw.get("latest_reply"):
                    batch.api_calls += 1
                    for reply in await self.thread(channel, str(raw["ts"])) or []:
                        batch.append(Ref(external_id(channel, str(reply["ts"])), message_version(reply)))
            yield batch


def _ts_of(value: int) -> str:
    seconds, fraction = divmod(value, 1_000_000)
    return f"{seconds}.{fraction:06d}"
