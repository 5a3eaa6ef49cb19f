"""The running hub: settings, store, connectors and scheduler, built once and shared.

``Hub`` is what the service's lifespan, the CLI and the tests build; nothing here
is global. ``async with Hub(settings) as hub`` opens the store (checking that its
schema is current), enters every enabled connector, and starts the scheduler when
asked to.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

import structlog

from app.connectors.base import Connector
from app.connectors.registry import build_connector
from app.errors import ConfigError
from app.settings import PairSettings, Settings
from app.storage import create_store
from app.storage.protocol import RunRecord, Store
from app.sync import close_interrupted_runs
from app.sync.engine import run_sync
from app.sync.partitions import PartitionCache
from app.sync.scheduler import SyncScheduler

__all__ = ["Hub"]

log = structlog.get_logger(__name__)

_INTERRUPTED_RUN_MARGIN = timedelta(hours=6)


class Hub:
    def __init__(self, settings: Settings, *, migrate: bool = False, connect: bool = True) -> None:
        self.settings = settings
        self._migrate = migrate
        self._connect = connect
        self._stack = contextlib.AsyncExitStack()
        self.store: Store | None = None
        self.connectors: dict[str, Connector] = {}
        self.scheduler: SyncScheduler | None = None
        self.partitions = PartitionCache(settings.sync.partition_refresh_s)
        self.started_at = datetime.now(UTC)

    async def __aenter__(self) -> Self:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = create_store(self.settings.effective_database_url, migrate=self._migrate)
        self._stack.callback(self.store.close)
        for name, conf in self.settings.connectors.items():
            if not conf.enabled or not self._connect:
                continue
            connector = build_connector(name, conf)
            self.connectors[name] = await self._stack.enter_async_context(connector)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.scheduler is not None:
            await self.scheduler.shutdown()
            self.scheduler = None
        await self._stack.aclose()

    @property
    def db_is_sqlite(self) -> bool:
        return self.settings.effective_database_url.startswith("sqlite")

    @property
    def db(self) -> Store:
        if self.store is None:
            raise RuntimeError("the hub is not open")
        return self.store

    def start_scheduler(self, *, sync_on_start: bool = True) -> SyncScheduler:
        """Schedule every enabled pair; by default each also runs once right away.

        Runs left ``running`` by a process that died are closed first. On SQLite one
        process does everything, so every older run is dead; on PostgreSQL other
        instances may be mid-run, so only runs older than a long margin are closed.
        """
        margin = timedelta(0) if self.db_is_sqlite else _INTERRUPTED_RUN_MARGIN
        closed = close_interrupted_runs(self.db, started_before=self.started_at - margin)
        if closed:
            log.warning("hub.closed_interrupted_runs", runs=closed)
        self.scheduler = SyncScheduler(self.settings, self.connectors, self.db, partitions=self.partitions)
        self.scheduler.start(sync_on_start=sync_on_start)
        return self.scheduler

    def pair(self, pair_id: str) -> PairSettings:
        for pair in self.settings.pairs:
            if pair.id == pair_id:
                return pair
        raise ConfigError(f"unknown pair {pair_id!r}")

    def pair_connectors(self, pair: PairSettings) -> Mapping[str, Connector]:
        names = [pair.source.connector] + ([pair.target.connector] if pair.target else [])
        missing = [n for n in names if n not in self.connectors]
        if missing:
            raise ConfigError(f"pair {pair.id!r} uses disabled or unknown connectors: {missing}")
        return {n: self.connectors[n] for n in names}

    async def sync(
        self, pair_id: str, *, full: bool = False, trigger: str = "cli",
        progress: Callable[[RunRecord], None] | None = None,
    ) -> RunRecord:
        """Run one pair now, in this process; ``progress`` sees the run after every committed page."""
        pair = self.pair(pair_id)
        return await run_sync(
            pair, self.pair_connectors(pair), self.db, trigger=trigger, full=full, settings=self.settings.sync,
            progress=progress, partitions=self.partitions,
        )
