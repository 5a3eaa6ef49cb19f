"""Pull one partition into the hub: lease, read from the stored cursor, commit page by page, census.

A dead cursor (``CursorInvalidated``) clears that partition's cursor and re-reads just
that partition in full; a transient failure retries from the last committed cursor
(so nothing is read twice into the counts or skipped); a config error propagates and
fails the whole run.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import structlog

from app.connectors.base import Page
from app.connectors.common import RetryPolicy, with_retries
from app.errors import CursorInvalidated, ErrorClass, TransientError
from app.models import hub_id_for
from app.settings import SyncSettings
from app.storage.protocol import CursorKey, RunRecord, Store
from app.sync.apply import commit_page, set_cursor
from app.sync.census import run_census
from app.sync.cursors import stored_cursor, unwrap_cursor
from app.sync.leases import RunLeases, partition_lease_name
from app.sync.pairs import Endpoint
from app.sync.prepare import Outcome, Prepared, prepare_page
from app.sync.runs import CENSUS_FLAG, Clock, cursor_label, fail_run

__all__ = ["PartitionResult", "PullContext", "pull_partition"]

log = structlog.get_logger(__name__)

# A long backfill shows its running counts in the run history at this pace.
_PROGRESS_SAVE_S = 2.0


class PartitionResult(StrEnum):
    DONE = "done"
    SKIPPED = "skipped"  # another runner holds (or took over) the partition's lease
    STOPPED = "stopped"  # the run was asked to stop between pages
    FAILED = "failed"  # transient failure after retries; the run is failed, other partitions go on
    SUSPICIOUS = "suspicious"  # the mass-delete guard tripped; nothing was deleted


class _ReadEnd(StrEnum):
    FINISHED = "finished"
    STOPPED = "stopped"
    LEASE_LOST = "lease_lost"


@dataclass
class PullContext:
    """What every partition pull of one run shares."""

    store: Store
    run: RunRecord
    settings: SyncSettings
    clock: Clock
    retry: RetryPolicy
    leases: RunLeases
    stop: asyncio.Event | None
    census_due: bool = False
    progress: Callable[[RunRecord], None] | None = None
    """Called after every committed page (the CLI's progress line)."""
    last_saved_at: datetime | None = None

    async def report_progress(self) -> None:
        """Tell the caller, and every few seconds persist the running counts for the admin API."""
        if self.progress is not None:
            self.progress(self.run)
        now = self.clock()
        if self.last_saved_at is None or (now - self.last_saved_at).total_seconds() >= _PROGRESS_SAVE_S:
            self.last_saved_at = now
            await asyncio.to_thread(self.store.save_run, self.run)

    @property
    def stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()


# A read allocates a page of vendor JSON at a time, nearly all of it freed by reference counting;
# at the interpreter's default (a collection every 700 net allocations), a full read of 10,000
# Jira issues spent ~0.4 s of its ~3.5 s in the cyclic collector, mostly re-scanning every live
# object of the process in full collections. While any pull runs, young objects are collected
# every ~10,000 allocations instead (~0.1 s); cyclic garbage is still collected, a little later.
_PULL_GC_THRESHOLD0 = 10_000
# A pull has two threads that want the GIL: the reader (its socket reads release the GIL and
# must win it back) and the committing worker (mostly holding it). At the default interval of
# 5 ms, every read that returns while the worker runs waits up to 5 ms for the GIL, and the
# read-ahead stops hiding the vendor's time; at 1 ms those waits shrink (docs/benchmarks.md).
_PULL_SWITCH_INTERVAL_S = 0.001
_tuned_by = 0
_saved: tuple[tuple[int, int, int], float] | None = None


@contextlib.contextmanager
def _pull_tuning() -> Iterator[None]:
    """Rarer young collections and a shorter GIL switch interval while at least one pull runs;
    the interpreter's own settings come back after the last."""
    global _tuned_by, _saved
    if _tuned_by == 0:
        _saved = (gc.get_threshold(), sys.getswitchinterval())
        threshold, interval = _saved
        if threshold[0] < _PULL_GC_THRESHOLD0:
            gc.set_threshold(_PULL_GC_THRESHOLD0, *threshold[1:])
        if interval > _PULL_SWITCH_INTERVAL_S:
            sys.setswitchinterval(_PULL_SWITCH_INTERVAL_S)
    _tuned_by += 1
    try:
        yield
    finally:
        _tuned_by -= 1
        if _tuned_by == 0 and _saved is not None:
            gc.set_threshold(*_saved[0])
            sys.setswitchinterval(_saved[1])
            _saved = None


def _tally(run: RunRecord, prepared: list[Prepared]) -> None:
    for item in prepared:
        match item.outcome:
            case Outcome.CREATED:
                run.created += 1
            case Outcome.UPDATED:
                run.updated += 1
            case Outcome.DELETED:
                run.deleted += 1
            case Outcome.UNCHANGED:
                run.unchanged += 1
            case Outcome.FAILED:
                run.failed += 1
                log.warning("sync.record.skipped", external_id=item.external_id, error=item.error)


READ_AHEAD_MAX_CHANGES = 2000
"""The next page is read ahead only while the current one holds at most this many changes."""


class _ReadAhead:
    """Fetches the feed's next page while the current one is prepared and committed.

    At most one page is read ahead (memory stays flat whatever the feed's length), none after a
    page of more than :data:`READ_AHEAD_MAX_CHANGES` changes, and the connector's generator is
    only ever driven by one task at a time: the next ``__anext__`` starts once the previous one
    has finished. Nothing about commits changes: pages are
    committed in feed order, each with its cursor, by the caller. A page read ahead and never
    committed (a stop, a lost lease, a crash) is simply read again from the committed cursor.
    A failure of the read ahead surfaces when the caller asks for that page, i.e. after the
    page before it has been committed, as it did when pages were read one by one.
    """

    def __init__(self, pages: AsyncIterator[Page]) -> None:
        self._pages = pages
        self._ahead: asyncio.Future[Page] | None = None
        self._done = False

    def _fetch(self) -> None:
        self._ahead = asyncio.ensure_future(anext(self._pages))

    async def next(self) -> Page | None:
        """The next page (and start reading the one after it), or None at the end of the feed."""
        if self._done:
            return None
        if self._ahead is None:
            self._fetch()
        assert self._ahead is not None
        try:
            page = await self._ahead
        except StopAsyncIteration:
            self._done = True
            return None
        except BaseException:
            self._done = True  # close() still waits for the read ahead to unwind
            raise
        if len(page.changes) <= READ_AHEAD_MAX_CHANGES:
            self._fetch()
        else:
            # A page this large is read alone: holding the next one too would double the memory
            # (a 2,500-event Google page read ahead added ~35 MB at peak) for little overlap.
            self._ahead = None
        return page

    async def close(self) -> None:
        """Cancel a read ahead still under way, then close the connector's generator."""
        self._done = True
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            if not ahead.done():
                ahead.cancel()
            # Wait for it to unwind (the generator must not be closed while it runs), and drop its
            # result or error: the page was never committed, so it does not count.
            await asyncio.gather(ahead, return_exceptions=True)
        aclose = getattr(self._pages, "aclose", None)
        if aclose is not None:
            await aclose()


class _PartitionReader:
    """Reads one partition's feed; ``cursor`` is always the last committed cursor."""

    def __init__(self, ctx: PullContext, endpoint: Endpoint, partition: str, cursor: str | None,
                 full_read: bool) -> None:
        self.ctx = ctx
        self.endpoint = endpoint
        self.partition = partition
        self.key: CursorKey = endpoint.key(partition)
        self.cursor = cursor
        self.full_read = full_read or cursor is None
        self.stored: str | None = None
        """The cursor as last committed to the store (marked during a full read)."""
        self.read_started_at: datetime | None = None
        """When the full read began from its first page in this process (None: resumed, or none)."""

    async def read(self) -> _ReadEnd:
        try:
            return await self._pages()
        except CursorInvalidated as exc:
            if self.cursor is None:
                raise
            label = cursor_label(self.key)
            log.warning("sync.cursor.invalidated", detail=str(exc))
            self.ctx.run.flags.append(f"cursor_invalidated:{label}")
            await asyncio.to_thread(set_cursor, self.ctx.store, self.key, None)
            self.cursor = self.stored = None
            self.full_read = True
            return await self._pages()

    async def _pages(self) -> _ReadEnd:
        if self.cursor is None:
            # From the first page (a retry resumes from the committed cursor and keeps the mark).
            self.read_started_at = self.ctx.clock()
        pages = _ReadAhead(self.endpoint.connector.read_changes(self.endpoint.stream, self.partition,
                                                                self.cursor))
        try:
            while (page := await pages.next()) is not None:
                await self._commit(page)
                if self.ctx.stopping:
                    return _ReadEnd.STOPPED
                if not await self.ctx.leases.acquire(partition_lease_name(self.key)):
                    return _ReadEnd.LEASE_LOST
        finally:
            await pages.close()
        return _ReadEnd.FINISHED

    async def _commit(self, page: Page) -> None:
        ctx, end = self.ctx, self.endpoint
        ctx.run.api_calls += page.api_calls
        fetched_at = ctx.clock()
        after = page.cursor_after
        if after is not None:
            after = stored_cursor(after, full_read=self.full_read)

        def write() -> list[Prepared]:
            # Read, prepare and commit in ONE worker-thread hop: each hop back to the event loop
            # waits for the GIL, which the read-ahead's decoding holds much of the time.
            hub_ids = [hub_id_for(end.name, end.stream, c.external_id) for c in page.changes]
            stored = ctx.store.stored_states(hub_ids) if hub_ids else {}
            prepared = prepare_page(
                page.changes, stored, connector=end.name, system=end.connector.system, stream=end.stream,
                kind=end.spec.kind, partition=self.partition, fetched_at=fetched_at,
            )
            commit_page(ctx.store, prepared, key=self.key, cursor_after=after, run_id=ctx.run.run_id)
            return prepared

        prepared = await asyncio.to_thread(write)
        if page.cursor_after is not None:
            self.cursor, self.stored = page.cursor_after, after
        _tally(ctx.run, prepared)
        await ctx.report_progress()
        log.debug("sync.page.committed", changes=len(page.changes), cursor_after=page.cursor_after)


async def _read_through(
    ctx: PullContext, endpoint: Endpoint, reader: _PartitionReader, label: str, *, catch_up: bool
) -> PartitionResult:
    """Read the partition to the end (after a catch-up pass, for a full resync), then census if due."""
    passes = 2 if catch_up else 1
    for n in range(passes):
        if n == 1:
            reader.cursor, reader.full_read = None, True
        ended = await with_retries(reader.read, ctx.retry, what=f"{endpoint.name}.read_changes")
        if ended is _ReadEnd.STOPPED:
            return PartitionResult.STOPPED
        if ended is _ReadEnd.LEASE_LOST:
            ctx.run.flags.append(f"lease_lost:{label}")
            return PartitionResult.SKIPPED
        if reader.full_read:
            break  # a dead cursor during the catch-up already turned it into the full read
    if not (reader.full_read or ctx.census_due):
        return PartitionResult.DONE
    if reader.full_read:
        await _keep_full_read_mark(ctx, reader)
    if CENSUS_FLAG not in ctx.run.flags:
        ctx.run.flags.append(CENSUS_FLAG)
    suspicious = await run_census(ctx.store, endpoint, reader.partition, run=ctx.run, settings=ctx.settings,
                                  retry=ctx.retry, clock=ctx.clock,
                                  read_started_at=reader.read_started_at if reader.full_read else None)
    if suspicious:
        # The cursor keeps its mark: every run redoes the census (and flags the run) until the
        # guard passes, so the held-back deletes cannot be forgotten by a run that crashes or
        # fails before its run record is saved.
        return PartitionResult.SUSPICIOUS
    if reader.full_read:
        # Only now is the full read finished: its census has judged what vanished.
        await asyncio.to_thread(set_cursor, ctx.store, reader.key, reader.cursor, full_sync_done=True)
        reader.stored = reader.cursor
    return PartitionResult.DONE


async def _keep_full_read_mark(ctx: PullContext, reader: _PartitionReader) -> None:
    """Make sure the stored cursor still says "full read to finish" while its census is pending.

    Storing it bare before the census would let a crash (or a transient failure of the
    listing) between the two skip the census for good: a record deleted in a dead cursor's
    gap would then stay live in the hub, and a two-way pair would write to it.
    """
    if reader.cursor is None:
        return
    marked = stored_cursor(reader.cursor, full_read=True)
    if reader.stored != marked:
        await asyncio.to_thread(set_cursor, ctx.store, reader.key, marked)
        reader.stored = marked


async def pull_partition(
    ctx: PullContext, endpoint: Endpoint, partition: str, *, full: bool
) -> PartitionResult:
    """Bring the hub up to date with one partition. ``ConfigError`` and bugs propagate."""
    key = endpoint.key(partition)
    label = cursor_label(key)
    lease = partition_lease_name(key)
    with structlog.contextvars.bound_contextvars(connector=endpoint.name, stream=endpoint.stream,
                                                 partition=partition):
        if not await ctx.leases.acquire(lease):
            ctx.run.flags.append(f"lease_held:{label}")
            log.info("sync.partition.skipped", reason="lease held by another runner")
            return PartitionResult.SKIPPED
        state = await asyncio.to_thread(ctx.store.get_cursor, key)
        before = state.value if state is not None else None
        ctx.run.cursor_before[label] = before
        cursor, resuming_full_read = unwrap_cursor(before)
        # A full resync first drains the feed from the stored cursor: the tombstones it holds are
        # facts, whereas a full read only lets the census infer them (and the guard may refuse).
        catch_up = full and cursor is not None and not resuming_full_read
        reader = _PartitionReader(ctx, endpoint, partition, cursor if catch_up or not full else None,
                                  full_read=(full and not catch_up) or resuming_full_read)
        reader.stored = before
        try:
            try:
                with _pull_tuning():
                    return await _read_through(ctx, endpoint, reader, label, catch_up=catch_up)
            except (TransientError, CursorInvalidated) as exc:
                log.warning("sync.partition.failed", error=type(exc).__name__, detail=str(exc))
                fail_run(ctx.run, ErrorClass.TRANSIENT, f"{label}: {exc}")
                return PartitionResult.FAILED
        finally:
            ctx.run.cursor_after[label] = reader.stored
            await ctx.leases.release(lease)
