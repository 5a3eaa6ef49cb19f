"""Natural keys on records and the key references link derivation keeps.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

``records.natural_key`` is what other records name a record by (a work item's issue key,
a calendar event's iCalUID, or iCalUID + start for an occurrence of a series), indexed
with ``kind``. Existing rows are backfilled here from their stored bodies. ``key_refs``
holds the keys a derivation rule found in a record (``CHK-12`` in a Slack message), so a
link can be made when the named record arrives later.

The links and people of records stored before this revision are derived again by
``app.sync.derive.rederive`` (a data step, not schema), not here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 500
_MAX = 512


# Frozen here on purpose (a migration must not change when app code does): the same rule
# as app.storage.lookup.natural_key at the time of this revision.
def _bounded(key: str) -> str:
    return key if len(key) <= _MAX else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _key(kind: str, body: dict[str, Any]) -> str | None:
    if kind == "work_item":
        return _bounded(str(body["key"])) if body.get("key") else None
    uid = body.get("ical_uid")
    if kind != "calendar_event" or not uid:
        return None
    if body.get("series_id") is None:
        return _bounded(str(uid))
    start = datetime.fromisoformat(str(body["start"]).replace("Z", "+00:00")).astimezone(UTC)
    return _bounded(f"{uid}#{start:%Y%m%dT%H%M%SZ}")


def _backfill() -> None:
    conn = op.get_bind()
    records = sa.table(
        "records",
        sa.column("hub_id", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("body", sa.JSON()),
        sa.column("natural_key", sa.String()),
    )
    last = ""
    while True:
        rows = conn.execute(
            sa.select(records.c.hub_id, records.c.kind, records.c.body)
            .where(records.c.kind.in_(["work_item", "calendar_event"]), records.c.hub_id > last)
            .order_by(records.c.hub_id)
            .limit(_BATCH)
        ).all()
        for hub_id, kind, body in rows:
            data = json.loads(body) if isinstance(body, str) else body
            key = _key(kind, data or {})
            if key is not None:
                conn.execute(sa.update(records).where(records.c.hub_id == hub_id).values(natural_key=key))
        if len(rows) < _BATCH:
            return
        last = rows[-1][0]


def upgrade() -> None:
    op.add_column("records", sa.Column("natural_key", sa.String(length=512), nullable=True))
    op.create_index(op.f("ix_records_kind_natural_key"), "records", ["kind", "natural_key"])
    op.create_table(
        "key_refs",
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("from_record", sa.String(length=64), nullable=False),
        sa.Column("ref_key", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("rule", "from_record", "ref_key", name=op.f("pk_key_refs")),
    )
    op.create_index(op.f("ix_key_refs_rule_ref_key"), "key_refs", ["rule", "ref_key"])
    _backfill()


def downgrade() -> None:
    op.drop_index(op.f("ix_key_refs_rule_ref_key"), table_name="key_refs")
    op.drop_table("key_refs")
    op.drop_index(op.f("ix_records_kind_natural_key"), table_name="records")
    with op.batch_alter_table("records") as batch:
        batch.drop_column("natural_key")
