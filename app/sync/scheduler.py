"""The scheduler: one APScheduler 3 interval job per enabled pair, plus run-now requests.

Job ids are explicit: ``sync:<pair_id>`` for the schedule and ``sync-now:<pair_id>``
for a run requested by an admin, a webhook or the CLI. A run-now request replaces a
pending one with the same id, so a burst of requests collapses into one run. Runs
of one pair never overlap inside a process (a lock per pair; ``max_instances``);
across processes the leases taken by :func:`~app.sync.engine.run_sync` decide. Job
stores are in memory and never shared: every instance builds its schedule from config.
One more job, ``retention``, prunes the finished inbox and outbox rows (see
:mod:`app.storage.retention`); every instance runs it, harmlessly: deleting is idempotent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app.connectors.base import Connector
from app.connectors.common import RetryPolicy
from app.errors import ConfigError
from app.settings import PairSettings, Settings
from app.storage.protocol import Store
from app.sync.engine import run_sync
from app.sync.partitions import PartitionCache
from app.sync.runs import Clock, utc_now

__all__ = ["SyncScheduler"]

log = structlog.get_logger(__name__)


_RETENTION_JOB_ID = "retention"


def _job_id(pair_id: str) -> str:
    return f"sync:{pair_id}"


def _now_job_id(pair_id: str) -> str:
    return f"sync-now:{pair_id}"


class SyncScheduler:
    """Runs every enabled pair of ``settings`` on its interval, and on request.

    ``connectors`` are entered by the caller (the app's lifespan) and stay open while
    the scheduler runs. :meth:`start` must be called from the running event loop.
    """

    def __init__(
        self,
        settings: Settings,
        connectors: Mapping[str, Connector],
        store: Store,
        *,
        clock: Clock = utc_now,
        retry: RetryPolicy | None = None,
        misfire_grace_time_s: int = 60,
        partitions: PartitionCache | None = None,
    ) -> None:
        self._settings = settings
        self._connectors = connectors
        self._store = store
        self._clock = clock
        self._retry = retry
        self._misfire_grace_time_s = misfire_grace_time_s
        self._partitions = partitions
        self._pairs: dict[str, PairSettings] = {p.id: p for p in settings.pairs if p.enabled}
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._active: set[str] = set()
        self._stop = asyncio.Event()
        self._scheduler = AsyncIOScheduler(timezone="UTC")

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self, *, sync_on_start: bool = False) -> None:
        """Schedule every enabled pair; with ``sync_on_start`` each also runs once right away."""
        for pair in self._pairs.values():
            interval = pair.interval_s or self._settings.sync.default_interval_s
            self._scheduler.add_job(
                self._run_pair, trigger="interval", seconds=interval, id=_job_id(pair.id),
                name=f"sync {pair.id}", kwargs={"pair_id": pair.id, "full": False, "trigger": "schedule"},
                coalesce=True, max_instances=1, misfire_grace_time=self._misfire_grace_time_s,
                replace_existing=True,
            )
        retention = self._settings.retention
        if retention.enabled:
            self._scheduler.add_job(
                self._prune_finished,
                trigger="interval",
                seconds=retention.prune_interval_s,
                id=_RETENTION_JOB_ID,
                name="prune finished inbox and outbox rows",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=self._misfire_grace_time_s,
                replace_existing=True,
            )
        self._scheduler.start()
        log.info("scheduler.started", pairs=sorted(self._pairs))
        if sync_on_start:
            for pair_id in self._pairs:
                self.run_now(pair_id, trigger="startup")

    async def shutdown(self, timeout_s: float = 30.0) -> None:
        """Stop scheduling, ask running syncs to stop after their current page, and wait for them.

        A sync still running after ``timeout_s`` is cancelled (its run is saved as failed).
        """
        if not self._scheduler.running:
            return
        self._scheduler.pause()
        self._stop.set()
        pending = set(self._tasks)
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)
        self._scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # let the scheduler's own shutdown callback run on the loop
        log.info("scheduler.stopped")

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    # --- requests ------------------------------------------------------------------------------

    def run_now(self, pair_id: str, *, full: bool = False, trigger: str = "admin") -> None:
        """Run ``pair_id`` as soon as possible; requests made before it starts collapse into one.

        A collapsed request keeps ``full`` if any of the requests asked for it. Raises
        ``ConfigError`` for an unknown or disabled pair.
        """
        if pair_id not in self._pairs:
            raise ConfigError(f"no enabled pair {pair_id!r}")
        job_id = _now_job_id(pair_id)
        pending = self._scheduler.get_job(job_id)
        if pending is not None and pending.kwargs.get("full"):
            full = True
        self._scheduler.add_job(
            self._run_pair, trigger="date", id=job_id, name=f"sync {pair_id} now",
            kwargs={"pair_id": pair_id, "full": full, "trigger": trigger},
            # One may run while one more waits for it: a request arriving mid-run is never lost.
            max_instances=2, coalesce=True, misfire_grace_time=None, replace_existing=True,
        )

    def next_run_time(self, pair_id: str) -> datetime | None:
        """When ``pair_id`` runs next (a pending run-now request counts), or None."""
        times = [job.next_run_time for job in (self._scheduler.get_job(_job_id(pair_id)),
                                               self._scheduler.get_job(_now_job_id(pair_id)))
                 if job is not None and job.next_run_time is not None]
        return min(times) if times else None

    def is_running(self, pair_id: str) -> bool:
        """True while a sync of ``pair_id`` is in progress in this process."""
        return pair_id in self._active

    async def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Wait until no run-now request is pending and no sync is running (CLI and tests)."""
        async with asyncio.timeout(timeout_s):
            quiet = 0
            # Polling: APScheduler 3 signals nothing when a job fires, and a fired job's task only
            # joins ``_tasks`` once it first runs, so "idle" must be seen twice, a tick apart.
            while quiet < 2:
                await asyncio.sleep(0.01)
                pending = any(j.id.startswith("sync-now:") for j in self._scheduler.get_jobs())
                busy = pending or bool(self._tasks)
                quiet = 0 if busy else quiet + 1

    # --- the job -------------------------------------------------------------------------------

    async def _run_pair(self, pair_id: str, full: bool, trigger: str) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            async with self._locks.setdefault(pair_id, asyncio.Lock()):
                if self._stop.is_set():
                    return
                self._active.add(pair_id)
                try:
                    await run_sync(self._pairs[pair_id], self._connectors, self._store, trigger=trigger,
                                   full=full, settings=self._settings.sync, clock=self._clock,
                                   stop=self._stop, retry=self._retry, partitions=self._partitions)
                finally:
                    self._active.discard(pair_id)
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _prune_finished(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)  # a shutdown waits for the batch in progress
        try:
            keep_days = self._settings.retention.keep_finished_days
            # Event.is_set only reads a flag: safe from the worker thread, checked between batches.
            pruned = await asyncio.to_thread(
                self._store.prune_finished, timedelta(days=keep_days), should_stop=self._stop.is_set
            )
            log.info(
                "retention.pruned",
                inbox=pruned.inbox,
                outbox=pruned.outbox,
                stopped=pruned.stopped,
                keep_finished_days=keep_days,
            )
        finally:
            if task is not None:
                self._tasks.discard(task)
