"""The contract every connector passes, against its sandbox over real HTTP (or in memory).

A vendor's suite subclasses :class:`ConnectorContract` and provides two fixtures:

``connector``
    an entered connector (``async with``) pointed at a fresh sandbox;
``source``
    a :class:`SourceDriver` that changes the tool's data the way a user would
    (through the sandbox's ``/_sandbox`` admin surface or its API).

The class attribute ``stream`` names the stream to exercise; streams the hub writes to
use :class:`WritableConnectorContract`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

import pytest

from app.connectors.base import Capability, Change, Connector, Page
from app.errors import ConfigError, PreconditionFailed
from app.models import AnyBody


class SourceDriver(Protocol):
    def partition(self) -> str:
        """A partition of ``stream`` that has data."""
        ...

    def touch(self, partition: str) -> str:
        """Edit one existing record at the source; returns its external id."""
        ...

    def add(self, partition: str) -> str:
        """Create a record at the source; returns its external id."""
        ...

    def remove(self, partition: str) -> str:
        """Delete a record at the source; returns its external id."""
        ...

    def revoke_token(self) -> None:
        """Make every API call fail as unauthenticated."""
        ...

    def new_body(self, partition: str) -> AnyBody:
        """A body the connector can create in ``partition`` (writable connectors only)."""
        ...

    def edited(self, body: AnyBody) -> AnyBody:
        """``body`` with a visible change (writable connectors only)."""
        ...


async def read_all(connector: Connector, stream: str, partition: str,
                   cursor: str | None) -> tuple[list[Change], str | None, list[Page]]:
    changes: list[Change] = []
    pages: list[Page] = []
    last = cursor
    async for page in connector.read_changes(stream, partition, cursor):
        pages.append(page)
        changes.extend(page.changes)
        if page.cursor_after is not None:
            last = page.cursor_after
    return changes, last, pages


async def census(connector: Connector, stream: str, partition: str) -> dict[str, str | None]:
    refs: dict[str, str | None] = {}
    async for batch in connector.list_refs(stream, partition):
        for ref in batch:
            refs[ref.external_id] = ref.version
    return refs


def live_ids(changes: Sequence[Change]) -> set[str]:
    state: dict[str, bool] = {}
    for change in changes:
        state[change.external_id] = change.body is not None
    return {k for k, alive in state.items() if alive}


class ConnectorContract:
    stream: ClassVar[str]

    async def test_check_reports_ok_with_valid_credentials(self, connector: Connector) -> None:
        result = await connector.check()
        assert result.ok, result.detail

    async def test_stream_is_declared_with_its_kind(self, connector: Connector) -> None:
        assert self.stream in {s.name for s in connector.streams}
        assert Capability.READ in connector.capabilities

    async def test_full_read_yields_bodies_of_the_stream_kind_and_a_final_cursor(
        self, connector: Connector, source: Any
    ) -> None:
        spec = next(s for s in connector.streams if s.name == self.stream)
        changes, cursor, _ = await read_all(connector, self.stream, source.partition(), None)
        assert changes, "a seeded partition reads as empty"
        for change in changes:
            if change.body is not None:
                assert change.body.kind == spec.kind.value
        assert cursor is not None

    async def test_incremental_read_after_no_change_yields_nothing(self, connector: Connector, source: Any) -> None:
        partition = source.partition()
        _, cursor, _ = await read_all(connector, self.stream, partition, None)
        changes, _, _ = await read_all(connector, self.stream, partition, cursor)
        assert changes == []

    async def test_incremental_read_sees_an_edit_and_a_creation(self, connector: Connector, source: Any) -> None:
        partition = source.partition()
        _, cursor, _ = await read_all(connector, self.stream, partition, None)
        edited = source.touch(partition)
        added = source.add(partition)
        changes, _, _ = await read_all(connector, self.stream, partition, cursor)
        assert {edited, added} <= live_ids(changes)

    async def test_a_deletion_shows_as_tombstone_or_leaves_the_census(
        self, connector: Connector, source: Any
    ) -> None:
        partition = source.partition()
        _, cursor, _ = await read_all(connector, self.stream, partition, None)
        removed = source.remove(partition)
        changes, _, _ = await read_all(connector, self.stream, partition, cursor)
        tombstoned = {c.external_id for c in changes if c.tombstone is not None}
        if removed not in tombstoned:
            assert removed not in await census(connector, self.stream, partition)

    async def test_census_lists_exactly_the_live_records_of_a_full_read(
        self, connector: Connector, source: Any
    ) -> None:
        partition = source.partition()
        changes, _, _ = await read_all(connector, self.stream, partition, None)
        assert set(await census(connector, self.stream, partition)) == live_ids(changes)

    async def test_get_many_returns_the_same_bodies_as_the_read(self, connector: Connector, source: Any) -> None:
        partition = source.partition()
        changes, _, _ = await read_all(connector, self.stream, partition, None)
        sample = [c for c in changes if c.body is not None][:3]
        fetched = {c.external_id: c for c in await connector.get_many(self.stream, [c.external_id for c in sample])}
        for change in sample:
            assert fetched[change.external_id].body == change.body

    async def test_a_revoked_token_raises_a_config_error(self, connector: Connector, source: Any) -> None:
        partition = source.partition()
        source.revoke_token()
        with pytest.raises(ConfigError):
            await read_all(connector, self.stream, partition, None)



class WritableConnectorContract(ConnectorContract):
    """The contract plus writes, for streams the hub writes to."""

    async def test_create_then_update_then_stale_update_is_refused(
        self, connector: Connector, source: Any
    ) -> None:
        partition = source.partition()
        body = source.new_body(partition)
        created = await connector.create(self.stream, partition, body, origin="contract-test")
        updated = await connector.update(self.stream, created.external_id, source.edited(body),
                                         if_version=created.version, origin="contract-test")
        assert updated.version != created.version
        with pytest.raises(PreconditionFailed):
            await connector.update(self.stream, created.external_id, body, if_version=created.version,
                                   origin="contract-test")
