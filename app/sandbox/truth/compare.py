"""``compare``: the hub's live unified records against the sandbox's ground truth, every difference.

The truth is derived from each simulator's own state (see the vendor modules), never
from the connector's HTTP reads, so a connector bug cannot hide itself. Compared per
record: presence (live in one, not the other), source version, partition, the envelope
facts read from the vendor payload (``url``, ``created_at``, ``updated_at_source``), and every
body field in JSON form. Left out: body fields a body declares volatile (``volatile_fields``:
Slack's ``permalink``, a per-request token), as the content hash leaves them out; and what the
hub makes itself rather than reads: ``fetched_at``, ``hub_id``, ``content_hash`` (a function
of the compared body) and ``raw`` (the vendor payload, whose mapped content is compared).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Any, Protocol

from app.connectors.base import Connector
from app.models import AnyBody, Record
from app.sandbox.common import Simulator
from app.sandbox.truth.atlassian import confluence_truth, jira_truth
from app.sandbox.truth.calendars import google_truth, outlook_truth
from app.sandbox.truth.model import Difference, DifferenceKind, TruthRecord
from app.sandbox.truth.slack import slack_truth
from app.storage.protocol import Store

__all__ = ["SANDBOX_VENDOR", "SandboxLike", "compare", "ground_truth"]

TruthBuilder = Callable[[Any, Any], Iterable[TruthRecord]]

SANDBOX_VENDOR: Mapping[str, tuple[str, TruthBuilder]] = {
    "jira": ("jira", jira_truth),
    "confluence": ("confluence", confluence_truth),
    "slack": ("slack", slack_truth),
    "google_calendar": ("google_calendar", google_truth),
    "outlook": ("graph", outlook_truth),
}
"""Connector system -> (the sandbox vendor serving it, its ground-truth builder)."""


class SandboxLike(Protocol):
    """What ``compare`` needs of :class:`app.sandbox.runner.Sandbox`."""

    @property
    def simulators(self) -> dict[str, Simulator]: ...


def ground_truth(sandbox: SandboxLike, connector: Connector) -> list[TruthRecord]:
    """The live records ``connector`` should bring into the hub, from its simulator's state."""
    entry = SANDBOX_VENDOR.get(connector.system)
    if entry is None:
        raise ValueError(f"no sandbox ground truth for connector system {connector.system!r}")
    vendor, build = entry
    sim = sandbox.simulators.get(vendor)
    if sim is None:
        raise ValueError(f"the sandbox does not run {vendor!r} (needed by connector {connector.name!r})")
    return list(build(sim, connector))


def _body_json(body: AnyBody) -> dict[str, Any]:
    volatile: frozenset[str] = getattr(body, "volatile_fields", frozenset())
    return body.model_dump(mode="json", exclude=set(volatile))


def _record_differences(hub: Record, truth: TruthRecord) -> Iterator[Difference]:
    where = (truth.connector, truth.stream, truth.external_id)
    if hub.source_version != truth.version:
        yield Difference(DifferenceKind.VERSION, *where, hub=hub.source_version, truth=truth.version)
    if hub.source.partition != truth.partition:
        yield Difference(DifferenceKind.PARTITION, *where, hub=hub.source.partition, truth=truth.partition)
    envelope = (
        ("url", hub.source.url, truth.url),
        ("created_at", hub.created_at, truth.created_at),
        ("updated_at_source", hub.updated_at_source, truth.updated_at),
    )
    for name, mine_value, their_value in envelope:
        if mine_value != their_value:
            yield Difference(DifferenceKind.ENVELOPE, *where, field=name, hub=mine_value, truth=their_value)
    mine, theirs = _body_json(hub.body), _body_json(truth.body)
    for name in sorted(set(mine) | set(theirs)):
        if mine.get(name) != theirs.get(name):
            yield Difference(
                DifferenceKind.FIELD, *where, field=name, hub=mine.get(name), truth=theirs.get(name)
            )


def _stream_differences(
    connector: str, stream: str, hub: Mapping[str, Record], truth: Mapping[str, TruthRecord]
) -> Iterator[Difference]:
    for external_id in sorted(set(hub) | set(truth)):
        mine, theirs = hub.get(external_id), truth.get(external_id)
        if mine is None:
            yield Difference(DifferenceKind.MISSING_IN_HUB, connector, stream, external_id)
        elif theirs is None:
            yield Difference(
                DifferenceKind.EXTRA_IN_HUB, connector, stream, external_id, hub=mine.source_version
            )
        else:
            yield from _record_differences(mine, theirs)


def compare(
    store: Store,
    sandbox: SandboxLike,
    connectors: Mapping[str, Connector],
    *,
    streams: Collection[str] | None = None,
) -> list[Difference]:
    """Every difference between the hub's live records of ``connectors`` and the ground truth.

    ``connectors`` maps configured names to connectors (``Hub.connectors``); ``streams``
    restricts the comparison to those stream names (default: every stream of each connector).
    """
    differences: list[Difference] = []
    for name, connector in sorted(connectors.items()):
        truth_by_stream: dict[str, dict[str, TruthRecord]] = {}
        for record in ground_truth(sandbox, connector):
            truth_by_stream.setdefault(record.stream, {})[record.external_id] = record
        for spec in connector.streams:
            if streams is not None and spec.name not in streams:
                continue
            live = store.iter_records(name, spec.name, include_deleted=False)
            hub = {r.source.external_id: r for r in live}
            differences.extend(_stream_differences(name, spec.name, hub, truth_by_stream.get(spec.name, {})))
    return differences
