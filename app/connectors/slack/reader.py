"""Reading one channel: full read, incremental read, census and targeted fetches.

Full read: history pages (999 messages each), every thread's replies (one
``conversations.replies`` per thread: history only carries its summary). A page's
threads are read concurrently, within the client's ``max_concurrency`` and its per-method
429 pauses (``overlap.py``); the engine reads the next page while it commits this one.
The cursor comes with the last page only.

Census: the same listing. Right after a full read of the channel it re-reads only the
threads whose summary moved since that read (see :meth:`ChannelReader.refs`).

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
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.connectors.base import Change, Page, Ref, RefBatch
from app.connectors.common import metered
from app.connectors.slack.client import SlackClient
from app.connectors.slack.cursor import ChannelCursor, ThreadState, micros
from app.connectors.slack.mapping import (
    external_id,
    is_placeholder,
    message_version,
    to_message,
    ts_datetime,
    write_key_of,
)
from app.connectors.slack.overlap import in_order, read_ahead
from app.errors import RecordNotFound
from app.models import DeleteReason, Tombstone

__all__ = ["HISTORY_PAGE", "LISTING_REUSE_S", "ChannelReader"]

HISTORY_PAGE = 999  # conversations.history: "Maximum of 999"
REPLIES_PAGE = 1000
Raw = dict[str, Any]
LISTING_REUSE_S = 600.0
"""How long a full read's thread listing may stand in for the census that follows it."""
_LISTINGS_KEPT = 8
"""Full reads whose census has not come yet (the engine censuses a channel right after reading it)."""


class ChannelReader:
    def __init__(self, client: SlackClient, lookback_s: float,
                 clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._lookback_s = lookback_s
        self._clock = clock
        self._listed: dict[str, tuple[float, dict[str, ThreadState]]] = {}
        """channel -> (when, threads) of the last finished full reads, oldest first."""

    # --- Slack listings ---------------------------------------------------------------------
    async def history(self, channel: str, oldest: str | None = None) -> AsyncGenerator[list[Raw], None]:
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

    async def find_posted(self, channel: str, thread_ts: str | None, key: str, oldest: str) -> Raw | None:
        """The message the hub posted with write ``key`` since ``oldest``: at the top level of
        ``channel``, or among the replies of ``thread_ts``; None when there is none."""
        if thread_ts is None:
            async with aclosing(self.history(channel, oldest=oldest)) as pages:
                async for messages in pages:
                    found = next((m for m in messages if write_key_of(m) == key), None)
                    if found is not None:
                        return found
            return None
        return next((m for m in await self.thread(channel, thread_ts) or [] if write_key_of(m) == key), None)

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
        listed: dict[str, ThreadState] = {}
        pending: Page | None = None
        # Closed explicitly: an ``async for`` left early (the engine closes this generator)
        # would otherwise leave the listing's thread reads to garbage collection.
        async with aclosing(self._listing(channel)) as listings:
            async for listing in listings:
                changes = self._full_page(channel, listing, state, listed, horizon)
                if pending is not None:
                    yield pending
                pending = Page(changes, None, listing.api_calls)
        self._remember(channel, listed)
        yield Page(pending.changes if pending else [], state.dumps(), pending.api_calls if pending else 0)

    def _full_page(self, channel: str, listing: _Listing, state: ChannelCursor, listed: dict[str, ThreadState],
                   horizon: int) -> list[Change]:
        """One history page and its threads as changes (each parent followed by its replies);
        notes what the cursor and the census need."""
        changes: list[Change] = []
        # Each ts is parsed once: this loop runs for every top-level message of a full read.
        newest = micros(state.oldest) if state.oldest is not None else None
        for raw in listing.messages:
            ts = str(raw["ts"])
            at = micros(ts)
            change = self.upsert(channel, raw)
            changes.append(change)
            if newest is None or at > newest:
                state.oldest, newest = ts, at
            if at >= horizon:
                state.seen[ts] = _version_of(change, raw)
            if ts not in listing.threads:
                continue
            replies = listing.threads[ts] or []
            reply_changes = [self.upsert(channel, r) for r in replies]
            changes.extend(reply_changes)
            thread = _thread_state(raw, replies, reply_changes)
            listed[ts] = thread
            if micros(thread.latest) >= horizon:
                state.threads[ts] = thread
                state.seen[ts] = _version_of(change, raw)
        return changes

    async def _listing(self, channel: str, known: dict[str, ThreadState] | None = None
                       ) -> AsyncGenerator[_Listing, None]:
        """History pages, each with the replies of its threads.

        One ``conversations.replies`` per thread is unavoidable (history carries only its
        summary), so a page's threads are read concurrently: the client bounds how many are
        in flight and pauses the method for all of them on a 429. A thread in ``known``
        whose summary did not move is not read again.
        """
        async with aclosing(self.history(channel)) as pages:
            while True:
                with metered() as meter:  # this page's calls: history and its threads, nobody else's
                    messages = await anext(pages, None)
                    if messages is None:
                        return
                    reused: dict[str, ThreadState] = {}
                    to_read: list[str] = []
                    for raw in messages:
                        if not raw.get("latest_reply"):
                            continue
                        ts = str(raw["ts"])
                        same = (known or {}).get(ts)
                        if same is not None and (same.latest, same.count) == _summary(raw):
                            reused[ts] = same
                        else:
                            to_read.append(ts)
                    replies = await in_order([self.thread(channel, ts) for ts in to_read])
                yield _Listing(messages, dict(zip(to_read, replies, strict=True)), reused, meter.calls)

    def _remember(self, channel: str, listed: dict[str, ThreadState]) -> None:
        """Keep what a finished full read listed, for the census that follows it (see :meth:`refs`)."""
        self._listed.pop(channel, None)
        self._listed[channel] = (self._clock(), listed)
        while len(self._listed) > _LISTINGS_KEPT:
            del self._listed[next(iter(self._listed))]

    # --- incremental read -------------------------------------------------------------------
    async def incremental(self, channel: str, cursor: ChannelCursor) -> AsyncIterator[Page]:
        with metered() as meter:
            changes, state = await self._incremental_changes(channel, cursor)
        yield Page(changes, state.dumps(), meter.calls)

    async def _incremental_changes(self, channel: str, cursor: ChannelCursor) -> tuple[list[Change], ChannelCursor]:
        started = self._clock()
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
        ordered = sorted(window.items(), key=lambda item: micros(item[0]))
        # The threads to re-read, side by side (usually none: an unchanged channel is one call).
        to_read = [ts for ts, raw in ordered if _rereads(raw, cursor, micros(ts) > last_seen)]
        fetched = dict(zip(to_read, await in_order([self.thread(channel, ts) for ts in to_read]), strict=True))
        for ts, raw in ordered:
            version = message_version(raw)
            is_new = micros(ts) > last_seen
            if is_new or (ts in cursor.seen and cursor.seen[ts] != version):
                changes.append(self.upsert(channel, raw))
            if micros(ts) >= horizon or ts in cursor.threads:
                state.seen[ts] = version
            if state.oldest is None or micros(ts) > micros(state.oldest):
                state.oldest = ts
            changes.extend(self._thread_changes(channel, raw, cursor, state, fetched, horizon))

        for ts in cursor.seen:
            if ts not in window and micros(ts) >= start:
                changes.extend(await self._confirm_missing(channel, ts, cursor, state))
        for ts, tracked in cursor.threads.items():
            if ts not in window and ts not in cursor.seen:
                changes.extend(await self._vanished_thread(channel, ts, tracked))
        return changes, state

    def _thread_changes(self, channel: str, parent: Raw, cursor: ChannelCursor, state: ChannelCursor,
                        fetched: dict[str, list[Raw] | None], horizon: int) -> list[Change]:
        """What moved in ``parent``'s thread; ``fetched`` holds the threads :func:`_rereads` chose."""
        ts = str(parent["ts"])
        tracked = cursor.threads.get(ts)
        latest = parent.get("latest_reply")
        if not latest:
            if tracked is None:
                return []
            # Every reply is gone.
            return [self.tombstone(channel, r) for r in tracked.replies]
        if tracked is not None and (tracked.latest, tracked.count) == _summary(parent):
            if micros(str(latest)) >= horizon:
                state.threads[ts] = tracked
            return []
        if ts not in fetched:
            return []
        replies = fetched[ts]
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
        """Every live message id: history pages plus the replies of every thread.

        Right after a full read of the channel (within ``LISTING_REUSE_S``, same process)
        a thread whose ``latest_reply`` / ``reply_count`` did not move since that read is
        not read again: its replies are the ones the full read listed. A reply deleted or
        added since moves the summary, so that thread is re-read (the incremental read
        trusts the same signal). Any later census reads every thread.
        """
        known: dict[str, ThreadState] | None = None
        kept = self._listed.pop(channel, None)
        if kept is not None and self._clock() - kept[0] <= LISTING_REUSE_S:
            known = kept[1]
        async with aclosing(read_ahead(self._listing(channel, known))) as listings:
            async for listing in listings:
                batch = RefBatch(api_calls=listing.api_calls)
                for raw in listing.messages:
                    ts = str(raw["ts"])
                    if not is_placeholder(raw):
                        batch.append(Ref(external_id(channel, ts), message_version(raw)))
                    if ts in listing.reused:
                        batch.extend(Ref(external_id(channel, r), v) for r, v in listing.reused[ts].replies.items())
                    for reply in listing.threads.get(ts) or []:
                        batch.append(Ref(external_id(channel, str(reply["ts"])), message_version(reply)))
                yield batch


@dataclass(frozen=True)
class _Listing:
    messages: list[Raw]
    threads: dict[str, list[Raw] | None]
    """Threads read for this page, by parent ts (``None``: the thread is gone)."""
    reused: dict[str, ThreadState]
    """Threads not read again: their summary matches the listing passed in."""
    api_calls: int


def _summary(parent: Raw) -> tuple[str, int]:
    return str(parent.get("latest_reply")), int(parent.get("reply_count", 0))


def _rereads(parent: Raw, cursor: ChannelCursor, is_new: bool) -> bool:
    """Whether an incremental read re-reads ``parent``'s thread: its summary moved since the
    cursor, or it is new, or it became active since the last run."""
    latest = parent.get("latest_reply")
    if not latest:
        return False
    tracked = cursor.threads.get(str(parent["ts"]))
    if tracked is not None:
        return (tracked.latest, tracked.count) != _summary(parent)
    newly_active = micros(str(latest)) >= micros(f"{cursor.at:.6f}") - 1_000_000
    return is_new or newly_active


def _version_of(change: Change, raw: Raw) -> str:
    """The version ``upsert`` already computed (a placeholder's tombstone has none: compute it)."""
    return change.version if change.version is not None else message_version(raw)


def _thread_state(parent: Raw, replies: list[Raw], changes: list[Change]) -> ThreadState:
    latest, count = _summary(parent)
    if "reply_count" not in parent:
        count = len(replies)
    return ThreadState(latest, count, {str(r["ts"]): _version_of(c, r) for r, c in zip(replies, changes, strict=True)})


def _ts_of(value: int) -> str:
    seconds, fraction = divmod(value, 1_000_000)
    return f"{seconds}.{fraction:06d}"
