"""The hub's tables, as SQLAlchemy Core metadata (the migrations mirror this file).

Naming conventions give every constraint and index a stable name, so Alembic can
find them again on both backends.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from app.storage.types import IdInteger, UTCDateTime

__all__ = [
    "accounts",
    "baselines",
    "cursors",
    "held_deletes",
    "identity_overrides",
    "inbox",
    "key_refs",
    "leases",
    "links",
    "metadata",
    "outbox",
    "people",
    "records",
    "runs",
    "subscriptions",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

records = Table(
    "records",
    metadata,
    Column("hub_id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("system", String(64), nullable=False),
    Column("connector", String(128), nullable=False),
    Column("stream", String(128), nullable=False),
    Column("partition", String(255), nullable=False, server_default=""),
    Column("external_id", String(512), nullable=False),
    Column("url", Text, nullable=True),
    Column("source_version", String(255), nullable=True),
    Column("content_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=True),
    Column("updated_at_source", UTCDateTime, nullable=True),
    Column("fetched_at", UTCDateTime, nullable=False),
    # updated_at_source when the vendor tells it, else fetched_at: one indexable "last changed".
    Column("updated_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime, nullable=True),
    Column("delete_reason", String(32), nullable=True),
    Column("last_writer", String(255), nullable=True),
    Column("search_text", Text, nullable=False, server_default=""),
    Column("body", JSON, nullable=False),
    Column("raw", JSON, nullable=False),
    # What other records name this one by (a Jira issue key, a meeting's iCalUID), see
    # app.storage.lookup.natural_key; null for kinds nothing refers to by name.
    Column("natural_key", String(512), nullable=True),
    UniqueConstraint("connector", "stream", "external_id"),
    Index(None, "kind", "natural_key"),
    Index(None, "kind", "updated_at"),
    Index(None, "connector", "stream", "partition"),
    Index(None, "updated_at"),
)

links = Table(
    "links",
    metadata,
    Column("from_record", String(64), primary_key=True),
    Column("to_record", String(64), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("derived_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "to_record"),
)

# References by natural key that a derivation rule found in a record ("CHK-12" in a message),
# resolved or not: the record they name may arrive later, or change its key.
key_refs = Table(
    "key_refs",
    metadata,
    Column("rule", String(64), primary_key=True),
    Column("from_record", String(64), primary_key=True),
    Column("ref_key", String(512), primary_key=True),
    Index(None, "rule", "ref_key"),
)

cursors = Table(
    "cursors",
    metadata,
    Column("connector", String(128), primary_key=True),
    Column("stream", String(128), primary_key=True),
    Column("partition", String(255), primary_key=True),
    Column("value", Text, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("last_full_sync_at", UTCDateTime, nullable=True),
)

# Deletes a census held back because the mass-delete guard tripped, one row per partition, and
# how many of them an admin approved. The row goes when a census deletes or finds nothing held.
held_deletes = Table(
    "held_deletes",
    metadata,
    Column("connector", String(128), primary_key=True),
    Column("stream", String(128), primary_key=True),
    Column("partition", String(255), primary_key=True),
    Column("missing", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("held_at", UTCDateTime, nullable=False),
    Column("approved_up_to", Integer, nullable=True),
    Column("approved_at", UTCDateTime, nullable=True),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("pair_id", String(64), nullable=False),
    Column("trigger", String(32), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("status", String(32), nullable=False),
    Column("full", Boolean, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("created", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("deleted", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("api_calls", Integer, nullable=False),
    Column("cursor_before", JSON, nullable=False),
    Column("cursor_after", JSON, nullable=False),
    Column("error_class", String(32), nullable=True),
    Column("error", Text, nullable=True),
    Column("flags", JSON, nullable=False),
    Index(None, "pair_id", "started_at"),
    Index(None, "started_at"),
    Index(None, "status"),
)

baselines = Table(
    "baselines",
    metadata,
    Column("pair_id", String(64), primary_key=True),
    Column("a_id", String(512), primary_key=True),
    Column("b_id", String(512), nullable=False),
    Column("a_version", String(255), nullable=True),
    Column("a_hash", String(64), nullable=False),
    Column("b_version", String(255), nullable=True),
    Column("b_hash", String(64), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "pair_id", "b_id"),
)


def _queue_columns() -> list[Column[object]]:
    """Columns every durable queue shares: retry bookkeeping and the claim."""
    return [
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("status", String(16), nullable=False, server_default="pending"),
        Column("last_error", Text, nullable=True),
        Column("next_attempt_at", UTCDateTime, nullable=True),
        Column("claimed_by", String(255), nullable=True),
        Column("claimed_until", UTCDateTime, nullable=True),
    ]


inbox = Table(
    "inbox",
    metadata,
    Column("id", IdInteger, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("delivery_id", String(255), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("body", LargeBinary, nullable=False),
    *_queue_columns(),
    UniqueConstraint("source", "delivery_id"),
    Index(None, "status", "next_attempt_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", IdInteger, primary_key=True, autoincrement=True),
    Column("pair_id", String(64), nullable=False),
    Column("connector", String(128), nullable=False),
    Column("stream", String(128), nullable=False),
    Column("operation", String(16), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    *_queue_columns(),
    UniqueConstraint("idempotency_key"),
    Index(None, "status", "next_attempt_at"),
)

people = Table(
    "people",
    metadata,
    Column("person_id", String(64), primary_key=True),
    Column("display_name", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("system", String(64), primary_key=True),
    Column("account_id", String(255), primary_key=True),
    Column("person_id", String(64), ForeignKey("people.person_id"), nullable=False),
    Column("email", String(320), nullable=True),
    Column("email_verified", Boolean, nullable=False),
    Column("display_name", String(255), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "person_id"),
    Index(None, "email"),
)

identity_overrides = Table(
    "identity_overrides",
    metadata,
    Column("system", String(64), primary_key=True),
    Column("account_id", String(255), primary_key=True),
    Column("person_id", String(64), ForeignKey("people.person_id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("owner", String(255), nullable=False),
    Column("acquired_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# Webhook subscriptions the hub registered at vendors (Jira webhooks, Google channels, Graph
# subscriptions): persisted so a restart renews them instead of registering duplicates.
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("vendor", String(32), primary_key=True),
    Column("external_id", String(255), primary_key=True),
    Column("connector", String(128), nullable=False),
    Column("stream", String(128), nullable=False),
    Column("partition", String(255), nullable=False, server_default=""),
    Column("resource", Text, nullable=True),
    Column("address", Text, nullable=True),
    Column("status", String(16), nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("renewed_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Index(None, "connector", "stream", "partition"),
)
