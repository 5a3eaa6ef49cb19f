"""Initial schema: records, links, cursors, runs, baselines, inbox, outbox, people, accounts,
identity overrides, leases.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Timestamps are ``timestamptz`` on PostgreSQL; on SQLite they hold naive UTC text
(``app.storage.types.UTCDateTime`` converts at the edge).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen here on purpose: a migration must not change when app code does.
TS = sa.DateTime(timezone=True)

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "baselines",
        sa.Column("pair_id", sa.String(length=64), nullable=False),
        sa.Column("a_id", sa.String(length=512), nullable=False),
        sa.Column("b_id", sa.String(length=512), nullable=False),
        sa.Column("a_version", sa.String(length=255), nullable=True),
        sa.Column("a_hash", sa.String(length=64), nullable=False),
        sa.Column("b_version", sa.String(length=255), nullable=True),
        sa.Column("b_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("pair_id", "a_id", name=op.f("pk_baselines")),
    )
    op.create_index(op.f("ix_baselines_pair_id_b_id"), "baselines", ["pair_id", "b_id"])

    op.create_table(
        "cursors",
        sa.Column("connector", sa.String(length=128), nullable=False),
        sa.Column("stream", sa.String(length=128), nullable=False),
        sa.Column("partition", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("last_full_sync_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("connector", "stream", "partition", name=op.f("pk_cursors")),
    )
    op.create_table(
        "inbox",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("delivery_id", sa.String(length=255), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", TS, nullable=True),
        sa.Column("claimed_by", sa.String(length=255), nullable=True),
        sa.Column("claimed_until", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("source", "delivery_id", name=op.f("uq_inbox_source_delivery_id")),
    )
    op.create_index(op.f("ix_inbox_status_next_attempt_at"), "inbox", ["status", "next_attempt_at"])

    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("acquired_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_table(
        "links",
        sa.Column("from_record", sa.String(length=64), nullable=False),
        sa.Column("to_record", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("derived_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("from_record", "to_record", "kind", name=op.f("pk_links")),
    )
    op.create_index(op.f("ix_links_to_record"), "links", ["to_record"])

    op.create_table(
        "outbox",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("pair_id", sa.String(length=64), nullable=False),
        sa.Column("connector", sa.String(length=128), nullable=False),
        sa.Column("stream", sa.String(length=128), nullable=False),
        sa.Column("operation", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", TS, nullable=True),
        sa.Column("claimed_by", sa.String(length=255), nullable=True),
        sa.Column("claimed_until", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
    )
    op.create_index(op.f("ix_outbox_status_next_attempt_at"), "outbox", ["status", "next_attempt_at"])

    op.create_table(
        "people",
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_people")),
    )
    op.create_table(
        "records",
        sa.Column("hub_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("connector", sa.String(length=128), nullable=False),
        sa.Column("stream", sa.String(length=128), nullable=False),
        sa.Column("partition", sa.String(length=255), server_default="", nullable=False),
        sa.Column("external_id", sa.String(length=512), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("source_version", sa.String(length=255), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, nullable=True),
        sa.Column("updated_at_source", TS, nullable=True),
        sa.Column("fetched_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("deleted_at", TS, nullable=True),
        sa.Column("delete_reason", sa.String(length=32), nullable=True),
        sa.Column("last_writer", sa.String(length=255), nullable=True),
        sa.Column("search_text", sa.Text(), server_default="", nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("hub_id", name=op.f("pk_records")),
        sa.UniqueConstraint(
            "connector", "stream", "external_id", name=op.f("uq_records_connector_stream_external_id")
        ),
    )
    op.create_index(
        op.f("ix_records_connector_stream_partition"), "records", ["connector", "stream", "partition"]
    )
    op.create_index(op.f("ix_records_kind_updated_at"), "records", ["kind", "updated_at"])
    op.create_index(op.f("ix_records_updated_at"), "records", ["updated_at"])

    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("pair_id", sa.String(length=64), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("api_calls", sa.Integer(), nullable=False),
        sa.Column("cursor_before", sa.JSON(), nullable=False),
        sa.Column("cursor_after", sa.JSON(), nullable=False),
        sa.Column("error_class", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_pair_id_started_at"), "runs", ["pair_id", "started_at"])
    op.create_index(op.f("ix_runs_started_at"), "runs", ["started_at"])
    op.create_index(op.f("ix_runs_status"), "runs", ["status"])

    op.create_table(
        "accounts",
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("email_verified", sa.Boolean(), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.person_id"], name=op.f("fk_accounts_person_id_people")
        ),
        sa.PrimaryKeyConstraint("system", "account_id", name=op.f("pk_accounts")),
    )
    op.create_index(op.f("ix_accounts_email"), "accounts", ["email"])
    op.create_index(op.f("ix_accounts_person_id"), "accounts", ["person_id"])

    op.create_table(
        "identity_overrides",
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.person_id"], name=op.f("fk_identity_overrides_person_id_people")
        ),
        sa.PrimaryKeyConstraint("system", "account_id", name=op.f("pk_identity_overrides")),
    )


def downgrade() -> None:
    op.drop_table("identity_overrides")
    op.drop_index(op.f("ix_accounts_person_id"), table_name="accounts")
    op.drop_index(op.f("ix_accounts_email"), table_name="accounts")

    op.drop_table("accounts")
    op.drop_index(op.f("ix_runs_status"), table_name="runs")
    op.drop_index(op.f("ix_runs_started_at"), table_name="runs")
    op.drop_index(op.f("ix_runs_pair_id_started_at"), table_name="runs")

    op.drop_table("runs")
    op.drop_index(op.f("ix_records_updated_at"), table_name="records")
    op.drop_index(op.f("ix_records_kind_updated_at"), table_name="records")
    op.drop_index(op.f("ix_records_connector_stream_partition"), table_name="records")

    op.drop_table("records")
    op.drop_table("people")
    op.drop_index(op.f("ix_outbox_status_next_attempt_at"), table_name="outbox")

    op.drop_table("outbox")
    op.drop_index(op.f("ix_links_to_record"), table_name="links")

    op.drop_table("links")
    op.drop_table("leases")
    op.drop_index(op.f("ix_inbox_status_next_attempt_at"), table_name="inbox")

    op.drop_table("inbox")
    op.drop_table("cursors")
    op.drop_index(op.f("ix_baselines_pair_id_b_id"), table_name="baselines")

    op.drop_table("baselines")
