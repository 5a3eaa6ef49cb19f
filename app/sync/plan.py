"""Plan a two-way pair (vdirsyncer's algorithm): compare each side with the last synced baseline.

Side ``a`` is the pair's source, side ``b`` its target. Each side of an item is, against
its baseline row: SAME (content hash unchanged; a drifting version is only refreshed),
CHANGED, GONE (tombstoned in the hub) or UNKNOWN (not in scope: the item is left alone).

=================  =====================  =====================  ==================
a \\ b             SAME                   CHANGED                GONE
=================  =====================  =====================  ==================
SAME               refresh versions       update a from b        delete a
CHANGED            update b from a        conflict policy        delete vs edit
GONE               delete b               delete vs edit         forget the item
=================  =====================  =====================  ==================

Conflict (both changed to different content): ``source_wins`` copies a over b,
``target_wins`` b over a, ``newest_wins`` the side with the later ``updated_at_source``
(a tie, or an unknown time, goes to the source).

Delete vs edit: ``source_wins`` / ``target_wins`` let the named side's action win (its
delete deletes the other side's edit; its edit recreates the item on the side that
deleted it); ``newest_wins`` always lets the edit win and recreates the item, because a
deletion time is often only the time the hub noticed it and an edit is data a person made.

Items with no baseline row are new: a live item on one side is created on the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from app.models import Record
from app.storage.protocol import BaselineRow

__all__ = ["Action", "ConflictPolicy", "Step", "plan_two_way"]

ConflictPolicy = Literal["source_wins", "target_wins", "newest_wins"]


class Action(StrEnum):
    CREATE_A = "create_a"  # b's item is new (or recreated): create it on a
    CREATE_B = "create_b"
    UPDATE_A = "update_a"  # copy b's content over a
    UPDATE_B = "update_b"
    DELETE_A = "delete_a"
    DELETE_B = "delete_b"
    FORGET = "forget"  # both sides gone: drop the baseline row
    REFRESH = "refresh"  # content agrees; store the current versions and hashes as the baseline


class _Side(StrEnum):
    SAME = "same"
    CHANGED = "changed"
    GONE = "gone"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Step:
    action: Action
    a: Record | None
    b: Record | None
    row: BaselineRow | None


def _side(record: Record | None, version: str | None, hash_: str) -> tuple[_Side, bool]:
    """The side's state against its baseline, and whether its version drifted."""
    if record is None:
        return _Side.UNKNOWN, False
    if record.deleted:
        return _Side.GONE, False
    if record.content_hash != hash_:
        return _Side.CHANGED, True
    return _Side.SAME, record.source_version != version


def _conflict(a: Record, b: Record, policy: ConflictPolicy) -> Action:
    if a.content_hash == b.content_hash:
        return Action.REFRESH
    if policy == "source_wins":
        return Action.UPDATE_B
    if policy == "target_wins":
        return Action.UPDATE_A
    if a.updated_at_source is not None and b.updated_at_source is not None \
            and b.updated_at_source > a.updated_at_source:
        return Action.UPDATE_A
    return Action.UPDATE_B


def _decide(sa: _Side, sb: _Side, a: Record, b: Record, policy: ConflictPolicy, drift: bool) -> Action | None:
    table: dict[tuple[_Side, _Side], Action | None] = {
        (_Side.SAME, _Side.SAME): Action.REFRESH if drift else None,
        (_Side.SAME, _Side.CHANGED): Action.UPDATE_A,
        (_Side.SAME, _Side.GONE): Action.DELETE_A,
        (_Side.CHANGED, _Side.SAME): Action.UPDATE_B,
        (_Side.CHANGED, _Side.GONE): Action.DELETE_A if policy == "target_wins" else Action.CREATE_B,
        (_Side.GONE, _Side.SAME): Action.DELETE_B,
        (_Side.GONE, _Side.CHANGED): Action.DELETE_B if policy == "source_wins" else Action.CREATE_A,
        (_Side.GONE, _Side.GONE): Action.FORGET,
    }
    if (sa, sb) == (_Side.CHANGED, _Side.CHANGED):
        return _conflict(a, b, policy)
    return table[(sa, sb)]


def plan_two_way(
    a_records: Mapping[str, Record], b_records: Mapping[str, Record], baseline: Mapping[str, BaselineRow],
    policy: ConflictPolicy,
) -> list[Step]:
    """Steps that bring both sides in step. Records are keyed by external id, tombstoned ones included."""
    steps: list[Step] = []
    paired_b: set[str] = set()
    for a_id, row in baseline.items():
        paired_b.add(row.b_id)
        a, b = a_records.get(a_id), b_records.get(row.b_id)
        sa, drift_a = _side(a, row.a_version, row.a_hash)
        sb, drift_b = _side(b, row.b_version, row.b_hash)
        if _Side.UNKNOWN in (sa, sb) or a is None or b is None:
            continue
        action = _decide(sa, sb, a, b, policy, drift_a or drift_b)
        if action is not None:
            steps.append(Step(action, a, b, row))
    for a_id, a in a_records.items():
        if a_id not in baseline and not a.deleted:
            steps.append(Step(Action.CREATE_B, a, None, None))
    for b_id, b in b_records.items():
        if b_id not in paired_b and not b.deleted:
            steps.append(Step(Action.CREATE_A, None, b, None))
    return steps
