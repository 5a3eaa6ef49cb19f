"""The two-way outbox: every write to a tool is queued durably before it is made.

A plan's writes are queued (with the plan's local baseline steps) in ONE transaction;
:mod:`app.sync.push` then makes each write and, in one more transaction, records its
result (hub record, baseline row, link) and marks the queued write done. A crash
anywhere leaves the write pending, and the next run of the pair finishes it BEFORE it
plans: a create is re-sent with the same idempotency key, so the tool answers with the
record the first attempt made instead of making a second one; an update or delete
re-sent after it took effect meets its own version precondition and is superseded.

Terms
-----
write
    What one queued row asks for, self-contained (:class:`OutboxWrite`): the operation,
    the side written to (``a`` is the pair's source, ``b`` its target), the body, the
    version precondition, and a snapshot of the side copied from as the plan saw it
    (the baseline row records that snapshot, so later edits still show as changes).
idempotency key
    A hash of the pair and everything the write was planned from. Stable across
    retries of the row; a superseded row releases it (see :mod:`app.storage.queues`).
held back
    A planned step that touches an item a pending write still owns, or a create from a
    side that a pending create writes to (its result may sit there unrecognised): it is
    left for the run after that write settles, so two writes never race for one item.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import TypeAdapter

from app.models import AnyBody, Record
from app.sync.pairs import Endpoint
from app.sync.plan import Action, Step

__all__ = [
    "LOCAL_ACTIONS",
    "MAX_ATTEMPTS",
    "OutboxWrite",
    "Side",
    "Snapshot",
    "hold_back",
    "idempotency_key",
    "write_for",
]

MAX_ATTEMPTS = 5
"""Transient failures a queued write may meet before it becomes a dead letter (one attempt per run)."""

LOCAL_ACTIONS = frozenset({Action.FORGET, Action.REFRESH})
"""Steps that only touch the hub's baseline: applied directly, never queued."""

Side = Literal["a", "b"]
Operation = Literal["create", "update", "delete"]

_BODY: TypeAdapter[AnyBody] = TypeAdapter(AnyBody)


@dataclass(frozen=True)
class Snapshot:
    """The record a write copies from, as the plan saw it."""

    hub_id: str
    external_id: str
    version: str | None
    content_hash: str

    @classmethod
    def of(cls, record: Record) -> Snapshot:
        return cls(record.hub_id, record.source.external_id, record.source_version, record.content_hash)


@dataclass(frozen=True)
class OutboxWrite:
    """One queued write, everything needed to make it and record it after a restart."""

    operation: Operation
    to: Side
    partition: str
    """Where a create goes; the written record's partition for an update or delete."""
    body: AnyBody | None = None
    target_id: str | None = None
    """External id written to (update, delete)."""
    target_hub_id: str | None = None
    if_version: str | None = None
    source: Snapshot | None = None
    """The side copied from (create, update)."""
    old_a_id: str | None = None
    """The baseline row this write replaces (a recreate) or removes (a delete)."""

    def to_payload(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "to": self.to,
            "partition": self.partition,
            "body": self.body.model_dump(mode="json") if self.body is not None else None,
            "target_id": self.target_id,
            "target_hub_id": self.target_hub_id,
            "if_version": self.if_version,
            "source": None if self.source is None else {
                "hub_id": self.source.hub_id, "external_id": self.source.external_id,
                "version": self.source.version, "content_hash": self.source.content_hash,
            },
            "old_a_id": self.old_a_id,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> OutboxWrite:
        source = payload.get("source")
        body = payload.get("body")
        return cls(
            operation=payload["operation"],
            to=payload["to"],
            partition=payload["partition"],
            body=_BODY.validate_python(body) if body is not None else None,
            target_id=payload.get("target_id"),
            target_hub_id=payload.get("target_hub_id"),
            if_version=payload.get("if_version"),
            source=Snapshot(**source) if source is not None else None,
            old_a_id=payload.get("old_a_id"),
        )

    def touches(self) -> set[tuple[Side, str]]:
        """The items (side, external id) this write owns until it settles."""
        other: Side = "a" if self.to == "b" else "b"
        owned: set[tuple[Side, str]] = set()
        if self.source is not None:
            owned.add((other, self.source.external_id))
        if self.target_id is not None:
            owned.add((self.to, self.target_id))
        if self.old_a_id is not None:
            owned.add(("a", self.old_a_id))
        return owned


def write_for(step: Step, a_end: Endpoint, b_end: Endpoint) -> OutboxWrite | None:
    """The write a plan step asks for; None for a step that only touches the baseline."""
    old_a_id = step.row.a_id if step.row is not None else None
    match step.action:
        case Action.CREATE_B | Action.CREATE_A:
            to_b = step.action is Action.CREATE_B
            src = step.a if to_b else step.b
            assert src is not None
            end = b_end if to_b else a_end
            return OutboxWrite("create", "b" if to_b else "a", end.counterpart_partition(src.source.partition),
                               body=src.body, source=Snapshot.of(src), old_a_id=old_a_id)
        case Action.UPDATE_B | Action.UPDATE_A:
            to_b = step.action is Action.UPDATE_B
            src, dst = (step.a, step.b) if to_b else (step.b, step.a)
            assert src is not None and dst is not None
            return OutboxWrite("update", "b" if to_b else "a", dst.source.partition, body=src.body,
                               target_id=dst.source.external_id, target_hub_id=dst.hub_id,
                               if_version=dst.source_version, source=Snapshot.of(src))
        case Action.DELETE_B | Action.DELETE_A:
            on_b = step.action is Action.DELETE_B
            dst = step.b if on_b else step.a
            assert dst is not None and step.row is not None
            return OutboxWrite("delete", "b" if on_b else "a", dst.source.partition,
                               target_id=dst.source.external_id, target_hub_id=dst.hub_id,
                               if_version=dst.source_version, old_a_id=old_a_id)
        case _:
            return None


def idempotency_key(pair_id: str, write: OutboxWrite) -> str:
    """Stable for one planned write: the same plan from the same state gives the same key."""
    basis = json.dumps([pair_id, write.to_payload()], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(basis.encode()).hexdigest()


def _step_touches(step: Step) -> set[tuple[Side, str]]:
    owned: set[tuple[Side, str]] = set()
    if step.a is not None:
        owned.add(("a", step.a.source.external_id))
    if step.b is not None:
        owned.add(("b", step.b.source.external_id))
    if step.row is not None:
        owned.update({("a", step.row.a_id), ("b", step.row.b_id)})
    return owned


def _created_from(action: Action) -> Side | None:
    if action is Action.CREATE_A:
        return "b"
    if action is Action.CREATE_B:
        return "a"
    return None


def hold_back(steps: Sequence[Step], pending: Iterable[OutboxWrite]) -> tuple[list[Step], list[Step]]:
    """Split ``steps`` into (go ahead, held back) against the writes still pending (see module doc)."""
    owned: set[tuple[Side, str]] = set()
    creating_on: set[Side] = set()
    for write in pending:
        owned |= write.touches()
        if write.operation == "create":
            creating_on.add(write.to)
    go: list[Step] = []
    held: list[Step] = []
    for step in steps:
        from_side = _created_from(step.action)
        if _step_touches(step) & owned or (from_side is not None and from_side in creating_on):
            held.append(step)
        else:
            go.append(step)
    return go, held
