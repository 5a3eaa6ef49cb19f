"""The in-memory connector: a whole tool in a dict, for the engine tests and ``passerelle demo``.

Streams: ``items`` (work items, partitioned by project: ``alpha``, ``beta``) and
``events`` (calendar events, one partition per calendar: ``team``). Versions are
integers that grow by one on every change; every change is appended to its
partition's log, which gives cursors, tombstones and a faithful replay.

Two faces:

* the :class:`~app.connectors.base.Connector` protocol the hub uses (each call
  passes through :class:`Faults` first);
* a driver for tests and the demo, acting as a user of the tool would: ``add``,
  ``edit``, ``remove``, ``bump_version`` (a version change without a content
  change), ``invalidate_cursors``, and inspection (``live_items``, ``changes_since``).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from app.connectors.base import (
    Capability,
    Change,
    CheckResult,
    Page,
    Ref,
    StreamSpec,
    WriteResult,
)
from app.connectors.memory._state import FullPosition, LogEntry, MemoryItem, StreamData
from app.connectors.memory.faults import Faults
from app.connectors.memory.seed import seed_event, seed_work_item
from app.errors import ConfigError, PreconditionFailed, RecordNotFound, SkippableRecord
from app.models import AnyBody, DeleteReason, RecordKind, Tombstone
from app.settings import MemorySettings

__all__ = ["DEFAULT_PARTITIONS", "MemoryConnector"]

DEFAULT_PARTITIONS: Mapping[str, tuple[str, ...]] = {"items": ("alpha", "beta"), "events": ("team",)}
_STREAMS = (
    StreamSpec("items", RecordKind.WORK_ITEM, partitioned=True),
    StreamSpec("events", RecordKind.CALENDAR_EVENT, partitioned=True),
)


class _StrictClock:
    """UTC now, nudged forward so that two changes never share a timestamp."""

    def __init__(self) -> None:
        self._last = datetime.min.replace(tzinfo=UTC)

    def __call__(self) -> datetime:
        now = datetime.now(UTC)
        if now <= self._last:
            now = self._last + timedelta(microseconds=1)
        self._last = now
        return now


class MemoryConnector:
    """A fake tool honouring the whole connector contract, with injectable faults."""

    system = "memory"
    streams: Sequence[StreamSpec] = _STREAMS
    capabilities = frozenset(Capability)

    def __init__(
        self,
        name: str,
        settings: MemorySettings,
        *,
        page_size: int = 50,
        partitions: Mapping[str, Sequence[str]] | None = None,
        clock: Callable[[], datetime] | None = None,
        keyed_creates: bool = True,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.name = name
        self.settings = settings
        self.page_size = page_size
        self.keyed_creates = keyed_creates
        """True: creates are idempotent by key (Graph); False: only a create told of an earlier attempt
        looks for what that attempt made (Slack)."""
        self.faults = Faults()
        self.calls: Counter[str] = Counter()
        self._clock = clock or _StrictClock()
        self._next_id = 0
        self._data: dict[str, StreamData] = {spec.name: StreamData() for spec in _STREAMS}
        for stream, names in (partitions or DEFAULT_PARTITIONS).items():
            for partition in names:
                self._stream(stream).add_partition(partition)
        self._seed(settings)

    # --- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def check(self) -> CheckResult:
        self.calls["check"] += 1
        try:
            await self.faults.before("check")
        except ConfigError as exc:
            return CheckResult(ok=False, detail=str(exc))
        return CheckResult(ok=True, detail=f"memory tool {self.name!r}")

    # --- reads ---------------------------------------------------------------------------------

    async def list_partitions(self, stream: str) -> list[str]:
        await self._call("list_partitions")
        return sorted(self._stream(stream).logs)

    async def read_changes(self, stream: str, partition: str, cursor: str | None) -> AsyncIterator[Page]:
        data = self._partition(stream, partition)
        position = data.decode(partition, cursor)
        handed_out = 0
        if isinstance(position, FullPosition):
            ids = [] if self.faults.list_nothing else data.live_ids(partition)
            if position.after_id is not None:
                ids = [i for i in ids if i > position.after_id]
            for start in range(0, len(ids), self.page_size):
                await self._call("read_changes")
                chunk = ids[start : start + self.page_size]
                last_chunk = start + self.page_size >= len(ids)
                after = (data.log_cursor(partition, position.position) if last_chunk
                         else data.full_cursor(partition, position.position, chunk[-1]))
                changes = [self._current(stream, data.items[i]) for i in chunk if data.items[i].live]
                yield Page(changes, after)
                handed_out += 1
                self.faults.after_page(stream)
        log = [] if self.faults.list_nothing else data.logs[partition]
        at = position.position
        while at < len(log) or handed_out == 0:
            await self._call("read_changes")
            entries = log[at : at + self.page_size]
            at += len(entries)
            yield Page([self._logged(stream, e) for e in entries],
                       data.log_cursor(partition, max(at, position.position)))
            handed_out += 1
            self.faults.after_page(stream)

    async def list_refs(self, stream: str, partition: str) -> AsyncIterator[Sequence[Ref]]:
        data = self._partition(stream, partition)
        ids = [] if self.faults.list_nothing else data.live_ids(partition)
        for start in range(0, len(ids), self.page_size):
            await self._call("list_refs")
            yield [Ref(i, str(data.items[i].version)) for i in ids[start : start + self.page_size]]

    async def get_many(self, stream: str, ids: Sequence[str]) -> list[Change]:
        await self._call("get_many")
        data = self._stream(stream)
        out: list[Change] = []
        for external_id in ids:
            item = data.items.get(external_id)
            if item is None or not item.live or self.faults.list_nothing:
                gone = item.deleted_at if item is not None and item.deleted_at else self._clock()
                out.append(Change(external_id, None, tombstone=Tombstone(deleted_at=gone)))
            else:
                out.append(self._current(stream, item))
        return out

    # --- writes --------------------------------------------------------------------------------

    async def create(
        self, stream: str, partition: str, body: AnyBody, origin: str, *, idempotency_key: str | None = None,
        earlier_attempt_since: datetime | None = None,
    ) -> WriteResult:
        """Like Graph's ``transactionId``: a key seen before answers with the live record it made.

        Built with ``keyed_creates=False``, like Slack: a create is looked up by its key only when
        told ``earlier_attempt_since``; otherwise it makes a new record whatever its key."""
        await self._call("create")
        self._partition(stream, partition)
        self._check_kind(stream, body)
        data = self._stream(stream)
        look = idempotency_key is not None and (self.keyed_creates or earlier_attempt_since is not None)
        known = data.items.get(data.by_key.get(idempotency_key or "", "")) if look else None
        if known is not None and known.live:
            self.faults.after_write("create")
            return WriteResult(known.external_id, str(known.version), self._raw(known), adopted=True)
        item = self._insert(stream, partition, body, origin)
        if idempotency_key:
            data.by_key[idempotency_key] = item.external_id
        self.faults.after_write("create")
        return WriteResult(item.external_id, str(item.version), self._raw(item))

    async def update(
        self, stream: str, external_id: str, body: AnyBody, if_version: str | None, origin: str
    ) -> WriteResult:
        await self._call("update")
        self._check_kind(stream, body)
        item = self._live(stream, external_id)
        self._precondition(item, if_version)
        self._change(stream, item, body=body, origin=origin)
        self.faults.after_write("update")
        return WriteResult(item.external_id, str(item.version), self._raw(item))

    async def delete(self, stream: str, external_id: str, if_version: str | None) -> None:
        await self._call("delete")
        item = self._live(stream, external_id)
        self._precondition(item, if_version)
        self._drop(stream, item)
        self.faults.after_write("delete")

    # --- driver: what a user of the tool does --------------------------------------------------

    def add(self, stream: str, partition: str, body: AnyBody) -> str:
        """Create a record as a user would (no origin marker); returns its id."""
        self._partition(stream, partition)
        self._check_kind(stream, body)
        return self._insert(stream, partition, body, origin=None).external_id

    def edit(self, stream: str, external_id: str, body: AnyBody | None = None, **fields: Any) -> None:
        """Replace the body, or change some of its fields; clears the origin marker."""
        item = self._live(stream, external_id)
        new = body if body is not None else item.body.model_copy(update=fields)
        self._check_kind(stream, new)
        self._change(stream, item, body=type(new).model_validate(new.model_dump()), origin=None)

    def remove(self, stream: str, external_id: str) -> None:
        self._drop(stream, self._live(stream, external_id))

    def bump_version(self, stream: str, external_id: str) -> None:
        """A new version with exactly the same content (a 'flaky' version)."""
        item = self._live(stream, external_id)
        self._change(stream, item, body=item.body, origin=item.origin)

    def invalidate_cursors(self, stream: str, partition: str) -> None:
        """Every cursor handed out so far for the partition now raises ``CursorInvalidated``."""
        data = self._partition(stream, partition)
        data.epochs[partition] += 1

    def live_items(self, stream: str, partition: str | None = None) -> dict[str, MemoryItem]:
        return {i.external_id: i for i in self._stream(stream).items.values()
                if i.live and (partition is None or i.partition == partition)}

    def item(self, stream: str, external_id: str) -> MemoryItem:
        try:
            return self._stream(stream).items[external_id]
        except KeyError:
            raise RecordNotFound(f"memory: no {stream} record {external_id!r}") from None

    def changes_since(self, stream: str, partition: str, cursor: str | None) -> list[Change]:
        """Every change a read from ``cursor`` would yield, without faults or call counting."""
        data = self._partition(stream, partition)
        position = data.decode(partition, cursor)
        changes: list[Change] = []
        if isinstance(position, FullPosition):
            ids = [i for i in data.live_ids(partition) if position.after_id is None or i > position.after_id]
            changes.extend(self._current(stream, data.items[i]) for i in ids)
        changes.extend(self._logged(stream, e) for e in data.logs[partition][position.position :])
        return changes

    # --- internals -----------------------------------------------------------------------------

    async def _call(self, operation: str) -> None:
        self.calls[operation] += 1
        await self.faults.before(operation)

    def _stream(self, stream: str) -> StreamData:
        try:
            return self._data[stream]
        except KeyError:
            raise ConfigError(f"memory: unknown stream {stream!r}") from None

    def _partition(self, stream: str, partition: str) -> StreamData:
        data = self._stream(stream)
        if partition not in data.logs:
            raise ConfigError(f"memory: unknown partition {partition!r} of stream {stream!r}")
        return data

    def _check_kind(self, stream: str, body: AnyBody) -> None:
        spec = next(s for s in _STREAMS if s.name == stream)
        if body.kind != spec.kind.value:
            raise SkippableRecord(f"memory: a {body.kind} does not belong in stream {stream!r}")

    def _live(self, stream: str, external_id: str) -> MemoryItem:
        item = self.item(stream, external_id)
        if not item.live:
            raise RecordNotFound(f"memory: {stream} record {external_id!r} was deleted")
        return item

    @staticmethod
    def _precondition(item: MemoryItem, if_version: str | None) -> None:
        if if_version is not None and if_version != str(item.version):
            raise PreconditionFailed(
                f"memory: {item.external_id!r} is at version {item.version}, not {if_version}"
            )

    def _insert(self, stream: str, partition: str, body: AnyBody, origin: str | None) -> MemoryItem:
        self._next_id += 1
        now = self._clock()
        item = MemoryItem(f"{stream[0]}{self._next_id:05d}", partition, 1, body, now, now, origin)
        data = self._stream(stream)
        data.items[item.external_id] = item
        data.log(item)
        return item

    def _change(self, stream: str, item: MemoryItem, *, body: AnyBody, origin: str | None) -> None:
        item.version += 1
        item.body = body
        item.origin = origin
        item.updated_at = self._clock()
        self._stream(stream).log(item)

    def _drop(self, stream: str, item: MemoryItem) -> None:
        item.version += 1
        item.deleted_at = self._clock()
        self._stream(stream).log(item)

    def _url(self, stream: str, external_id: str) -> str:
        return f"memory://{self.name}/{stream}/{external_id}"

    @staticmethod
    def _raw(item: MemoryItem) -> dict[str, Any]:
        return {"id": item.external_id, "version": item.version, "origin": item.origin}

    def _current(self, stream: str, item: MemoryItem) -> Change:
        return Change(item.external_id, str(item.version), body=item.body, raw=self._raw(item),
                      created_at=item.created_at, updated_at=item.updated_at,
                      url=self._url(stream, item.external_id))

    def _logged(self, stream: str, entry: LogEntry) -> Change:
        if entry.body is None:
            return Change(entry.external_id, str(entry.version),
                          tombstone=Tombstone(deleted_at=entry.at, reason=DeleteReason.DELETED))
        raw = {"id": entry.external_id, "version": entry.version, "origin": entry.origin}
        return Change(entry.external_id, str(entry.version), body=entry.body, raw=raw,
                      created_at=entry.created_at, updated_at=entry.at,
                      url=self._url(stream, entry.external_id))

    def _seed(self, settings: MemorySettings) -> None:
        rng = random.Random(settings.seed)
        projects = sorted(self._data["items"].logs)
        for n in range(settings.items):
            if projects:
                partition = projects[n % len(projects)]
                self._insert("items", partition, seed_work_item(rng, partition, n + 1), origin=None)
        calendars = sorted(self._data["events"].logs)
        for n in range(settings.items // 4):
            if calendars:
                partition = calendars[n % len(calendars)]
                self._insert("events", partition, seed_event(rng, partition, n + 1), origin=None)
