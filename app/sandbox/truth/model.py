"""What the ground truth is made of, and how a difference from it is reported."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from app.connectors.base import Change
from app.models import AnyBody

__all__ = ["Difference", "DifferenceKind", "TruthRecord", "format_differences"]


@dataclass(frozen=True)
class TruthRecord:
    """One live record the hub should hold: where it belongs, its source version, its body, and the
    envelope facts the connector reads from the same payload (link, creation and change times)."""

    connector: str
    stream: str
    partition: str
    external_id: str
    version: str | None
    body: AnyBody
    url: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def of(cls, connector: str, stream: str, partition: str, change: Change) -> TruthRecord:
        """The truth of a live record from the ``Change`` the connector's own mapping made of it."""
        if change.body is None:
            raise ValueError(f"{connector}/{stream}/{change.external_id}: a tombstone is not a live record")
        return cls(
            connector,
            stream,
            partition,
            change.external_id,
            change.version,
            change.body,
            change.url,
            change.created_at,
            change.updated_at,
        )


class DifferenceKind(StrEnum):
    MISSING_IN_HUB = "missing_in_hub"
    """Live at the source, not live in the hub."""
    EXTRA_IN_HUB = "extra_in_hub"
    """Live in the hub, deleted at the source or out of the synced scope."""
    VERSION = "version"
    PARTITION = "partition"
    ENVELOPE = "envelope"
    """``url``, ``created_at`` or ``updated_at_source`` differ (``field`` names which)."""
    FIELD = "field"


@dataclass(frozen=True)
class Difference:
    """One way the hub's unified records differ from the sandbox's ground truth.

    ``hub`` and ``truth`` hold the two values for version, partition and field
    differences (JSON form for body fields); ``field`` names the body field.
    """

    kind: DifferenceKind
    connector: str
    stream: str
    external_id: str
    field: str | None = None
    hub: Any = None
    truth: Any = None

    def __str__(self) -> str:
        where = f"{self.connector}/{self.stream}/{self.external_id}"
        match self.kind:
            case DifferenceKind.MISSING_IN_HUB:
                return f"{where}: missing in the hub (live at the source)"
            case DifferenceKind.EXTRA_IN_HUB:
                return f"{where}: live in the hub, absent or deleted at the source"
            case DifferenceKind.FIELD:
                return f"{where}: body.{self.field}: hub={_short(self.hub)} truth={_short(self.truth)}"
            case DifferenceKind.ENVELOPE:
                return f"{where}: {self.field}: hub={_short(self.hub)} truth={_short(self.truth)}"
            case _:
                return f"{where}: {self.kind.value}: hub={_short(self.hub)} truth={_short(self.truth)}"


def _short(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_differences(differences: Sequence[Difference], limit: int = 50) -> str:
    """A readable list for assertion messages: a count per kind, then one line per difference."""
    if not differences:
        return "no differences"
    counts: dict[str, int] = {}
    for diff in differences:
        counts[diff.kind.value] = counts.get(diff.kind.value, 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    lines = [f"{len(differences)} difference(s) between the hub and the sandbox ({summary}):"]
    lines += [f"  - {diff}" for diff in differences[:limit]]
    if len(differences) > limit:
        lines.append(f"  ... and {len(differences) - limit} more")
    return "\n".join(lines)
