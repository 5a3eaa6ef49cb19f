"""Bodies of the admin API (``...Public`` is what leaves the service)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.storage.protocol import HeldDeletes, RunRecord
from app.sync.runs import cursor_label

PairState = Literal["disabled", "pending", "running", "ok", "failing", "suspicious"]


class RunPublic(BaseModel):
    run_id: str
    pair_id: str
    trigger: str
    status: str
    full: bool
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None
    created: int
    updated: int
    deleted: int
    unchanged: int
    failed: int
    api_calls: int
    cursor_before: dict[str, str | None]
    cursor_after: dict[str, str | None]
    error_class: str | None
    error: str | None
    flags: list[str]

    @classmethod
    def of(cls, run: RunRecord) -> RunPublic:
        return cls(
            run_id=run.run_id, pair_id=run.pair_id, trigger=run.trigger, status=run.status.value,
            full=run.full, started_at=run.started_at, finished_at=run.finished_at, duration_s=run.duration_s,
            created=run.created, updated=run.updated, deleted=run.deleted, unchanged=run.unchanged,
            failed=run.failed, api_calls=run.api_calls, cursor_before=run.cursor_before,
            cursor_after=run.cursor_after, error_class=run.error_class, error=run.error, flags=run.flags,
        )


class HeldDeletesPublic(BaseModel):
    """Deletes a census held back in one partition: the mass-delete guard tripped."""

    label: str
    """``connector/stream/partition``, as in the run's ``suspicious_mass_delete:`` flag."""
    connector: str
    stream: str
    partition: str
    missing: int
    """How many live hub records the source no longer listed at the last census."""
    reason: str
    held_at: datetime
    approved_up_to: int | None
    approved_at: datetime | None

    @classmethod
    def of(cls, held: HeldDeletes) -> HeldDeletesPublic:
        key = held.key
        return cls(label=cursor_label(key), connector=key.connector,
                   stream=key.stream, partition=key.partition, missing=held.missing, reason=held.reason,
                   held_at=held.held_at, approved_up_to=held.approved_up_to, approved_at=held.approved_at)


class ApproveHeldDeletes(BaseModel):
    """Let the next census of a partition delete what vanished, up to ``up_to`` records."""

    model_config = ConfigDict(extra="forbid")

    connector: str
    stream: str
    partition: str
    up_to: int | None = Field(default=None, ge=1)
    """Default: the number held back. A census that finds more vanished holds them again."""


class HeldDeletesApproved(BaseModel):
    held: HeldDeletesPublic
    scheduled: bool
    """A run of the pair was queued to apply it (False: the scheduler is not running here, or the
    pair is disabled; the approval then waits for the pair's next run)."""


class PairStatusPublic(BaseModel):
    id: str
    mode: str
    source: str
    target: str | None
    enabled: bool
    state: PairState
    last_run: RunPublic | None
    next_run_at: datetime | None
    cursor_age_s: float | None
    """Age of the oldest partition cursor of the source stream: how stale the hub can be."""
    records: int
    held_deletes: list[HeldDeletesPublic] = Field(default_factory=list)
    """Partitions whose census held deletes back (the pair's state is then ``suspicious``)."""
    changes_24h: int = 0
    """Records of the source stream changed in the last 24 hours."""
    webhook_coverage: float | None = None
    """Share of those changes first written by a webhook delivery (None: no change)."""
    lag_p50_s: float | None = None
    """Median delay from a change at the source to the hub, over those changes."""
    lag_p95_s: float | None = None
    lag_max_s: float | None = None


class ConnectorStatusPublic(BaseModel):
    name: str
    type: str
    enabled: bool
    records: int
    partitions: int
    health: str = "unknown"
    """ok | failing | disabled | unknown: from the last runs of the pairs using the connector."""
    health_detail: str | None = None
    webhook_mode: str | None = None
    """subscribed | admin_configured | app_configured | disabled; None: the type has no webhooks."""
    webhook_detail: str | None = None
    webhook_url: str | None = None


class SubscriptionPublic(BaseModel):
    vendor: str
    id: str
    connector: str
    stream: str
    partition: str
    status: str
    expires_at: datetime | None
    expires_in_s: float | None
    renewed_at: datetime | None
    last_error: str | None


class InboxStatsPublic(BaseModel):
    pending: int
    dead: int
    capped: bool = False
    """True when a count reached the counting limit (the real number is larger)."""


class StatusPublic(BaseModel):
    version: str
    started_at: datetime
    scheduler_running: bool
    connectors: list[ConnectorStatusPublic]
    pairs: list[PairStatusPublic]
    subscriptions: list[SubscriptionPublic] = Field(default_factory=list)
    inbox: InboxStatsPublic | None = None


class SyncRequested(BaseModel):
    pair_id: str
    full: bool
    scheduled: bool
    next_run_at: datetime | None


class SourceRefPublic(BaseModel):
    system: str
    connector: str
    stream: str
    external_id: str
    partition: str
    url: str | None


class RecordPublic(BaseModel):
    hub_id: str
    kind: str
    source: SourceRefPublic
    source_version: str | None
    content_hash: str
    created_at: datetime | None
    updated_at_source: datetime | None
    fetched_at: datetime
    deleted_at: datetime | None
    delete_reason: str | None
    body: dict[str, Any]


class LinkPublic(BaseModel):
    from_record: str
    to_record: str
    kind: str
    derived_by: str
    created_at: datetime


class RecordDetailPublic(RecordPublic):
    raw: dict[str, Any]
    links: list[LinkPublic]
    lineage: str | None
    """The sync run id, or ``webhook:<source>:<delivery id>``, that last wrote the record."""


class AccountPublic(BaseModel):
    system: str
    account_id: str
    email: str | None
    email_verified: bool
    display_name: str | None


class PersonPublic(BaseModel):
    person_id: str
    display_name: str
    emails: list[str]
    accounts: list[AccountPublic]


class IdentityOverrideUpdate(BaseModel):
    """Pin a tool account to a person (created if new), now and for every later sighting."""

    system: str = Field(min_length=1, max_length=64)
    account_id: str = Field(min_length=1, max_length=255)
    person_id: str = Field(min_length=1, max_length=64)


class DeadLetterPublic(BaseModel):
    id: int
    source: str
    delivery_id: str
    connector: str | None
    received_at: datetime
    attempts: int
    status: str
    last_error: str | None
    body_bytes: int


class DeadLetterRetried(BaseModel):
    id: int
    status: str
