"""A configured pair resolved against live connectors: which connector, stream and partitions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.connectors.base import Connector, StreamSpec
from app.connectors.common import RetryPolicy, with_retries
from app.errors import ConfigError
from app.settings import PairEndpoint, PairSettings
from app.storage.protocol import CursorKey
from app.sync.partitions import PartitionCache

__all__ = ["Endpoint", "ResolvedPair", "resolve_pair"]


@dataclass(frozen=True)
class Endpoint:
    """One side of a pair: a connector's stream and the partitions in scope."""

    connector: Connector
    spec: StreamSpec
    partitions: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.connector.name

    @property
    def stream(self) -> str:
        return self.spec.name

    def key(self, partition: str) -> CursorKey:
        return CursorKey(self.connector.name, self.spec.name, partition)

    def counterpart_partition(self, partition: str) -> str:
        """Where a record from the other side's ``partition`` goes on this side.

        The partition of the same name when this side has one, else this side's first
        partition in scope (a pair between differently named partitions should name one).
        """
        if partition in self.partitions:
            return partition
        if not self.partitions:
            raise ConfigError(f"{self.name}/{self.stream}: no partition in scope to write to")
        return self.partitions[0]


@dataclass(frozen=True)
class ResolvedPair:
    settings: PairSettings
    source: Endpoint
    target: Endpoint | None

    @property
    def id(self) -> str:
        return self.settings.id

    @property
    def two_way(self) -> bool:
        return self.settings.mode == "two_way" and self.target is not None

    @property
    def pulled(self) -> tuple[Endpoint, ...]:
        """The sides read into the hub: the source, and the target of a two-way pair."""
        if self.two_way and self.target is not None:
            return (self.source, self.target)
        return (self.source,)


async def _endpoint(end: PairEndpoint, connectors: Mapping[str, Connector], retry: RetryPolicy,
                    cache: PartitionCache | None, refresh: bool) -> Endpoint:
    connector = connectors.get(end.connector)
    if connector is None:
        raise ConfigError(f"pair names connector {end.connector!r}, which is not configured or not enabled")
    spec = next((s for s in connector.streams if s.name == end.stream), None)
    if spec is None:
        offered = ", ".join(s.name for s in connector.streams)
        raise ConfigError(f"connector {end.connector!r} has no stream {end.stream!r} (it offers: {offered})")
    async def list_now() -> list[str]:
        return await with_retries(lambda: connector.list_partitions(end.stream), retry,
                                  what=f"{end.connector}.list_partitions")

    if cache is None:
        listed = await list_now()
    else:
        listed = await cache.get(end.connector, end.stream, list_now, refresh=refresh)
    if end.partitions is None:
        partitions = tuple(listed)
    else:
        unknown = sorted(set(end.partitions) - set(listed))
        if unknown:
            raise ConfigError(f"{end.connector}/{end.stream}: unknown partitions {unknown}")
        partitions = tuple(end.partitions)
    return Endpoint(connector, spec, partitions)


async def resolve_pair(
    pair: PairSettings, connectors: Mapping[str, Connector], retry: RetryPolicy | None = None,
    *, partitions: PartitionCache | None = None, refresh: bool = False,
) -> ResolvedPair:
    """Resolve ``pair``; raises ``ConfigError`` for a missing connector, stream or partition.

    With a ``partitions`` cache, a recent listing is reused unless ``refresh``.
    """
    policy = retry or RetryPolicy()
    source = await _endpoint(pair.source, connectors, policy, partitions, refresh)
    target = None
    if pair.mode == "two_way" and pair.target is not None:
        target = await _endpoint(pair.target, connectors, policy, partitions, refresh)
        if target.spec.kind != source.spec.kind:
            raise ConfigError(
                f"pair {pair.id!r}: a two-way pair needs one kind on both sides, "
                f"not {source.spec.kind.value} and {target.spec.kind.value}"
            )
        if (target.name, target.stream) == (source.name, source.stream):
            raise ConfigError(f"pair {pair.id!r}: source and target are the same stream")
    return ResolvedPair(pair, source, target)
