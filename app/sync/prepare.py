"""Prepare: turn a page of changes into the hub writes it calls for, and classify each.

A change counts as an update only when the source version AND the content hash both
moved: the same version is unchanged, and a new version with the same content (a
"flaky" version: view counters, re-saves) is unchanged too, though its new version
is stored so later comparisons start from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from app.connectors.base import Change
from app.errors import SkippableRecord
from app.models import AnyBody, Record, RecordKind, SourceRef, Tombstone, content_hash, hub_id_for
from app.storage.rows import StoredState

__all__ = ["Outcome", "Prepared", "build_record", "prepare_page"]


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    FAILED = "failed"


@dataclass(frozen=True)
class Prepared:
    """What to write for one change. ``record`` to upsert, or ``tombstone`` for ``hub_id``, or neither."""

    hub_id: str
    external_id: str
    outcome: Outcome
    record: Record | None = None
    tombstone: Tombstone | None = None
    error: str | None = None


def build_record(
    *, connector: str, system: str, stream: str, kind: RecordKind, partition: str, external_id: str,
    version: str | None, body: AnyBody, fetched_at: datetime, raw: Mapping[str, object] | None = None,
    created_at: datetime | None = None, updated_at: datetime | None = None, url: str | None = None,
) -> Record:
    """The unified record of a live source record; ``SkippableRecord`` for a body of the wrong kind."""
    if body.kind != kind.value:
        raise SkippableRecord(f"{connector}/{stream}/{external_id}: a {body.kind} in a {kind.value} stream")
    return Record(
        hub_id=hub_id_for(connector, stream, external_id),
        kind=kind,
        source=SourceRef(system=system, connector=connector, stream=stream, external_id=external_id,
                         partition=partition, url=url),
        source_version=version,
        content_hash=content_hash(body),
        created_at=created_at,
        updated_at_source=updated_at,
        fetched_at=fetched_at,
        body=body,
        raw=dict(raw or {}),
    )


def _state_of(record: Record) -> StoredState:
    """The part of ``record`` that :func:`prepare_page` compares."""
    return StoredState(record.source_version, record.content_hash, record.source.partition, record.deleted)


def _classify(new: Record, stored: StoredState | None) -> Outcome:
    if stored is None or stored.deleted:
        return Outcome.CREATED
    if new.source_version is not None and new.source_version == stored.source_version:
        return Outcome.UNCHANGED
    if new.content_hash == stored.content_hash:
        return Outcome.UNCHANGED
    return Outcome.UPDATED


def prepare_page(
    changes: Sequence[Change], stored: Mapping[str, StoredState], *, connector: str, system: str, stream: str,
    kind: RecordKind, partition: str, fetched_at: datetime,
) -> list[Prepared]:
    """One :class:`Prepared` per change, in order; ``stored`` is the hub's view by hub id
    (:meth:`Store.stored_states <app.storage.protocol.Store.stored_states>`).

    A page may name one record several times (a log replay); each change is compared
    with the state the previous one left.
    """
    view: dict[str, StoredState | None] = dict(stored)
    out: list[Prepared] = []
    for change in changes:
        hub_id = hub_id_for(connector, stream, change.external_id)
        before = view.get(hub_id)
        if change.tombstone is not None:
            if before is None or before.deleted:
                out.append(Prepared(hub_id, change.external_id, Outcome.UNCHANGED))
                continue
            out.append(Prepared(hub_id, change.external_id, Outcome.DELETED, tombstone=change.tombstone))
            view[hub_id] = replace(before, deleted=True)
            continue
        assert change.body is not None  # a Change carries exactly one of body and tombstone
        try:
            record = build_record(
                connector=connector, system=system, stream=stream, kind=kind, partition=partition,
                external_id=change.external_id, version=change.version, body=change.body,
                fetched_at=fetched_at, raw=change.raw, created_at=change.created_at,
                updated_at=change.updated_at, url=change.url,
            )
        except SkippableRecord as exc:
            out.append(Prepared(hub_id, change.external_id, Outcome.FAILED, error=str(exc)))
            continue
        outcome = _classify(record, before)
        needs_write = outcome is not Outcome.UNCHANGED or (
            before is not None and (before.source_version != record.source_version
                                    or before.partition != partition)
        )
        out.append(Prepared(hub_id, change.external_id, outcome, record=record if needs_write else None))
        if needs_write:
            view[hub_id] = _state_of(record)
    return out
